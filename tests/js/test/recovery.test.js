// The reconnect recipe: after an automatic reconnection of the official
// client, `sync {room, after, since}` returns exactly what was missed.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, record, sleep } from './events.js';
import { assertError, call, reconnected, sendMany } from './feature-helpers.js';
import { connected, startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

/** Stores `count` messages of `from` in `group` directly in the store (no rate limit). */
async function storeMessages(group, from, count) {
  const sent = [];
  for (let i = 0; i < count; i += 1) {
    const { status, body } = await stack.store('POST', '/message', { group, from, message: `backlog ${i}` });
    assert.equal(status, 201, JSON.stringify(body));
    sent.push(body);
  }
  return sent;
}

stack.test('after a dropped connection and an automatic reconnection, sync returns exactly the missed messages and the edits', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  // The client reconnects by itself after the drop, 2 s later so that A
  // acts while B is away.
  const bob = await connected(await stack.socket(b, {
    reconnection: true,
    reconnectionDelay: 2000,
    randomizationFactor: 0,
  }));

  const [older, newest] = await sendMany(alice, group.id, 2, 'before ');
  // A change B has already seen: not to be listed again.
  await call(alice, 'react', { messageId: newest.id, emoji: '👍', on: true });
  await sleep(5);
  // B's records: its newest message and the time of its last sync.
  const lastId = newest.id;
  const lastTime = new Date().toISOString();

  const bobOffline = next(alice, 'offline');
  const dropped = next(bob, 'disconnect');
  bob.io.engine.close();
  const reason = await dropped;
  assert.ok(!['io client disconnect', 'io server disconnect'].includes(reason), `a drop the client recovers from, got ${reason}`);
  assert.equal((await bobOffline).up, b, 'the server saw B go');
  const coming = reconnected(bob);
  const liveToBob = record(bob, 'chat message');

  const missed = await sendMany(alice, group.id, 3, 'while away ');
  const edited = await call(alice, 'edit message', { messageId: older.id, message: 'before 0, edited' });

  await coming;
  assert.deepEqual(liveToBob, [], 'B was away while A sent: the messages were really missed');
  assert.ok(bob.connected);

  const { messages, changes } = await call(bob, 'sync', { room: group.id, after: lastId, since: lastTime });
  assert.deepEqual(messages.items, missed, 'exactly the 3 missed messages, oldest first');
  assert.equal(messages.hasMore, false);
  assert.deepEqual(changes, [edited], 'the edit of an older message is in changes, and nothing changed before `since`');

  // The reconnected socket is back in the room.
  const live = next(bob, 'chat message');
  const later = await call(alice, 'chat message', { room: group.id, message: 'welcome back' });
  assert.deepEqual(await live, later);
});

stack.test('sync of a room the user is not a member of is permission_denied', async () => {
  const [a, b, x] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('x')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const [message] = await sendMany(alice, group.id, 1);
  const intruder = await stack.connect(x);
  assertError(await ack(intruder, 'sync', { room: group.id }), 'permission_denied');
  assertError(await ack(intruder, 'sync', { room: group.id, after: message.id }), 'permission_denied');
});

stack.test('sync with a malformed since or cursor is invalid_argument', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const [message] = await sendMany(alice, group.id, 1);
  for (const since of ['yesterday', '2026-13-45T99:00:00Z', '', 12345]) {
    assertError(await ack(alice, 'sync', { room: group.id, after: message.id, since }), 'invalid_argument');
  }
  assertError(await ack(alice, 'sync', { room: group.id, after: 'nothex' }), 'invalid_argument');
  assertError(await ack(alice, 'sync', { room: 'nothex' }), 'invalid_argument');
});

stack.test('with more than 100 missed messages sync has more, and syncing after the last returned gets the rest', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const [seen] = await storeMessages(group.id, a, 1);
  const backlog = await storeMessages(group.id, a, 105);
  const bob = await stack.connect(b);

  const first = await call(bob, 'sync', { room: group.id, after: seen.id });
  assert.equal(first.messages.items.length, 100);
  assert.equal(first.messages.hasMore, true);
  assert.deepEqual(first.messages.items.map((m) => m.id), backlog.slice(0, 100).map((m) => m.id), 'oldest first');
  assert.deepEqual(first.changes, [], 'no `since`, no changes');

  const lastReturned = first.messages.items.at(-1).id;
  const rest = await call(bob, 'sync', { room: group.id, after: lastReturned });
  assert.deepEqual(rest.messages.items.map((m) => m.id), backlog.slice(100).map((m) => m.id));
  assert.equal(rest.messages.hasMore, false);

  const none = await call(bob, 'sync', { room: group.id, after: backlog.at(-1).id });
  assert.deepEqual(none.messages.items, []);
  assert.equal(none.messages.hasMore, false);
}, { timeout: 60_000 });

stack.test('more than 100 changes are paged with moreChanges and each change\'s changedAt', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const since = new Date(Date.now() - 1000).toISOString();
  const backlog = await storeMessages(group.id, a, 105);
  for (const message of backlog) {
    const { status, body } = await stack.store('POST', `/message/${message.id}/reactions`, { up: b, emoji: '👍' });
    assert.equal(status, 200, JSON.stringify(body));
  }
  const bob = await stack.connect(b);

  const first = await call(bob, 'sync', { room: group.id, since });
  assert.equal(first.changes.length, 100);
  assert.equal(first.moreChanges, true);
  const last = first.changes.at(-1);
  assert.ok(last.changedAt, 'a change carries its changedAt');
  const rest = await call(bob, 'sync', { room: group.id, since: last.changedAt });
  assert.equal(rest.moreChanges, false);
  const seen = new Set([...first.changes, ...rest.changes].map((m) => m.id));
  assert.equal(seen.size, 105, 'every changed message is seen once the pages are read');
}, { timeout: 60_000 });
