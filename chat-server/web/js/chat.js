// The chat screen's controller: loads the user's groups from the gateway,
// opens the socket, turns server events and the user's actions into changes
// of the state, catches up after each (re)connect, and redraws the views (at
// most once per turn of the event loop). What the user sends is outbox.js's,
// the files they attach tray.js's, the names shown names.js's.

import { createApi } from './api.js';
import { openArchive } from './archive.js';
import { linkFresh } from './attachments.js';
import { openConnection } from './connection.js';
import { createComposer } from './composer.js';
import { formatWhen, h } from './format.js';
import { createCompletion } from './mentions.js';
import { list } from './message-view.js';
import { createNames } from './names.js';
import { createOutbox } from './outbox.js';
import { createProfile } from './profile.js';
import { createPrivacy } from './privacy.js';
import { catchUp } from './recovery.js';
import { createReplyBar } from './replies.js';
import { createRetentionControl, startOfKept } from './retention.js';
import { createSearch } from './search.js';
import { createSidebar } from './sidebar.js';
import { createState } from './state.js';
import { createTimeline } from './timeline.js';
import { createTray } from './tray.js';
import { createViewer } from './viewer.js';

const PAGE = 30;
const ACK_TIMEOUT_MS = 8000;
const TYPING_SHOWN_MS = 6000;
const NOTICE_MS = 8000;
const STATUS = { up: '', down: 'Reconnecting…', connecting: 'Connecting…' };
const $ = (id) => document.getElementById(id);
const wide = matchMedia('(min-width: 48rem)');

