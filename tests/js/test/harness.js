// The whole stack for the end-to-end tests: the REAL store-server and
// chat-server binaries built by cargo, each on a free port, on a fresh
// MongoDB database, driven by the official socket.io client.
//
// Ports: the store binds port 0 itself and the harness reads the port from
// its `store-server listening on port N` line, so no other process can take
// it first. A chat node cannot do the same: its public URL
// (`CHAT_PUBLIC_URL`, which it announces in the node registry, in
// `GET /chat/location` and in `migrate`) must name its port before it
// starts, and the server takes that URL as it is. So a chat node's port is
// picked here (`freePort`), and the harness waits for the node's own
// `chat-server listening on port N` line before talking to it (never to
// another process that took the port meanwhile); a node that finds its port
// taken is started again on another one. Restarts (`startNode`,
// `startStore`) come back on the port the process had: clients reconnect to
// the same URL, and the chat nodes' `STORE_URL` names the store's port.
//
//   const stack = await startStack();
//   after(() => stack.stop());
//   stack.test('a sentence', async () => { ... });   // prints the servers' logs if it fails
//
// `startStack({ nodes: 3 })` starts three chat nodes sharing rooms on the
// MongoDB adapter (CHAT_ADAPTER=mongodb), with node ids `node0`..`node2`;
// `stack.connect(up, { node: 1 })` connects to the second one.

import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import crypto from 'node:crypto';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test as nodeTest } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { io } from 'socket.io-client';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = {
  store: path.join(ROOT, 'target/debug/store-server'),
  chat: path.join(ROOT, 'target/debug/chat-server'),
};
const READY_TIMEOUT_MS = 30_000;
const LOG_LIMIT = 256 * 1024;
/** How much of its own latest output a child keeps, to tell why it exited. */
const OUTPUT_LIMIT = 16 * 1024;
const TEST_TIMEOUT_MS = 30_000;
/** How many ports a chat node tries at its first start before giving up. */
const BIND_ATTEMPTS = 5;
const run = promisify(execFile);

