// Limits that protect the service: the per-user event budget, sockets per
// user, token lifetime on an open socket, and WebSocket frames before
// authentication.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { after } from 'node:test';
import WebSocket from 'ws';
import { ack, eventually, next, sleep } from './events.js';
import { assertError, call } from './feature-helpers.js';
import { signJwt, startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

const nowSeconds = () => Math.floor(Date.now() / 1000);

async function metric(name) {
  const text = await (await fetch(`${stack.chatUrl}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(text)?.[1] ?? NaN);
}

stack.test('a flood of any event is cut at the event rate and other users are unharmed', async () => {
  const [attacker, victim, peer] = [uniqueUp('x'), uniqueUp('v'), uniqueUp('p')];
  const group = await stack.group([attacker, victim, peer]);
  const flooder = await stack.connect(attacker);
  const sender = await stack.connect(victim);
  const receiver = await stack.connect(peer);
  const before = await metric('chat_events_over_budget_total');

  // In waves of 50, each answered before the next: the socket's outgoing
  // buffer (128 packets) holds every ack.
  const floodStarted = Date.now();
  const flooding = (async () => {
    const answers = [];
    for (let wave = 0; wave < 6; wave += 1) {
      const batch = [];
      for (let i = 0; i < 50; i += 1) {
        const event = ['sync', 'typing', 'presence'][i % 3];
        const payload = event === 'typing' ? { room: group.id, typing: true } : { room: group.id };
        batch.push(ack(flooder, event, payload, 15_000));
      }
      answers.push(...(await Promise.all(batch)));
    }
    return answers;
  })();
  const heard = [];
  receiver.on('chat message', (m) => heard.push(m.id));
  const sent = [];
  for (let i = 0; i < 10; i += 1) {
    sent.push((await call(sender, 'chat message', { room: group.id, message: `calm ${i}` })).id);
  }
  const answers = await flooding;
  const seconds = (Date.now() - floodStarted) / 1000;
  const limited = answers.filter((a) => a.error?.code === 'rate_limited').length;
  const served = answers.length - limited;
  assert.ok(served <= 100 + 50 * seconds + 5, `${served} served in ${seconds} s: over burst 100 + 50/s`);
  assert.ok(limited > 0, 'some were refused');
  assert.ok(answers.every((a) => a.data || a.error?.code === 'rate_limited'), 'the rest were served');
  await eventually(() => assert.deepEqual(heard, sent), 5000);
  assert.ok((await metric('chat_events_over_budget_total')) - before >= limited);
  await sleep(2500);
  assert.ok((await ack(flooder, 'online', {})).data, 'the budget refills');
});

stack.test('a user holds at most 16 sockets; the 17th handshake is refused with rate_limited', async () => {
  const up = uniqueUp('many');
  const sockets = [];
  for (let i = 0; i < 16; i += 1) sockets.push(await stack.connect(up, { transports: ['websocket'] }));
  await assert.rejects(stack.connect(up, { transports: ['websocket'] }), (err) => err.message === 'rate_limited');
  assert.ok(await stack.connect(uniqueUp('other')), 'another user is not affected');
  sockets.pop().disconnect();
  await eventually(async () => {
    const socket = await stack.connect(up, { transports: ['websocket'] });
    assert.ok(socket.connected);
  }, 5000, 200);
});

stack.test('a socket whose token expires is told unauthenticated and disconnected', async () => {
  const up = uniqueUp('short');
  const token = signJwt({ sub: up, exp: nowSeconds() + 3 }, stack.jwtSecret);
  const socket = await stack.connect(up, { token });
  const told = next(socket, 'unauthenticated', 15_000);
  const dropped = next(socket, 'disconnect', 15_000);
  assert.deepEqual(await told, {});
  assert.equal(await dropped, 'io server disconnect', 'a server disconnect: no reconnection with a dead token');
});

stack.test('refresh token with a newer token of the same user keeps the socket open', async () => {
  const up = uniqueUp('kept');
  const exp = nowSeconds() + 3;
  const socket = await stack.connect(up, { token: signJwt({ sub: up, exp }, stack.jwtSecret) });
  const told = [];
  socket.on('unauthenticated', () => told.push(Date.now()));
  const later = nowSeconds() + 3600;
  const answer = await call(socket, 'refresh token', { token: signJwt({ sub: up, exp: later }, stack.jwtSecret) });
  assert.deepEqual(answer, { exp: later });
  assertError(await ack(socket, 'refresh token', { token: await stack.token(uniqueUp('else')) }), 'permission_denied');
  assertError(await ack(socket, 'refresh token', { token: 'garbage' }), 'unauthenticated');
  assertError(await ack(socket, 'refresh token', { token: signJwt({ sub: up, exp: 1000 }, stack.jwtSecret) }), 'unauthenticated');
  await sleep(5000);
  assert.deepEqual(told, []);
  assert.ok(socket.connected, 'still connected after the first token expired');
  assert.ok((await ack(socket, 'online', {})).data);
}, { timeout: 30_000 });

stack.test('tokens not valid yet, or naming `..`, are refused at the handshake and on REST', async () => {
  const up = uniqueUp('early');
  const early = signJwt({ sub: up, exp: nowSeconds() + 3600, nbf: nowSeconds() + 600 }, stack.jwtSecret);
  await assert.rejects(stack.connect(up, { token: early }), (err) => err.message === 'unauthenticated');
  const dots = signJwt({ sub: '..', exp: nowSeconds() + 3600 }, stack.jwtSecret);
  await assert.rejects(stack.connect('..', { token: dots }), (err) => err.message === 'unauthenticated');
  const rest = await stack.rest('/chat/message', { token: dots });
  assert.equal(rest.status, 401);
  assert.equal(rest.body.error.code, 'unauthenticated');
});

stack.test('a WebSocket frame over 64 KiB closes the connection before any authentication', async () => {
  const ws = new WebSocket(`${stack.chatUrl.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const opened = once(ws, 'message');
  await once(ws, 'open');
  const [open] = await opened;
  assert.match(open.toString(), /^0\{"sid"/);
  const closed = once(ws, 'close');
  ws.send(`4${'x'.repeat(100 * 1024)}`);
  const [code] = await closed;
  assert.notEqual(code, 1000, `closed with ${code}, not a normal close`);
});

stack.test('a frame announcing 10 MiB is refused from its header, before the server reads it', async () => {
  const { port } = new URL(stack.chatUrl);
  const tcp = net.connect(Number(port), '127.0.0.1');
  await once(tcp, 'connect');
  tcp.write([
    'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1',
    `Host: 127.0.0.1:${port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
    'Sec-WebSocket-Version: 13',
    '', '',
  ].join('\r\n'));
  let received = '';
  const upgraded = new Promise((resolve) => {
    tcp.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('\r\n\r\n')) resolve();
    });
  });
  await upgraded;
  assert.match(received, /^HTTP\/1\.1 101/);
  // The server may end the connection with a reset: that is a close too.
  tcp.on('error', () => {});
  const ended = new Promise((resolve) => tcp.once('close', resolve));
  // A masked text frame whose header announces 10 MiB; only 1 KiB follows.
  const header = Buffer.alloc(14);
  header[0] = 0x81;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(10n * 1024n * 1024n, 2);
  header.writeUInt32BE(0x01020304, 10);
  tcp.write(Buffer.concat([header, Buffer.alloc(1024, 0x41)]));
  const outcome = await Promise.race([ended.then(() => 'closed'), sleep(3000).then(() => 'waiting')]);
  tcp.destroy();
  assert.equal(outcome, 'closed', 'the server did not wait for the rest of the frame');
});
