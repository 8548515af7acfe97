// The adapter's change stream: a node whose link to MongoDB breaks is not
// left silently deaf. It answers /readyz with 503 while it cannot hear the
// other nodes, resumes where it stopped when MongoDB is back (nothing
// published meanwhile is missed), and stops with a clear error when it
// cannot resume.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';
import { eventually, next, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

/** A TCP proxy to MongoDB that a test can cut and restore. */
async function mongoProxy(target) {
  const { hostname, port } = new URL(target.replace('mongodb://', 'http://'));
  const links = new Set();
  let open = true;
  const server = net.createServer((client) => {
    if (!open) {
      client.destroy();
      return;
    }
    const upstream = net.connect(Number(port), hostname);
    const link = [client, upstream];
    links.add(link);
    const close = () => {
      links.delete(link);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    client.pipe(upstream).pipe(client);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    uri: `mongodb://127.0.0.1:${server.address().port}/?directConnection=true`,
    cut() {
      open = false;
      for (const [client, upstream] of links) {
        client.destroy();
        upstream.destroy();
      }
    },
    restore() {
      open = true;
    },
    close() {
      this.cut();
      server.close();
    },
  };
}

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

stack.test('a node that cannot resume its change stream stops with a clear error', async () => {
  const up = uniqueUp('c');
  const group = await stack.group([up]);
  const client = await stack.connect(up, { node: 1 });
  const gone = next(client, 'disconnect', 60_000);
  proxy.cut();
  const exit = await stack.node(1).exited;
  proxy.restore();
  assert.deepEqual(exit, { code: 1, signal: null }, 'the process fails');
  assert.match(stack.logs.text, /\[chat1\] .*could not be resumed/, 'and says why');
  assert.equal(await gone, 'transport close', 'its clients are sent to reconnect elsewhere');
  assert.ok(group.id);
}, { timeout: 90_000 });
