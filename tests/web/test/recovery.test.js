// The client's reconnect recipe (chat-server/web/js/recovery.js and
// state.js), run in Node against a scripted `sync`: pages of missed
// messages and of changes are all followed, and a message that arrives by
// event before the sync does not make it skip the ones missed before it.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { catchUp } from '../../../chat-server/web/js/recovery.js';
import { Conversation } from '../../../chat-server/web/js/state.js';

const ROOM = 'a'.repeat(24);
const id = (n) => `${'0'.repeat(20)}${String(n).padStart(4, '0')}`;
const message = (n, extra = {}) => ({
  id: id(n), group: ROOM, from: 'bob', message: `m${n}`,
  timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString(), deleted: false, reactions: {}, ...extra,
});
const page = (items, hasMore = false) => ({ items, page: 0, perPage: 100, total: 99, hasMore });

/** A `request` that answers each `sync` from `answer(payload)` and records the payloads. */
function scripted(answer) {
  const calls = [];
  const request = async (event, payload) => {
    assert.equal(event, 'sync');
    calls.push(payload);
    return answer(payload);
  };
  return { request, calls };
}

function conversationHolding(...numbers) {
  const conv = new Conversation({ id: ROOM, name: 'g', kind: 'group', users: ['alice', 'bob'] }, 'alice');
  for (const n of numbers) conv.put(message(n));
  conv.markSynced();
  conv.lastSync = '2026-01-01T00:00:00.000Z';
  return conv;
}

test('a message that came by event before the sync does not hide the ones missed before it', async () => {
  const conv = conversationHolding(1, 2);
  // Reconnected; m5 arrives by event before this room's sync runs.
  conv.put(message(5));
  const { request, calls } = scripted(({ after }) => {
    const items = [3, 4, 5].map((n) => message(n)).filter((m) => m.id > after);
    return { messages: page(items), changes: [], moreChanges: false };
  });
  const fresh = await catchUp(request, conv);
  assert.equal(calls[0].after, id(2));
  assert.deepEqual(conv.sorted().map((m) => m.message), ['m1', 'm2', 'm3', 'm4', 'm5']);
  assert.deepEqual(fresh.map((m) => m.message), ['m3', 'm4']);
  assert.equal(conv.syncedId, id(5));
  assert.ok(conv.live);
});

test('every page of missed messages and of changes is followed', async () => {
  const conv = conversationHolding(1, 2, 3);
  const { request, calls } = scripted(({ after, since }) => {
    if (since === '2026-01-01T00:00:00.000Z') {
      return {
        messages: page([message(4), message(5)], true),
        changes: [message(1, { message: 'm1 edited', changedAt: 't1' })],
        moreChanges: true,
      };
    }
    if (since === 't1') return { messages: page([]), changes: [message(2, { deleted: true, message: '', changedAt: 't2' })], moreChanges: false };
    if (after === id(5)) return { messages: page([message(6)]), changes: [], moreChanges: false };
    throw new Error(`unexpected sync ${JSON.stringify({ after, since })}`);
  });
  await catchUp(request, conv);
  assert.deepEqual(calls, [
    { room: ROOM, after: id(3), since: '2026-01-01T00:00:00.000Z' },
    { room: ROOM, since: 't1' },
    { room: ROOM, after: id(5) },
  ]);
  assert.deepEqual(conv.sorted().map((m) => m.message), ['m1 edited', '', 'm3', 'm4', 'm5', 'm6']);
  assert.equal(conv.messages.get(id(2)).deleted, true);
  assert.ok(conv.lastSync > '2026-01-01');
});

test('a room with nothing held takes the newest page, and older ones stay for scrolling up', async () => {
  const conv = new Conversation({ id: ROOM, name: 'g', kind: 'group', users: [] }, 'alice');
  const { request, calls } = scripted(() => ({ messages: page([message(9), message(8)], true), changes: [], moreChanges: false }));
  await catchUp(request, conv);
  assert.deepEqual(calls, [{ room: ROOM }]);
  assert.deepEqual(conv.sorted().map((m) => m.message), ['m8', 'm9']);
  assert.ok(conv.loaded && conv.hasOlder);
  assert.equal(conv.syncedId, id(9));
});

test('a pending send is settled by its message coming back with the same nonce', () => {
  const conv = conversationHolding(1);
  conv.pending.set('n-1', { nonce: 'n-1', text: 'hi', createdAt: 'x', state: 'sending' });
  conv.put(message(2, { from: 'alice', nonce: 'n-1' }));
  assert.equal(conv.pending.size, 0);
  assert.equal(conv.put(message(2, { from: 'alice', nonce: 'n-1' })), false, 'the same id twice is one message');
});
