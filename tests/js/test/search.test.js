// GET /chat/search: words found in the user's groups, newest first, paged
// with a cursor, with the matched words' places (docs/chat-api.md, Search).
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { eventually, next } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

/** `GET /chat/search` as `up` with `params`; the status and the body. */
async function search(up, params) {
  const query = new URLSearchParams(params).toString();
  return stack.rest(`/chat/search?${query}`, { up });
}

/** A page of results (asserting 200). */
async function found(up, params) {
  const { status, body } = await search(up, params);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** Every result, following the cursor to the end. */
async function everything(up, params) {
  const items = [];
  let cursor;
  for (let page = 0; page < 100; page += 1) {
    const body = await found(up, cursor ? { ...params, cursor } : params);
    items.push(...body.items);
    if (body.cursor === null || body.cursor === undefined) return items;
    cursor = body.cursor;
  }
  throw new Error('the search did not end within 100 pages');
}

/** The words a result's matches point at. */
const marked = (item) => item.matches.map(({ start, end }) => item.message.slice(start, end));
const texts = (items) => items.map((m) => m.message);

async function send(socket, room, message) {
  return call(socket, 'chat message', { room, message, nonce: crypto.randomUUID() });
}

stack.test('words are found across the user\'s groups and in one, newest first, whatever the case and accents', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const first = await stack.group([a, b]);
  const second = await stack.group([a]);
  const theirs = await stack.group([b]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);

  await send(bob, first.id, 'Lunch at the Café?');
  await send(alice, first.id, 'nothing to see here');
  await send(bob, theirs.id, 'a cafe alice never sees');
  const newest = await send(alice, second.id, 'The CAFE is closed; café closed!');

  const all = await found(a, { q: 'cafe' });
  assert.deepEqual(texts(all.items), ['The CAFE is closed; café closed!', 'Lunch at the Café?']);
  assert.equal(all.cursor, null);
  assert.equal(all.items[0].id, newest.id);
  assert.equal(all.items[0].group, second.id);
  assert.deepEqual(marked(all.items[0]), ['CAFE', 'café']);
  assert.deepEqual(marked(all.items[1]), ['Café']);

  const one = await found(a, { q: 'CAFÉ', group: first.id });
  assert.deepEqual(texts(one.items), ['Lunch at the Café?']);

  const both = await found(a, { q: 'closed cafe' });
  assert.deepEqual(texts(both.items), ['The CAFE is closed; café closed!']);
  assert.deepEqual(marked(both.items[0]), ['CAFE', 'closed', 'café', 'closed']);
  assert.deepEqual((await found(a, { q: 'lunch closed' })).items, []);
  assert.deepEqual(texts((await found(b, { q: 'never' })).items), ['a cafe alice never sees']);
});

stack.test('the cursor pages newest first to the end, and a new message does not shift it', async () => {
  const a = uniqueUp('a');
  const [g, h] = [await stack.group([a]), await stack.group([a])];
  const alice = await stack.connect(a);
  for (let i = 0; i < 7; i += 1) {
    await send(alice, i % 2 ? h.id : g.id, `report ${i}`);
    await send(alice, g.id, `noise ${i}`);
  }
  const first = await found(a, { q: 'report', perPage: '3' });
  assert.deepEqual(texts(first.items), ['report 6', 'report 5', 'report 4']);
  assert.equal(typeof first.cursor, 'string');
  await send(alice, g.id, 'report late');
  const rest = [];
  let cursor = first.cursor;
  while (cursor) {
    const page = await found(a, { q: 'report', perPage: '3', cursor });
    rest.push(...page.items);
    cursor = page.cursor;
  }
  assert.deepEqual(texts(rest), ['report 3', 'report 2', 'report 1', 'report 0']);
  const all = await everything(a, { q: 'report', perPage: '2' });
  assert.deepEqual(texts(all), ['report late', 'report 6', 'report 5', 'report 4', 'report 3', 'report 2', 'report 1', 'report 0']);
  assert.deepEqual(texts(await everything(a, { q: 'report', group: h.id })), ['report 5', 'report 3', 'report 1']);
});

stack.test('an edit changes what a message is found by; a deleted message is never found', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const alice = await stack.connect(a);
  const edited = await send(alice, group.id, 'meet at noon');
  const deleted = await send(alice, group.id, 'meet at the station');
  assert.equal((await found(a, { q: 'meet' })).items.length, 2);

  await call(alice, 'edit message', { messageId: edited.id, message: 'see you at dawn' });
  await call(alice, 'delete message', { messageId: deleted.id });

  assert.deepEqual((await found(a, { q: 'meet' })).items, []);
  assert.deepEqual((await found(a, { q: 'station' })).items, []);
  const dawn = await found(a, { q: 'Dawn' });
  assert.deepEqual(texts(dawn.items), ['see you at dawn']);
  assert.equal(dawn.items[0].id, edited.id);
  assert.ok(dawn.items[0].editedAt, 'the message as it is now');
});

stack.test('a group whose history is hidden gives no results until its gate opens', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const open = await stack.group([a, b]);
  const quiet = await stack.group([a, b], { historyMinOnline: 2 });
  for (const group of [open, quiet]) {
    const { status } = await stack.store('POST', '/message', { group: group.id, from: b, message: `plan for ${group.id}` });
    assert.equal(status, 201);
  }
  const alice = await stack.connect(a);

  assert.deepEqual((await found(a, { q: 'plan' })).items.map((m) => m.group), [open.id]);
  assert.deepEqual(await found(a, { q: 'plan', group: quiet.id }), { items: [], cursor: null });

  const online = next(alice, 'online');
  const bob = await stack.connect(b);
  await online;
  assert.deepEqual((await found(a, { q: 'plan' })).items.map((m) => m.group), [quiet.id, open.id]);
  assert.equal((await found(a, { q: 'plan', group: quiet.id })).items.length, 1);

  bob.disconnect();
  await eventually(async () => {
    assert.deepEqual((await found(a, { q: 'plan' })).items.map((m) => m.group), [open.id]);
  }, 3000);
});

stack.test('bad input is refused with the error body; another\'s group is permission_denied', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const theirs = await stack.group([b]);
  await stack.group([a]);
  const refused = async (params, code, status) => {
    const answer = await search(a, params);
    assert.equal(answer.status, status, JSON.stringify(answer.body));
    assert.equal(answer.body.error.code, code, JSON.stringify(answer.body));
    return answer.body.error.message;
  };
  assert.equal(await refused({}, 'invalid_argument', 400), '`q` must not be empty');
  await refused({ q: '   ' }, 'invalid_argument', 400);
  await refused({ q: 'x'.repeat(201) }, 'invalid_argument', 400);
  assert.match(await refused({ q: 'a b c d e f g h i j k' }, 'invalid_argument', 400), /11 different words/);
  await refused({ q: 'x', group: 'nothex' }, 'invalid_argument', 400);
  await refused({ q: 'x', cursor: 'not-a-cursor' }, 'invalid_argument', 400);
  await refused({ q: 'x', perPage: '51' }, 'invalid_argument', 400);
  await refused({ q: 'x', group: theirs.id }, 'permission_denied', 403);
  const anonymous = await stack.rest('/chat/search?q=x');
  assert.equal(anonymous.status, 401);
  assert.equal(anonymous.body.error.code, 'unauthenticated');
  // Within the limits: 200 characters, 50 per page, a query of punctuation.
  assert.deepEqual(await found(a, { q: 'y'.repeat(200), perPage: '50' }), { items: [], cursor: null });
  assert.deepEqual(await found(a, { q: '?!' }), { items: [], cursor: null });
});
