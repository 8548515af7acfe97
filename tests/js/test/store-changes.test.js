// Changes made through the store API reach live sockets within a second:
// members added get `group added {group}` and join the room, removed
// members get `group removed {room}` and leave it, and a message created,
// edited or deleted through the store is broadcast (`chat message`,
// `message updated`) and notified like one sent over Socket.IO. With one
// chat node, and with two chat nodes on the MongoDB adapter and two store
// instances on one database, a change posted to either instance reaching
// every socket exactly once.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { after } from 'node:test';
import { anotherStore } from './another-store.js';
import { QUIET_MS, eventually, next, record, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';
/**
 * How long a test waits for a change to arrive: far more than the
 * contract's second (nodes read the log every 250 ms), so a loaded machine
 * does not fail a test on time; the delays seen are printed
 * (`# … after N ms`), not asserted.
 */
const DELIVERY_MS = 5000;
/** How long a test waits before saying nothing more arrived. */
const SETTLE_MS = 1500;
/** Long enough for a change to be read again by every poll of its overlap window (5 s). */
const OVERLAP_MS = 6000;

/** The push-notification hook: records every post. */
const hook = {
  posts: [],
  server: http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      hook.posts.push(JSON.parse(raw));
      res.writeHead(204).end();
    });
  }),
  about(id) {
    return hook.posts.filter((post) => post.message?.id === id);
  },
};
hook.server.listen(0, '127.0.0.1');
await once(hook.server, 'listening');
const hookUrl = `http://127.0.0.1:${hook.server.address().port}/push`;

const stack = await startStack({ chatEnv: { CHAT_NOTIFY_URL: hookUrl } });
after(async () => {
  hook.server.closeAllConnections();
  hook.server.close();
  await stack.stop();
});

/** A store call that must answer `status`; returns the body. */
async function store(method, route, body, status = 200, { url } = {}) {
  const res = url
    ? await storeAt(url, method, route, body)
    : await stack.store(method, route, body);
  assert.equal(res.status, status, `${method} ${route}: ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The store API at another instance's `url`, with the stack's token. */
async function storeAt(url, method, route, body, token = stack.storeToken) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** Resolves with `[payload, ms]`: the next `event` and how long after `start` it came. */
async function timed(waiting, start) {
  const value = await waiting;
  return [value, Date.now() - start];
}

stack.test('a member added through the store gets `group added` with the Group, then hears the room', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b], { admins: [a] });
  const alice = await stack.connect(a);
  const carol = await stack.connect(c);
  const carolAdded = record(carol, 'group added');

  const added = next(carol, 'group added', DELIVERY_MS);
  const start = Date.now();
  const joined = await store('POST', `/group/${group.id}/users`, { up: c });
  const [notice, ms] = await timed(added, start);
  console.log(`# group added came after ${ms} ms`);
  assert.deepEqual(notice, { group: joined }, 'the Group as the store answered it');
  assert.ok(notice.group.users.includes(c));

  const heard = next(carol, 'chat message');
  const sent = await call(alice, 'chat message', { room: group.id, message: 'welcome, carol' });
  assert.deepEqual(await heard, sent, 'the new member is in the room');
  await sleep(OVERLAP_MS);
  assert.equal(carolAdded.length, 1, 'told once, however often the log is read');
}, { timeout: 30_000 });

stack.test('a member removed through the store gets `group removed` and no longer hears the room', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  // Bob hears the room before.
  const before = next(bob, 'chat message');
  await call(alice, 'chat message', { room: group.id, message: 'before' });
  await before;

  const removedNotice = next(bob, 'group removed', DELIVERY_MS);
  const start = Date.now();
  await store('DELETE', `/group/${group.id}/users/${b}`);
  const [notice, ms] = await timed(removedNotice, start);
  console.log(`# group removed came after ${ms} ms`);
  assert.deepEqual(notice, { room: group.id });

  const bobHeard = record(bob, 'chat message');
  const carolHeard = next(carol, 'chat message');
  await call(alice, 'chat message', { room: group.id, message: 'after bob left' });
  await carolHeard;
  await sleep(QUIET_MS);
  assert.deepEqual(bobHeard, [], 'the removed member hears nothing of the room');
});

