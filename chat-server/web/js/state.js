// What the client holds: the user's conversations (groups and direct
// messages), each with its messages de-duplicated by id, the messages being
// sent (keyed by nonce), the reconnect recipe's `newestId` and `lastSync`,
// unread counts (and how many of them mention the user), read marks,
// typing and presence. No DOM here.

/** Newest-last order of messages: by time, then by id. */
export function compareMessages(a, b) {
  if (a.timestamp !== b.timestamp) return a.timestamp < b.timestamp ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** One group or direct conversation. */
export class Conversation {
  constructor(group, me) {
    this.me = me;
    this.id = group.id;
    this.draft = Boolean(group.draft);
    this.update(group);
    this.unread = group.unread ?? 0;
    this.mentions = group.mentions ?? 0; // unread messages that mention the user
    this.messages = new Map(); // id -> Message
    this.pending = new Map(); // nonce -> {nonce, text, createdAt, state: 'sending' | 'failed', error}
    this.newestId = null;
    // The reconnect recipe's `newestId`: every message up to it is held. It
    // follows live messages only while the conversation is `live` (caught up
    // since the last connect), so a message that arrives before the catch-up
    // cannot make the sync skip the ones missed before it.
    this.syncedId = null;
    this.live = false;
    this.lastSync = null;
    this.loaded = false; // the newest page is in hand
    this.hasOlder = false; // older messages may be loaded: from the server, else this device's archive
    this.serverOlder = false; // the server holds older messages
    this.archiveOlder = undefined; // this device's archive may hold older ones (false once it said no)
    this.loadingOlder = false;
    this.typing = new Map(); // up -> time the mark expires
    this.readMarks = new Map(); // up -> messageId, from `read` events
    this.lastReadSent = null;
  }

  update(group) {
    this.name = group.name ?? this.name ?? '';
    this.kind = group.kind ?? this.kind ?? 'group';
    this.users = group.users ?? this.users ?? [];
    this.admins = group.admins ?? this.admins ?? [];
    this.retention = group.retention ?? this.retention ?? { mode: 'forever' };
    this.createdAt = group.createdAt ?? this.createdAt ?? new Date().toISOString();
  }

  /** The other user of a direct conversation. */
  get peer() {
    return this.kind === 'direct' ? (this.users.find((up) => up !== this.me) ?? null) : null;
  }

  get title() {
    return this.peer ?? this.name;
  }

  /** Adds or replaces a message; true when it is new here. Settles a pending send with the same nonce. */
  put(message) {
    const isNew = !this.messages.has(message.id);
    this.messages.set(message.id, message);
    if (message.from === this.me && message.nonce) this.pending.delete(message.nonce);
    const newest = this.messages.get(this.newestId);
    if (!newest || compareMessages(newest, message) < 0) this.newestId = message.id;
    return isNew;
  }

  /** Everything up to the newest message held is known to be held. */
  markSynced() {
    this.syncedId = this.newestId;
  }

  /** Applies a changed message (edit, delete, reaction) if it is held; true when it was. */
  change(message) {
    const shown = this.messages.get(message.id);
    if (!shown) return false;
    // `hidden`: the group's history gate withholds the text (an edit or a
    // reaction while too few members are online); keep the text shown.
    this.messages.set(message.id, message.hidden && !message.deleted ? { ...message, message: shown.message, hidden: false } : message);
    return true;
  }

  sorted() {
    return [...this.messages.values()].sort(compareMessages);
  }

  get oldestId() {
    let oldest = null;
    for (const message of this.messages.values()) {
      if (!oldest || compareMessages(message, oldest) < 0) oldest = message;
    }
    return oldest?.id ?? null;
  }

  get newest() {
    return this.messages.get(this.newestId) ?? null;
  }

  /** When the conversation last moved, for ordering the list. */
  get activity() {
    const pending = [...this.pending.values()].map((p) => p.createdAt);
    return [this.newest?.timestamp ?? this.createdAt, ...pending].sort().at(-1);
  }

  /** Users typing now, other than oneself. */
  typers(now = Date.now()) {
    return [...this.typing].filter(([up, until]) => up !== this.me && until > now).map(([up]) => up);
  }
}

export function createState(me) {
  return {
    me,
    conversations: new Map(), // id -> Conversation
    activeId: null,
    online: new Set(),
    lastSeen: new Map(), // up -> RFC 3339 time, from `offline`

    get active() {
      return this.conversations.get(this.activeId) ?? null;
    },

    /** Adds a group from the gateway or an event, or refreshes the one held. */
    addGroup(group) {
      const held = this.conversations.get(group.id);
      if (held) {
        held.update(group);
        if (typeof group.unread === 'number') held.unread = group.unread;
        if (typeof group.mentions === 'number') held.mentions = group.mentions;
        return held;
      }
      const conversation = new Conversation(group, me);
      this.conversations.set(group.id, conversation);
      return conversation;
    },

    remove(id) {
      this.conversations.delete(id);
      if (this.activeId === id) this.activeId = null;
    },

    /** The direct conversation with `up`, if there is one. */
    directWith(up) {
      for (const conversation of this.conversations.values()) {
        if (conversation.kind === 'direct' && conversation.peer === up) return conversation;
      }
      return null;
    },

    /** A direct conversation not stored yet: its first message creates it. */
    draftWith(up) {
      return this.addGroup({ id: `draft:${up}`, draft: true, kind: 'direct', name: up, users: [me, up] });
    },

    /** The draft becomes the stored direct group `group` once its first message is acked. */
    promote(draft, groupId) {
      const existing = this.conversations.get(groupId);
      this.conversations.delete(draft.id);
      if (this.activeId === draft.id) this.activeId = groupId;
      if (existing) {
        for (const [nonce, pending] of draft.pending) existing.pending.set(nonce, pending);
        return existing;
      }
      draft.id = groupId;
      draft.draft = false;
      draft.loaded = true;
      this.conversations.set(groupId, draft);
      return draft;
    },

    /** Conversations, most recently active first. */
    ordered() {
      return [...this.conversations.values()].sort((a, b) => (a.activity < b.activity ? 1 : a.activity > b.activity ? -1 : 0));
    },
  };
}
