// The store goes down and comes back: the chat-server answers `unavailable`
// quickly meanwhile, and recovers by itself.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, eventually, next } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

stack.test('while the store is down messages and connections are unavailable, and both recover when it is back', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const warmup = next(bob, 'chat message');
  await ack(alice, 'chat message', { room: group.id, message: 'before' });
  await warmup;

  await stack.stopStore();
  const started = Date.now();
  const answer = await ack(alice, 'chat message', { room: group.id, message: 'during' }, 10_000);
  const elapsed = Date.now() - started;
  assert.equal(answer.error?.code, 'unavailable', JSON.stringify(answer));
  assert.ok(elapsed < 6000, `the unavailable ack took ${elapsed} ms`);

  const refused = await stack.connect(b).then(
    () => assert.fail('a connection was accepted without the store'),
    (err) => err,
  );
  assert.equal(refused.message, 'unavailable');
  assert.equal(alice.connected, true, 'existing clients stay connected');

  await stack.startStore();
  const { data, arrived } = await eventually(async () => {
    const arriving = next(bob, 'chat message', 2000);
    const back = await ack(alice, 'chat message', { room: group.id, message: 'after' }, 3000);
    if (!back.data) {
      arriving.catch(() => {});
      throw new Error(`not yet: ${JSON.stringify(back)}`);
    }
    return { data: back.data, arrived: await arriving };
  }, 10_000, 250);
  assert.deepEqual(arrived, data);
  const late = await stack.connect(uniqueUp('late'));
  assert.equal(late.connected, true, 'new connections are accepted again');
});
