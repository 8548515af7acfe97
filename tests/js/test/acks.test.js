// Every event answers `{data}` or `{error: {code, message}}`.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, QUIET_MS, record, sleep } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

function assertError(answer, code) {
  assert.equal(answer.data, undefined, `expected an error, got ${JSON.stringify(answer)}`);
  assert.equal(answer.error?.code, code, JSON.stringify(answer));
  assert.equal(typeof answer.error.message, 'string');
  assert.ok(answer.error.message.length > 0);
}

/** A group of `a` and `b` with both connected. */
async function twoInAGroup(options = {}) {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b], options);
  return { a, b, group, alice: await stack.connect(a), bob: await stack.connect(b) };
}

stack.test('online answers the user of the token', async () => {
  const up = uniqueUp('me');
  const socket = await stack.connect(up);
  assert.deepEqual(await ack(socket, 'online', { up: 'someone-else' }), { data: { up } });
});

stack.test('an event emitted right on connect is answered', async () => {
  const up = uniqueUp('eager');
  await stack.group([up]);
  const token = await stack.token(up);
  for (let i = 0; i < 20; i += 1) {
    const socket = await stack.connect(up, { token, transports: ['websocket'] });
    assert.deepEqual(await ack(socket, 'online', {}, 2000), { data: { up } }, `connection ${i}`);
    socket.disconnect();
  }
});

stack.test('joining an open group answers the group and then its messages reach the joiner', async () => {
  const { a, group, alice } = await twoInAGroup({ open: true });
  const joiner = uniqueUp('j');
  const socket = await stack.connect(joiner);
  const answer = await ack(socket, 'join room', { room: group.id });
  assert.equal(answer.data?.id, group.id, JSON.stringify(answer));
  assert.ok(answer.data.users.includes(joiner), 'the answered group lists the joiner');
  assert.ok(answer.data.users.includes(a));

  const arriving = next(socket, 'chat message');
  const { data } = await ack(alice, 'chat message', { room: group.id, message: 'welcome' });
  assert.deepEqual(await arriving, data);
  const sent = await ack(socket, 'chat message', { room: group.id, message: 'thanks' });
  assert.equal(sent.data?.from, joiner, 'the joiner may now send there');
});

stack.test('joining a closed group one is not a member of is permission_denied', async () => {
  const { group, alice } = await twoInAGroup();
  const outsider = await stack.connect(uniqueUp('o'));
  const got = record(outsider, 'chat message');
  assertError(await ack(outsider, 'join room', { room: group.id }), 'permission_denied');
  await ack(alice, 'chat message', { room: group.id, message: 'private' });
  await sleep(QUIET_MS);
  assert.deepEqual(got, [], 'the refused user does not hear the group');
});

stack.test('joining an unknown group is not_found', async () => {
  const socket = await stack.connect(uniqueUp('u'));
  assertError(await ack(socket, 'join room', { room: '65f0c0ffee0000000000abcd' }), 'not_found');
});

stack.test('leaving a group answers the room and then none of the leaver\'s sockets hear it or may send there', async () => {
  const { b, group, alice, bob } = await twoInAGroup();
  const bobLaptop = await stack.connect(b);
  assert.deepEqual(await ack(bob, 'leave room', { room: group.id }), { data: { room: group.id } });
  const heard = [bob, bobLaptop].map((s) => record(s, 'chat message'));
  const answer = await ack(alice, 'chat message', { room: group.id, message: 'are you there?' });
  assert.ok(answer.data, JSON.stringify(answer));
  await sleep(QUIET_MS);
  assert.deepEqual(heard, [[], []]);
  assertError(await ack(bob, 'chat message', { room: group.id, message: 'hi' }), 'permission_denied');
  assertError(await ack(bobLaptop, 'chat message', { room: group.id, message: 'hi' }), 'permission_denied');
  const stored = await stack.store('GET', `/group/${group.id}`);
  assert.ok(!stored.body.users.includes(b), 'the store no longer lists the leaver');
});

stack.test('an empty or blank message is invalid_argument', async () => {
  const { group, alice } = await twoInAGroup();
  assertError(await ack(alice, 'chat message', { room: group.id, message: '' }), 'invalid_argument');
  assertError(await ack(alice, 'chat message', { room: group.id, message: ' \n\t ' }), 'invalid_argument');
});

stack.test('a message over 4000 characters is payload_too_large and one of exactly 4000 is accepted', async () => {
  const { group, alice } = await twoInAGroup();
  assertError(await ack(alice, 'chat message', { room: group.id, message: 'x'.repeat(4001) }), 'payload_too_large');
  const longest = await ack(alice, 'chat message', { room: group.id, message: 'é'.repeat(4000) });
  assert.equal(longest.data?.message.length, 4000, JSON.stringify(longest.error));
});

stack.test('malformed payloads are invalid_argument and the connection stays up', async () => {
  const { group, alice, bob } = await twoInAGroup();
  const malformed = [
    { message: 'no room' },
    { room: 'not-an-id', message: 'bad room' },
    { room: group.id.slice(0, 23), message: 'short id' },
    { room: group.id, message: 42 },
    'a string instead of an object',
  ];
  for (const payload of malformed) {
    assertError(await ack(alice, 'chat message', payload), 'invalid_argument');
  }
  assertError(await ack(alice, 'join room', { room: 'nope' }), 'invalid_argument');
  assertError(await ack(alice, 'leave room', 'nope'), 'invalid_argument');
  assert.equal(alice.connected, true);
  const arriving = next(bob, 'chat message');
  const { data } = await ack(alice, 'chat message', { room: group.id, message: 'still here' });
  assert.deepEqual(await arriving, data);
});

stack.test('a message to a group the user is not in is permission_denied and reaches no one', async () => {
  const { group, bob } = await twoInAGroup();
  const outsider = await stack.connect(uniqueUp('o'));
  const heard = record(bob, 'chat message');
  assertError(await ack(outsider, 'chat message', { room: group.id, message: 'let me in' }), 'permission_denied');
  await sleep(QUIET_MS);
  assert.deepEqual(heard, []);
});
