// Kicks fail closed across nodes: the request that takes a kicked user's
// sockets out of the room on the other nodes is never dropped, even when
// the kicking node cannot reach the adapter's MongoDB for longer than a
// publish used to be retried. The kick is answered once the request is in
// the adapter's collection, and every node applies it before any later
// broadcast to the room.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { QUIET_MS, next, record, sleep } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';
import { mongoProxy } from './mongo-proxy.js';

const proxy = await mongoProxy(process.env.MONGODB_URI);
// node0 (the admin's) reaches the adapter's MongoDB only through the proxy.
const stack = await startStack({ nodes: 3, nodeEnv: [{ MONGODB_URI: proxy.uri }, {}, {}] });
after(async () => {
  await stack.stop();
  proxy.close();
});

stack.test('a kick made while its node cannot publish still reaches every node before later messages', async () => {
  const [admin, target, other] = [uniqueUp('adm'), uniqueUp('t'), uniqueUp('o')];
  const group = await stack.group([admin, target, other], { admins: [admin] });
  const boss = await stack.connect(admin, { node: 0 });
  const phone = await stack.connect(target, { node: 1 });
  const bystander = await stack.connect(other, { node: 2 });
  // The room works across the three nodes before the cut.
  const warmUp = next(phone, 'chat message');
  await call(bystander, 'chat message', { room: group.id, message: 'before' });
  await warmUp;

  proxy.cut();
  const kickedNotice = next(phone, 'kicked', 30_000);
  const answered = call(boss, 'kick', { room: group.id, up: target }, 30_000);
  // Longer than the 5 s after which a refused publish used to be dropped.
  await sleep(7000);
  proxy.restore();
  assert.deepEqual(await answered, {}, 'the kick is answered once the other nodes will apply it');
  assert.deepEqual(await kickedNotice, { room: group.id }, 'the target is told on its node');

  const heardByTarget = record(phone, 'chat message');
  const heardByAdmin = next(boss, 'chat message', 15_000);
  await call(bystander, 'chat message', { room: group.id, message: 'after the kick' });
  await heardByAdmin;
  await sleep(QUIET_MS);
  assert.deepEqual(heardByTarget, [], 'the kicked user hears nothing of the room on another node');
}, { timeout: 90_000 });