/** Starts the chat for `me`; rejects with the gateway's ApiError (e.g. 401) if the groups cannot be loaded. */
export async function startChat({ token, me, onRefused }) {
  const api = createApi(token);
  const state = createState(me);
  const archive = openArchive(me);
  const kept = new WeakSet(); // the message objects already in the archive
  const app = $('app');
  const startedAt = new Date(Date.now() - 60_000).toISOString();
  const overview = await api.groups(PAGE);
  for (const { group, messages } of overview.groups) absorb(group, messages, true);
  for (const conv of state.conversations.values()) conv.lastSync = startedAt;

  let stopped = false;
  let everConnected = false;
  let renderQueued = false;
  let wantBottom = false;
  let noticeTimer = null;
  const refreshing = new Map(); // conversation and page -> the request for fresh links
  let namesChanged = false;
  const names = createNames(api, me, () => {
    namesChanged = true;
    render();
  });

  const connection = openConnection(token, {
    onState: (s) => {
      $('status').textContent = STATUS[s];
      app.dataset.connection = s;
    },
    onRefused: (message) => {
      stop();
      onRefused(message);
    },
    onNotice: (text) => notice(text),
  });
  const request = (event, payload) => connection.request(event, payload, ACK_TIMEOUT_MS);

  const outbox = createOutbox({ state, connection, request, render, notice, markRead, promoted });
  const sidebar = createSidebar($('group-list'), $('dm-form'), $('dm-error'), {
    me,
    display: names.display,
    open: (id) => open(id, { focus: true }),
    startDirect: (up) => open((state.directWith(up) ?? state.draftWith(up)).id, { focus: true }),
  });
  const timeline = createTimeline($('messages'), $('timeline'), {
    loadOlder,
    react: outbox.react,
    edit: outbox.edit,
    remove: outbox.remove,
    retry: outbox.retry,
    discard: outbox.discard,
    // A message not sent goes back to the box, to be changed and sent again.
    unsend: (nonce) => {
      const { text, attachments } = outbox.discard(nonce);
      composer.put(text, attachments);
    },
    openAttachment,
    brokenImage,
    display: names.display,
    reply: (id) => composer.reply(state.active?.messages.get(id) ?? null),
    showOriginal,
    startText: (conv) => startOfKept(conv.retention),
  });
  const tray = createTray({
    list: $('tray'), button: $('attach'), picker: $('file-input'), dropZone: $('conversation'), box: $('message-input'),
  }, {
    token,
    notice,
    // A direct conversation not started yet has no group to upload to.
    canAttach: (id) => !state.conversations.get(id)?.draft,
  });
  const viewer = createViewer($('viewer'));
  const privacy = createPrivacy({
    button: $('block'), toggle: $('show-presence'), input: $('message-input'), send: $('send'),
  }, { request, notice, render });
  const search = createSearch({
    form: $('search-form'), input: $('search-input'), scope: $('search-scope'), panel: $('search-results'),
    status: $('search-status'), list: $('search-list'), more: $('search-more'),
  }, {
    search: api.search,
    title: (id) => {
      const conv = state.conversations.get(id);
      return conv ? title(conv) : null;
    },
    display: names.display,
    active: () => state.active?.id ?? null,
    conversation: (id) => state.conversations.get(id),
    open: (id) => open(id),
    loadOlder,
    reveal: (id) => timeline.reveal(id),
    notice,
  });
  const composer = createComposer($('composer'), $('message-input'), $('send'), {
    send: (text, attachments, replyTo) => outbox.send(state.active, text, attachments, replyTo),
    typing: (room, typing) => {
      if (!state.active?.draft) connection.notify('typing', { room, typing });
    },
    tray,
    notice,
    completion: createCompletion($('message-input'), $('mention-list'), { members: () => state.active?.users ?? [], names }),
    replyBar: createReplyBar($('reply-bar'), { cancel: () => composer.reply(null) }),
    display: names.display,
  });
  const retention = createRetentionControl({
    line: $('conversation-retention'), text: $('retention-text'), button: $('retention-button'), form: $('retention-form'),
    days: $('retention-days'), grace: $('retention-grace'), cancel: $('retention-cancel'), error: $('retention-error'),
  }, {
    me,
    api,
    notice,
    onSaved: (group) => {
      state.addGroup(group);
      render();
    },
  });
  const profile = createProfile({
    button: $('me'), form: $('name-form'), input: $('name-input'), cancel: $('name-cancel'), error: $('name-error'),
  }, { me, api, names, notice });

  $('back').onclick = () => {
    app.dataset.view = 'list';
    render();
  };
  const onVisible = () => markRead(state.active);
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('focus', onVisible);

  const socket = connection.socket;
  socket.on('connect', onConnect);
  socket.on('disconnect', () => {
    for (const conv of state.conversations.values()) conv.live = false;
  });
  socket.on('chat message', (message) => receive(message, false));
  socket.on('private message', (message) => receive(message, true));
  socket.on('message updated', (message) => {
    if (state.conversations.get(message.group)?.change(message)) render();
  });
  socket.on('typing', ({ room, up, typing }) => {
    const conv = state.conversations.get(room);
    if (!conv || privacy.isBlocked(up)) return;
    conv.typing.set(up, typing ? Date.now() + TYPING_SHOWN_MS : 0);
    setTimeout(render, TYPING_SHOWN_MS + 50);
    render();
  });
  socket.on('read', ({ room, up, messageId }) => {
    const conv = state.conversations.get(room);
    if (!conv) return;
    if (up !== me) conv.readMarks.set(up, messageId);
    else if (messageId === conv.newestId) Object.assign(conv, { unread: 0, mentions: 0 }); // read on another device
    render();
  });
  socket.on('user updated', ({ up, name }) => names.set(up, name));
  socket.on('online', ({ up }) => {
    state.online.add(up);
    render();
  });
  socket.on('offline', ({ up, lastSeen }) => {
    state.online.delete(up);
    // No lastSeen: the user hides their presence.
    if (lastSeen) state.lastSeen.set(up, lastSeen);
    else state.lastSeen.delete(up);
    render();
  });
  // Removed by an admin (`kicked`) or through the store by another
  // service (`group removed`): the conversation leaves the list.
  const removed = ({ room }) => {
    const conv = state.conversations.get(room);
    if (!conv) return;
    state.remove(room);
    notice(`You were removed from “${conv.title}”.`);
    if (!state.activeId) {
      app.dataset.view = 'list';
      composer.open(null);
    }
    render();
  };
  socket.on('kicked', removed);
  socket.on('group removed', removed);
  // Added through the store by another service: the group joins the list.
  socket.on('group added', ({ group }) => {
    if (!group?.id || state.conversations.has(group.id)) return;
    state.addGroup(group);
    notice(`You were added to “${state.conversations.get(group.id).title}”.`);
    render();
  });
  // An admin changed the group (its retention).
  socket.on('group updated', ({ group }) => {
    if (!group?.id || !state.conversations.has(group.id)) return;
    state.addGroup(group);
    render();
  });
  socket.on('queue complete', ({ room }) => {
    if (room?.id) state.addGroup(room);
    render();
  });

  // A reload reopens the conversation this tab had open; a new tab opens
  // none, so that nothing is marked read before the user picks it.
  const remembered = state.conversations.get(sessionStorage.getItem('chat.active'));
  if (remembered) open(remembered.id);
  else render();

  /** A group from the gateway with its newest page. */
  function absorb(group, page, complete) {
    const conv = state.addGroup(group);
    for (const message of page.items) conv.put(message);
    conv.markSynced(); // the newest page: nothing missing up to its newest message
    if (complete && !conv.loaded) {
      conv.loaded = true;
      serverHistory(conv, page.hasMore);
    }
    return conv;
  }

  function isReading(conv) {
    return Boolean(conv) && conv.id === state.activeId && document.visibilityState === 'visible'
      && (wide.matches || app.dataset.view === 'chat');
  }

  /** A new message from the room (`chat message`) or a direct one (`private message`). */
  function receive(message, direct) {
    let conv = state.conversations.get(message.group);
    if (!conv) {
      // A group joined elsewhere, or a first direct message sent from another device.
      if (!direct || message.from === me) return refreshGroups();
      conv = state.addGroup({ id: message.group, kind: 'direct', name: message.from, users: [me, message.from] });
      conv.lastSync = new Date(Date.now() - 60_000).toISOString();
    }
    const isNew = conv.put(message);
    if (conv.live) conv.markSynced();
    if (isNew) {
      conv.typing.delete(message.from);
      if (message.from !== me && !isReading(conv)) {
        conv.unread += 1;
        if (message.mentions?.includes(me)) conv.mentions += 1;
      }
    }
    render();
    markRead(conv);
  }

  async function onConnect() {
    const reconnect = everConnected;
    everConnected = true;
    privacy.load();
    // The open conversation first: it is the one being read.
    const order = [state.active, ...state.ordered()].filter((c, i, all) => c && all.indexOf(c) === i);
    for (const conv of order) {
      if (conv.draft || stopped || !connection.connected) continue;
      for (let tries = 1; ; tries += 1) {
        try {
          const fresh = await catchUp(request, conv);
          const unseen = fresh.filter((m) => m.from !== me).length;
          if (unseen && !isReading(conv)) conv.unread += unseen;
          render();
        } catch (err) {
          if (err.code === 'permission_denied' || err.code === 'not_found') state.remove(conv.id);
          // Over the per-user event budget (many groups): slow down and go on.
          if (err.code === 'rate_limited' && tries < 5 && connection.connected) {
            await new Promise((resolve) => setTimeout(resolve, 1000 * tries));
            continue;
          }
        }
        break;
      }
    }
    if (reconnect) await refreshGroups();
    // Who is online: the open group's members, and the other user of the
    // most recent direct conversations (a bounded number of events).
    const directs = state.ordered().filter((c) => c.kind === 'direct' && !c.draft).slice(0, 20);
    for (const conv of new Set([state.active, ...directs])) if (conv) presence(conv);
    markRead(state.active);
    render();
  }

  /** New groups, names and unread counts from the gateway (best effort). */
  async function refreshGroups() {
    try {
      const fresh = await api.groups(1);
      for (const { group, messages } of fresh.groups) {
        // Known groups: their name, members and unread count only (their
        // messages come from the sync and events).
        if (state.conversations.has(group.id)) state.addGroup(group);
        else absorb(group, messages, false).lastSync = new Date(Date.now() - 60_000).toISOString();
      }
      render();
    } catch {
      // The gateway is away (e.g. this page's node is draining): keep what is held.
    }
  }

  function open(id, { focus = false } = {}) {
    const conv = state.conversations.get(id);
    if (!conv) return;
    state.activeId = id;
    if (!conv.draft) sessionStorage.setItem('chat.active', id);
    app.dataset.view = 'chat';
    composer.open(id);
    if (!conv.loaded && !conv.draft) loadNewest(conv);
    // Their names, for the `@` completion (a large group's only as shown).
    if (conv.users.length <= 100) names.want(conv.users);
    presence(conv);
    render({ toBottom: true });
    markRead(conv);
    if (focus && wide.matches) composer.focus();
  }

  async function loadNewest(conv) {
    try {
      const page = await api.messages(conv.id, { perPage: PAGE });
      for (const message of page.items) conv.put(message);
      if (!conv.syncedId || conv.live) conv.markSynced();
      conv.loaded = true;
      serverHistory(conv, page.hasMore);
      render();
      markRead(conv);
    } catch (err) {
      notice(`The messages of “${conv.title}” could not be loaded: ${err.message}`);
    }
  }

  /**
   * What the server said of older pages: whether it holds more. Once its
   * history ends (retention deleted the rest, or there is none), older
   * pages come from this device's archive while it has any.
   */
  function serverHistory(conv, more) {
    conv.serverOlder = more;
    conv.hasOlder = more || conv.archiveOlder !== false;
  }

  async function loadOlder(conv) {
    if (conv.loadingOlder || !conv.hasOlder || (conv.olderRetryAt ?? 0) > Date.now()) return;
    conv.loadingOlder = true;
    render();
    try {
      if (conv.serverOlder) {
        const page = await api.messages(conv.id, { before: conv.oldestId, perPage: PAGE });
        for (const message of page.items) conv.put(message);
        serverHistory(conv, page.hasMore);
      } else {
        const oldest = conv.messages.get(conv.oldestId) ?? null;
        const found = await archive.older(conv.id, oldest, PAGE);
        // Kept here, no longer on the server: shown as they read, marked so.
        for (const message of found) if (!conv.messages.has(message.id)) conv.put({ ...message, archived: true });
        conv.archiveOlder = found.length === PAGE;
        conv.hasOlder = conv.archiveOlder;
      }
    } catch (err) {
      conv.olderRetryAt = Date.now() + 5000;
      notice(`Older messages could not be loaded: ${err.message}`);
    } finally {
      conv.loadingOlder = false;
      render();
    }
  }

  /** Keeps the messages of the open conversation, as shown, in this device's archive. */
  function keepShown(conv) {
    if (!conv || conv.draft) return;
    const fresh = [];
    for (const message of conv.messages.values()) {
      if (message.archived || message.hidden || kept.has(message)) continue;
      kept.add(message);
      fresh.push(message);
    }
    if (fresh.length) archive.keep(conv.id, fresh);
  }

  async function presence(conv) {
    if (conv.draft || !connection.connected) return;
    try {
      const { online } = await request('presence', { room: conv.id });
      for (const up of conv.users) {
        if (online.includes(up)) state.online.add(up);
        else state.online.delete(up);
      }
      render();
    } catch {
      // presence is a nicety
    }
  }

  async function markRead(conv) {
    if (!isReading(conv) || conv.draft || !conv.newestId || !connection.connected) return;
    if (conv.lastReadSent === conv.newestId && conv.unread === 0) return;
    const messageId = conv.newestId;
    conv.lastReadSent = messageId;
    try {
      const { unread, mentions } = await request('read', { room: conv.id, messageId });
      if (conv.newestId === messageId) Object.assign(conv, { unread, mentions: mentions ?? 0 });
      render();
    } catch {
      conv.lastReadSent = null;
    }
  }

  /**
   * Fresh signed links for the messages around `messageId`: the page of
   * those before the next message held, or the newest page
   * (docs/chat-api.md#signed-links). One request per page at a time.
   */
  function refreshLinks(conv, messageId) {
    const sorted = conv.sorted();
    const next = sorted[sorted.findIndex((m) => m.id === messageId) + 1];
    const key = `${conv.id} ${next?.id ?? 'newest'}`;
    if (!refreshing.has(key)) {
      refreshing.set(key, api.messages(conv.id, { before: next?.id, perPage: PAGE }).then((page) => {
        for (const message of page.items) conv.change(message);
        render();
      }).finally(() => refreshing.delete(key)));
    }
    return refreshing.get(key);
  }

  /** A thumbnail did not load: fetch fresh links if its own have expired. */
  function brokenImage(conv, messageId, img) {
    const message = conv?.messages.get(messageId);
    if (!message || message.attachments?.every((a) => linkFresh(a.url, 0))) {
      img.classList.add('broken');
      return;
    }
    refreshLinks(conv, messageId).catch(() => img.classList.add('broken'));
  }

  /** Opens an image in the viewer or downloads a file, with a fresh link. */
  async function openAttachment({ conv, messageId, attachment, action, opener }) {
    let fresh = attachment;
    if (!linkFresh(fresh.url) && messageId) {
      try {
        await refreshLinks(conv, messageId);
      } catch (err) {
        return notice(`${attachment.name} could not be opened: ${err.message}`);
      }
      fresh = conv.messages.get(messageId)?.attachments?.find((a) => a.id === attachment.id) ?? fresh;
    }
    if (action === 'view-image') return viewer.show(fresh, opener);
    const link = h('a', { href: fresh.url, download: fresh.name, hidden: true });
    document.body.append(link);
    link.click();
    link.remove();
  }

  /**
   * Follows a quote to its original: loads older pages until it is held
   * (or there are none), then brings it into view.
   */
  async function showOriginal(conv, id) {
    for (let pages = 0; conv && !conv.messages.has(id) && conv.hasOlder && pages < 100; pages += 1) {
      if (conv.loadingOlder) await new Promise((resolve) => setTimeout(resolve, 100));
      else await loadOlder(conv);
      if ((conv.olderRetryAt ?? 0) > Date.now()) break;
    }
    render();
    await new Promise((resolve) => setTimeout(resolve));
    if (!timeline.reveal(id)) notice('The message this one answers is no longer available.');
  }

  /** A draft direct conversation became a stored group. */
  function promoted(draftId, id) {
    composer.rename(draftId, id);
    sessionStorage.setItem('chat.active', id);
  }

  function notice(text) {
    $('notice').textContent = text;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { $('notice').textContent = ''; }, NOTICE_MS);
  }

  function render({ toBottom = false } = {}) {
    wantBottom ||= toBottom;
    if (renderQueued) return;
    renderQueued = true;
    queueMicrotask(() => {
      const bottom = wantBottom;
      renderQueued = false;
      wantBottom = false;
      if (!stopped) draw(bottom);
    });
  }

  function draw(toBottom) {
    const conv = state.active;
    sidebar.render(state);
    timeline.render(conv, { toBottom });
    if (namesChanged) {
      namesChanged = false;
      composer.redraw();
    }
    profile.show();
    retention.show(conv);
    keepShown(conv);
    $('conversation-title').textContent = conv ? title(conv) : `Hello, ${names.display(me)}`;
    privacy.render(conv);
    $('conversation-members').textContent = conv ? members(conv) : '';
    const typers = conv ? conv.typers() : [];
    $('typing').textContent = typers.length === 0 ? ''
      : typers.length > 3 ? 'Several people are typing…'
        : `${list(typers.map(names.display))} ${typers.length === 1 ? 'is' : 'are'} typing…`;
    const unread = [...state.conversations.values()].reduce((n, c) => n + c.unread, 0);
    document.title = unread ? `(${unread}) Chat` : 'Chat';
  }

  /** A direct conversation is the other user's name; a group its own. */
  function title(conv) {
    return conv.peer ? names.display(conv.peer) : conv.title;
  }

  function members(conv) {
    const peer = conv.peer;
    if (peer) {
      if (state.online.has(peer)) return 'online';
      const seen = state.lastSeen.get(peer);
      return seen ? `last seen ${formatWhen(seen)}` : 'direct message';
    }
    const online = conv.users.filter((up) => state.online.has(up)).length;
    return `${conv.users.length} ${conv.users.length === 1 ? 'member' : 'members'}, ${online} online`;
  }

  function stop() {
    stopped = true;
    outbox.stop();
    tray.stop();
    viewer.close();
    search.close();
    connection.close();
    document.removeEventListener('visibilitychange', onVisible);
    window.removeEventListener('focus', onVisible);
    clearTimeout(noticeTimer);
  }

  return { stop };
}
