// The fault suite: clients talk steadily, with nonces and the retry rule,
// while MongoDB is paused (SIGSTOP/SIGCONT), the store-server is killed and
// restarted, and the chat-server is restarted. Afterwards every acked message
// is stored exactly once, every listener has every message (live or by
// `sync`), and nothing acked is missing. It prints what each fault cost; see
// docs/reliability.md.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { ack, eventually, sleep } from './events.js';
import { recipeClient } from './conversation.js';
import { freePort, startStack, uniqueUp } from './harness.js';

assert.equal(spawnSync('secantusd-rs', ['--help']).error, undefined,
  'secantusd-rs is not on PATH: ./scripts/test.sh installs it');

/** A MongoDB-wire server of this test's own, to pause and resume. */
const mongoDir = mkdtempSync(path.join(os.tmpdir(), 'chat-faults-mongo-'));
const mongoPort = await freePort();
const mongo = spawn('secantusd-rs', ['--port', String(mongoPort), '--storage-path', mongoDir], {
  stdio: ['ignore', 'ignore', 'ignore'],
});
const mongoExited = once(mongo, 'exit');
process.once('exit', () => mongo.kill('SIGKILL'));

const stack = await startStack({
  mongodbUri: `mongodb://127.0.0.1:${mongoPort}`,
  chatEnv: { CHAT_DRAIN_SECONDS: '1' },
});
after(async () => {
  await stack.stop();
  mongo.kill('SIGCONT');
  mongo.kill('SIGTERM');
  await mongoExited;
  rmSync(mongoDir, { recursive: true, force: true });
});

/**
 * Sends numbered messages with nonces, one at a time, each retried with its
 * nonce until acked (the contract's retry rule). Records what every
 * attempt got, for the cost of each fault.
 */
function sender(socket, room, prefix) {
  const state = { acked: [], attempts: [], running: true };
  state.done = (async () => {
    for (let i = 0; state.running; i += 1) {
      const payload = { room, message: `${prefix}-${i}`, nonce: `${prefix}-${i}` };
      for (;;) {
        const at = Date.now();
        let outcome;
        try {
          const answer = await ack(socket, 'chat message', payload, 3000);
          outcome = answer.data ? 'ok' : answer.error.code;
          if (answer.data) state.acked.push(answer.data);
        } catch {
          outcome = 'timeout';
        }
        state.attempts.push({ at, outcome, message: payload.message });
        if (outcome === 'ok') break;
        assert.ok(Date.now() - at < 120_000, `${payload.message} never acked`);
        await sleep(200);
      }
      // About 15 a second: under the message rate (20/s), so that only
      // the faults refuse messages.
      await sleep(60);
    }
  })();
  state.stop = async () => {
    state.running = false;
    await state.done;
  };
  return state;
}

/** What a fault cost the sender between `from` and `to`. */
function cost(attempts, from, to) {
  const during = attempts.filter((a) => a.at >= from && a.at <= to);
  const failed = during.filter((a) => a.outcome !== 'ok');
  const firstFail = failed[0]?.at;
  const recovered = during.find((a) => a.outcome === 'ok' && firstFail !== undefined && a.at > firstFail)?.at;
  const retried = new Set(failed.map((a) => a.message)).size;
  const outcomes = {};
  for (const a of failed) outcomes[a.outcome] = (outcomes[a.outcome] ?? 0) + 1;
  return {
    failedSeconds: firstFail === undefined ? 0 : ((recovered ?? to) - firstFail) / 1000,
    failedAttempts: failed.length,
    messagesRetried: retried,
    outcomes,
  };
}

stack.test('messages survive a paused MongoDB, a killed store and a restarted chat-server', async () => {
  const [a, b, c] = [uniqueUp('snd'), uniqueUp('lst'), uniqueUp('lsn')];
  const group = await stack.group([a, b, c]);
  const talker = await recipeClient(stack, a, group.id);
  const listeners = [await recipeClient(stack, b, group.id), await recipeClient(stack, c, group.id)];
  const sending = sender(talker.socket, group.id, 'f');
  const faults = [];
  const fault = async (name, act) => {
    await sleep(1500);
    const from = Date.now();
    await act();
    // The clients keep going until the fault is over for them too.
    await sleep(4000);
    faults.push({ name, from, to: Date.now() });
  };

  await fault('MongoDB paused 6 s (SIGSTOP, SIGCONT)', async () => {
    mongo.kill('SIGSTOP');
    await sleep(6000);
    mongo.kill('SIGCONT');
  });
  await fault('store-server killed (SIGKILL) and started again 2 s later', async () => {
    await stack.stopStore();
    await sleep(2000);
    await stack.startStore();
  });
  await fault('chat-server restarted (SIGTERM, then started)', async () => {
    await stack.stopNode(0, 'SIGTERM');
    await stack.startNode(0);
  });
  await sleep(1500);
  await sending.stop();

  const acked = sending.acked;
  assert.ok(acked.length > 50, `only ${acked.length} messages were acked`);
  assert.equal(new Set(acked.map((m) => m.id)).size, acked.length, 'each ack is a different message');

  // Stored exactly once: every acked text once, and nothing else.
  const texts = await stack.storedTexts(group.id);
  assert.equal(new Set(texts).size, texts.length, 'no message is stored twice');
  assert.deepEqual([...texts].sort(), acked.map((m) => m.message).sort(), 'every acked message is stored, nothing else');

  // Every listener has every message, live or by sync.
  for (const listener of listeners) {
    await eventually(() => assert.ok(listener.socket.connected), 15_000);
    // A last catch-up, as a client does when it comes back to the room.
    for (;;) {
      const answer = await ack(listener.socket, 'sync', { room: group.id, after: listener.newestId ?? undefined });
      for (const m of answer.data.messages.items) listener.messages.set(m.id, m);
      if (answer.data.messages.items.length) listener.newestId = answer.data.messages.items.at(-1).id;
      if (!answer.data.messages.hasMore) break;
    }
    const missing = acked.filter((m) => !listener.messages.has(m.id));
    assert.deepEqual(missing.map((m) => m.message), [], 'a listener misses acked messages');
    const repeated = listener.live.filter((id, at) => listener.live.indexOf(id) !== at);
    assert.deepEqual(repeated, [], 'no message was broadcast twice');
  }

  const report = faults.map(({ name, from, to }) => ({ fault: name, ...cost(sending.attempts, from, to) }));
  const live = listeners.map((l) => acked.filter((m) => l.live.includes(m.id)).length);
  process.stdout.write(`# fault costs: ${JSON.stringify({ acked: acked.length, liveAtListeners: live, faults: report })}\n`);
}, { timeout: 180_000 });
