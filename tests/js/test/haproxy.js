// HAProxy with the shipped configuration (deploy/haproxy.cfg) in front of a
// stack's first two chat nodes, on a port of its own: the one URL a client
// that knows nothing of the cluster uses.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { eventually } from './events.js';
import { freePort } from './harness.js';

const CONFIG = fileURLToPath(new URL('../../../deploy/haproxy.cfg', import.meta.url));

/** Whether `haproxy` can be run here. */
export const haproxyFound = spawnSync('haproxy', ['-v']).status === 0;

/**
 * Starts HAProxy in front of `stack`'s nodes 0 and 1, its output in the
 * stack's logs, and waits until it routes to a node. Returns its `url` and
 * `stop()`.
 */
export async function startHaproxy(stack) {
  assert.ok(haproxyFound, 'haproxy is not installed: ./scripts/test.sh installs it (apt-get install haproxy)');
  const port = await freePort();
  const hostOf = (url) => new URL(url).host;
  const haproxy = spawn('haproxy', ['-db', '-f', CONFIG], {
    env: {
      PATH: process.env.PATH,
      LB_BIND: `127.0.0.1:${port}`,
      CHAT_A_ADDR: hostOf(stack.chatUrls[0]),
      CHAT_B_ADDR: hostOf(stack.chatUrls[1]),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [haproxy.stdout, haproxy.stderr]) {
    stream.on('data', (chunk) => stack.logs.write('haproxy', chunk));
  }
  const exited = once(haproxy, 'exit');
  const url = `http://127.0.0.1:${port}`;
  // Up once its health checks (/readyz, which it does not route to the
  // public) found a backend: until then it answers 503.
  await eventually(async () => assert.equal((await fetch(`${url}/`)).status, 200), 10_000, 200);
  return {
    url,
    async stop() {
      haproxy.kill('SIGTERM');
      await exited;
    },
  };
}