stack.test('a message posted through the store reaches every connected member as `chat message`, and its offline member is notified once', async () => {
  const [a, b, d] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('off')];
  const group = await stack.group([a, b, d]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const bobHeard = record(bob, 'chat message');
  const toAlice = next(alice, 'chat message', DELIVERY_MS);
  const toBob = next(bob, 'chat message', DELIVERY_MS);

  const start = Date.now();
  const message = await store('POST', '/message', { group: group.id, from: a, message: 'an announcement', nonce: uniqueUp('n') }, 201);
  const [forBob, ms] = await timed(toBob, start);
  console.log(`# chat message came after ${ms} ms`);
  assert.deepEqual(forBob, message);
  assert.deepEqual(await toAlice, message, "the sender's sockets too: none of them sent it");

  await eventually(() => assert.equal(hook.about(message.id).length, 1), 5000);
  assert.deepEqual(hook.about(message.id)[0], { to: d, mention: false, message });
  // A retry with the same nonce stores nothing and is not broadcast again.
  await store('POST', '/message', { group: group.id, from: a, message: 'an announcement', nonce: message.nonce }, 200);
  await sleep(OVERLAP_MS);
  assert.equal(bobHeard.length, 1, 'delivered once');
  assert.equal(hook.about(message.id).length, 1, 'notified once');
}, { timeout: 30_000 });

stack.test('an edit, a reaction and a delete through the store arrive as `message updated`', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const sent = await call(alice, 'chat message', { room: group.id, message: 'typo' });

  const edited = next(bob, 'message updated', DELIVERY_MS);
  const start = Date.now();
  const afterEdit = await store('PATCH', `/message/${sent.id}`, { from: a, message: 'fixed' });
  const [edit, ms] = await timed(edited, start);
  console.log(`# message updated came after ${ms} ms`);
  assert.deepEqual(edit, afterEdit);
  assert.equal(edit.message, 'fixed');

  const reacted = next(bob, 'message updated', DELIVERY_MS);
  const afterReaction = await store('POST', `/message/${sent.id}/reactions`, { up: b, emoji: '👍' });
  assert.deepEqual(await reacted, afterReaction, 'a reaction through the store is a `message updated` too');
  assert.deepEqual((await reacted).reactions, { '👍': [b] });

  const deleted = next(bob, 'message updated', DELIVERY_MS);
  const afterDelete = await store('DELETE', `/message/${sent.id}?from=${a}`);
  assert.deepEqual(await deleted, afterDelete);
  assert.equal((await deleted).deleted, true);
});

stack.test('a message updated through the store in a group whose history is hidden goes out without its text', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { historyMinOnline: 3 });
  await stack.connect(a);
  const bob = await stack.connect(b);
  const message = await store('POST', '/message', { group: group.id, from: a, message: 'secret' }, 201);
  const updated = next(bob, 'message updated', DELIVERY_MS);
  await store('PATCH', `/message/${message.id}`, { from: a, message: 'still secret' });
  const seen = await updated;
  assert.equal(seen.id, message.id);
  assert.equal(seen.message, '');
  assert.equal(seen.hidden, true);
});

stack.test("a chat node's own events are not delivered a second time from the change log", async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { admins: [a], open: true });
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  // The group's creation, made through the store, may still be told.
  await sleep(SETTLE_MS);
  const bobMessages = record(bob, 'chat message');
  const bobUpdates = record(bob, 'message updated');
  const carolRemoved = record(carol, 'group removed');
  const carolAdded = record(carol, 'group added');

  const sent = await call(alice, 'chat message', { room: group.id, message: 'over the socket' });
  await call(alice, 'edit message', { messageId: sent.id, message: 'edited over the socket' });
  await call(alice, 'kick', { room: group.id, up: c });
  await call(carol, 'join room', { room: group.id });
  await sleep(OVERLAP_MS);
  assert.deepEqual(bobMessages, [sent], 'the socket message reached bob once');
  assert.equal(bobUpdates.length, 1, 'the edit reached bob once');
  assert.deepEqual(carolRemoved, [], 'a kick is told as `kicked`, not again from the log');
  assert.deepEqual(carolAdded, [], 'a `join room` is answered, not told again from the log');
}, { timeout: 30_000 });

stack.test('a change read after a later one made over a socket does not undo it', async () => {
  const [a, t, o] = [uniqueUp('adm'), uniqueUp('t'), uniqueUp('o')];
  // Created through the store: the log says `t` was added.
  const group = await stack.group([a, t, o], { admins: [a] });
  const boss = await stack.connect(a);
  const target = await stack.connect(t);
  const other = await stack.connect(o);
  const targetAdded = record(target, 'group added');
  const kicked = next(target, 'kicked');
  // Kicked at once, most likely before the creation is read from the log.
  await call(boss, 'kick', { room: group.id, up: t });
  await kicked;
  await sleep(SETTLE_MS);
  assert.deepEqual(targetAdded, [], 'the kicked member is not added back, and a socket in the room at connect is not told');

  const targetHeard = record(target, 'chat message');
  const otherHeard = next(other, 'chat message');
  await call(boss, 'chat message', { room: group.id, message: 'after the kick' });
  await otherHeard;
  await sleep(QUIET_MS);
  assert.deepEqual(targetHeard, [], 'the kicked member hears nothing of the room');
});

