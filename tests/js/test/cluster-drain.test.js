// Draining a node (POST /admin/drain, SIGTERM) while clients keep talking:
// a client that follows `migrate` and the reconnect recipe misses nothing
// and sees nothing twice.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { eventually, next } from './events.js';
import { call } from './feature-helpers.js';
import { recipeClient, steadySender } from './conversation.js';
import { startStack, uniqueUp } from './harness.js';

const ADMIN_TOKEN = 'drain-test-admin-token-0123456789';
const stack = await startStack({
  nodes: 3,
  chatEnv: { CHAT_DRAIN_SECONDS: '2', CHAT_ADMIN_TOKEN: ADMIN_TOKEN },
});
after(() => stack.stop());

stack.test('a drain during steady sending: clients following migrate miss nothing and see nothing twice', async () => {
  const ups = [uniqueUp('s'), uniqueUp('r'), uniqueUp('q'), uniqueUp('p')];
  const group = await stack.group(ups);
  const senderClient = await recipeClient(stack, ups[0], group.id, { node: 0 });
  const receivers = [
    await recipeClient(stack, ups[1], group.id, { node: 0 }),
    await recipeClient(stack, ups[2], group.id, { node: 0 }),
    await recipeClient(stack, ups[3], group.id, { node: 1 }),
  ];
  const sender = steadySender(senderClient.socket, group.id, 'm');
  // The drain starts while the conversation is under way.
  await sender.reached(20);

  const migrates = receivers.slice(0, 2).map((r) => next(r.socket, 'migrate'));
  const drainedAt = Date.now();
  const drain = await stack.rest('/admin/drain', { method: 'POST', token: ADMIN_TOKEN, node: 0 });
  assert.equal(drain.status, 202, JSON.stringify(drain.body));
  assert.deepEqual(drain.body, { draining: true });
  const ready = await stack.rest('/readyz', { node: 0 });
  assert.equal(ready.status, 503, 'a draining node is not ready');
  const { body: registry } = await stack.store('GET', '/node');
  assert.equal(registry.items.find((n) => n.id === 'node0')?.draining, true);
  for (const { url } of await Promise.all(migrates)) {
    assert.ok([stack.chatUrls[1], stack.chatUrls[2]].includes(url), `migrate to ${url}`);
  }

  const exit = await stack.node(0).exited;
  assert.deepEqual(exit, { code: 0, signal: null }, 'the drained node exits cleanly');
  // The sender, moved off the drained node, goes on where it landed.
  await sender.reached(sender.acked.length + 10);
  await sender.stop();

  const acked = sender.acked.map((m) => m.id);
  assert.ok(acked.length > 20, `only ${acked.length} messages were acked`);
  assert.equal(new Set(acked).size, acked.length, 'no message was acked as two');
  for (const [i, receiver] of [senderClient, ...receivers].entries()) {
    if (i > 0) {
      await eventually(() => {
        const missing = acked.filter((id) => !receiver.messages.has(id));
        assert.deepEqual(missing, [], `receiver ${i} misses ${missing.length} messages`);
      }, 10_000);
    }
    const repeated = receiver.live.filter((id, at) => receiver.live.indexOf(id) !== at);
    assert.deepEqual(repeated, [], `receiver ${i} got a message broadcast twice`);
    assert.ok(receiver.socket.connected, `client ${i} is connected again`);
    assert.notEqual(receiver.socket.io.uri, stack.chatUrls[0], `client ${i} left the drained node`);
  }
  assert.ok(receivers[0].reconnects >= 1 && receivers[1].reconnects >= 1, 'the drained clients reconnected');
  for (const client of [senderClient, receivers[0], receivers[1]]) {
    const [drop] = client.drops;
    assert.equal(drop?.reason, 'transport close', 'a transport close, which the client answers by reconnecting');
    assert.ok(drop.at - drainedAt < 2000 + 750, `closed ${drop.at - drainedAt} ms into a 2 s drain, not at its end`);
  }
  assert.equal(receivers[2].reconnects, 0, 'a client of another node was left alone');

  const { body: stored } = await stack.store('GET', `/group/messages?groupID=${group.id}&perPage=100`);
  const texts = await stack.storedTexts(group.id);
  assert.equal(stored.total ?? texts.length, texts.length);
  assert.equal(new Set(texts).size, texts.length, 'every message is stored once');
  assert.equal(texts.length, acked.length, 'and nothing unacked was stored');
  await stack.startNode(0);
}, { timeout: 60_000 });

stack.test('SIGTERM drains too: migrate, then a transport close the client answers by reconnecting', async () => {
  const up = uniqueUp('t');
  const group = await stack.group([up]);
  const client = await recipeClient(stack, up, group.id, { node: 1 });
  const migrate = next(client.socket, 'migrate');
  const closed = next(client.socket, 'disconnect');
  const exited = stack.stopNode(1, 'SIGTERM');
  const { url } = await migrate;
  assert.ok([stack.chatUrls[0], stack.chatUrls[2]].includes(url), url);
  assert.equal(await closed, 'transport close', 'not a server disconnect: the client reconnects');
  assert.deepEqual(await exited, { code: 0, signal: null });
  await eventually(() => assert.ok(client.socket.connected && client.socket.io.uri === url), 10_000);
  assert.ok((await call(client.socket, 'sync', { room: group.id })).messages);
  await stack.startNode(1);
}, { timeout: 60_000 });

stack.test('the drain route needs the admin token', async () => {
  const none = await stack.rest('/admin/drain', { method: 'POST', node: 2 });
  assert.equal(none.status, 401);
  assert.equal(none.body.error.code, 'unauthenticated');
  const wrong = await stack.rest('/admin/drain', { method: 'POST', token: `${ADMIN_TOKEN}x`, node: 2 });
  assert.equal(wrong.status, 401);
  assert.equal((await stack.rest('/readyz', { node: 2 })).status, 200, 'nothing was drained');
});

const single = await startStack();
after(() => single.stop());

single.test('without CHAT_ADMIN_TOKEN the drain route does not exist', async () => {
  const answer = await single.rest('/admin/drain', { method: 'POST', token: 'anything-at-all-0123' });
  assert.equal(answer.status, 404);
  assert.equal(answer.body.error.code, 'not_found');
  assert.equal((await single.rest('/readyz')).status, 200);
});
