// Clients that keep a conversation going across drains and reconnects.
import assert from 'node:assert/strict';
import { ack, eventually, sleep } from './events.js';

/**
 * A client of `up` in `room` as docs/chat-api.md recommends: reconnects by
 * itself, follows `migrate` (unless `followMigrate` is false), and after
 * each reconnect syncs its room after the newest message it holds,
 * de-duplicating by id. `where` is `{ node }` or `{ url }`; the
 * reconnection delays are socket.io-client's (short by default here).
 */
export async function recipeClient(
  stack,
  up,
  room,
  { followMigrate = true, reconnectionDelay = 100, reconnectionDelayMax = 500, ...where } = {},
) {
  const socket = await stack.connect(up, {
    ...where,
    reconnection: true,
    reconnectionDelay,
    reconnectionDelayMax,
  });
  // `connect` fired once already: the handler below counts reconnections.
  const client = { socket, messages: new Map(), live: [], newestId: null, reconnects: 0, drops: [] };
  socket.on('disconnect', (reason) => client.drops.push({ reason, at: Date.now() }));
  const hold = (message) => {
    if (message.group !== room) return;
    client.messages.set(message.id, message);
    client.newestId = message.id;
  };
  socket.on('chat message', (message) => {
    client.live.push(message.id);
    hold(message);
  });
  // A draining node names where to go next.
  if (followMigrate) {
    socket.on('migrate', ({ url }) => {
      socket.io.uri = url;
    });
  }
  socket.on('connect', async () => {
    client.reconnects += 1;
    for (;;) {
      const answer = await ack(socket, 'sync', { room, after: client.newestId ?? undefined });
      if (answer.error) return;
      for (const message of answer.data.messages.items) hold(message);
      if (!answer.data.messages.hasMore) return;
    }
  });
  return client;
}

/**
 * Sends numbered messages with nonces until `stop()`, retrying each until
 * acked. `reached(count)` resolves once `count` messages are acked. Keeps
 * what a user would notice: `retries` (attempts beyond the first),
 * `errors` (the codes of error acks, by code), `timeouts` (attempts with no
 * ack within 2 s) and `latencies` (ms from a message's first attempt to its
 * ack).
 */
export function steadySender(socket, room, prefix) {
  const acked = [];
  const stats = { retries: 0, errors: {}, timeouts: 0, latencies: [] };
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i += 1) {
      const payload = { room, message: `${prefix}-${i}`, nonce: `${prefix}-${i}` };
      const started = Date.now();
      for (let attempt = 0; ; attempt += 1) {
        if (attempt > 0) stats.retries += 1;
        try {
          const answer = await ack(socket, 'chat message', payload, 2000);
          if (answer.data) {
            acked.push(answer.data);
            stats.latencies.push(Date.now() - started);
            break;
          }
          stats.errors[answer.error.code] = (stats.errors[answer.error.code] ?? 0) + 1;
        } catch {
          // No ack in time (the transport was closed): the same nonce again.
          stats.timeouts += 1;
        }
        assert.ok(attempt < 30, `${payload.message} was never acked`);
        await sleep(100);
      }
      await sleep(20);
    }
  })();
  const reached = (count, ms = 10_000) => eventually(
    () => assert.ok(acked.length >= count, `${acked.length} of ${count} messages acked`), ms, 20);
  return { acked, stats, reached, stop: async () => { running = false; await done; } };
}