/** The colour codes of the servers' console lines. */
const ANSI = /\x1b\[[0-9;]*m/g;
/** The line both servers print once bound (`internal_port` only with `CHAT_INTERNAL_ADDR`). */
const LISTENING = /\b(?:store|chat)-server listening on port (\d+)(?:.*\binternal_port=(\d+))?/;

/**
 * `RUST_LOG` that also lets the `listening on port` line (logged at `info`
 * by `<crate>::startup`, a module without debug or trace events) reach the
 * console, whatever else it says.
 */
function showingListening(rustLog, crate) {
  if (rustLog === undefined) return undefined; // the servers' default, `info`
  return [rustLog, `${crate}::startup=info`].filter(Boolean).join(',');
}

/**
 * A port nobody listens on right now. Another process may take it before
 * it is used: only for a server that cannot bind port 0 and say which port
 * it got, or for a port meant to have no listener.
 */
export async function freePort() {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const hex = (bytes) => crypto.randomBytes(bytes).toString('hex');
const b64url = (value) => Buffer.from(value).toString('base64url');

/** An HS256 JWT signed by hand (for tokens the binary will not mint). */
export function signJwt(claims, secret) {
  const head = `${b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }))}.${b64url(JSON.stringify(claims))}`;
  const mac = crypto.createHmac('sha256', secret).update(head).digest('base64url');
  return `${head}.${mac}`;
}

/** A user id unique to this run, e.g. `alice3f9a1c`. */
export const uniqueUp = (name) => `${name}${hex(3)}`;

/** A child process whose output is kept (last LOG_LIMIT bytes) for failure reports. */
class Child {
  constructor(name, bin, env, logs) {
    this.name = name;
    this.proc = spawn(bin, [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => {
      this.proc.once('exit', (code, signal) => resolve({ code, signal }));
      this.proc.once('error', (error) => {
        logs.write(name, `cannot run ${bin}: ${error.message}`);
        resolve({ code: null, signal: null });
      });
    });
    this.done = false;
    this.exited.then(() => { this.done = true; });
    // Once its output is read to the end (after the exit, when the pipes close).
    this.closed = new Promise((resolve) => this.proc.once('close', resolve));
    // Never leave a server behind, even if the test process dies.
    const reap = () => this.done || this.proc.kill('SIGKILL');
    process.once('exit', reap);
    this.exited.then(() => process.off('exit', reap));
    this.output = '';
    for (const stream of [this.proc.stdout, this.proc.stderr]) {
      stream.on('data', (chunk) => {
        logs.write(name, chunk);
        this.output = (this.output + chunk.toString().replace(ANSI, '')).slice(-OUTPUT_LIMIT);
      });
    }
    this.listening = this.#listening();
    this.listening.catch(() => {});
  }

  /**
   * Resolves with `{port, internalPort}` once the server says it listens;
   * rejects if it exits first or says nothing within READY_TIMEOUT_MS.
   */
  #listening() {
    return new Promise((resolve, reject) => {
      let partial = '';
      const stop = () => {
        this.proc.stdout.off('data', onData);
        clearTimeout(timer);
      };
      const onData = (chunk) => {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop().slice(-OUTPUT_LIMIT);
        for (const line of lines) {
          const found = LISTENING.exec(line.replace(ANSI, ''));
          if (found) {
            stop();
            resolve({ port: Number(found[1]), internalPort: found[2] ? Number(found[2]) : undefined });
            return;
          }
        }
      };
      const timer = setTimeout(() => {
        stop();
        reject(new Error(`${this.name} did not say it listens within ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      this.proc.stdout.on('data', onData);
      this.exited.then(({ code, signal }) => {
        stop();
        reject(new Error(`${this.name} exited (code ${code}, signal ${signal}) before it listened`));
      });
    });
  }

  async kill(signal, graceMs = 10_000) {
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

/** `fetch`, whose network errors name the request and their cause. */
async function call(url, init = {}) {
  try {
    return await fetch(url, init);
  } catch (err) {
    throw new Error(`${init.method ?? 'GET'} ${url} failed: ${err.cause?.message ?? err.message}`, { cause: err });
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
 * Starts store-server then the chat node(s); see the top of this file.
 * `chatEnv` is added to every chat node's environment (e.g.
 * `CHAT_MSG_RATE`, `CHAT_NOTIFY_URL`), `nodeEnv[i]` to node `i`'s only,
 * `storeEnv` to the store's; `mongodbUri` replaces `$MONGODB_URI`. A
 * `STORE_URL` given there may name the harness's store as `{store}` (e.g.
 * beside another instance: `{store},http://127.0.0.1:4001`).
 */
export async function startStack({ chatEnv: chatExtra = {}, storeEnv: storeExtra = {}, nodes: nodeCount = 1, nodeEnv = [], mongodbUri: ownMongo } = {}) {
  for (const bin of Object.values(BIN)) {
    if (!existsSync(bin)) {
      throw new Error(`${bin} is missing: run \`cargo build -p store-server -p chat-server\` at the repository root first`);
    }
  }
  const mongodbUri = ownMongo ?? process.env.MONGODB_URI;
  if (!mongodbUri) throw new Error('MONGODB_URI is not set: run ./scripts/test.sh or set MONGODB_URI');

  // Known once the store and the nodes have started (see the top of this file).
  let storeUrl = null;
  const chatPorts = Array.from({ length: nodeCount }, () => null);
  const chatUrls = Array.from({ length: nodeCount }, () => null);
  const internalUrls = Array.from({ length: nodeCount }, () => null);
  const storeToken = hex(16);
  const jwtSecret = hex(16);
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'chat-js-'));
  const base = { PATH: process.env.PATH, HOME: process.env.HOME, RUST_LOG: 'warn', RUST_BACKTRACE: '1' };
  const storeEnv = {
    ...base,
    MONGODB_URI: mongodbUri,
    MONGODB_DB: `js_${hex(6)}`,
    STORE_ADDR: '127.0.0.1:0',
    STORE_API_TOKEN: storeToken,
    STORE_LOG_DIR: path.join(logDir, 'store'),
    // A stop answers /readyz 503 for this long first; no test waits for it
    // unless it says so.
    STORE_DRAIN_SECONDS: '0',
    ...storeExtra,
  };
  storeEnv.RUST_LOG = showingListening(storeEnv.RUST_LOG, 'store_server');
  const chatEnv = (i) => {
    const env = {
      ...base,
      MONGODB_URI: mongodbUri,
      MONGODB_DB: storeEnv.MONGODB_DB,
      STORE_API_TOKEN: storeToken,
      STORE_URL: storeUrl,
      CHAT_ADDR: `127.0.0.1:${chatPorts[i]}`,
      CHAT_PUBLIC_URL: chatUrls[i],
      CHAT_JWT_SECRET: jwtSecret,
      CHAT_LOG_DIR: path.join(logDir, `chat${i}`),
      // A stop drains the node: spread over half a second, not ten.
      CHAT_DRAIN_SECONDS: '0.5',
      ...(nodeCount > 1 ? { CHAT_ADAPTER: 'mongodb', CHAT_NODE_ID: `node${i}` } : {}),
      ...chatExtra,
      ...nodeEnv[i],
    };
    env.RUST_LOG = showingListening(env.RUST_LOG, 'chat_server');
    // `{store}` in a STORE_URL given by the test: the harness's store.
    env.STORE_URL = env.STORE_URL.replaceAll('{store}', storeUrl);
    return env;
  };
  const chatName = (i) => (nodeCount > 1 ? `chat${i}` : 'chat');

  const logs = new Logs();
  const sockets = new Set();
  let store = null;
  const chats = [];
  let stopped = false;

  /** Waits for `child`'s `listening on port` line; fails unless it names `port` (when given). */
  async function listeningOn(child, port) {
    const said = await child.listening;
    if (port !== undefined && said.port !== port) {
      throw new Error(`${child.name} listens on port ${said.port}, not ${port}`);
    }
    return said;
  }

  /** Runs chat node `i` on its port and waits for its `listening` line. */
  async function runNode(i) {
    chats[i] = new Child(chatName(i), BIN.chat, chatEnv(i), logs);
    const { internalPort } = await listeningOn(chats[i], chatPorts[i]);
    internalUrls[i] = internalPort === undefined ? null : `http://127.0.0.1:${internalPort}`;
    return chats[i];
  }

  /**
   * The first start of chat node `i`: on a port picked here, and on another
   * one if a process took it before the node could bind it.
   */
  async function launchNode(i) {
    for (let attempt = 1; ; attempt += 1) {
      chatPorts[i] = await freePort();
      chatUrls[i] = `http://127.0.0.1:${chatPorts[i]}`;
      try {
        await runNode(i);
        break;
      } catch (err) {
        if (!chats[i].done) throw err;
        // Its last words may still be on their way: bounded, in case the pipes stay open.
        await Promise.race([chats[i].closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
        const lost = /cannot listen on CHAT_ADDR=\S+: Address already in use/.test(chats[i].output);
        if (!lost || attempt >= BIND_ATTEMPTS) throw err;
        logs.write('harness', `port ${chatPorts[i]} of ${chatName(i)} was taken before it could bind it; trying another`);
      }
    }
    await waitReady(chatUrls[i], chats[i]);
  }

  const stack = {
    /** The first chat node's URL. */
    get chatUrl() {
      return chatUrls[0];
    },
    chatUrls,
    get storeUrl() {
      return storeUrl;
    },
    storeToken,
    jwtSecret,
    logDir,
    logs,

    /**
     * Starts chat node `i` again, on the port it had (its clients come back
     * to the same URL), and waits until it is ready.
     */
    async startNode(i = 0, { ready = true } = {}) {
      if (ready) {
        await runNode(i);
        await waitReady(chatUrls[i], chats[i]);
      } else {
        chats[i] = new Child(chatName(i), BIN.chat, chatEnv(i), logs);
      }
      return chats[i];
    },

    /** The URL of chat node `i`'s `CHAT_INTERNAL_ADDR` listener (null without one). */
    internalUrl(i = 0) {
      return internalUrls[i];
    },

    /** Sends `signal` to chat node `i`; resolves with its `{code, signal}` exit. */
    async stopNode(i, signal = 'SIGTERM', graceMs = 10_000) {
      return chats[i].kill(signal, graceMs);
    },

    /** The running process of chat node `i`. */
    node(i) {
      return chats[i];
    },

    /**
     * Starts the store; the first time on a port of its choosing, then
     * again on that one (the chat nodes' `STORE_URL` names it).
     */
    async startStore() {
      store = new Child('store', BIN.store, storeEnv, logs);
      const { port } = await listeningOn(store, storeUrl ? Number(new URL(storeUrl).port) : undefined);
      if (!storeUrl) {
        storeUrl = `http://127.0.0.1:${port}`;
        storeEnv.STORE_ADDR = `127.0.0.1:${port}`;
      }
      await waitReady(storeUrl, store);
    },

    /** SIGKILL: the store vanishes without a goodbye. */
    /** Stops the store (SIGKILL unless `signal` says) and resolves with its `{code, signal}` exit. */
    async stopStore(signal = 'SIGKILL') {
      return store.kill(signal);
    },

    /** Sends `signal` to the (first) chat-server and resolves with its `{code, signal}` exit. */
    async stopChat(signal = 'SIGTERM') {
      return chats[0].kill(signal);
    },

    /**
     * A user JWT. By default minted by `chat-server token <up> --ttl <ttl>`;
     * with `exp` (seconds since the epoch) or `secret`, signed here by hand.
     */
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

    /** Calls the store API with the service token: `{status, body}`. */
    async store(method, route, body) {
      const res = await call(`${storeUrl}${route}`, {
        method,
        headers: { authorization: `Bearer ${storeToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },

    /**
     * The text of every message of `group` the store holds, oldest page
     * last, all pages; from the store at `url` (the harness's by default).
     */
    async storedTexts(group, { url = storeUrl } = {}) {
      const texts = [];
      for (let page = 0; ; page += 1) {
        const res = await call(`${url}/group/messages?groupID=${group}&perPage=100&page=${page}`, {
          headers: { authorization: `Bearer ${storeToken}` },
        });
        const body = await res.json();
        texts.push(...body.items.map((m) => m.message));
        if (!body.hasMore) return texts;
      }
    },

    /** Creates a group in the store; returns it. */
    async group(users, { name = `g-${hex(3)}`, ...rest } = {}) {
      const { status, body } = await stack.store('POST', '/group', { name, users, ...rest });
      if (status !== 201) throw new Error(`POST /group answered ${status}: ${JSON.stringify(body)}`);
      return body;
    },

    /** Stores a message of `from` in `group` through the store, with its attachments' ids; returns it. */
    async message(group, from, message, attachments) {
      const { status, body } = await stack.store('POST', '/message', { group, from, message, attachments });
      if (status !== 201) throw new Error(`POST /message answered ${status}: ${JSON.stringify(body)}`);
      return body;
    },

    /** Uploads `bytes` named `name` to `group` as `up`, through the gateway; the attachment's id. */
    async upload(group, up, name, bytes) {
      const res = await fetch(`${stack.chatUrl}/chat/${group}/attachment?name=${encodeURIComponent(name)}`, {
        method: 'POST', headers: { authorization: `Bearer ${await stack.token(up)}` }, body: bytes,
      });
      const body = await res.json();
      if (res.status !== 201) throw new Error(`POST /chat/${group}/attachment answered ${res.status}: ${JSON.stringify(body)}`);
      return body.id;
    },

    /**
     * A request to a chat node's HTTP routes as `up` (or with `token`):
     * `{status, body}`. GET on the first node unless `method` / `node` say.
     */
    async rest(route, { up, token, node = 0, method = 'GET' } = {}) {
      const headers = {};
      const bearer = token ?? (up ? await stack.token(up) : undefined);
      if (bearer) headers.authorization = `Bearer ${bearer}`;
      const res = await call(`${chatUrls[node]}${route}`, { method, headers });
      const text = await res.text();
      let body = text;
      try { body = JSON.parse(text); } catch { /* not JSON */ }
      return { status: res.status, body };
    },

    /**
     * An unconnected client of `up`. Options: `token` (null: none), `via`
     * (`'auth'` or `'query'`), `node` (which chat node, 0 by default) or
     * `url`, and any socket.io-client option.
     */
    async socket(up, { token, via = 'auth', node = 0, url, ...options } = {}) {
      const jwt = token === undefined ? await stack.token(up) : token;
      const auth = jwt !== null && via === 'auth' ? { token: jwt } : undefined;
      const query = jwt !== null && via === 'query' ? { token: jwt } : undefined;
      const socket = io(url ?? chatUrls[node], {
        forceNew: true,
        reconnection: false,
        autoConnect: false,
        timeout: 5000,
        auth,
        query,
        ...options,
      });
      sockets.add(socket);
      return socket;
    },

    /** A connected client of `up`; rejects with the `connect_error`. */
    async connect(up, options) {
      return connected(await stack.socket(up, options));
    },

    /** Everything the servers wrote: their console output and every log file. */
    allLogs() {
      const files = readdirSync(logDir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => readFileSync(path.join(entry.parentPath ?? entry.path, entry.name), 'utf8'));
      return [logs.text, ...files].join('\n');
    },

    /** Wraps `fn` as a node test that prints the servers' output when it fails. */
    test(name, fn, { timeout = TEST_TIMEOUT_MS } = {}) {
      return nodeTest(name, { timeout }, async (t) => {
        try {
          await fn(t);
        } catch (err) {
          logs.print(name);
          throw err;
        }
      });
    },

    /** Closes every client and stops both servers (SIGTERM); safe to call twice. */
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const socket of sockets) socket.disconnect();
      sockets.clear();
      await Promise.all([...chats.map((chat) => chat?.kill('SIGTERM')), store?.kill('SIGTERM')]);
      // The servers' log files are kept for a look only with DEBUG.
      if (!process.env.DEBUG) rmSync(logDir, { recursive: true, force: true });
    },
  };

  try {
    await stack.startStore();
    await Promise.all(chatPorts.map((_, i) => launchNode(i)));
  } catch (err) {
    logs.print('startStack');
    await stack.stop();
    throw err;
  }
  return stack;
}

/** Connects `socket`; resolves with it, or rejects with its `connect_error`. */
export function connected(socket) {
  return new Promise((resolve, reject) => {
    const ok = () => { socket.off('connect_error', fail); resolve(socket); };
    const fail = (err) => {
      socket.off('connect', ok);
      socket.disconnect();
      // A transport error says only "xhr poll error": name what the
      // request got (its status, or the network error), for the log.
      if (err.type === 'TransportError') {
        const xhr = err.context;
        const got = xhr?.status ? `status ${xhr.status}: ${xhr.responseText}` : (xhr?.statusText?.message ?? err.description);
        err.message += ` (${got})`;
      }
      reject(err);
    };
    socket.once('connect', ok);
    socket.once('connect_error', fail);
    socket.connect();
  });
}
