// `presence {room}` lists who of a room is online; `kick {room, up}` lets an
// admin remove a member, who is told and cut off from the room at once.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, eventually, next, QUIET_MS, record, sleep } from './events.js';
import { assertError, call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

stack.test('presence lists the online members of a room and not the offline ones', async () => {
  const [a, b, c, d] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c'), uniqueUp('d')];
  const group = await stack.group([a, b, c]);
  await stack.group([d]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  await stack.connect(d); // online, but not in the room
  // C is a member who never connected.

  const { online } = await call(alice, 'presence', { room: group.id });
  assert.deepEqual([...online].sort(), [a, b].sort());

  bob.disconnect();
  await eventually(async () => {
    const now = await call(alice, 'presence', { room: group.id });
    assert.deepEqual(now.online, [a], 'B went offline');
  }, 3000);
});

stack.test('presence of a room one is not a member of is permission_denied', async () => {
  const [a, x] = [uniqueUp('a'), uniqueUp('x')];
  const group = await stack.group([a]);
  await stack.connect(a);
  const intruder = await stack.connect(x);
  assertError(await ack(intruder, 'presence', { room: group.id }), 'permission_denied');
  assertError(await ack(intruder, 'presence', { room: 'nothex' }), 'invalid_argument');
});

stack.test('an admin kicks a member: every socket of theirs is told, they get no more messages and may not send', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([b, c], { admins: [a] });
  const admin = await stack.connect(a);
  const phone = await stack.connect(b);
  const laptop = await stack.connect(b);
  const carol = await stack.connect(c);
  const kickedNotices = [next(phone, 'kicked'), next(laptop, 'kicked')];
  const carolKicked = record(carol, 'kicked');

  assert.deepEqual(await ack(admin, 'kick', { room: group.id, up: b }), { data: {} });
  for (const notice of await Promise.all(kickedNotices)) {
    assert.deepEqual(notice, { room: group.id });
  }
  const stored = await stack.store('GET', `/group/${group.id}`);
  assert.ok(!stored.body.users.includes(b), 'the store forgot the member');
  assert.ok(stored.body.users.includes(c));

  const bobGot = [record(phone, 'chat message'), record(laptop, 'chat message')];
  const toAdmin = next(admin, 'chat message');
  const message = await call(carol, 'chat message', { room: group.id, message: 'after the kick' });
  assert.deepEqual(await toAdmin, message, 'the room still works');
  for (const socket of [phone, laptop]) {
    assertError(await ack(socket, 'chat message', { room: group.id, message: 'let me back' }), 'permission_denied');
  }
  await sleep(QUIET_MS);
  assert.deepEqual(bobGot, [[], []], 'the kicked member no longer receives the room\'s messages');
  assert.deepEqual(carolKicked, [], 'only the target is told');
  const page = await stack.store('GET', `/group/messages?groupID=${group.id}`);
  assert.deepEqual(page.body.items.map((m) => m.message), ['after the kick']);
});

stack.test('a kick by a member who is not an admin is permission_denied and changes nothing', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([b, c], { admins: [a] });
  await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const bobKicked = record(bob, 'kicked');

  assertError(await ack(carol, 'kick', { room: group.id, up: b }), 'permission_denied');
  assertError(await ack(bob, 'kick', { room: group.id, up: a }), 'permission_denied');
  await sleep(QUIET_MS);
  assert.deepEqual(bobKicked, []);
  const stored = await stack.store('GET', `/group/${group.id}`);
  assert.deepEqual([...stored.body.users].sort(), [a, b, c].sort());

  const toBob = next(bob, 'chat message');
  const message = await call(carol, 'chat message', { room: group.id, message: 'still here' });
  assert.deepEqual(await toBob, message, 'B still gets the room\'s messages');
});
