// What an unauthenticated peer may hold and for how long, the token expiry
// task against tokens of any lifetime, the operators' routes on their own
// listener, and secrets kept out of every log (docs/reliability.md,
// "Threat model").
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { promisify } from 'node:util';
import { eventually, next, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { freePort, startStack, uniqueUp } from './harness.js';

const CHAT_BIN = fileURLToPath(new URL('../../../target/debug/chat-server', import.meta.url));
const PER_ADDRESS = 6;
const CONNECT_TIMEOUT_S = 2;
const nowSeconds = () => Math.floor(Date.now() / 1000);

const stack = await startStack({
  chatEnv: {
    CHAT_CONNECT_TIMEOUT_SECONDS: String(CONNECT_TIMEOUT_S),
    CHAT_MAX_PENDING_PER_ADDRESS: String(PER_ADDRESS),
  },
});
after(() => stack.stop());

/** A gauge of the chat node's metrics. */
async function gauge(name) {
  const text = await (await fetch(`${stack.chatUrl}/metrics`)).text();
  const value = new RegExp(`^chat_${name} (\\d+)`, 'm').exec(text)?.[1];
  assert.ok(value !== undefined, `chat_${name} is exported`);
  return Number(value);
}

const REFUSAL = /(^|\x1e)44\{"message":"unauthenticated"\}/;

/**
 * An Engine.IO session (long-polling, as socket.io-client starts) whose
 * Socket.IO CONNECT carries a bad token: handshake, CONNECT, then polls as
 * a client does until the refusal comes (at most three polls). The engine
 * queues its first ping as the session opens and the CONNECT is answered
 * after the POST returns, so one poll may carry only the ping `2`.
 * Resolves with the handshake's status and everything the polls answered.
 */
async function refusedSession() {
  const base = `${stack.chatUrl}/socket.io/?EIO=4&transport=polling`;
  const handshake = await fetch(base);
  if (handshake.status !== 200) return { status: handshake.status, body: await handshake.json() };
  const { sid } = JSON.parse((await handshake.text()).slice(1));
  const posted = await fetch(`${base}&sid=${sid}`, { method: 'POST', body: '40{"token":"bad"}' });
  assert.equal(posted.status, 200);
  const polls = [];
  while (polls.length < 3 && !polls.some((poll) => REFUSAL.test(poll))) {
    polls.push(await (await fetch(`${base}&sid=${sid}`)).text());
  }
  return { status: 200, poll: polls.join('\x1e') };
}

stack.test('sessions refused at the CONNECT are let go by their deadline, and an address holds only a few meanwhile', async () => {
  const refused = [];
  for (let i = 0; i < PER_ADDRESS; i += 1) refused.push(await refusedSession());
  for (const { status, poll } of refused) {
    assert.equal(status, 200);
    assert.match(poll, REFUSAL);
  }
  assert.equal(await gauge('sessions_pending'), PER_ADDRESS);
  const over = await refusedSession();
  assert.equal(over.status, 429, 'one more session from this address');
  assert.equal(over.body.error.code, 'rate_limited');

  await eventually(async () => {
    assert.equal(await gauge('sessions_pending'), 0);
    assert.equal(await gauge('transports_tracked'), 0, 'nothing of the refused sessions is held');
  }, (CONNECT_TIMEOUT_S + 3) * 1000, 250);
  assert.equal((await refusedSession()).status, 200, 'the address may open sessions again');

  const up = uniqueUp('ok');
  const socket = await stack.connect(up);
  assert.equal((await call(socket, 'online', {})).up, up, 'a real client still connects');
  await sleep((CONNECT_TIMEOUT_S + 1) * 1000);
  assert.equal(await gauge('transports_tracked'), 1, 'a connected socket keeps its transport');
  socket.disconnect();
  await eventually(async () => assert.equal(await gauge('transports_tracked'), 0), 3000);
}, { timeout: 30_000 });

stack.test('a session that never sends its CONNECT is closed at its deadline', async () => {
  const base = `${stack.chatUrl}/socket.io/?EIO=4&transport=polling`;
  const { sid } = JSON.parse((await (await fetch(base)).text()).slice(1));
  await sleep((CONNECT_TIMEOUT_S + 1) * 1000);
  const poll = await fetch(`${base}&sid=${sid}`);
  assert.equal(poll.status, 400, 'the engine forgot the session');
  await eventually(async () => assert.equal(await gauge('sessions_pending'), 0), 3000);
}, { timeout: 15_000 });

stack.test('a token valid for 900 days does not stop the expiry of a 4-second token', async () => {
  const [far, near] = [uniqueUp('far'), uniqueUp('near')];
  const forever = await stack.connect(far, { token: await stack.token(far, { exp: nowSeconds() + 900 * 24 * 3600 }) });
  const brief = await stack.connect(near, { token: await stack.token(near, { exp: nowSeconds() + 4 }) });
  const told = next(brief, 'unauthenticated', 15_000);
  const gone = next(brief, 'disconnect', 15_000);
  await told;
  assert.equal(await gone, 'io server disconnect');
  assert.ok(forever.connected, 'the far token still holds');
  assert.equal((await fetch(`${stack.chatUrl}/readyz`)).status, 200, 'and the node is ready');
}, { timeout: 20_000 });

stack.test('an invalid setting stops the server with one line that names it, and never shows a secret', async () => {
  const run = promisify(execFile);
  const secret = 'x'.repeat(31);
  const env = { PATH: process.env.PATH, STORE_API_TOKEN: stack.storeToken, CHAT_JWT_SECRET: secret };
  const short = await run(CHAT_BIN, [], { env }).catch((err) => err);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /^chat-server: environment variable CHAT_JWT_SECRET is invalid: .*32 bytes/);
  assert.ok(!short.stderr.includes(secret));
  assert.equal(short.stderr.trim().split('\n').length, 1);
  const zero = await run(CHAT_BIN, [], { env: { ...env, CHAT_JWT_SECRET: stack.jwtSecret, CHAT_MSG_RATE: '0' } }).catch((err) => err);
  assert.equal(zero.code, 1);
  assert.match(zero.stderr, /^chat-server: environment variable CHAT_MSG_RATE="0" is invalid/);
  const help = await run(CHAT_BIN, ['--help'], { env: { ...env, CHAT_JWT_SECRET: stack.jwtSecret } });
  for (const variable of ['CHAT_ADDR', 'CHAT_INTERNAL_ADDR', 'CHAT_MAX_PENDING_PER_ADDRESS', 'STORE_API_TOKEN', 'CHAT_JWT_SECRET']) {
    assert.ok(help.stdout.includes(variable), `--help lists ${variable}`);
  }
  assert.ok(!help.stdout.includes(stack.jwtSecret) && !help.stdout.includes(stack.storeToken), '--help shows no secret');
});

