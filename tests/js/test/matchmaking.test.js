// `find room {topic, capacity}` and the pairing queues `queue` /
// `leave queue` (docs/chat-api.md).
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, QUIET_MS, record, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

/** How long a test waits to be sure that nobody was paired. */
const NO_PAIR_MS = 1000;

async function storedGroup(id) {
  const { status, body } = await stack.store('GET', `/group/${id}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

async function groupsOf(up) {
  const { status, body } = await stack.store('GET', `/group/user/${up}?perPage=100`);
  assert.equal(status, 200, JSON.stringify(body));
  return body.items;
}

const sorted = (list) => [...list].sort();

stack.test('find room puts the first two users of a topic in one match group and the third in another', async () => {
  const topic = uniqueUp('topic-');
  const [u1, u2, u3] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const [s1, s2, s3] = [await stack.connect(u1), await stack.connect(u2), await stack.connect(u3)];

  const first = await call(s1, 'find room', { topic, capacity: 2 });
  assert.equal(first.kind, 'match');
  assert.deepEqual(first.users, [u1]);

  const second = await call(s2, 'find room', { topic, capacity: 2 });
  assert.equal(second.id, first.id, 'the second user joins the room with space');
  assert.deepEqual(sorted(second.users), sorted([u1, u2]));

  const third = await call(s3, 'find room', { topic, capacity: 2 });
  assert.notEqual(third.id, first.id, 'a full room is not joined');
  assert.equal(third.kind, 'match');
  assert.deepEqual(third.users, [u3]);

  const again = await call(s1, 'find room', { topic, capacity: 2 });
  assert.equal(again.id, first.id, 'asking again returns the room one is in');
  assert.deepEqual(sorted((await storedGroup(first.id)).users), sorted([u1, u2]));

  const otherTopic = await call(s3, 'find room', { topic: `${topic}-other`, capacity: 2 });
  assert.notEqual(otherTopic.id, third.id, 'topics do not mix');

  // The sockets are in the room they were put in.
  const toFirst = next(s1, 'chat message');
  const hello = await call(s2, 'chat message', { room: first.id, message: 'hello roommate' });
  assert.deepEqual(await toFirst, hello);
});

stack.test('two users racing for the last place never overfill a room', async () => {
  for (let round = 0; round < 10; round += 1) {
    const topic = uniqueUp(`race${round}-`);
    const [u1, u2, u3] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
    const [s1, s2, s3] = [await stack.connect(u1), await stack.connect(u2), await stack.connect(u3)];
    const room = await call(s1, 'find room', { topic, capacity: 2 });

    const [g2, g3] = await Promise.all([
      call(s2, 'find room', { topic, capacity: 2 }),
      call(s3, 'find room', { topic, capacity: 2 }),
    ]);
    assert.ok(g2.users.includes(u2) && g3.users.includes(u3), 'each answer is a room holding its user');
    assert.notEqual(g2.id, g3.id, `round ${round}: the two racers are not both in one room of 2 with u1`);
    for (const id of new Set([room.id, g2.id, g3.id])) {
      const stored = await storedGroup(id);
      assert.ok(stored.users.length <= 2, `round ${round}: ${id} holds ${JSON.stringify(stored.users)}`);
    }
    assert.equal((await storedGroup(room.id)).users.length, 2, `round ${round}: the last place was taken`);
    for (const up of [u1, u2, u3]) {
      const rooms = (await groupsOf(up)).filter((g) => g.kind === 'match');
      assert.equal(rooms.length, 1, `round ${round}: ${up} is in exactly one room`);
    }
    for (const socket of [s1, s2, s3]) socket.disconnect();
  }
}, { timeout: 60_000 });

stack.test('vent and listen are paired: both get queue complete with a match group of exactly the two', async () => {
  const [v, l] = [uniqueUp('v'), uniqueUp('l')];
  const venter = await stack.connect(v);
  const listener = await stack.connect(l);
  const venterDone = next(venter, 'queue complete');
  const listenerDone = next(listener, 'queue complete');

  assert.deepEqual(await ack(venter, 'queue', { queue: 'vent' }), { data: { queued: true } });
  assert.deepEqual(await ack(listener, 'queue', { queue: 'listen' }), { data: { queued: true } });
  const [{ room }, other] = await Promise.all([venterDone, listenerDone]);
  assert.deepEqual(other.room, room, 'both are told the same room');
  assert.equal(room.kind, 'match');
  assert.deepEqual(sorted(room.users), sorted([v, l]));
  assert.deepEqual(sorted((await storedGroup(room.id)).users), sorted([v, l]));

  const toListener = next(listener, 'chat message');
  const message = await call(venter, 'chat message', { room: room.id, message: 'I need to vent' });
  assert.deepEqual(await toListener, message, 'the pair can talk in their room at once');
});

stack.test('talk is paired with talk', async () => {
  const [a, b] = [uniqueUp('t'), uniqueUp('t')];
  const first = await stack.connect(a);
  const second = await stack.connect(b);
  const done = [next(first, 'queue complete'), next(second, 'queue complete')];
  await call(first, 'queue', { queue: 'talk' });
  await call(second, 'queue', { queue: 'talk' });
  const [one, two] = await Promise.all(done);
  assert.equal(one.room.id, two.room.id);
  assert.equal(one.room.kind, 'match');
  assert.deepEqual(sorted(one.room.users), sorted([a, b]));
});

stack.test('two venters are not paired with each other', async () => {
  const [v1, v2, l] = [uniqueUp('v'), uniqueUp('v'), uniqueUp('l')];
  const first = await stack.connect(v1);
  const second = await stack.connect(v2);
  const firstDone = record(first, 'queue complete');
  const secondDone = record(second, 'queue complete');
  await call(first, 'queue', { queue: 'vent' });
  await call(second, 'queue', { queue: 'vent' });
  await sleep(NO_PAIR_MS);
  assert.deepEqual(firstDone, []);
  assert.deepEqual(secondDone, []);

  // They were waiting all along: a listener takes the first of them.
  const listener = await stack.connect(l);
  const listenerDone = next(listener, 'queue complete');
  await call(listener, 'queue', { queue: 'listen' });
  const { room } = await listenerDone;
  assert.deepEqual(sorted(room.users), sorted([v1, l]), 'first come, first served');
  await sleep(QUIET_MS);
  assert.equal(firstDone.length, 1);
  assert.deepEqual(secondDone, []);
  second.disconnect();
});

stack.test('a user who left the queue is not paired', async () => {
  const [a, b, c] = [uniqueUp('t'), uniqueUp('t'), uniqueUp('t')];
  const quitter = await stack.connect(a);
  const quitterDone = record(quitter, 'queue complete');
  await call(quitter, 'queue', { queue: 'talk' });
  assert.deepEqual(await ack(quitter, 'leave queue', {}), { data: { queued: false } });

  const waiter = await stack.connect(b);
  const waiterDone = record(waiter, 'queue complete');
  await call(waiter, 'queue', { queue: 'talk' });
  await sleep(NO_PAIR_MS);
  assert.deepEqual(quitterDone, [], 'the one who left is not paired');
  assert.deepEqual(waiterDone, [], 'the newcomer waits');

  const third = await stack.connect(c);
  const thirdDone = next(third, 'queue complete');
  await call(third, 'queue', { queue: 'talk' });
  assert.deepEqual(sorted((await thirdDone).room.users), sorted([b, c]));
  await sleep(QUIET_MS);
  assert.deepEqual(quitterDone, []);
});

stack.test('disconnecting takes a user out of the queue', async () => {
  const [a, b, c, watcher] = [uniqueUp('t'), uniqueUp('t'), uniqueUp('t'), uniqueUp('w')];
  await stack.group([a, watcher]);
  const observer = await stack.connect(watcher);
  const gone = await stack.connect(a);
  await call(gone, 'queue', { queue: 'talk' });
  const offline = next(observer, 'offline');
  gone.disconnect();
  assert.equal((await offline).up, a, 'the server handled the disconnect');

  const waiter = await stack.connect(b);
  const waiterDone = record(waiter, 'queue complete');
  await call(waiter, 'queue', { queue: 'talk' });
  await sleep(NO_PAIR_MS);
  assert.deepEqual(waiterDone, [], 'nobody is paired with a user who is gone');
  const rooms = (await groupsOf(a)).filter((g) => g.kind === 'match');
  assert.deepEqual(rooms, [], 'no room was made for the departed user');

  const third = await stack.connect(c);
  const thirdDone = next(third, 'queue complete');
  await call(third, 'queue', { queue: 'talk' });
  assert.deepEqual(sorted((await thirdDone).room.users), sorted([b, c]));
});
