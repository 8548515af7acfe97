// A retry with the same nonce is the same message, broadcast once.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, QUIET_MS, record, sleep, eventually } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

stack.test('sending twice with the same nonce acks the same message and broadcasts it once', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const bobGot = record(bob, 'chat message');
  const payload = { room: group.id, message: 'only once', nonce: `n-${Date.now()}` };

  const first = await ack(alice, 'chat message', payload);
  const retry = await ack(alice, 'chat message', payload);
  assert.ok(first.data, JSON.stringify(first));
  assert.equal(retry.data?.id, first.data.id, 'the retry gets the first message');
  assert.equal(first.data.nonce, payload.nonce);

  await eventually(() => assert.equal(bobGot.length, 1), 3000);
  await sleep(QUIET_MS);
  assert.equal(bobGot.length, 1, 'B got exactly one broadcast');
  assert.equal(bobGot[0].id, first.data.id);
  const page = await stack.rest(`/chat/${group.id}/message`, { up: b });
  assert.equal(page.body.total, 1, 'one message stored');
});

stack.test('different nonces are different messages', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const one = await ack(alice, 'chat message', { room: group.id, message: 'same text', nonce: 'n1' });
  const two = await ack(alice, 'chat message', { room: group.id, message: 'same text', nonce: 'n2' });
  assert.notEqual(one.data.id, two.data.id);
});
