// Names (`GET /chat/users`, `PATCH /chat/me`, `user updated`), replies
// (`replyTo` and the quote that follows its original) and mentions
// (`@up` in the text, the unread mentions per group), with the official
// client and the REST gateway (docs/chat-api.md).
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { next, QUIET_MS, record, sleep } from './events.js';
import { assertError, call } from './feature-helpers.js';
import { ack } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

/** `PATCH /chat/me` as `up` with `body` (a string is sent as it is). */
async function patchMe(up, body) {
  const res = await fetch(`${stack.chatUrl}/chat/me`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${await stack.token(up)}`, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The per-user listing of `up`'s group `id` (with `unread` and `mentions`). */
async function groupOf(up, id) {
  const { status, body } = await stack.rest('/chat/message?perPage=1', { up });
  assert.equal(status, 200, JSON.stringify(body));
  return body.groups.find((entry) => entry.group.id === id).group;
}

stack.test('a user sets their name, their groups hear `user updated`, and names are given only to those who share a group', async () => {
  const [a, b, stranger] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('s')];
  await stack.group([a, b]);
  const [bob, outsider] = [await stack.connect(b), await stack.connect(stranger)];
  const alice = await stack.connect(a);
  const outsiderHeard = record(outsider, 'user updated');
  const toBob = next(bob, 'user updated');
  const toOwnSocket = next(alice, 'user updated');

  const set = await patchMe(a, { name: '  Ana Sousa  ' });
  assert.equal(set.status, 200, JSON.stringify(set.body));
  assert.deepEqual(set.body, { up: a, name: 'Ana Sousa' }, 'the name is trimmed');
  assert.deepEqual(await toBob, { up: a, name: 'Ana Sousa' });
  assert.deepEqual(await toOwnSocket, { up: a, name: 'Ana Sousa' }, 'the user\'s other devices learn it too');

  const asked = await stack.rest(`/chat/users?ups=${a},${stranger},${b}`, { up: b });
  assert.equal(asked.status, 200);
  assert.deepEqual(asked.body, { items: [{ up: a, name: 'Ana Sousa' }, { up: b, name: '' }] },
    'the stranger shares no group with B and is left out; B has no name yet');
  const byStranger = await stack.rest(`/chat/users?ups=${a}`, { up: stranger });
  assert.deepEqual(byStranger.body, { items: [] }, 'a stranger learns no name');
  await sleep(QUIET_MS);
  assert.equal(outsiderHeard.length, 0, 'no `user updated` reaches a user who shares no group');
});

stack.test('a bad name or list of users is invalid_argument and changes nothing', async () => {
  const a = uniqueUp('a');
  await patchMe(a, { name: 'Kept' });
  for (const body of [{ name: '   ' }, { name: 'x'.repeat(65) }, { name: 'two\nlines' }, { name: 7 }, {}, { name: 'A', extra: 1 }, '{"name":']) {
    const answer = await patchMe(a, body);
    assert.equal(answer.status, 400, JSON.stringify(body));
    assert.equal(answer.body.error.code, 'invalid_argument', JSON.stringify(answer.body));
  }
  assert.equal((await patchMe(a, { name: 'é'.repeat(64) })).status, 200, '64 characters are fine');
  const many = Array.from({ length: 101 }, (_, i) => `up${i}`).join(',');
  for (const query of [`ups=${many}`, 'ups=', 'ups=a,,b', '']) {
    const answer = await stack.rest(`/chat/users?${query}`, { up: a });
    assert.equal(answer.status, 400, query);
    assert.equal(answer.body.error.code, 'invalid_argument');
  }
  assert.equal((await stack.rest(`/chat/users?ups=${a}`, { token: null })).status, 401);
  assert.deepEqual((await stack.rest(`/chat/users?ups=${a}`, { up: a })).body.items, [{ up: a, name: 'é'.repeat(64) }]);
});

stack.test('a reply carries a quote of its original, which follows an edit and a delete', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const [alice, bob] = [await stack.connect(a), await stack.connect(b)];
  const original = await call(alice, 'chat message', { room: group.id, message: 'lunch at noon?' });
  const toAlice = next(alice, 'chat message');
  const reply = await call(bob, 'chat message', { room: group.id, message: 'yes', replyTo: original.id });
  assert.deepEqual(reply.replyTo, { id: original.id, from: a, snippet: 'lunch at noon?', deleted: false });
  assert.deepEqual(await toAlice, reply, 'the room gets the reply with its quote');

  await call(alice, 'edit message', { messageId: original.id, message: 'lunch at one?' });
  const page = async () => (await stack.rest(`/chat/${group.id}/message`, { up: b })).body.items;
  const quoted = async () => (await page()).find((m) => m.id === reply.id).replyTo;
  assert.equal((await quoted()).snippet, 'lunch at one?', 'the quote follows the edit');
  const synced = await call(bob, 'sync', { room: group.id, after: reply.id, since: reply.timestamp });
  assert.ok(synced.changes.some((m) => m.id === reply.id && m.replyTo.snippet === 'lunch at one?'),
    'sync brings the reply whose quote changed');

  await call(alice, 'delete message', { messageId: original.id });
  assert.deepEqual(await quoted(), { id: original.id, from: a, snippet: '', deleted: true });

  const other = await stack.group([a, b]);
  const elsewhere = await call(alice, 'chat message', { room: other.id, message: 'elsewhere' });
  assertError(await ack(bob, 'chat message', { room: group.id, message: 're', replyTo: elsewhere.id }), 'invalid_argument');
  assertError(await ack(bob, 'chat message', { room: group.id, message: 're', replyTo: original.id }), 'invalid_argument');
  assertError(await ack(bob, 'chat message', { room: group.id, message: 're', replyTo: 'nope' }), 'invalid_argument');
  assert.ok(bob.connected, 'the connection stays up');
  assert.equal((await page()).length, 2, 'no refused reply was stored');

  const direct = await call(alice, 'private message', { to: b, message: 'psst' });
  const answer = await call(bob, 'private message', { to: a, message: 'what?', replyTo: direct.id });
  assert.equal(answer.replyTo.snippet, 'psst', 'a direct message may be answered too');
});

stack.test('the quote of a reply is withheld while its group\'s history is hidden', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { historyMinOnline: 3 });
  const [alice, bob] = [await stack.connect(a), await stack.connect(b)];
  const original = await call(alice, 'chat message', { room: group.id, message: 'secret plans' });
  const toAlice = next(alice, 'chat message');
  const reply = await call(bob, 'chat message', { room: group.id, message: 'ok', replyTo: original.id });
  assert.equal(reply.message, 'ok', 'the new text is live, not history');
  assert.deepEqual(reply.replyTo, { id: original.id, from: a, snippet: '', deleted: false });
  assert.equal((await toAlice).replyTo.snippet, '');
});

stack.test('members named as @up are the message\'s mentions and count as unread mentions until read', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const [alice, bob] = [await stack.connect(a), await stack.connect(b)];
  const toBob = next(bob, 'chat message');
  const first = await call(alice, 'chat message', { room: group.id, message: `@${b} and @${c}, and @nobody: done?` });
  assert.deepEqual(first.mentions, [b, c]);
  assert.deepEqual((await toBob).mentions, [b, c]);
  await call(alice, 'chat message', { room: group.id, message: `@${b} again` });
  await call(alice, 'chat message', { room: group.id, message: 'and nothing else' });

  assert.equal((await groupOf(b, group.id)).mentions, 2);
  assert.equal((await groupOf(c, group.id)).mentions, 1);
  assert.equal((await groupOf(a, group.id)).mentions, 0);
  const read = await call(bob, 'read', { room: group.id, messageId: first.id });
  assert.deepEqual(read, { room: group.id, unread: 2, mentions: 1 });
  assert.equal((await groupOf(b, group.id)).mentions, 1);
});
