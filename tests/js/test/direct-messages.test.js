// `private message {to, message, nonce?}`: stored in the direct group of the
// two users and delivered to both users' other sockets, nobody else.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, QUIET_MS, record, RFC3339_MS, sleep } from './events.js';
import { assertError, call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

const OBJECT_ID = /^[0-9a-f]{24}$/;

stack.test('a private message is stored in a direct group and reaches both users\' other sockets and no one else', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  // C shares a group with both, so a leak to the wrong room would reach C.
  await stack.group([a, b, c]);
  const phone = await stack.connect(a);
  const laptop = await stack.connect(a);
  const bob1 = await stack.connect(b);
  const bob2 = await stack.connect(b);
  const carol = await stack.connect(c);
  const phoneGot = record(phone, 'private message');
  const carolGot = [record(carol, 'private message'), record(carol, 'chat message')];
  const arriving = [next(laptop, 'private message'), next(bob1, 'private message'), next(bob2, 'private message')];

  const message = await call(phone, 'private message', { to: b, message: '  psst  ', from: c });
  assert.match(message.id, OBJECT_ID);
  assert.equal(message.from, a, 'the sender comes from the token');
  assert.equal(message.message, 'psst', 'the text is trimmed');
  assert.match(message.timestamp, RFC3339_MS);
  assert.equal(message.deleted, false);
  assert.deepEqual(message.reactions, {});

  const group = await stack.store('GET', `/group/${message.group}`);
  assert.equal(group.status, 200, JSON.stringify(group.body));
  assert.equal(group.body.kind, 'direct');
  assert.deepEqual([...group.body.users].sort(), [a, b].sort(), 'the direct group holds exactly the two');
  const stored = await stack.store('GET', `/message/${message.id}`);
  assert.deepEqual(stored.body, message, 'the ack is the stored message');

  for (const got of await Promise.all(arriving)) {
    assert.deepEqual(got, message, 'the other sockets of both users get the stored message');
  }
  await sleep(QUIET_MS);
  assert.deepEqual(phoneGot, [], 'the sending socket only gets the ack');
  assert.deepEqual(carolGot, [[], []], 'a third user gets nothing');
});

stack.test('both directions of a pair use the same direct group', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const toBob = next(bob, 'private message');
  const first = await call(alice, 'private message', { to: b, message: 'hi bob' });
  assert.deepEqual(await toBob, first);

  const toAlice = next(alice, 'private message');
  const reply = await call(bob, 'private message', { to: a, message: 'hi alice' });
  assert.equal(reply.group, first.group, 'B to A lands in the group of A to B');
  assert.equal(reply.from, b);
  assert.deepEqual(await toAlice, reply);

  const direct = await stack.store('POST', '/group/direct', { users: [b, a] });
  assert.equal(direct.body.id, first.group, 'the store agrees it is the pair\'s direct group');
  const page = await stack.store('GET', `/group/messages?groupID=${first.group}`);
  assert.deepEqual(page.body.items.map((m) => m.message), ['hi alice', 'hi bob']);
});

stack.test('a private message retried with the same nonce is the same message, delivered once', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const bobGot = record(bob, 'private message');
  const payload = { to: b, message: 'only once', nonce: `n-${uniqueUp('x')}` };

  const first = await call(alice, 'private message', payload);
  const again = await call(alice, 'private message', payload);
  assert.equal(again.id, first.id, 'the retry gets the first message');
  assert.deepEqual(again, first);
  assert.equal(first.nonce, payload.nonce);
  await sleep(QUIET_MS);
  assert.deepEqual(bobGot, [first], 'the recipient gets it exactly once');
  const page = await stack.store('GET', `/group/messages?groupID=${first.group}`);
  assert.equal(page.body.total, 1, 'one message is stored');
});

stack.test('a private message to oneself is refused as invalid_argument and nothing is stored', async () => {
  const a = uniqueUp('a');
  const phone = await stack.connect(a);
  const laptop = await stack.connect(a);
  const laptopGot = record(laptop, 'private message');
  assertError(await ack(phone, 'private message', { to: a, message: 'note to self' }), 'invalid_argument');
  await sleep(QUIET_MS);
  assert.deepEqual(laptopGot, []);
  const groups = await stack.store('GET', `/group/user/${a}`);
  assert.deepEqual(groups.body.items, [], 'no direct group was made');
});

stack.test('a private message to something that is not a user id is refused as invalid_argument', async () => {
  const a = uniqueUp('a');
  const alice = await stack.connect(a);
  for (const to of ['not a user!', '', 'x'.repeat(65), 'a/b', 42, null]) {
    assertError(await ack(alice, 'private message', { to, message: 'hello?' }), 'invalid_argument');
  }
  assertError(await ack(alice, 'private message', { message: 'to nobody' }), 'invalid_argument');
  const groups = await stack.store('GET', `/group/user/${a}`);
  assert.deepEqual(groups.body.items, [], 'nothing was created');
});
