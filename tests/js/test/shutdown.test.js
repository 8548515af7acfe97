// SIGTERM: the chat-server drains (its clients' transports are closed, so
// they reconnect by themselves) and exits cleanly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import { ack } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

stack.test('on SIGTERM connected clients lose their transport, not their session, and the chat-server exits with code 0', async () => {
  const up = uniqueUp('a');
  await stack.group([up]);
  const polling = await stack.connect(up, { transports: ['polling'] });
  const websocket = await stack.connect(up, { transports: ['websocket'] });
  assert.ok((await ack(websocket, 'online', {})).data);

  const reasons = Promise.all([polling, websocket].map((s) => once(s, 'disconnect')));
  const started = Date.now();
  const exit = await stack.stopChat('SIGTERM');
  const elapsed = Date.now() - started;
  assert.deepEqual(exit, { code: 0, signal: null }, 'a clean exit');
  assert.ok(elapsed < 5000, `the exit took ${elapsed} ms`);
  // Not 'io server disconnect', after which socket.io-client would not
  // reconnect: a WebSocket sees its connection close, a long poll fail.
  for (const [reason] of await reasons) {
    assert.ok(['transport close', 'transport error'].includes(reason), `reason: ${reason}`);
  }
});
