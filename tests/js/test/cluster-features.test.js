// Three chat nodes sharing rooms on the MongoDB adapter: everything that
// works on one node works with each client on any node.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { after } from 'node:test';
import { eventually, next, QUIET_MS, record, sleep } from './events.js';
import { assertError, call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

/** The push-notification hook: records every post and answers 204. */
const posts = [];
const hook = http.createServer((req, res) => {
  let raw = '';
  req.on('data', (chunk) => { raw += chunk; });
  req.on('end', () => {
    posts.push(JSON.parse(raw));
    res.writeHead(204).end();
  });
});
hook.listen(0, '127.0.0.1');
await once(hook, 'listening');

const stack = await startStack({
  nodes: 3,
  chatEnv: { CHAT_NOTIFY_URL: `http://127.0.0.1:${hook.address().port}/push` },
});
after(async () => {
  await stack.stop();
  hook.close();
});

stack.test('a room message reaches members on every node, once each', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a, { node: 0 });
  const bob = await stack.connect(b, { node: 1 });
  const carol = await stack.connect(c, { node: 2 });
  const heard = [record(bob, 'chat message'), record(carol, 'chat message'), record(alice, 'chat message')];
  const sent = await call(alice, 'chat message', { room: group.id, message: 'hello cluster' });
  await eventually(() => assert.deepEqual(heard.slice(0, 2).map((h) => h.length), [1, 1]), 5000);
  await sleep(QUIET_MS);
  assert.deepEqual(heard[0], [sent], 'bob on node 1 got the stored message once');
  assert.deepEqual(heard[1], [sent], 'carol on node 2 got it once');
  assert.deepEqual(heard[2], [], 'the sender gets only the ack');
});

stack.test('a private message reaches every device of both users, on any node', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const alicePhone = await stack.connect(a, { node: 0 });
  const aliceLaptop = await stack.connect(a, { node: 2 });
  const bobPhone = await stack.connect(b, { node: 1 });
  const bobLaptop = await stack.connect(b, { node: 2 });
  const got = [aliceLaptop, bobPhone, bobLaptop].map((s) => next(s, 'private message'));
  const sent = await call(alicePhone, 'private message', { to: b, message: 'psst' });
  for (const message of await Promise.all(got)) assert.deepEqual(message, sent);
  // The conversation's room now holds both users' sockets on every node.
  const typing = next(bobLaptop, 'typing');
  await call(alicePhone, 'typing', { room: sent.group, typing: true });
  assert.deepEqual(await typing, { room: sent.group, up: a, typing: true });
});

stack.test('typing, read receipts and message updates are relayed across nodes', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a, { node: 0 });
  const bob = await stack.connect(b, { node: 1 });
  const typing = next(bob, 'typing');
  await call(alice, 'typing', { room: group.id, typing: true });
  assert.deepEqual(await typing, { room: group.id, up: a, typing: true });

  const message = await call(alice, 'chat message', { room: group.id, message: 'read me' });
  const read = next(alice, 'read');
  await call(bob, 'read', { room: group.id, messageId: message.id });
  assert.deepEqual(await read, { room: group.id, up: b, messageId: message.id });

  const updates = record(bob, 'message updated');
  await call(alice, 'edit message', { messageId: message.id, message: 'edited' });
  await call(alice, 'react', { messageId: message.id, emoji: '👍', on: true });
  await call(alice, 'delete message', { messageId: message.id });
  await eventually(() => assert.equal(updates.length, 3), 5000);
  assert.deepEqual(updates.map((m) => [m.message, m.deleted]), [['edited', false], ['edited', false], ['', true]]);
  assert.deepEqual(updates[1].reactions, { '👍': [a] });
});

stack.test('a kick takes the target out of the room on every node', async () => {
  const [admin, target, other] = [uniqueUp('adm'), uniqueUp('t'), uniqueUp('o')];
  const group = await stack.group([admin, target, other], { admins: [admin] });
  const boss = await stack.connect(admin, { node: 0 });
  const phone = await stack.connect(target, { node: 1 });
  const laptop = await stack.connect(target, { node: 2 });
  const bystander = await stack.connect(other, { node: 2 });
  const kicked = [next(phone, 'kicked'), next(laptop, 'kicked')];
  await call(boss, 'kick', { room: group.id, up: target });
  assert.deepEqual(await Promise.all(kicked), [{ room: group.id }, { room: group.id }]);

  const heardByTarget = [record(phone, 'chat message'), record(laptop, 'chat message')];
  const heardByOther = next(bystander, 'chat message');
  await call(boss, 'chat message', { room: group.id, message: 'after the kick' });
  await heardByOther;
  await sleep(QUIET_MS);
  assert.deepEqual(heardByTarget, [[], []], 'no socket of the target hears the room');
  assertError(await phone.timeout(5000).emitWithAck('chat message', { room: group.id, message: 'x' }), 'permission_denied');
  assertError(await laptop.timeout(5000).emitWithAck('typing', { room: group.id, typing: true }), 'permission_denied');
  assertError(await laptop.timeout(5000).emitWithAck('sync', { room: group.id }), 'permission_denied');
});

