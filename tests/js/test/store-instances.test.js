// A chat node with two store instances (`STORE_URL` a comma-separated list):
// its calls go to the first, the second stands by, and when the first is
// killed with SIGKILL under steady sending the clients see latency, not
// `unavailable`: a call that cannot reach it goes to the second when that
// is safe (a message with a nonce), and the dead instance is left out.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { ack, eventually } from './events.js';
import { freePort, startStack, uniqueUp } from './harness.js';

const STORE_BIN = fileURLToPath(new URL('../../../target/debug/store-server', import.meta.url));
const database = `js_instances_${process.pid}_${Date.now()}`;
const secondPort = await freePort();
const second = `http://127.0.0.1:${secondPort}`;
const stack = await startStack({
  // A stopped store answers /readyz 503 for 2 s before it stops taking requests.
  storeEnv: { MONGODB_DB: database, STORE_DRAIN_SECONDS: '2' },
  chatEnv: {
    STORE_URL: `{store},${second}`,
    // The test sends as fast as acks come back.
    CHAT_MSG_RATE: '1000', CHAT_MSG_BURST: '1000', CHAT_EVENT_RATE: '1000', CHAT_EVENT_BURST: '1000',
  },
});
const logDir = mkdtempSync(path.join(os.tmpdir(), 'chat-store-b-'));
const storeB = spawn(STORE_BIN, [], {
  env: {
    PATH: process.env.PATH,
    MONGODB_URI: process.env.MONGODB_URI,
    MONGODB_DB: database,
    STORE_ADDR: `127.0.0.1:${secondPort}`,
    STORE_API_TOKEN: stack.storeToken,
    STORE_LOG_DIR: logDir,
    STORE_DRAIN_SECONDS: '0',
    RUST_LOG: 'warn',
  },
  stdio: ['ignore', 'ignore', 'inherit'],
});
after(async () => {
  storeB.kill('SIGKILL');
  await stack.stop();
  rmSync(logDir, { recursive: true, force: true });
});

/** Messages an instance stored: its own count of `POST /message` 201s. */
async function storedBy(url) {
  const metrics = await (await fetch(`${url}/metrics`)).text();
  return Number(/^store_http_requests_total\{[^}]*route="\/message"[^}]*status="201"[^}]*\} (\d+)/m.exec(metrics)?.[1] ?? 0);
}

stack.test('the second instance stands by, and takes over when the first is killed with SIGKILL: no sender sees an error', async () => {
  await eventually(async () => assert.equal((await fetch(`${second}/readyz`)).status, 200), 15_000, 100);
  const first = stack.storeUrl;
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const sender = await stack.connect(a);
  const outcomes = [];
  const send = async (i) => {
    const answer = await ack(sender, 'chat message', { room: group.id, message: `m-${i}`, nonce: `m-${i}` }, 10_000);
    outcomes.push(answer.data ? 'ok' : answer.error.code);
  };
  let i = 0;
  for (; i < 30; i += 1) await send(i);
  assert.equal(await storedBy(first), 30, 'the first instance takes every call');
  assert.equal(await storedBy(second), 0, 'the second stands by');

  // Killed while messages are in flight.
  const inFlight = Array.from({ length: 20 }, (_, k) => send(i + k));
  i += 20;
  await stack.stopStore();
  await Promise.all(inFlight);
  for (const end = i + 40; i < end; i += 1) await send(i);

  assert.deepEqual(outcomes.filter((o) => o !== 'ok'), [], 'no sender saw an error');
  assert.ok(await storedBy(second) >= 40, 'the second instance took over');
  const texts = [];
  for (let page = 0; ; page += 1) {
    const res = await fetch(`${second}/group/messages?groupID=${group.id}&perPage=100&page=${page}`, {
      headers: { authorization: `Bearer ${stack.storeToken}` },
    });
    const body = await res.json();
    texts.push(...body.items.map((m) => m.message));
    if (!body.hasMore) break;
  }
  assert.equal(texts.length, i, 'every message stored');
  assert.equal(new Set(texts).size, i, 'none twice');
}, { timeout: 90_000 });

stack.test('a store stopped with SIGTERM first answers /readyz 503, the node moves off it, and it exits once its work is done', async () => {
  // The first instance is back, and in use again within a second.
  await stack.startStore();
  const first = stack.storeUrl;
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const sender = await stack.connect(a);
  const outcomes = [];
  let sent = 0;
  const send = async () => {
    const i = sent++;
    const answer = await ack(sender, 'chat message', { room: group.id, message: `t-${i}`, nonce: `t-${i}` }, 10_000);
    outcomes.push(answer.data ? 'ok' : answer.error.code);
  };
  const before = await storedBy(first);
  await eventually(async () => {
    await send();
    assert.ok(await storedBy(first) > before, 'the first instance takes the calls again');
  }, 10_000, 50);

  let sending = true;
  const steady = (async () => { while (sending) await send(); })();
  const exited = stack.stopStore('SIGTERM');
  await eventually(async () => assert.equal((await fetch(`${first}/readyz`)).status, 503), 1500, 50);
  assert.deepEqual(await exited, { code: 0, signal: null }, 'it exits cleanly');
  const afterStop = sent;
  await eventually(() => assert.ok(sent > afterStop + 20), 10_000, 50);
  sending = false;
  await steady;

  assert.deepEqual(outcomes.filter((o) => o !== 'ok'), [], 'no sender saw an error');
  const texts = [];
  for (let page = 0; ; page += 1) {
    const res = await fetch(`${second}/group/messages?groupID=${group.id}&perPage=100&page=${page}`, {
      headers: { authorization: `Bearer ${stack.storeToken}` },
    });
    const body = await res.json();
    texts.push(...body.items.map((m) => m.message));
    if (!body.hasMore) break;
  }
  assert.equal(texts.length, sent, 'every message stored');
  assert.equal(new Set(texts).size, sent, 'none twice');
}, { timeout: 90_000 });
