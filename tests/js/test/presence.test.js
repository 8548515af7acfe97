// `online` when a user's first socket connects, `offline` when the last goes.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after } from 'node:test';
import { eventually, next, QUIET_MS, record, RFC3339_MS, sleep } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

async function storedUser(up) {
  const { status, body } = await stack.store('GET', `/user/${up}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

stack.test('a user coming online and going offline is announced once to their groups and recorded in the store', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  await stack.group([a, b]);
  await stack.group([c]);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const bobOnline = record(bob, 'online');
  const carolHeard = [record(carol, 'online'), record(carol, 'offline')];

  const phone = await stack.connect(a);
  await eventually(() => assert.deepEqual(bobOnline, [{ up: a }]), 3000);
  await eventually(async () => assert.equal((await storedUser(a)).online, true), 3000);

  const laptop = await stack.connect(a);
  await sleep(QUIET_MS);
  assert.deepEqual(bobOnline, [{ up: a }], 'a second socket is not announced');

  const bobOffline = record(bob, 'offline');
  phone.disconnect();
  await sleep(QUIET_MS);
  assert.deepEqual(bobOffline, [], 'the user is still online on the laptop');
  assert.equal((await storedUser(a)).online, true);

  const offline = next(bob, 'offline');
  const before = Date.now();
  laptop.disconnect();
  const notice = await offline;
  assert.deepEqual(Object.keys(notice).sort(), ['lastSeen', 'up']);
  assert.equal(notice.up, a);
  assert.match(notice.lastSeen, RFC3339_MS);
  assert.ok(Math.abs(Date.parse(notice.lastSeen) - before) < 60_000, 'lastSeen is now');

  const user = await storedUser(a);
  assert.equal(user.online, false);
  assert.equal(user.lastSeen, notice.lastSeen, 'the notice carries the recorded lastSeen');
  assert.deepEqual(carolHeard, [[], []], 'users without a shared group hear nothing');
});

stack.test('a user whose connection drops is announced offline and recorded offline', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  await stack.group([a, b]);
  const bob = await stack.connect(b);
  const online = next(bob, 'online');
  const alice = await stack.connect(a, { transports: ['websocket'] });
  assert.deepEqual(await online, { up: a });
  const offline = next(bob, 'offline');
  const dropped = once(alice, 'disconnect');
  // Cut the transport without a socket.io goodbye.
  alice.io.engine.transport.ws.terminate();
  const [reason] = await dropped;
  assert.equal(reason, 'transport close');
  assert.equal((await offline).up, a);
  await eventually(async () => assert.equal((await storedUser(a)).online, false), 3000);
});

stack.test('a user who connects and leaves at once ends up offline in the store and to their groups', async () => {
  const [up, b] = [uniqueUp('brief'), uniqueUp('b')];
  await stack.group([up, b]);
  const bob = await stack.connect(b);
  const notices = [];
  bob.on('online', (notice) => notices.push(['online', notice.up]));
  bob.on('offline', (notice) => notices.push(['offline', notice.up]));
  for (let i = 0; i < 5; i += 1) {
    const socket = await stack.connect(up, { transports: ['websocket'] });
    socket.disconnect();
  }
  await eventually(async () => assert.equal((await storedUser(up)).online, false), 3000);
  await sleep(1000);
  const user = await storedUser(up);
  assert.equal(user.online, false, 'no late online write lands after the offline one');
  assert.match(user.lastSeen, RFC3339_MS);
  assert.ok(notices.length > 0, 'the user was announced');
  assert.deepEqual(notices.at(-1), ['offline', up], `the last notice says offline: ${JSON.stringify(notices)}`);
});

stack.test('a user whose leaving the server reads late is still announced offline', async () => {
  const ups = Array.from({ length: 20 }, (_, i) => uniqueUp(`late${i}`));
  const watcher = uniqueUp('w');
  await stack.group([watcher, ...ups]);
  const observer = await stack.connect(watcher);
  const online = new Set();
  const offline = new Set();
  observer.on('online', ({ up }) => online.add(up));
  observer.on('offline', ({ up }) => offline.add(up));
  const sockets = await Promise.all(ups.map((up) => stack.connect(up, { transports: ['websocket'] })));
  await eventually(() => assert.equal(online.size, ups.length), 10_000);

  // Each client sends its DISCONNECT packet and closes its WebSocket while
  // the node is paused, so the node reads both at once when it resumes: it
  // closes the socket for each, and the second close takes the socket out
  // of its rooms before the disconnect handler runs.
  const node = stack.node(0).proc;
  node.kill('SIGSTOP');
  try {
    for (const socket of sockets) socket.disconnect();
    await sleep(300);
  } finally {
    node.kill('SIGCONT');
  }
  await eventually(() => assert.deepEqual(ups.filter((up) => !offline.has(up)), [], 'not announced offline'), 10_000);
});
