// Blocking (`block`, `unblock`, `blocked`) and hiding one's presence
// (`presence visible`, `presence setting`), with the official client, on
// one chat node and on two sharing rooms through the MongoDB adapter
// (docs/chat-api.md, "Blocking and hiding presence").
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, eventually, next, QUIET_MS, record, RFC3339_MS, sleep } from './events.js';
import { assertError, call, reconnected } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
const cluster = await startStack({ nodes: 2 });
after(() => Promise.all([stack.stop(), cluster.stop()]));

const LONG_AGO = '2000-01-01T00:00:00.000Z';

/** Every `online` and `offline` a socket hears about `up`, as `['online']`, `['offline', lastSeen?]`. */
function presenceOf(socket, up) {
  const heard = [];
  socket.on('online', (notice) => notice.up === up && heard.push(['online']));
  socket.on('offline', (notice) => notice.up === up && heard.push(['offline', notice.lastSeen]));
  return heard;
}

/** The messages the store holds in `group`. */
async function storedCount(on, group) {
  const { status, body } = await on.store('GET', `/group/messages?groupID=${group}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body.total;
}

/** Who of `room` is online, as `socket`'s user may see it. */
async function onlineIn(socket, room) {
  return (await call(socket, 'presence', { room })).online;
}

stack.test('a blocked user can neither start nor continue a direct conversation; nothing is stored or delivered; unblock restores it', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const first = next(alice, 'private message');
  const hello = await call(bob, 'private message', { to: a, message: 'hello alice' });
  await first;
  const room = hello.group;

  assert.deepEqual(await call(alice, 'block', { up: b }), {});
  const aliceGot = [record(alice, 'private message'), record(alice, 'chat message')];
  const refused = await ack(bob, 'private message', { to: a, message: 'are you there?', nonce: 'n-1' });
  assertError(refused, 'permission_denied');
  assert.doesNotMatch(refused.error.message, /block/i, 'the blocked user is told nothing more than the error');
  assertError(await ack(bob, 'chat message', { room, message: 'through the room' }), 'permission_denied');
  assertError(await ack(bob, 'edit message', { messageId: hello.id, message: 'changed' }), 'permission_denied');
  assertError(await ack(bob, 'react', { messageId: hello.id, emoji: '👍', on: true }), 'permission_denied');
  const bobReceipts = record(bob, 'read');
  const aliceReceipts = record(alice, 'read');
  assert.equal((await call(alice, 'read', { room, messageId: hello.id })).unread, 0, 'the blocker may still read');
  await call(bob, 'read', { room, messageId: hello.id });
  const own = await ack(alice, 'private message', { to: b, message: 'one last word' });
  assertError(own, 'permission_denied');
  assert.match(own.error.message, /unblock/, 'the blocker is told why');
  await sleep(QUIET_MS);
  assert.deepEqual(aliceGot, [[], []], 'nothing reached the blocker');
  assert.deepEqual([bobReceipts, aliceReceipts], [[], []], 'no read receipt either way: it would show who is there');
  assert.equal(await storedCount(stack, room), 1, 'nothing was stored');
  assert.ok(bob.connected && alice.connected);

  // Blocked before any conversation: none is opened.
  const carol = await stack.connect(c);
  await call(carol, 'block', { up: b });
  assertError(await ack(bob, 'private message', { to: c, message: 'hi carol' }), 'permission_denied');
  const { body } = await stack.store('GET', `/group/user/${c}/ids`);
  assert.deepEqual(body.ids, [], 'no direct group was created');

  assert.deepEqual(await call(alice, 'unblock', { up: b }), {});
  const delivered = next(alice, 'private message');
  const again = await call(bob, 'private message', { to: a, message: 'back again', nonce: 'n-1' });
  assert.equal((await delivered).id, again.id);
  const receipt = next(bob, 'read');
  await call(alice, 'read', { room, messageId: again.id });
  assert.equal((await receipt).messageId, again.id, 'receipts again');
  assert.equal(again.group, room, 'the same conversation goes on');
  await call(alice, 'private message', { to: b, message: 'welcome back' });
  assert.equal(await storedCount(stack, room), 3);
});

stack.test('the blocked user hears nothing of the blocker\'s presence, in a shared group or the direct one, while a third member does; unblock restores both', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const shared = await stack.group([a, b, c]);
  let alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const direct = (await call(bob, 'private message', { to: a, message: 'hi' })).group;
  await call(alice, 'block', { up: b });
  const bobHeard = presenceOf(bob, a);
  const carolHeard = presenceOf(carol, a);

  alice.disconnect();
  await eventually(() => assert.equal(carolHeard.length, 1), 5000);
  alice = await stack.connect(a);
  await eventually(() => assert.equal(carolHeard.length, 2), 5000);
  await sleep(QUIET_MS);
  assert.equal(carolHeard[0][0], 'offline');
  assert.match(carolHeard[0][1], RFC3339_MS);
  assert.deepEqual(carolHeard[1], ['online']);
  assert.deepEqual(bobHeard, [], 'no online, offline or lastSeen of the blocker');
  assert.deepEqual(await onlineIn(bob, shared.id), [b, c]);
  assert.deepEqual(await onlineIn(bob, direct), [b], 'not in the direct group either');
  assert.deepEqual(await onlineIn(carol, shared.id), [a, b, c]);
  assert.deepEqual(await onlineIn(alice, direct), [a, b], 'the blocker still sees the blocked user');

  await call(alice, 'unblock', { up: b });
  assert.deepEqual(await onlineIn(bob, shared.id), [a, b, c], 'presence answers at once');
  assert.deepEqual(await onlineIn(bob, direct), [a, b]);
  alice.disconnect();
  await eventually(() => assert.equal(bobHeard.length, 1), 5000);
  assert.equal(bobHeard[0][0], 'offline');
  assert.match(bobHeard[0][1], RFC3339_MS, 'lastSeen again');
  alice = await stack.connect(a);
  await eventually(() => assert.deepEqual(bobHeard.at(-1), ['online']), 5000);
});

stack.test('the history gate does not tell the blocked user whether the blocker is online', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { historyMinOnline: 2 });
  const { status } = await stack.store('POST', '/message', { group: group.id, from: c, message: 'gated' });
  assert.equal(status, 201);
  const bob = await stack.connect(b);
  let alice = await stack.connect(a);
  const total = async () => (await call(bob, 'sync', { room: group.id })).messages.total;
  const restTotal = async () => (await stack.rest(`/chat/${group.id}/message`, { up: b })).body.total;
  await eventually(async () => assert.equal(await total(), 1, 'two members online: open'), 5000);

  await call(alice, 'block', { up: b });
  assert.equal(await total(), 0, 'a member who blocked another does not count toward the gate');
  assert.equal(await restTotal(), 0);
  alice.disconnect();
  await eventually(async () => assert.equal((await stack.store('GET', `/user/${a}`)).body.online, false), 5000);
  assert.equal(await total(), 0, 'the same answer with the blocker offline');
  assert.equal(await restTotal(), 0);
  alice = await stack.connect(a);
  const carol = await stack.connect(c);
  await eventually(async () => assert.equal(await total(), 1, 'two members every member may see'), 5000);
  assert.ok(carol.connected);

  await call(alice, 'unblock', { up: b });
  carol.disconnect();
  await eventually(async () => assert.equal((await stack.store('GET', `/user/${c}`)).body.online, false), 5000);
  assert.equal(await total(), 1, 'unblocked, the blocker counts again');
});

stack.test('`blocked` lists the blocked users once each, oldest first', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const alice = await stack.connect(a);
  assert.deepEqual(await call(alice, 'blocked', {}), { items: [] });
  await call(alice, 'block', { up: c });
  await call(alice, 'block', { up: b });
  await call(alice, 'block', { up: c });
  assert.deepEqual(await call(alice, 'blocked', {}), { items: [c, b] });
  await call(alice, 'unblock', { up: c });
  await call(alice, 'unblock', { up: c });
  assert.deepEqual(await call(alice, 'blocked', {}), { items: [b] });
  const other = await stack.connect(a);
  assert.deepEqual(await call(other, 'blocked', {}), { items: [b] }, 'stored, not per socket');
});

stack.test('invalid input is `invalid_argument` and the connection stays up', async () => {
  const a = uniqueUp('a');
  const alice = await stack.connect(a);
  const disconnects = record(alice, 'disconnect');
  for (const [event, payload] of [
    ['block', { up: a }],
    ['unblock', { up: a }],
    ['block', {}],
    ['block', { up: 'not valid' }],
    ['block', { up: '..' }],
    ['block', { up: 'x'.repeat(65) }],
    ['unblock', { up: 42 }],
    ['block', 'bob'],
    ['presence visible', {}],
    ['presence visible', { visible: 'no' }],
    ['presence visible', null],
  ]) {
    const answer = await ack(alice, event, payload);
    assertError(answer, 'invalid_argument');
  }
  assert.match((await ack(alice, 'block', { up: a })).error.message, /yourself/);
  assert.ok(alice.connected);
  assert.deepEqual(disconnects, []);
  assert.deepEqual(await call(alice, 'blocked', {}), { items: [] }, 'nothing was stored');
  assert.deepEqual(await call(alice, 'presence setting', {}), { visible: true });
});

stack.test('a hidden user looks offline to everyone, stays hidden across reconnects, and shows again', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const bobHeard = presenceOf(bob, a);
  const carolHeard = presenceOf(carol, a);
  let alice = await stack.connect(a);
  const aliceLaptop = await stack.connect(a);
  const laptopHeard = presenceOf(aliceLaptop, a);
  await eventually(() => assert.deepEqual([bobHeard, carolHeard], [[['online']], [['online']]]), 5000);

  assert.deepEqual(await call(alice, 'presence visible', { visible: false }), {});
  await eventually(() => assert.equal(bobHeard.length, 2), 5000);
  assert.deepEqual(bobHeard[1], ['offline', undefined], 'offline, with no lastSeen');
  await eventually(() => assert.deepEqual(carolHeard[1], ['offline', undefined]), 5000);
  assert.deepEqual(await call(aliceLaptop, 'presence setting', {}), { visible: false });
  assert.deepEqual(await call(alice, 'presence visible', { visible: false }), {}, 'again: nothing changes');

  aliceLaptop.disconnect();
  alice.disconnect();
  await eventually(async () => {
    const { body } = await stack.store('GET', `/user/${a}`);
    assert.equal(body.online, false);
  }, 5000);
  alice = await stack.connect(a);
  await eventually(async () => {
    const { body } = await stack.store('GET', `/user/${a}`);
    assert.equal(body.online, true);
  }, 5000);
  await sleep(QUIET_MS);
  assert.equal(bobHeard.length, 2, 'no offline or online while hidden');
  assert.equal(carolHeard.length, 2);
  assert.deepEqual(laptopHeard, [], 'the user\'s own sockets never hear of themselves');
  assert.deepEqual(await onlineIn(bob, group.id), [b, c]);
  assert.deepEqual(await onlineIn(alice, group.id), [a, b, c], 'the user sees themselves');

  assert.deepEqual(await call(alice, 'presence visible', { visible: true }), {});
  await eventually(() => assert.deepEqual(bobHeard.at(-1), ['online']), 5000);
  await eventually(() => assert.deepEqual(carolHeard.at(-1), ['online']), 5000);
  assert.deepEqual(await onlineIn(bob, group.id), [a, b, c]);
});

stack.test('hiding does not reach the users one blocked', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  await call(alice, 'block', { up: b });
  const bobHeard = presenceOf(bob, a);
  const carolHeard = presenceOf(carol, a);
  await call(alice, 'presence visible', { visible: false });
  await eventually(() => assert.equal(carolHeard.length, 1), 5000);
  await call(alice, 'presence visible', { visible: true });
  await eventually(() => assert.equal(carolHeard.length, 2), 5000);
  await sleep(QUIET_MS);
  assert.deepEqual(bobHeard, []);
});

stack.test('blocks and the presence setting survive a restart of the chat node', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a, { reconnection: true });
  const bob = await stack.connect(b, { reconnection: true });
  await call(bob, 'private message', { to: a, message: 'before' });
  await call(alice, 'block', { up: b });
  await call(alice, 'presence visible', { visible: false });

  const back = [reconnected(alice, 20_000), reconnected(bob, 20_000)];
  await stack.stopNode(0);
  await stack.startNode(0);
  await Promise.all(back);
  const carol = await stack.connect(c);
  await sleep(QUIET_MS);
  assertError(await ack(bob, 'private message', { to: a, message: 'after' }), 'permission_denied');
  assert.deepEqual(await call(alice, 'blocked', {}), { items: [b] });
  assert.deepEqual(await call(alice, 'presence setting', {}), { visible: false });
  assert.deepEqual(await onlineIn(carol, group.id), [b, c], 'still hidden');
});

cluster.test('on two nodes, the blocked user hears nothing of the blocker and cannot write to them, while a third member on either node hears it', async () => {
  const [a, b, c, d] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c'), uniqueUp('d')];
  const group = await cluster.group([a, b, c, d]);
  let alice = await cluster.connect(a, { node: 0 });
  const bob = await cluster.connect(b, { node: 1 });
  const bobToo = await cluster.connect(b, { node: 0 });
  const carol = await cluster.connect(c, { node: 1 });
  const dan = await cluster.connect(d, { node: 0 });
  const direct = (await call(bob, 'private message', { to: a, message: 'hi' })).group;
  await call(alice, 'block', { up: b });
  const bobHeard = [presenceOf(bob, a), presenceOf(bobToo, a)];
  const othersHeard = [presenceOf(carol, a), presenceOf(dan, a)];

  alice.disconnect();
  alice = await cluster.connect(a, { node: 1 });
  // Each hears both; the node that announced one of them reaches a socket
  // of the other node through the adapter, so the two may arrive in either
  // order (docs/cluster.md, "Presence across nodes").
  await eventually(() => assert.deepEqual(othersHeard.map((h) => h.map(([what]) => what).sort()), [['offline', 'online'], ['offline', 'online']]), 5000);
  await sleep(QUIET_MS);
  assert.deepEqual(bobHeard, [[], []], 'neither of the blocked user\'s sockets, on either node');
  for (const socket of [bob, bobToo]) {
    assert.deepEqual(await onlineIn(socket, group.id), [b, c, d]);
    assert.deepEqual(await onlineIn(socket, direct), [b]);
  }
  const aliceGot = record(alice, 'private message');
  assertError(await ack(bobToo, 'private message', { to: a, message: 'from node 0' }), 'permission_denied');
  assertError(await ack(bob, 'chat message', { room: direct, message: 'from node 1' }), 'permission_denied');

  await call(alice, 'presence visible', { visible: false });
  await eventually(() => assert.deepEqual(othersHeard.map((h) => h.at(-1)), [['offline', undefined], ['offline', undefined]]), 5000);
  await call(alice, 'presence visible', { visible: true });
  await eventually(() => assert.deepEqual(othersHeard.map((h) => h.at(-1)), [['online'], ['online']]), 5000);
  await sleep(QUIET_MS);
  assert.deepEqual(bobHeard, [[], []]);
  assert.deepEqual(aliceGot, []);
  assert.equal(await storedCount(cluster, direct), 1);

  await call(alice, 'unblock', { up: b });
  alice.disconnect();
  await eventually(() => assert.deepEqual(bobHeard.map((h) => h.map(([what]) => what)), [['offline'], ['offline']]), 5000);
  assert.match(bobHeard[0][0][1], RFC3339_MS);
  alice = await cluster.connect(a, { node: 0 });
  const delivered = next(alice, 'private message');
  await call(bobToo, 'private message', { to: a, message: 'friends again' });
  assert.equal((await delivered).message, 'friends again');
});
