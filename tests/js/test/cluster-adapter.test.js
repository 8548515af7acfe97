// The adapter's change stream: a node whose link to MongoDB breaks is not
// left silently deaf. It answers /readyz with 503 while it cannot hear the
// other nodes, resumes where it stopped when MongoDB is back (nothing
// published meanwhile is missed), and stops with a clear error when it
// cannot resume or cannot publish for too long.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { eventually, next, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';
import { mongoProxy } from './mongo-proxy.js';

const proxy = await mongoProxy(process.env.MONGODB_URI);
// node1 reaches MongoDB (for its adapter) only through the proxy.
const stack = await startStack({ nodes: 2, nodeEnv: [{}, { MONGODB_URI: proxy.uri }] });
after(async () => {
  await stack.stop();
  proxy.close();
});

stack.test('a node cut off from MongoDB turns unready, resumes, and then gets what was sent meanwhile', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a, { node: 0 });
  const bob = await stack.connect(b, { node: 1 });
  const warmUp = next(bob, 'chat message');
  await call(alice, 'chat message', { room: group.id, message: 'before' });
  await warmUp;

  const heard = [];
  bob.on('chat message', (message) => heard.push(message));
  proxy.cut();
  const during = await call(alice, 'chat message', { room: group.id, message: 'while node1 is deaf' });
  await eventually(async () => {
    assert.equal((await stack.rest('/readyz', { node: 1 })).status, 503, 'node1 knows it is deaf');
  }, 15_000, 250);
  assert.deepEqual(heard, [], 'nothing reached node1 during the cut');
  proxy.restore();
  await eventually(async () => {
    assert.equal((await stack.rest('/readyz', { node: 1 })).status, 200);
  }, 15_000, 250);
  await eventually(() => assert.deepEqual(heard.map((m) => m.id), [during.id]), 5000);

  const after = next(bob, 'chat message');
  const later = await call(alice, 'chat message', { room: group.id, message: 'after' });
  assert.deepEqual(await after, later, 'and it hears the other nodes again');
  assert.equal(heard.length, 2, 'each message once');
}, { timeout: 60_000 });

stack.test('a node cut off from the adapter\'s MongoDB for good stops with a clear error', async () => {
  const up = uniqueUp('c');
  const group = await stack.group([up]);
  const client = await stack.connect(up, { node: 1 });
  const gone = next(client, 'disconnect', 60_000);
  proxy.cut();
  const exit = await stack.node(1).exited;
  proxy.restore();
  assert.deepEqual(exit, { code: 1, signal: null }, 'the process fails');
  // Whichever gives up first: resuming its change stream, or publishing.
  assert.match(stack.logs.text, /\[chat1\] .*(could not be resumed|refused this node's broadcasts)/, 'and says why');
  assert.equal(await gone, 'transport close', 'its clients are sent to reconnect elsewhere');
  assert.ok(group.id);
}, { timeout: 90_000 });
