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
 * acked. `reached(count)` resolves once `count` messages are acked.
 */
export function steadySender(socket, room, prefix) {
  const acked = [];
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i += 1) {
      const payload = { room, message: `${prefix}-${i}`, nonce: `${prefix}-${i}` };
      for (let attempt = 0; ; attempt += 1) {
        try {
          const answer = await ack(socket, 'chat message', payload, 2000);
          if (answer.data) {
            acked.push(answer.data);
            break;
          }
        } catch {
          // No ack in time (the transport was closed): the same nonce again.
        }
        assert.ok(attempt < 30, `${payload.message} was never acked`);
        await sleep(100);
      }
      await sleep(20);
    }
  })();
  const reached = (count, ms = 10_000) => eventually(
    () => assert.ok(acked.length >= count, `${acked.length} of ${count} messages acked`), ms, 20);
  return { acked, reached, stop: async () => { running = false; await done; } };
}
