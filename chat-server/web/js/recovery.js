// Catching up a conversation after a (re)connect: the reconnect recipe of
// docs/chat-api.md#reconnect-recipe. `sync` after the newest message known
// to be held without a gap (all pages of missed messages) and `since` the
// last sync (edits, deletes and reactions, all pages of changes),
// de-duplicated by id. Once done, the conversation is `live`: the messages
// it gets by event follow without a gap.

/** `since` is compared with the store's clock: take it a minute early. */
const CLOCK_SKEW_MS = 60_000;

/**
 * Brings `conv` up to date. `request(event, payload)` resolves with an
 * ack's data. Returns the messages that were new to the client.
 */
export async function catchUp(request, conv) {
  const room = conv.id;
  const startedAt = new Date(Date.now() - CLOCK_SKEW_MS).toISOString();
  const fresh = [];
  const take = (message) => {
    if (message.group === room && conv.put(message)) fresh.push(message);
  };

  const first = await request('sync', {
    room,
    ...(conv.syncedId ? { after: conv.syncedId } : {}),
    ...(conv.lastSync ? { since: conv.lastSync } : {}),
  });

  // A group whose history is hidden (docs/chat-api.md#history-gate) answers
  // nothing: keep the recipe's marks for a later sync.
  if (first.messages.total === 0 && conv.messages.size > 0) return fresh;

  // Changes (edits, deletes, reactions): replace what is held.
  let changes = first;
  for (;;) {
    for (const message of changes.changes) conv.change(message);
    if (!changes.moreChanges || changes.changes.length === 0) break;
    changes = await request('sync', { room, since: changes.changes.at(-1).changedAt });
  }

  if (!conv.syncedId) {
    // Nothing held yet: `sync` answered the newest page, newest first;
    // older pages come from the gateway when the user scrolls up.
    for (const message of first.messages.items) take(message);
    if (!conv.loaded) {
      // Older pages from the server, and once they end, from this
      // device's archive (chat.js), which may hold what retention deleted.
      conv.serverOlder = first.messages.hasMore;
      conv.hasOlder = conv.serverOlder || conv.archiveOlder !== false;
    }
    conv.loaded = true;
  } else {
    // Missed messages, oldest first, page after page.
    let page = first.messages;
    for (;;) {
      for (const message of page.items) take(message);
      if (!page.hasMore || page.items.length === 0) break;
      page = (await request('sync', { room, after: page.items.at(-1).id })).messages;
    }
  }
  conv.lastSync = startedAt;
  // Everything up to now is held: what came by event during the sync too.
  conv.markSynced();
  conv.live = true;
  return fresh;
}
