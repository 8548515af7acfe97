// Offline notifications: a new message is posted to `CHAT_NOTIFY_URL` as
// `{to, message}` for each member who is offline, with retries, and never
// slows message delivery down.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import { after } from 'node:test';
import { eventually, next, sleep } from './events.js';
import { call, startStackWith } from './feature-helpers.js';
import { uniqueUp } from './harness.js';

/**
 * The push-notification hook: records every post. `mode` decides the
 * answer: `ok` (204), `fail-once` (500 to the first post of each message,
 * then 204), `refuse` (400) or `hang` (never answers).
 */
const hook = {
  posts: [],
  mode: 'ok',
  failed: new Set(),
  hanging: [],
  server: http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => { raw += chunk; });
    req.on('end', () => {
      let body = raw;
      try { body = JSON.parse(raw); } catch { /* recorded as text */ }
      hook.posts.push({ method: req.method, type: req.headers['content-type'], body, at: Date.now() });
      const id = body?.message?.id;
      if (hook.mode === 'hang') {
        hook.hanging.push(res);
      } else if (hook.mode === 'refuse') {
        res.writeHead(400).end('no such device');
      } else if (hook.mode === 'fail-once' && !hook.failed.has(id)) {
        hook.failed.add(id);
        res.writeHead(500).end('try again');
      } else {
        res.writeHead(204).end();
      }
    });
  }),
  /** The posts about message `id`. */
  about(id) {
    return hook.posts.filter((post) => post.body?.message?.id === id);
  },
};
hook.server.listen(0, '127.0.0.1');
await once(hook.server, 'listening');
const hookUrl = `http://127.0.0.1:${hook.server.address().port}/push`;

const stack = await startStackWith({ CHAT_NOTIFY_URL: hookUrl });
after(async () => {
  for (const res of hook.hanging) res.destroy();
  hook.server.closeAllConnections();
  hook.server.close();
  await stack.stop();
});

stack.test('a message to a group notifies exactly its offline member, with the stored message', async () => {
  hook.mode = 'ok';
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  await stack.connect(b); // online: not notified
  // C never connects: offline.
  // The notifier asks the store who of the group is online: A and B are, first.
  await eventually(async () => {
    const { body } = await stack.store('GET', `/group/${group.id}/presence`);
    assert.deepEqual([...body.online].sort(), [a, b].sort());
  }, 5000);

  const message = await call(alice, 'chat message', { room: group.id, message: 'are you there, C?' });
  await eventually(() => assert.equal(hook.about(message.id).length, 1), 5000);
  const [post] = hook.about(message.id);
  assert.equal(post.method, 'POST');
  assert.match(post.type ?? '', /^application\/json/);
  assert.deepEqual(post.body, { to: c, mention: false, message }, 'exactly {to, mention, message} with the stored message');

  await sleep(1000);
  assert.deepEqual(hook.about(message.id).map((p) => p.body.to), [c], 'not for the sender A, not for B who is online');
});

stack.test('a notification says when the message mentions its offline member', async () => {
  hook.mode = 'ok';
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  await eventually(async () => {
    const { body } = await stack.store('GET', `/group/${group.id}/presence`);
    assert.deepEqual(body.online, [a]);
  }, 5000);
  const message = await call(alice, 'chat message', { room: group.id, message: `@${c}, are you coming?` });
  await eventually(() => assert.equal(hook.about(message.id).length, 2), 5000);
  const byRecipient = Object.fromEntries(hook.about(message.id).map((post) => [post.body.to, post.body.mention]));
  assert.deepEqual(byRecipient, { [b]: false, [c]: true }, 'only C is named');
});

stack.test('a notification of a group whose history is hidden carries the message without its text', async () => {
  hook.mode = 'ok';
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { historyMinOnline: 2 });
  const alice = await stack.connect(a); // one online of the two needed
  const message = await call(alice, 'chat message', { room: group.id, message: 'for the room only' });
  assert.equal(message.message, 'for the room only', 'the sender\'s ack is the live message');
  await eventually(() => assert.equal(hook.about(message.id).length, 2), 5000);
  for (const post of hook.about(message.id)) {
    assert.deepEqual(post.body.message, { ...message, message: '', hidden: true }, `the notification of ${post.body.to}`);
  }
});

stack.test('a private message to an offline user notifies them', async () => {
  hook.mode = 'ok';
  const [a, d] = [uniqueUp('a'), uniqueUp('d')];
  const alice = await stack.connect(a);
  const message = await call(alice, 'private message', { to: d, message: 'call me' });
  await eventually(() => assert.equal(hook.about(message.id).length, 1), 5000);
  assert.deepEqual(hook.about(message.id)[0].body, { to: d, mention: false, message });
});

stack.test('a member who comes online is no longer notified', async () => {
  hook.mode = 'ok';
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const alice = await stack.connect(a);
  const first = await call(alice, 'chat message', { room: group.id, message: 'while B is away' });
  await eventually(() => assert.equal(hook.about(first.id).length, 1), 5000);

  const online = next(alice, 'online');
  await stack.connect(b);
  await online;
  const second = await call(alice, 'chat message', { room: group.id, message: 'B is here now' });
  await sleep(1000);
  assert.deepEqual(hook.about(second.id), [], 'an online member is not notified');
});

stack.test('when the hook answers 500, the chat-server retries and the hook gets the notification again', async () => {
  hook.mode = 'fail-once';
  const [a, c] = [uniqueUp('a'), uniqueUp('c')];
  const group = await stack.group([a, c]);
  const alice = await stack.connect(a);
  const message = await call(alice, 'chat message', { room: group.id, message: 'retry me' });

  await eventually(() => assert.equal(hook.about(message.id).length, 2), 5000);
  const [failed, retried] = hook.about(message.id);
  assert.deepEqual(failed.body, { to: c, mention: false, message });
  assert.deepEqual(retried.body, failed.body, 'the retry posts the same notification');
  await sleep(1500);
  assert.equal(hook.about(message.id).length, 2, 'once accepted, it is not posted again');
});

stack.test('a hook that refuses a notification (4xx) is not asked again', async () => {
  hook.mode = 'refuse';
  const [a, c] = [uniqueUp('a'), uniqueUp('c')];
  const group = await stack.group([a, c]);
  const alice = await stack.connect(a);
  const message = await call(alice, 'chat message', { room: group.id, message: 'refused' });
  await eventually(() => assert.equal(hook.about(message.id).length, 1), 5000);
  await sleep(1500);
  assert.equal(hook.about(message.id).length, 1, 'a 400 would answer the same again: no retry');
});

stack.test('a hook that never answers does not delay message delivery', async () => {
  hook.mode = 'hang';
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);

  const sent = [];
  for (let i = 0; i < 5; i += 1) {
    const arriving = next(bob, 'chat message', 2000);
    const started = Date.now();
    const message = await call(alice, 'chat message', { room: group.id, message: `hang ${i}` }, 2000);
    const ackMs = Date.now() - started;
    assert.ok(ackMs < 1000, `ack ${i} took ${ackMs} ms`);
    assert.deepEqual(await arriving, message, 'the room gets it at once');
    sent.push(message);
  }
  await eventually(() => assert.ok(hook.about(sent[0].id).length >= 1, 'the hook was called (and hangs)'), 5000);
}, { timeout: 60_000 });