stack.test('GET /changes lists what services changed, oldest first, and nothing a chat node did', async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a]);
  await store('POST', `/group/${group.id}/users`, { up: b });
  const alice = await stack.connect(a);
  await call(alice, 'chat message', { room: group.id, message: 'from a node' });
  const answer = await store('GET', `/changes?since=${encodeURIComponent(since)}`);
  const mine = answer.items.filter((change) => change.room === group.id);
  assert.deepEqual(mine.map((change) => change.kind), ['membersAdded', 'membersAdded']);
  assert.deepEqual(mine[0].users, [a], 'created with its members');
  assert.deepEqual(mine[1].users, [b]);
  assert.equal(mine[1].group.id, group.id);
  assert.equal(answer.hasMore, false);
  assert.ok(Date.parse(answer.now) >= Date.parse(mine[1].at));
  const times = answer.items.map((change) => Date.parse(change.at));
  assert.deepEqual(times, [...times].sort((x, y) => x - y), 'oldest first');

  assert.equal((await stack.store('GET', '/changes')).status, 400, '`since` is required');
  assert.equal((await stack.store('GET', '/changes?since=yesterday')).status, 400);
  assert.equal((await storeAt(stack.storeUrl, 'GET', `/changes?since=${encodeURIComponent(since)}`, undefined, 'wrong')).status, 401);
});

stack.test('two chat nodes and two store instances: a change posted to the second instance reaches the sockets on both nodes, once each', async () => {
  const database = `js_changes_${process.pid}_${Date.now()}`;
  const storeB = await anotherStore({ database });
  const second = storeB.url;
  const cluster = await startStack({
    nodes: 2,
    storeEnv: { MONGODB_DB: database },
    chatEnv: { STORE_URL: `{store},${second}`, CHAT_NOTIFY_URL: hookUrl },
  });
  try {
    await storeB.start(cluster.storeToken);
    await eventually(async () => assert.equal((await fetch(`${second}/readyz`)).status, 200), 15_000, 100);
    const [a, b, c, d] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c'), uniqueUp('off')];
    const created = await storeAt(second, 'POST', '/group', { name: 'cluster', users: [a, b, d] }, cluster.storeToken);
    assert.equal(created.status, 201);
    const group = created.body;
    // a on node0; b and c each with a socket on both nodes.
    const sockets = {
      a0: await cluster.connect(a, { node: 0 }),
      b0: await cluster.connect(b, { node: 0 }),
      b1: await cluster.connect(b, { node: 1 }),
      c0: await cluster.connect(c, { node: 0 }),
      c1: await cluster.connect(c, { node: 1 }),
    };
    const heard = Object.fromEntries(Object.entries(sockets).map(([name, s]) => [name, record(s, 'chat message')]));
    const added = { c0: record(sockets.c0, 'group added'), c1: record(sockets.c1, 'group added') };

    // c joins through the second instance: both of c's sockets are told.
    const joined = await storeAt(second, 'POST', `/group/${group.id}/users`, { up: c }, cluster.storeToken);
    assert.equal(joined.status, 200);
    await eventually(() => {
      assert.equal(added.c0.length, 1, 'c on node0 told');
      assert.equal(added.c1.length, 1, 'c on node1 told');
    }, DELIVERY_MS, 20);
    assert.deepEqual(added.c1[0], { group: joined.body });

    // A message posted to the second instance reaches every socket of the room.
    const posted = await storeAt(second, 'POST', '/message', { group: group.id, from: a, message: 'to everyone' }, cluster.storeToken);
    assert.equal(posted.status, 201);
    const message = posted.body;
    await eventually(() => {
      for (const [name, list] of Object.entries(heard)) assert.equal(list.length, 1, `${name} got it`);
    }, DELIVERY_MS, 20);
    await sleep(OVERLAP_MS);
    for (const [name, list] of Object.entries(heard)) assert.deepEqual(list, [message], `${name} got it exactly once`);
    assert.equal(added.c0.length + added.c1.length, 2, 'each of c\'s sockets told once');
    assert.deepEqual(hook.about(message.id), [{ to: d, mention: false, message }], 'the offline member is notified once for the cluster');
  } catch (err) {
    cluster.logs.print('the cluster of two nodes and two store instances');
    throw err;
  } finally {
    await storeB.remove();
    await cluster.stop();
  }
}, { timeout: 90_000 });