stack.test('with CHAT_INTERNAL_ADDR the operators\' routes are served there and nowhere else', async () => {
  const admin = 'internal-admin-token-0123456789';
  // Port 0: the node picks a free port and says which in its `listening` line.
  const own = await startStack({ chatEnv: { CHAT_INTERNAL_ADDR: '127.0.0.1:0', CHAT_ADMIN_TOKEN: admin } });
  try {
    const internal = own.internalUrl();
    for (const [method, path] of [['GET', '/metrics'], ['GET', '/docs/'], ['GET', '/api-docs/openapi.json'], ['POST', '/admin/drain']]) {
      const res = await fetch(`${own.chatUrl}${path}`, { method });
      assert.equal(res.status, 404, `${method} ${path} on the public port`);
    }
    for (const base of [own.chatUrl, internal]) {
      assert.equal((await fetch(`${base}/readyz`)).status, 200, `${base}/readyz`);
    }
    assert.equal((await fetch(`${internal}/metrics`)).status, 200);
    const document = await (await fetch(`${internal}/api-docs/openapi.json`)).json();
    assert.ok(document.paths['/admin/drain'], 'the admin route is documented');
    assert.ok(document.paths['/chat/{group}/message'], 'with the public ones');
    const refused = await fetch(`${internal}/admin/drain`, { method: 'POST', headers: { authorization: 'Bearer wrong' } });
    assert.equal(refused.status, 401);
  } finally {
    await own.stop();
  }
}, { timeout: 40_000 });

stack.test('no secret reaches a log, a console or an answer, whatever goes wrong', async () => {
  const admin = 'admin-secret-token-4b1d0c9e77a2';
  const hookPassword = 'hook-password-5a7c91';
  const hookPort = await freePort(); // nothing listens: every notification fails
  const own = await startStack({
    chatEnv: {
      RUST_LOG: 'debug',
      CHAT_ADMIN_TOKEN: admin,
      CHAT_NOTIFY_URL: `http://hook:${hookPassword}@127.0.0.1:${hookPort}/notify?key=${hookPassword}`,
    },
    storeEnv: { RUST_LOG: 'debug' },
  });
  try {
    const [a, b] = [uniqueUp('a'), uniqueUp('b')];
    const group = await own.group([a, b]);
    const token = await own.token(a);
    const alice = await own.connect(a, { token });
    await call(alice, 'refresh token', { token });
    // Bob is offline: his notification is posted, and fails.
    await call(alice, 'chat message', { room: group.id, message: 'hello' });
    await eventually(() => assert.match(own.allLogs(), /notification failed after retries/), 15_000, 250);
    // Refused tokens, over Socket.IO and REST, and a wrong admin token.
    const forged = await own.token(a, { secret: 'another-secret-of-thirty-two-bytes!!' });
    for (const bad of [forged, 'not.a.token']) {
      await assert.rejects(own.connect(a, { token: bad }), /unauthenticated/);
      assert.equal((await own.rest(`/chat/${group.id}/message`, { token: bad })).status, 401);
    }
    assert.equal((await own.rest('/admin/drain', { method: 'POST', token: `${admin}x` })).status, 401);
    assert.equal((await fetch(`${own.storeUrl}/group`, { headers: { authorization: `Bearer ${own.storeToken}x` } })).status, 401);
    // The store out of reach: every call fails and is logged.
    await own.stopStore();
    await assert.rejects(own.connect(b), /unavailable/);
    assert.equal((await own.rest(`/chat/${group.id}/message`, { up: a })).status, 503);
    await own.startStore();
    await eventually(async () => assert.equal((await fetch(`${own.chatUrl}/readyz`)).status, 200), 10_000, 200);
    alice.disconnect();
    // The disconnect handled to its end: the store has A offline.
    await eventually(async () => assert.equal((await own.store('GET', `/user/${a}`)).body.online, false), 5000);

    const everything = own.allLogs();
    assert.ok(everything.length > 1000, 'the servers did log');
    const [, signature] = /\.([^.]+)$/.exec(token);
    for (const [name, secret] of [
      ['STORE_API_TOKEN', own.storeToken],
      ['CHAT_JWT_SECRET', own.jwtSecret],
      ['CHAT_ADMIN_TOKEN', admin],
      ['the password of CHAT_NOTIFY_URL', hookPassword],
      ['a user token', signature],
    ]) {
      assert.ok(!everything.includes(secret), `${name} is in a log`);
    }
  } finally {
    await own.stop();
  }
}, { timeout: 60_000 });
