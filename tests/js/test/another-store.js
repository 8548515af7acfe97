// A second store-server process beside a stack's own, on the same database
// and token: for the tests of several store instances. Its port is chosen
// before the stack starts, so the chat nodes' `STORE_URL` can name it
// (`{store},${another.url}`).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eventually } from './events.js';
import { freePort } from './harness.js';

const STORE_BIN = fileURLToPath(new URL('../../../target/debug/store-server', import.meta.url));

/**
 * A store-server of `database` that runs once `start(token)` is called,
 * answering `/readyz` 503 for `drainSeconds` when stopped.
 */
export async function anotherStore({ database, drainSeconds = '0' }) {
  const port = await freePort();
  const logDir = mkdtempSync(path.join(os.tmpdir(), 'chat-store-b-'));
  let child = null;
  const store = {
    url: `http://127.0.0.1:${port}`,
    /** Starts it (again, on its port) and waits until it is ready. */
    async start(token) {
      child = spawn(STORE_BIN, [], {
        env: {
          PATH: process.env.PATH,
          MONGODB_URI: process.env.MONGODB_URI,
          MONGODB_DB: database,
          STORE_ADDR: `127.0.0.1:${port}`,
          STORE_API_TOKEN: token,
          STORE_LOG_DIR: logDir,
          STORE_DRAIN_SECONDS: drainSeconds,
          RUST_LOG: 'warn',
        },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      child.exited = once(child, 'exit').then(([code, signal]) => ({ code, signal }));
      await eventually(async () => assert.equal((await fetch(`${store.url}/readyz`)).status, 200), 15_000, 100);
    },
    /** Sends `signal`; resolves with its `{code, signal}` exit. */
    async stop(signal = 'SIGTERM') {
      child.kill(signal);
      return child.exited;
    },
    /** Kills it if it runs, and removes its logs. */
    async remove() {
      child?.kill('SIGKILL');
      rmSync(logDir, { recursive: true, force: true });
    },
  };
  return store;
}
