// Helpers for the feature tests (direct messages, receipts, edits, sync,
// moderation, matchmaking, history gate, rate limit, notifications).
//
// `startStackWith(env)` is `startStack()` of harness.js with extra
// environment for the chat-server (e.g. `CHAT_MSG_RATE`, `CHAT_NOTIFY_URL`).
// harness.js builds the chat-server's environment inside `startStack` with
// no way to add to it, so the minimum of it is repeated here: the same real
// binaries, free ports, fresh database and the same stack methods.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test as nodeTest } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';
import { ack } from './events.js';
import { connected, freePort, signJwt } from './harness.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = {
  store: path.join(ROOT, 'target/debug/store-server'),
  chat: path.join(ROOT, 'target/debug/chat-server'),
};
const READY_TIMEOUT_MS = 30_000;
const LOG_LIMIT = 256 * 1024;
const run = promisify(execFile);
const hex = (bytes) => crypto.randomBytes(bytes).toString('hex');

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

class Child {
  constructor(name, bin, env, logs) {
    this.name = name;
    this.proc = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.done = false;
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve({ code, signal }));
    });
    this.exited.then(() => { this.done = true; });
    const reap = () => this.done || this.proc.kill('SIGKILL');
    process.once('exit', reap);
    this.exited.then(() => process.off('exit', reap));
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.on('data', (chunk) => logs.write(name, chunk));
    }
  }

  async kill(signal = 'SIGTERM', graceMs = 10_000) {
    if (!this.done) {
      this.proc.kill(signal);
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

class Logs {
  text = '';
  write(name, chunk) {
    const lines = chunk.toString().split('\n').filter(Boolean).map((line) => `[${name}] ${line}\n`).join('');
    if (process.env.DEBUG) process.stderr.write(lines);
    this.text = (this.text + lines).slice(-LOG_LIMIT);
  }
  print(title) {
    process.stderr.write(`\n----- ${title}: output of the servers -----\n${this.text || '(nothing)\n'}-----\n`);
  }
}

async function waitReady(url, child) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.done) {
      const { code, signal } = await child.exited;
      throw new Error(`${child.name} exited (code ${code}, signal ${signal}) before ${url}/readyz answered`);
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${url}/readyz did not answer 200 within ${READY_TIMEOUT_MS} ms`);
}

/**
 * Like `startStack()` of harness.js, with `chatEnv` added to the
 * chat-server's environment. The returned stack has the same `token`,
 * `store`, `group`, `rest`, `socket`, `connect`, `test` and `stop`.
 */
export async function startStackWith(chatExtra = {}) {
  for (const bin of Object.values(BIN)) {
    if (!existsSync(bin)) {
      throw new Error(`${bin} is missing: run \`cargo build -p store-server -p chat-server\` at the repository root first`);
    }
  }
  const mongodbUri = process.env.MONGODB_URI;
  if (!mongodbUri) throw new Error('MONGODB_URI is not set: run ./scripts/test.sh or set MONGODB_URI');

  const [storePort, chatPort] = [await freePort(), await freePort()];
  const storeUrl = `http://127.0.0.1:${storePort}`;
  const chatUrl = `http://127.0.0.1:${chatPort}`;
  const storeToken = hex(16);
  const jwtSecret = hex(16);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'chat-js-feat-'));
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, RUST_LOG: 'warn', RUST_BACKTRACE: '1' };
  const db = `js_${hex(6)}`;
  const storeEnv = {
    ...base,
    MONGODB_URI: mongodbUri,
    MONGODB_DB: db,
    STORE_ADDR: `127.0.0.1:${storePort}`,
    STORE_API_TOKEN: storeToken,
    STORE_LOG_DIR: path.join(logDir, 'store'),
  };
  const chatEnv = {
    ...base,
    MONGODB_URI: mongodbUri,
    MONGODB_DB: db,
    STORE_API_TOKEN: storeToken,
    STORE_URL: storeUrl,
    CHAT_ADDR: `127.0.0.1:${chatPort}`,
    CHAT_PUBLIC_URL: chatUrl,
    CHAT_JWT_SECRET: jwtSecret,
    CHAT_LOG_DIR: path.join(logDir, 'chat'),
    ...chatExtra,
  };

  const logs = new Logs();
  const sockets = new Set();
  let store = null;
  let chat = null;
  let stopped = false;

  const stack = {
    chatUrl,
    storeUrl,
    jwtSecret,
    logs,

    async token(up, { ttl = '1h', exp, secret } = {}) {
      if (exp !== undefined || secret !== undefined) {
        const claims = { sub: up, exp: exp ?? Math.floor(Date.now() / 1000) + 3600 };
        return signJwt(claims, secret ?? jwtSecret);
      }
      const { stdout } = await run(BIN.chat, ['token', up, '--ttl', ttl], {
        env: { PATH: process.env.PATH, CHAT_JWT_SECRET: jwtSecret },
      });
      return stdout.trim();
    },

    async store(method, route, body) {
      const res = await fetch(`${storeUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${storeToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },

    async group(users, { name = `g-${hex(3)}`, ...rest } = {}) {
      const { status, body } = await stack.store('POST', '/group', { name, users, ...rest });
      if (status !== 201) throw new Error(`POST /group answered ${status}: ${JSON.stringify(body)}`);
      return body;
    },

    async rest(route, { up, token } = {}) {
      const headers = {};
      const bearer = token ?? (up ? await stack.token(up) : undefined);
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      const res = await fetch(`${chatUrl}${route}`, { headers });
      const text = await res.text();
      let body = text;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body };
    },

    async socket(up, { token, ...options } = {}) {
      const jwt = token === undefined ? await stack.token(up) : token;
      const socket = io(chatUrl, {
        forceNew: true,
        reconnection: false,
        autoConnect: false,
        timeout: 5000,
        auth: jwt === null ? undefined : { token: jwt },
        ...options,
      });
      sockets.add(socket);
      return socket;
    },

    async connect(up, options) {
      return connected(await stack.socket(up, options));
    },

    test(name, fn, { timeout = 30_000 } = {}) {
      return nodeTest(name, { timeout }, async (t) => {
        try {
          await fn(t);
        } catch (err) {
          logs.print(name);
          throw err;
        }
      });
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      for (const socket of sockets) socket.disconnect();
      sockets.clear();
      await Promise.all([chat?.kill('SIGTERM'), store?.kill('SIGTERM')]);
    },
  };

  try {
    store = new Child('store', BIN.store, storeEnv, logs);
    await waitReady(storeUrl, store);
    chat = new Child('chat', BIN.chat, chatEnv, logs);
    await waitReady(chatUrl, chat);
  } catch (err) {
    logs.print('startStackWith');
    await stack.stop();
    throw err;
  }
  return stack;
}
