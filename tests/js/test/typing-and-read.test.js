// `typing` is relayed to the room's other members; `read` moves the read
// marker in the store, answers the unread count and is relayed as a receipt.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, QUIET_MS, record, sleep } from './events.js';
import { assertError, call, sendMany } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

/** The group `id` as `GET /group/user/<up>` lists it for `up`. */
async function groupOfUser(up, id) {
  const { status, body } = await stack.store('GET', `/group/user/${up}`);
  assert.equal(status, 200, JSON.stringify(body));
  const group = body.items.find((g) => g.id === id);
  assert.ok(group, `${id} is among the groups of ${up}`);
  return group;
}

stack.test('typing is acked with {} and relayed as {room, up, typing} to the other members only', async () => {
  const [a, b, c, d] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c'), uniqueUp('d')];
  const group = await stack.group([a, b, c]);
  await stack.group([a, d]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const dave = await stack.connect(d);
  const aliceGot = record(alice, 'typing');
  const daveGot = record(dave, 'typing');

  const toBob = next(bob, 'typing');
  const toCarol = next(carol, 'typing');
  assert.deepEqual(await ack(alice, 'typing', { room: group.id, typing: true, up: d }), { data: {} });
  const expected = { room: group.id, up: a, typing: true };
  assert.deepEqual(await toBob, expected);
  assert.deepEqual(await toCarol, expected);

  const stopped = next(bob, 'typing');
  assert.deepEqual(await ack(alice, 'typing', { room: group.id, typing: false }), { data: {} });
  assert.deepEqual(await stopped, { room: group.id, up: a, typing: false });
  await sleep(QUIET_MS);
  assert.deepEqual(aliceGot, [], 'the typist is not told about themselves');
  assert.deepEqual(daveGot, [], 'someone in another group of the typist hears nothing');
});

stack.test('typing in a room one is not a member of is permission_denied and relayed to no one', async () => {
  const [a, b, x] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('x')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const intruder = await stack.connect(x);
  const aliceGot = record(alice, 'typing');
  assertError(await ack(intruder, 'typing', { room: group.id, typing: true }), 'permission_denied');
  assertError(await ack(intruder, 'typing', { room: group.id }), 'invalid_argument');
  await sleep(QUIET_MS);
  assert.deepEqual(aliceGot, []);
});

stack.test('read answers the unread count after the marker, tells the room, and the store shows that count', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const aliceGot = record(alice, 'read');

  const sent = await sendMany(bob, group.id, 3, 'news ');
  assert.equal((await groupOfUser(a, group.id)).unread, 3, 'all three are unread at first');

  const toBob = next(bob, 'read');
  const toCarol = next(carol, 'read');
  const answer = await call(alice, 'read', { room: group.id, messageId: sent[1].id });
  assert.deepEqual(answer, { room: group.id, unread: 1, mentions: 0 }, 'reading the 2nd of 3 leaves 1 unread');
  const receipt = { room: group.id, up: a, messageId: sent[1].id };
  assert.deepEqual(await toBob, receipt);
  assert.deepEqual(await toCarol, receipt);
  assert.equal((await groupOfUser(a, group.id)).unread, 1, 'the store keeps the marker');
  assert.equal((await groupOfUser(c, group.id)).unread, 3, 'other users have their own marker');

  assert.deepEqual(await call(alice, 'read', { room: group.id, messageId: sent[0].id }), { room: group.id, unread: 1, mentions: 0 },
    'the marker never moves back');
  assert.deepEqual(await call(alice, 'read', { room: group.id, messageId: sent[2].id }), { room: group.id, unread: 0, mentions: 0 });
  assert.equal((await groupOfUser(a, group.id)).unread, 0);
  await sleep(QUIET_MS);
  assert.deepEqual(aliceGot, [], 'the reader is not sent their own receipt');
});

stack.test('read by a non-member is permission_denied and a message of another group is refused', async () => {
  const [a, b, x] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('x')];
  const group = await stack.group([a, b]);
  const other = await stack.group([a, x]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const intruder = await stack.connect(x);
  const [message] = await sendMany(alice, group.id, 1);
  const [elsewhere] = await sendMany(alice, other.id, 1);
  const bobGot = record(bob, 'read');

  assertError(await ack(intruder, 'read', { room: group.id, messageId: message.id }), 'permission_denied');
  assertError(await ack(bob, 'read', { room: group.id, messageId: elsewhere.id }), 'invalid_argument');
  assertError(await ack(bob, 'read', { room: group.id, messageId: 'nothex' }), 'invalid_argument');
  await sleep(QUIET_MS);
  assert.deepEqual(bobGot, []);
  assert.equal((await groupOfUser(b, group.id)).unread, 1, 'B\'s marker did not move');
});
