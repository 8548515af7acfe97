// SIGTERM: the chat-server disconnects its clients and exits cleanly.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import { ack } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

stack.test('on SIGTERM connected clients are disconnected and the chat-server exits with code 0', async () => {
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
  for (const [reason] of await reasons) {
    assert.ok(['io server disconnect', 'transport close'].includes(reason), `reason: ${reason}`);
  }
});
