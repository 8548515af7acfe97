// A rolling restart of the whole back end under steady traffic: two store
// instances and two chat nodes behind the shipped HAProxy configuration
// (deploy/haproxy.cfg), every process stopped with SIGTERM and started
// again, one at a time, while two clients send with nonces and the
// documented retry recipe and a third only listens. Afterwards every acked
// message is stored once, every client holds every message (live or by
// `sync`), and no client saw an error it would have to show its user.
// The figures it prints are in docs/reliability.md.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { anotherStore } from './another-store.js';
import { eventually } from './events.js';
import { recipeClient, steadySender } from './conversation.js';
import { startHaproxy } from './haproxy.js';
import { startStack, uniqueUp } from './harness.js';

const database = `js_rolling_${process.pid}_${Date.now()}`;
// The second store instance: a stopped store answers /readyz 503 for 1 s
// first, so the nodes, which ask every second, move off it before it stops
// taking requests.
const storeB = await anotherStore({ database, drainSeconds: '1' });
const stack = await startStack({
  nodes: 2,
  storeEnv: { MONGODB_DB: database, STORE_DRAIN_SECONDS: '1' },
  chatEnv: {
    STORE_URL: `{store},${storeB.url}`,
    CHAT_DRAIN_SECONDS: '2',
    // The senders send 40 messages a second each: above a user's default rate.
    CHAT_MSG_RATE: '1000', CHAT_MSG_BURST: '1000', CHAT_EVENT_RATE: '1000', CHAT_EVENT_BURST: '1000',
  },
});
let balancer = null;
after(async () => {
  await balancer?.stop();
  await storeB.remove();
  await stack.stop();
});
await storeB.start(stack.storeToken);
balancer = await startHaproxy(stack);
const lbUrl = balancer.url;

/** The p-th percentile of `values` (ms). */
function percentile(values, p) {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

stack.test('every store and chat process restarted in turn under steady sending: nothing lost, nothing twice, no error to show', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  // Plain clients through the balancer: socket.io-client's reconnection
  // and the reconnect recipe (sync after the newest message held).
  const plain = { followMigrate: false, url: lbUrl, reconnectionDelay: 500, reconnectionDelayMax: 2000 };
  const clients = [
    await recipeClient(stack, a, group.id, plain),
    await recipeClient(stack, b, group.id, plain),
    await recipeClient(stack, c, group.id, plain),
  ];
  const senders = [steadySender(clients[0].socket, group.id, 'a'), steadySender(clients[1].socket, group.id, 'b')];
  const steps = [];
  const progress = async (more) => {
    await Promise.all(senders.map((s) => s.reached(s.acked.length + more, 30_000)));
  };
  await progress(20);
  const quiet = senders.flatMap((s) => s.stats.latencies);

  const restart = async (name, stop, start) => {
    const began = Date.now();
    const exit = await stop();
    assert.deepEqual(exit, { code: 0, signal: null }, `${name} stopped cleanly`);
    await start();
    steps.push(`${name} ${Date.now() - began} ms`);
    await progress(15);
  };
  await restart('store A', () => stack.stopStore('SIGTERM'), () => stack.startStore());
  await restart('store B', () => storeB.stop('SIGTERM'), () => storeB.start(stack.storeToken));
  await restart('chat node 0', () => stack.stopNode(0, 'SIGTERM'), () => stack.startNode(0));
  await restart('chat node 1', () => stack.stopNode(1, 'SIGTERM'), () => stack.startNode(1));
  await Promise.all(senders.map((s) => s.stop()));

  const acked = senders.flatMap((s) => s.acked);
  const stats = senders.map((s) => s.stats);
  const latencies = stats.flatMap((s) => s.latencies);
  const during = latencies.slice(quiet.length);
  const errors = Object.assign({}, ...stats.map((s) => s.errors));
  const figures = {
    steps,
    acked: acked.length,
    retries: stats.reduce((n, s) => n + s.retries, 0),
    timeouts: stats.reduce((n, s) => n + s.timeouts, 0),
    errors,
    beforeP50: percentile(quiet, 50),
    beforeP99: percentile(quiet, 99),
    duringP50: percentile(during, 50),
    duringP99: percentile(during, 99),
    duringMax: Math.max(...during),
    reconnects: clients.map((client) => client.reconnects),
  };
  console.log(`# rolling restart: ${JSON.stringify(figures)}`);

  // Only what the recipe retries silently: no answer in time, or `unavailable`.
  const shown = Object.keys(errors).filter((code) => code !== 'unavailable');
  assert.deepEqual(shown, [], 'no error a client would show its user');
  for (const [i, client] of clients.entries()) {
    // A sender's own messages come back in its acks, not as broadcasts.
    const sent = senders.filter((_, at) => at !== i).flatMap((s) => s.acked.map((m) => m.id));
    await eventually(() => {
      const missing = sent.filter((id) => !client.messages.has(id));
      assert.deepEqual(missing, [], `client ${i} lacks ${missing.length} of ${sent.length} messages`);
      assert.ok(client.socket.connected, `client ${i} is connected`);
    }, 20_000, 100);
    const repeated = client.live.filter((id, at) => client.live.indexOf(id) !== at);
    assert.deepEqual(repeated, [], `client ${i} got a broadcast twice`);
  }
  const texts = await stack.storedTexts(group.id, { url: storeB.url });
  assert.equal(new Set(texts).size, texts.length, 'every message is stored once');
  assert.equal(texts.length, acked.length, 'exactly the acked messages are stored');
}, { timeout: 180_000 });
