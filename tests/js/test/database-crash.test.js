// A database crash loses nothing acked: the store writes with a journaled
// write concern (STORE_WRITE_CONCERN, `majority` and `j: true` by default),
// so an ack means the write is on disk. A real MongoDB (`mongod` on PATH)
// is killed with SIGKILL under steady sending and started again on the
// same data; every acked message must be there. The MongoDB-wire server the
// rest of the suite uses loses a few journaled writes when killed (see
// docs/reliability.md), so without `mongod` this case is skipped, saying why.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { sleep } from './events.js';
import { steadySender } from './conversation.js';
import { freePort, startStack, uniqueUp } from './harness.js';

const mongodFound = spawnSync('mongod', ['--version']).error === undefined;

if (!mongodFound) {
  test('acked messages survive a database killed with SIGKILL', { skip: 'no `mongod` on PATH: this case needs a real MongoDB' }, () => {});
} else {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chat-db-crash-'));
  const port = await freePort();
  let mongod;
  const startMongod = async () => {
    mongod = spawn('mongod', ['--port', String(port), '--dbpath', dataDir, '--bind_ip', '127.0.0.1'], { stdio: 'ignore' });
    for (let i = 0; i < 100; i += 1) {
      if (spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`]).status === 0) return;
      await sleep(100);
    }
    throw new Error('mongod did not start');
  };
  await startMongod();
  const stack = await startStack({ mongodbUri: `mongodb://127.0.0.1:${port}` });
  after(async () => {
    await stack.stop();
    mongod.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  });

  stack.test('acked messages survive a database killed with SIGKILL', async () => {
    const [a, b] = [uniqueUp('a'), uniqueUp('b')];
    const group = await stack.group([a, b]);
    const sending = steadySender(await stack.connect(a, { reconnection: true }), group.id, 'crash');
    await sending.reached(50);
    const exited = once(mongod, 'exit');
    mongod.kill('SIGKILL');
    await exited;
    await sleep(2000);
    await startMongod();
    const before = sending.acked.length;
    await sending.reached(before + 50, 60_000);
    await sending.stop();

    const stored = new Set(await stack.storedTexts(group.id));
    const lost = sending.acked.filter((m) => !stored.has(m.message)).map((m) => m.message);
    assert.deepEqual(lost, [], 'every acked message is stored');
  }, { timeout: 180_000 });
}
