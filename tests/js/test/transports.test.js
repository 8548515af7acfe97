// Polling, websocket, and polling upgraded to websocket all carry the chat.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import { ack, next } from './events.js';
import { connected, startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

/** A message from `sender` reaches `receiver` and is acked to `sender`. */
async function roundTrip(sender, receiver, senderUp, group) {
  const text = `over ${sender.io.engine.transport.name} ${Date.now()}`;
  const [answer, received] = await Promise.all([
    ack(sender, 'chat message', { room: group.id, message: text }),
    next(receiver, 'chat message'),
  ]);
  assert.equal(answer.data?.message, text, JSON.stringify(answer));
  assert.deepEqual(received, answer.data);
  assert.equal(received.from, senderUp);
}

async function pair(senderOptions) {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const receiver = await stack.connect(b);
  const sender = await stack.connect(a, senderOptions);
  return { a, b, group, sender, receiver };
}

stack.test('a client on long-polling only sends and receives messages', async () => {
  const { a, b, group, sender, receiver } = await pair({ transports: ['polling'] });
  assert.equal(sender.io.engine.transport.name, 'polling');
  await roundTrip(sender, receiver, a, group);
  await roundTrip(receiver, sender, b, group);
  assert.equal(sender.io.engine.transport.name, 'polling', 'a polling-only client never upgrades');
});

stack.test('a client on websocket only sends and receives messages', async () => {
  const { a, b, group, sender, receiver } = await pair({ transports: ['websocket'] });
  assert.equal(sender.io.engine.transport.name, 'websocket');
  await roundTrip(sender, receiver, a, group);
  await roundTrip(receiver, sender, b, group);
});

stack.test('a default client starts on polling, upgrades to websocket, and keeps chatting', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const receiver = await stack.connect(b, { transports: ['polling'] });
  const sender = await stack.socket(a);
  let first = null;
  const upgraded = new Promise((resolve) => {
    sender.io.once('open', () => {
      first = sender.io.engine.transport.name;
      sender.io.engine.once('upgrade', resolve);
    });
  });
  await connected(sender);
  await Promise.race([upgraded, once(sender, 'disconnect').then(() => assert.fail('disconnected'))]);
  assert.equal(first, 'polling');
  assert.equal(sender.io.engine.transport.name, 'websocket');
  await roundTrip(sender, receiver, a, group);
  await roundTrip(receiver, sender, b, group);
});
