// `chat message` goes to the room's other sockets, and only to the room.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, QUIET_MS, record, RFC3339_MS, sleep } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

const OBJECT_ID = /^[0-9a-f]{24}$/;

stack.test('a message reaches the other members of the group as the stored message and no one else', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b]);
  await stack.group([c, uniqueUp('d')]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const carolGot = record(carol, 'chat message');
  const arriving = next(bob, 'chat message');

  const sent = Date.now();
  const answer = await ack(alice, 'chat message', {
    room: group.id,
    message: '  hello bob  ',
    up: c,
    from: c,
  });
  const { data } = answer;
  assert.ok(data, `the ack is {data}: ${JSON.stringify(answer)}`);
  assert.match(data.id, OBJECT_ID);
  assert.equal(data.group, group.id);
  assert.equal(data.from, a, 'the sender is the token user, not the payload');
  assert.equal(data.message, 'hello bob', 'the text is trimmed');
  assert.match(data.timestamp, RFC3339_MS);
  assert.ok(Math.abs(Date.parse(data.timestamp) - sent) < 60_000, 'the timestamp is now');
  assert.equal(data.deleted, false);
  assert.deepEqual(data.reactions, {});

  assert.deepEqual(await arriving, data, 'B receives exactly the stored message');
  const stored = await stack.store('GET', `/message/${data.id}`);
  assert.deepEqual(stored.body, data, 'the broadcast is what the store holds');
  await sleep(QUIET_MS);
  assert.deepEqual(carolGot, [], 'C is not in the group');
});

stack.test("the sender's own socket gets only the ack while the sender's other socket gets the message", async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const phone = await stack.connect(a);
  const laptop = await stack.connect(a);
  const bob = await stack.connect(b);
  const phoneGot = record(phone, 'chat message');
  const toLaptop = next(laptop, 'chat message');
  const toBob = next(bob, 'chat message');

  const { data } = await ack(phone, 'chat message', { room: group.id, message: 'from my phone' });
  assert.equal(data.message, 'from my phone');
  assert.deepEqual(await toLaptop, data);
  assert.deepEqual(await toBob, data);
  await sleep(QUIET_MS);
  assert.deepEqual(phoneGot, [], 'no echo to the sending socket');
});

stack.test('sockets connecting all at once each join the rooms of their own user and of no other', async () => {
  // The handshakes read their users' groups together (one store call for
  // many): each must get its own user's.
  const pairs = Array.from({ length: 30 }, (_, i) => [uniqueUp(`s${i}`), uniqueUp(`r${i}`)]);
  const groups = await Promise.all(pairs.map((pair) => stack.group(pair)));
  const clients = await Promise.all(pairs.flat().map((up) => stack.connect(up)));
  const receivers = clients.filter((_, i) => i % 2 === 1);
  const heard = receivers.map((receiver) => record(receiver, 'chat message'));

  await Promise.all(groups.map((group, i) => ack(clients[2 * i], 'chat message', { room: group.id, message: `to ${i}` })));
  await sleep(QUIET_MS);
  assert.deepEqual(
    heard.map((messages) => messages.map(({ group, message }) => [group, message])),
    groups.map((group, i) => [[group.id, `to ${i}`]]),
  );
});
