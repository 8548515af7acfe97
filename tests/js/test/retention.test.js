// Retention through the gateway and the sockets (docs/chat-api.md,
// Retention): an admin sets a group's retention (`POST
// /chat/{group}/retention`), its members hear `group updated`; messages
// read by every member are swept, and neither `sync`, pages nor cursors
// bring them back; a client whose newest message was swept still catches up.
//
// The store sweeps only when asked here (`POST /retention/sweep`), without a
// minimum age, so that a test does not wait for the background sweep.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { next, QUIET_MS, record, sleep } from './events.js';
import { assertError, call, sendMany } from './feature-helpers.js';
import { ack } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack({
  storeEnv: {
    STORE_RETENTION_SWEEP_SECONDS: '0',
    STORE_RETENTION_MIN_AGE_SECONDS: '0',
    STORE_RETENTION_PAUSE_MS: '0',
  },
});
after(() => stack.stop());

const UNTIL_READ = { mode: 'untilRead', graceHours: 0 };

/** `POST /chat/{group}/retention` as `up` with `body` (a string is sent as it is). */
async function setRetention(group, up, body) {
  const headers = { 'content-type': 'application/json' };
  if (up) headers.authorization = `Bearer ${await stack.token(up)}`;
  const res = await fetch(`${stack.chatUrl}/chat/${group}/retention`, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** Runs the store's sweep on `group` now; answers what it deleted. */
async function sweep(group) {
  const { status, body } = await stack.store('POST', `/retention/sweep?group=${group}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** A page of `group` through the gateway as `up`. */
async function page(group, up, query = '') {
  const { status, body } = await stack.rest(`/chat/${group}/message?${query}`, { up });
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

const texts = (items) => items.map((m) => m.message);

stack.test('an admin sets the retention, the members hear `group updated`, and everyone else is refused', async () => {
  const [a, b, outsider] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('o')];
  const group = await stack.group([a, b], { admins: [a] });
  assert.deepEqual(group.retention, { mode: 'forever' }, 'forever by default');
  const [alice, bob] = [await stack.connect(a), await stack.connect(b)];
  const toBob = next(bob, 'group updated');
  const toAlice = next(alice, 'group updated');

  const set = await setRetention(group.id, a, { mode: 'days', days: 30 });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.equal(set.body.id, group.id);
  assert.deepEqual(set.body.retention, { mode: 'days', days: 30 });
  assert.deepEqual((await toBob).group.retention, { mode: 'days', days: 30 });
  assert.deepEqual((await toAlice).group, set.body, 'the admin\'s other sockets hear it too');
  const listed = await stack.rest('/chat/message?perPage=1', { up: b });
  assert.deepEqual(listed.body.groups.find((g) => g.group.id === group.id).group.retention, { mode: 'days', days: 30 });

  const heard = record(bob, 'group updated');
  const byMember = await setRetention(group.id, b, { mode: 'forever' });
  assert.equal(byMember.status, 403);
  assert.equal(byMember.body.error.code, 'permission_denied');
  const byOutsider = await setRetention(group.id, outsider, { mode: 'forever' });
  assert.equal(byOutsider.status, 403);
  assert.equal(byOutsider.body.error.code, 'permission_denied');
  for (const bad of [{ mode: 'days', days: 0 }, { mode: 'days', days: 3651 }, { mode: 'untilRead', graceHours: 721 },
    { mode: 'untilRead' }, { mode: 'weekly' }, { mode: 'forever', days: 1 }, [], '{"mode":']) {
    const answer = await setRetention(group.id, a, bad);
    assert.equal(answer.status, 400, JSON.stringify(bad));
    assert.equal(answer.body.error.code, 'invalid_argument', JSON.stringify(answer.body));
  }
  assert.equal((await setRetention(group.id, null, { mode: 'forever' })).status, 401);
  const unknown = await setRetention('0123456789abcdef01234567', a, { mode: 'forever' });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.error.code, 'not_found');
  await sleep(QUIET_MS);
  assert.equal(heard.length, 0, 'a refused change is not announced');
  const stored = await stack.store('GET', `/group/${group.id}`);
  assert.deepEqual(stored.body.retention, { mode: 'days', days: 30 }, 'unchanged');
});

stack.test('untilRead: what every member has read is swept, and sync, pages and cursors never bring it back', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { admins: [a] });
  const room = group.id;
  assert.equal((await setRetention(room, a, UNTIL_READ)).status, 200);
  const [alice, bob, carol] = [await stack.connect(a), await stack.connect(b), await stack.connect(c)];
  const sent = await sendMany(alice, room, 4);
  const since = new Date(Date.now() - 60_000).toISOString();
  await call(bob, 'react', { messageId: sent[1].id, emoji: '👍', on: true });

  await call(bob, 'read', { room, messageId: sent[3].id });
  assert.equal((await sweep(room)).messages, 0, 'carol has read nothing');
  await call(carol, 'read', { room, messageId: sent[1].id });
  assert.deepEqual(await sweep(room), { groups: 1, messages: 2, attachments: 0 });
  assert.equal((await sweep(room)).messages, 0, 'carol has not read the last two');

  const synced = await call(carol, 'sync', { room, since });
  assert.deepEqual(texts(synced.messages.items), ['m3', 'm2'], 'the newest page holds what is left');
  assert.equal(synced.messages.total, 2);
  assert.equal(synced.messages.hasMore, false);
  assert.deepEqual(synced.changes, [], 'the reaction to a swept message is gone with it');
  const rest = await page(room, c);
  assert.deepEqual(texts(rest.items), ['m3', 'm2']);
  assert.equal(rest.hasMore, false);
  assert.deepEqual((await page(room, c, `before=${sent[2].id}`)).items, []);
  assert.deepEqual((await page(room, c, `before=${sent[0].id}`)).items, [], 'nothing before a swept message');
  assert.deepEqual(texts((await page(room, c, `after=${sent[0].id}`)).items), ['m2', 'm3'], 'after a swept message: the oldest held on');
  const afterSwept = await call(carol, 'sync', { room, after: sent[1].id });
  assert.deepEqual(texts(afterSwept.messages.items), ['m2', 'm3']);

  // Reading, reacting to or editing a swept message.
  const read = await call(carol, 'read', { room, messageId: sent[0].id });
  assert.equal(read.unread, 2, 'a swept message read: the marker stays where it was');
  assertError(await ack(alice, 'edit message', { messageId: sent[0].id, message: 'back?' }), 'not_found');
  assertError(await ack(bob, 'react', { messageId: sent[1].id, emoji: '🎉', on: true }), 'not_found');

  await call(carol, 'read', { room, messageId: sent[3].id });
  assert.equal((await sweep(room)).messages, 2);
  const empty = await call(bob, 'sync', { room });
  assert.deepEqual(empty.messages.items, []);
  assert.equal(empty.messages.total, 0);
  const overview = await stack.rest('/chat/message', { up: c });
  const entry = overview.body.groups.find((g) => g.group.id === room);
  assert.deepEqual(entry.messages.items, []);
  assert.equal(entry.group.unread, 0);
  assert.deepEqual(await stack.storedTexts(room), []);
});

stack.test('a client whose newest message was swept still catches up with the reconnect recipe', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b], { admins: [a] });
  const room = group.id;
  assert.equal((await setRetention(room, a, UNTIL_READ)).status, 200);
  const alice = await stack.connect(a);
  let bob = await stack.connect(b);
  const seen = await sendMany(alice, room, 2, 'before ');
  await call(bob, 'read', { room, messageId: seen[1].id });
  // Bob's device goes away holding newestId = the second message.
  const state = { newestId: seen[1].id, lastSync: new Date().toISOString() };
  bob.disconnect();
  assert.equal((await sweep(room)).messages, 2, 'both read by everyone');
  const missed = await sendMany(alice, room, 3, 'while away ');

  bob = await stack.connect(b);
  const first = await call(bob, 'sync', { room, after: state.newestId, since: state.lastSync });
  assert.deepEqual(texts(first.messages.items), ['while away 0', 'while away 1', 'while away 2']);
  assert.equal(first.messages.hasMore, false);
  assert.deepEqual(first.changes, []);
  // Paging on from the last one works as before.
  const paged = await call(bob, 'sync', { room, after: missed[0].id });
  assert.deepEqual(texts(paged.messages.items), ['while away 1', 'while away 2']);
  // An id made after the newest swept message, and no message's, is
  // unknown as before; one made before it reads as swept (the store keeps
  // no list of swept ids: docs/chat-api.md, Retention).
  const madeLater = `${Math.floor(Date.now() / 1000 + 60).toString(16)}${'0'.repeat(16)}`;
  assertError(await ack(bob, 'sync', { room, after: madeLater }), 'not_found');
  const madeLongAgo = `${(1_600_000_000).toString(16)}${'0'.repeat(16)}`;
  assert.deepEqual(texts((await call(bob, 'sync', { room, after: madeLongAgo })).messages.items),
    ['while away 0', 'while away 1', 'while away 2']);
});

stack.test('days: an old message is swept, a recent one stays, and a forever group keeps everything', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const kept = await stack.group([a, b], { admins: [a] });
  const dated = await stack.group([a, b], { admins: [a] });
  const alice = await stack.connect(a);
  await sendMany(alice, kept.id, 2);
  await sendMany(alice, dated.id, 2);
  assert.equal((await setRetention(dated.id, a, { mode: 'days', days: 1 })).status, 200);
  assert.deepEqual(await sweep(kept.id), { groups: 0, messages: 0, attachments: 0 }, 'forever: not even looked at');
  assert.equal((await sweep(dated.id)).messages, 0, 'a day has not passed');
  assert.deepEqual(await stack.storedTexts(dated.id), ['m1', 'm0']);
  assert.deepEqual(await stack.storedTexts(kept.id), ['m1', 'm0']);
});