stack.test('online and offline are announced once per cluster-wide transition', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const bob = await stack.connect(b, { node: 0 });
  const online = record(bob, 'online');
  const offline = record(bob, 'offline');
  const first = await stack.connect(a, { node: 1 });
  await eventually(() => assert.deepEqual(online, [{ up: a }]), 5000);
  const second = await stack.connect(a, { node: 2 });
  await sleep(QUIET_MS * 2);
  assert.deepEqual(online, [{ up: a }], 'a socket on a second node is not announced');

  first.disconnect();
  await sleep(QUIET_MS * 2);
  assert.deepEqual(offline, [], 'still online on node 2');
  const presence = await call(bob, 'presence', { room: group.id });
  assert.deepEqual(presence.online.sort(), [a, b].sort());

  second.disconnect();
  await eventually(() => assert.equal(offline.length, 1), 5000);
  assert.equal(offline[0].up, a);
  await eventually(async () => assert.deepEqual((await call(bob, 'presence', { room: group.id })).online, [b]), 5000);
  const { body } = await stack.store('GET', `/user/${a}`);
  assert.equal(body.online, false);
  assert.equal(body.lastSeen, offline[0].lastSeen);
});

stack.test('the history gate counts members online on any node', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b], { historyMinOnline: 2 });
  const alice = await stack.connect(a, { node: 0 });
  await call(alice, 'chat message', { room: group.id, message: 'hidden until two' });
  const alone = await call(alice, 'sync', { room: group.id });
  assert.equal(alone.messages.items.length, 0, 'one member online: no history');
  await stack.connect(b, { node: 2 });
  await eventually(async () => {
    const both = await call(alice, 'sync', { room: group.id });
    assert.deepEqual(both.messages.items.map((m) => m.message), ['hidden until two']);
  }, 5000);
  const rest = await stack.rest(`/chat/${group.id}/message`, { up: a, node: 1 });
  assert.equal(rest.status, 200);
  assert.equal(rest.body.items.length, 1, 'the REST gateway of a third node agrees');
});

stack.test('offline notifications go only to members with no socket on any node', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a, { node: 0 });
  await stack.connect(b, { node: 2 });
  // The notifier asks the store who of the group is online: both are, first.
  await eventually(async () => {
    const { body } = await stack.store('GET', `/group/${group.id}/presence`);
    assert.deepEqual([...body.online].sort(), [a, b].sort());
  }, 5000);
  const sent = await call(alice, 'chat message', { room: group.id, message: 'who is away?' });
  await eventually(() => assert.equal(posts.filter((p) => p.message.id === sent.id).length, 1), 5000);
  await sleep(QUIET_MS * 2);
  const notified = posts.filter((p) => p.message.id === sent.id).map((p) => p.to);
  assert.deepEqual(notified, [c], 'bob is online on node 2; only carol is offline');
});

stack.test('two users queued on different nodes are paired', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const venter = await stack.connect(a, { node: 0 });
  const listener = await stack.connect(b, { node: 2 });
  const completes = [next(venter, 'queue complete'), next(listener, 'queue complete')];
  assert.deepEqual(await call(venter, 'queue', { queue: 'vent' }), { queued: true });
  assert.deepEqual(await call(listener, 'queue', { queue: 'listen' }), { queued: true });
  const [mine, theirs] = await Promise.all(completes);
  assert.deepEqual(mine, theirs);
  assert.deepEqual(mine.room.users.sort(), [a, b].sort());
  // The pair's room works across the two nodes.
  const heard = next(listener, 'chat message');
  const sent = await call(venter, 'chat message', { room: mine.room.id, message: 'thanks for listening' });
  assert.deepEqual(await heard, sent);
});

stack.test('a queued socket that disconnects is not paired, whichever node the partner is on', async () => {
  const [a, b, c, watcher] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c'), uniqueUp('w')];
  await stack.group([a, watcher]);
  const observer = await stack.connect(watcher, { node: 0 });
  // Online first: a connect and a disconnect written in one presence batch
  // are no transition, and nobody would be told `offline`.
  const online = next(observer, 'online');
  const gone = await stack.connect(a, { node: 1 });
  await online;
  await call(gone, 'queue', { queue: 'talk' });
  // `offline` is announced once the node has handled the disconnect, which
  // takes the socket out of the queues first.
  const offline = next(observer, 'offline');
  gone.disconnect();
  await offline;
  const second = await stack.connect(b, { node: 0 });
  const third = await stack.connect(c, { node: 2 });
  const paired = next(third, 'queue complete');
  await call(second, 'queue', { queue: 'talk' });
  await call(third, 'queue', { queue: 'talk' });
  assert.deepEqual((await paired).room.users.sort(), [b, c].sort(), 'b and c, not the departed a');
});
