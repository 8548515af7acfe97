// The node registry, the dispatcher, and nodes that die or restart.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { eventually, next, QUIET_MS, record, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack({ nodes: 3 });
after(() => stack.stop());

async function liveNodes() {
  const { status, body } = await stack.store('GET', '/node');
  assert.equal(status, 200, JSON.stringify(body));
  return body.items;
}

async function location(up, node) {
  const { status, body } = await stack.rest('/chat/location', { up, node });
  assert.equal(status, 200, JSON.stringify(body));
  return body.url;
}

stack.test('every node is in the registry with its public URL', async () => {
  const nodes = await liveNodes();
  assert.deepEqual(nodes.map((n) => n.id), ['node0', 'node1', 'node2']);
  assert.deepEqual(nodes.map((n) => n.url), stack.chatUrls);
  for (const node of nodes) {
    assert.equal(node.draining, false);
    assert.ok(Date.now() - Date.parse(node.seenAt) < 15_000, `${node.id} beat recently`);
  }
});

stack.test('the registry counts each node\'s connections', async () => {
  const up = uniqueUp('c');
  await stack.connect(up, { node: 1 });
  await stack.connect(up, { node: 1 });
  await eventually(async () => {
    const node1 = (await liveNodes()).find((n) => n.id === 'node1');
    assert.ok(node1.connections >= 2, JSON.stringify(node1));
  }, 8000, 500);
});

stack.test('every node gives a user the same location, and users are spread over the nodes', async () => {
  const users = Array.from({ length: 30 }, (_, i) => uniqueUp(`u${i}`));
  const chosen = new Set();
  for (const up of users) {
    const answers = await Promise.all([0, 1, 2].map((node) => location(up, node)));
    assert.equal(new Set(answers).size, 1, `${up}: ${answers}`);
    assert.ok(stack.chatUrls.includes(answers[0]));
    chosen.add(answers[0]);
  }
  assert.equal(chosen.size, 3, 'thirty users land on all three nodes');
});

stack.test('a node killed without a goodbye: its users go offline within 30 s, the others stay', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const watcher = await stack.connect(c, { node: 0 });
  const offline = record(watcher, 'offline');
  await stack.connect(a, { node: 2 });
  await stack.connect(b, { node: 2 });
  await stack.connect(b, { node: 1 });
  await eventually(async () => {
    const { online } = await call(watcher, 'presence', { room: group.id });
    assert.deepEqual(online.sort(), [a, b, c].sort());
  }, 5000);
  const users = Array.from({ length: 10 }, (_, i) => uniqueUp(`d${i}`));
  for (const up of users) await stack.connect(up, { node: 2 });
  await eventually(async () => {
    for (const up of users) {
      const { body } = await stack.store('GET', `/user/${up}`);
      assert.equal(body.online, true, `${up} is recorded online before the kill`);
    }
  }, 5000);

  const killedAt = Date.now();
  await stack.stopNode(2, 'SIGKILL');
  // Presence counts live nodes only: no wait for the reaper.
  await eventually(async () => {
    const { online } = await call(watcher, 'presence', { room: group.id });
    assert.deepEqual(online.sort(), [b, c].sort());
  }, 20_000, 500);
  await eventually(() => assert.deepEqual(offline.map((n) => n.up), [a]), 30_000, 250);
  const took = Date.now() - killedAt;
  assert.ok(took <= 30_000, `offline came ${took} ms after the kill`);
  for (const up of [a, ...users]) {
    const { body } = await stack.store('GET', `/user/${up}`);
    assert.equal(body.online, false, `${up} is recorded offline`);
  }
  const { body: bob } = await stack.store('GET', `/user/${b}`);
  assert.equal(bob.online, true, 'b still has a socket on node 1');
  assert.deepEqual((await liveNodes()).map((n) => n.id), ['node0', 'node1']);
  const answers = await Promise.all(users.map((up) => location(up, 0)));
  assert.ok(answers.every((url) => url !== stack.chatUrls[2]), 'the dispatcher forgets the dead node');
}, { timeout: 60_000 });

stack.test('a node restarted with the same id leaves no user of its earlier life online', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  await stack.connect(a, { node: 1 });
  const watcher = await stack.connect(b, { node: 0 });
  await eventually(async () => {
    const { body } = await stack.store('GET', `/user/${a}`);
    assert.equal(body.online, true);
  }, 5000);
  const offline = next(watcher, 'offline', 15_000);
  await stack.stopNode(1, 'SIGKILL');
  await stack.startNode(1);
  assert.equal((await offline).up, a, 'the restarted node announced its earlier user offline');
  const { body } = await stack.store('GET', `/user/${a}`);
  assert.equal(body.online, false);
  assert.deepEqual((await call(watcher, 'presence', { room: group.id })).online, [b]);
  await sleep(QUIET_MS);
  assert.ok((await liveNodes()).some((n) => n.id === 'node1'), 'node1 is live again');
});
