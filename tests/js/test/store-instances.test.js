// A chat node with two store instances (`STORE_URL` a comma-separated list):
// its calls are spread over both, and when one is killed with SIGKILL under
// steady sending the clients see latency, not `unavailable`: a call that
// cannot reach it goes to the other (every message carries an idempotency
// key: the client's nonce, or one the chat node makes up), and the dead
// instance is left out.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { anotherStore } from './another-store.js';
import { ack, eventually } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const database = `js_instances_${process.pid}_${Date.now()}`;
const storeB = await anotherStore({ database });
const second = storeB.url;
const stack = await startStack({
  // A stopped store answers /readyz 503 for 2 s before it stops taking requests.
  storeEnv: { MONGODB_DB: database, STORE_DRAIN_SECONDS: '2' },
  chatEnv: {
    STORE_URL: `{store},${second}`,
    // The test sends as fast as acks come back.
    CHAT_MSG_RATE: '1000', CHAT_MSG_BURST: '1000', CHAT_EVENT_RATE: '1000', CHAT_EVENT_BURST: '1000',
  },
});
after(async () => {
  await storeB.remove();
  await stack.stop();
});
await storeB.start(stack.storeToken);

/**
 * Sends numbered messages, with nonces unless `nonces` is false, each once
 * (no retry by the client), and records what each ack said.
 */
function messenger(socket, room, prefix, { nonces = true } = {}) {
  const state = { sent: 0, outcomes: [] };
  state.send = async () => {
    const i = state.sent++;
    const payload = { room, message: `${prefix}-${i}`, ...(nonces ? { nonce: `${prefix}-${i}` } : {}) };
    const answer = await ack(socket, 'chat message', payload, 10_000);
    state.outcomes.push(answer.data ? 'ok' : answer.error.code);
  };
  state.errors = () => state.outcomes.filter((outcome) => outcome !== 'ok');
  return state;
}

/** Messages an instance stored: its own count of `POST /message` 201s. */
async function storedBy(url) {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Number(/^store_http_requests_total\{[^}]*route="\/message"[^}]*status="201"[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
}

stack.test('calls are spread over both instances, and one killed with SIGKILL costs no sender an error, with or without nonces', async () => {
  await eventually(async () => assert.equal((await fetch(`${second}/readyz`)).status, 200), 15_000, 100);
  const first = stack.storeUrl;
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const sender = messenger(await stack.connect(a), group.id, 'm');
  const bare = messenger(await stack.connect(b), group.id, 'n', { nonces: false });
  // The node checks the instances every second: the second one, started
  // after it, is in use within a second of answering /readyz.
  await eventually(async () => {
    await sender.send();
    await bare.send();
    const [one, two] = [await storedBy(first), await storedBy(second)];
    assert.ok(one >= 10 && two >= 10, `both instances take a share: ${one} and ${two}`);
  }, 10_000, 0);

  // Killed while messages with and without nonces are in flight.
  const inFlight = Array.from({ length: 20 }, (_, i) => (i % 2 ? sender : bare).send());
  await stack.stopStore();
  await Promise.all(inFlight);
  while (sender.sent < 90) await sender.send();
  while (bare.sent < 90) await bare.send();

  assert.deepEqual(sender.errors(), [], 'no sender with nonces saw an error');
  assert.deepEqual(bare.errors(), [], 'no sender without nonces saw an error');
  const texts = await stack.storedTexts(group.id, { url: second });
  assert.equal(texts.length, sender.sent + bare.sent, 'every message stored');
  assert.equal(new Set(texts).size, texts.length, 'none twice');
}, { timeout: 90_000 });

stack.test('a store stopped with SIGTERM first answers /readyz 503, the node moves off it, and it exits once its work is done', async () => {
  // The first instance is back, and in use again within a second.
  await stack.startStore();
  const first = stack.storeUrl;
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const sender = messenger(await stack.connect(a), group.id, 't');
  const before = await storedBy(first);
  await eventually(async () => {
    await sender.send();
    assert.ok(await storedBy(first) > before, 'the restarted instance takes calls again');
  }, 10_000, 50);

  let sending = true;
  const steady = (async () => { while (sending) await sender.send(); })();
  const exited = stack.stopStore('SIGTERM');
  await eventually(async () => assert.equal((await fetch(`${first}/readyz`)).status, 503), 1500, 50);
  assert.deepEqual(await exited, { code: 0, signal: null }, 'it exits cleanly');
  const afterStop = sender.sent;
  await eventually(() => assert.ok(sender.sent > afterStop + 20), 10_000, 50);
  sending = false;
  await steady;

  assert.deepEqual(sender.errors(), [], 'no sender saw an error');
  const texts = await stack.storedTexts(group.id, { url: second });
  assert.equal(texts.length, sender.sent, 'every message stored');
  assert.equal(new Set(texts).size, sender.sent, 'none twice');
}, { timeout: 90_000 });
