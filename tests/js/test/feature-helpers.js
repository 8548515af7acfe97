// Helpers for the feature tests (direct messages, receipts, edits, sync,
// moderation, matchmaking, history gate, rate limit, notifications).
//
// `startStackWith(env)` is `startStack()` of harness.js with extra
// environment for the chat-server (e.g. `CHAT_MSG_RATE`, `CHAT_NOTIFY_URL`).

import assert from 'node:assert/strict';
import { ack } from './events.js';
import { startStack } from './harness.js';

/** The ack's data; fails with the whole ack when it is an error. */
export function dataOf(answer) {
  assert.ok(answer && 'data' in answer, `expected {data}, got ${JSON.stringify(answer)}`);
  return answer.data;
}

/** Asserts the ack is `{error: {code, message}}` with `code`. */
export function assertError(answer, code) {
  assert.ok(answer && answer.error, `expected {error: ${code}}, got ${JSON.stringify(answer)}`);
  assert.equal(answer.error.code, code, JSON.stringify(answer));
  assert.equal(typeof answer.error.message, 'string');
  assert.equal(answer.data, undefined);
}

/** Emits and returns the ack's data (fails on an error ack). */
export async function call(socket, event, payload, ms) {
  return dataOf(await ack(socket, event, payload, ms));
}

/** Sends `count` messages in `room` one after the other; returns the stored Messages. */
export async function sendMany(socket, room, count, prefix = 'm') {
  const sent = [];
  for (let i = 0; i < count; i += 1) {
    sent.push(await call(socket, 'chat message', { room, message: `${prefix}${i}` }));
  }
  return sent;
}

/** Resolves once `socket` fires `connect` again (after an automatic reconnection). */
export function reconnected(socket, ms = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reconnection within ${ms} ms`)), ms);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
  });
}

/** `startStack()` with `chatEnv` added to the chat-server's environment. */
export function startStackWith(chatEnv = {}) {
  return startStack({ chatEnv });
}
