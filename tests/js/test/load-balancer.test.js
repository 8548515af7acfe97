// HAProxy in front of two chat nodes (deploy/haproxy.cfg), the way a
// client that knows nothing of the cluster sees it: one URL, WebSocket and
// long-polling both. Draining the node behind it loses nothing.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { eventually } from './events.js';
import { call } from './feature-helpers.js';
import { recipeClient, steadySender } from './conversation.js';
import { startHaproxy } from './haproxy.js';
import { startStack, uniqueUp } from './harness.js';

const ADMIN_TOKEN = 'lb-test-admin-token-0123456789';

const stack = await startStack({
  nodes: 2,
  chatEnv: { CHAT_DRAIN_SECONDS: '2', CHAT_ADMIN_TOKEN: ADMIN_TOKEN },
});
let balancer = null;
after(async () => {
  await balancer?.stop();
  await stack.stop();
});
balancer = await startHaproxy(stack);
const lbUrl = balancer.url;

/** Sockets connected to chat node `i`, from its metrics. */
async function socketsOn(i) {
  const text = await (await fetch(`${stack.chatUrls[i]}/metrics`)).text();
  return Number(/^chat_connected_sockets (\d+)/m.exec(text)?.[1] ?? NaN);
}

stack.test('through the load balancer: polling, the upgrade to WebSocket, and a message', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const polling = await stack.connect(a, { url: lbUrl, transports: ['polling'] });
  const upgrading = await stack.connect(b, { url: lbUrl });
  await eventually(() => assert.equal(upgrading.io.engine.transport.name, 'websocket'), 5000);
  const heard = new Promise((resolve) => polling.once('chat message', resolve));
  const sent = await call(upgrading, 'chat message', { room: group.id, message: 'via haproxy' });
  assert.deepEqual(await heard, sent);
  // Many long-polling round trips, all on the node that holds the session.
  for (let i = 0; i < 5; i += 1) {
    assert.ok((await call(polling, 'online', {})).up);
  }
});

stack.test('the balancer routes only the public paths, and no token reaches its log', async () => {
  const up = uniqueUp('t');
  const group = await stack.group([up]);
  for (const [method, path] of [
    ['POST', '/admin/drain'],
    ['GET', '/metrics'],
    ['GET', '/docs/'],
    ['GET', '/api-docs/openapi.json'],
    ['GET', '/readyz'],
  ]) {
    const res = await fetch(`${lbUrl}${path}`, { method, headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    assert.equal(res.status, 404, `${method} ${path} through the balancer`);
    assert.equal((await res.json()).error.code, 'not_found');
  }
  for (const node of [0, 1]) {
    assert.equal((await stack.rest('/metrics', { node })).status, 200, 'the node itself still serves /metrics');
  }
  assert.equal((await fetch(`${lbUrl}/`)).status, 200, 'the web client');
  const token = await stack.token(up);
  const history = await fetch(`${lbUrl}/chat/${group.id}/message`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(history.status, 200, 'the REST gateway');
  // A handshake with the token in its query string, polling first.
  const socket = await stack.connect(up, { url: lbUrl, token, via: 'query' });
  assert.equal((await call(socket, 'online', {})).up, up);
  await eventually(() => assert.match(stack.logs.text, /\[haproxy\].*"\/socket.io\/"/), 5000);
  const everything = stack.allLogs();
  const [, signature] = /\.([^.]+)$/.exec(token);
  assert.ok(!everything.includes(signature), 'the token is in a log');
});

stack.test('draining the node behind the balancer: a plain client keeps its conversation and loses nothing', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  // Plain clients: socket.io-client's own reconnection, no `migrate`
  // handling; after a reconnect they sync the room (the reconnect recipe).
  const plain = { followMigrate: false, url: lbUrl, reconnectionDelay: 1000, reconnectionDelayMax: 5000 };
  const alice = await recipeClient(stack, a, group.id, plain);
  const bob = await recipeClient(stack, b, group.id, plain);
  const counts = await Promise.all([socketsOn(0), socketsOn(1)]);
  const busy = counts.findIndex((n) => n >= 2);
  assert.notEqual(busy, -1, `both clients on one node (same address): ${counts}`);
  const other = 1 - busy;

  const fromAlice = steadySender(alice.socket, group.id, 'alice');
  const fromBob = steadySender(bob.socket, group.id, 'bob');
  // The drain starts while both are talking.
  await Promise.all([fromAlice.reached(20), fromBob.reached(20)]);
  const drain = await stack.rest('/admin/drain', { method: 'POST', token: ADMIN_TOKEN, node: busy });
  assert.equal(drain.status, 202);
  assert.deepEqual(await stack.node(busy).exited, { code: 0, signal: null });
  await eventually(async () => assert.equal(await socketsOn(other), 2), 15_000, 250);
  // Both go on talking through the other node.
  await Promise.all([fromAlice.reached(fromAlice.acked.length + 10), fromBob.reached(fromBob.acked.length + 10)]);
  await Promise.all([fromAlice.stop(), fromBob.stop()]);

  for (const [name, sender, receiver] of [['alice', fromAlice, bob], ['bob', fromBob, alice]]) {
    const sent = sender.acked.map((m) => m.id);
    assert.ok(sent.length > 20, `${name} sent only ${sent.length}`);
    await eventually(() => {
      const missing = sent.filter((id) => !receiver.messages.has(id));
      assert.deepEqual(missing, [], `${missing.length} of ${name}'s messages are missing`);
    }, 10_000);
    const repeated = receiver.live.filter((id, at) => receiver.live.indexOf(id) !== at);
    assert.deepEqual(repeated, [], 'no message was broadcast twice');
    assert.equal(receiver.socket.io.uri, lbUrl, 'the client never left the balancer URL');
    assert.ok(receiver.socket.connected);
  }
  const texts = await stack.storedTexts(group.id);
  assert.equal(new Set(texts).size, texts.length, 'every message is stored once');
  assert.equal(texts.length, fromAlice.acked.length + fromBob.acked.length);
  await stack.startNode(busy);
}, { timeout: 60_000 });
