// A reader that stops reading (its TCP window full) does not silently miss
// broadcasts for ever: what it misses is counted, and the server closes its
// connection once a write has waited 30 s, so its client reconnects and
// catches up with `sync`. (Without that, the server's writer would wait for
// ever and the session, and its user's presence, would never be let go.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import WebSocket from 'ws';
import { eventually, next } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack({ chatEnv: {
  CHAT_MSG_RATE: '100000',
  CHAT_MSG_BURST: '100000',
  CHAT_EVENT_RATE: '100000',
  CHAT_EVENT_BURST: '100000',
} });
after(() => stack.stop());

async function metric(name) {
  const text = await (await fetch(`${stack.chatUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

stack.test('a reader that stops reading is counted and closed once its writes stall', async () => {
  const [slow, talker, watcher] = [uniqueUp('slow'), uniqueUp('t'), uniqueUp('w')];
  const group = await stack.group([slow, talker, watcher]);
  // A raw Socket.IO client over WebSocket that connects, then stops reading.
  const url = `${stack.chatUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url);
  const frames = [];
  ws.on('message', (data) => frames.push(data.toString()));
  await once(ws, 'open');
  ws.send(`40${JSON.stringify({ token: await stack.token(slow) })}`);
  await eventually(() => assert.ok(frames.some((f) => f.startsWith('40{"sid"')), frames.join(' ')), 5000, 20);
  // From here on nothing is read: the kernel's buffers fill, then the
  // server's buffer of this socket. (It answers no ping either.)
  ws._socket.pause();

  const observer = await stack.connect(watcher);
  await eventually(async () => {
    const { online } = await call(observer, 'presence', { room: group.id });
    assert.ok(online.includes(slow));
  }, 5000);
  const offline = next(observer, 'offline', 60_000);
  const sender = await stack.connect(talker);
  const before = await metric('chat_broadcast_drops_total');
  const text = 'x'.repeat(3900);
  for (let batch = 0; batch < 40; batch += 1) {
    await Promise.all(Array.from({ length: 100 }, () => call(sender, 'chat message', { room: group.id, message: text })));
    if ((await metric('chat_broadcast_drops_total')) > before) break;
  }
  assert.ok((await metric('chat_broadcast_drops_total')) > before, 'the missed broadcasts are counted');
  assert.equal((await offline).up, slow, 'its connection was closed: its user went offline');
  ws.terminate();
}, { timeout: 90_000 });
