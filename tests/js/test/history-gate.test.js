// A group with `historyMinOnline = N > 0` shows no history, over REST or
// `sync`, until N of its members are online (docs/chat-api.md, History gate).
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { eventually, next } from './events.js';
import { call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

const LONG_AGO = '2000-01-01T00:00:00.000Z';

/** A group of `users` with two stored messages of the first user, one of them edited. */
async function groupWithHistory(users, options) {
  const group = await stack.group(users, options);
  const sent = [];
  for (const text of ['first', 'second']) {
    const { status, body } = await stack.store('POST', '/message', { group: group.id, from: users[0], message: text });
    assert.equal(status, 201, JSON.stringify(body));
    sent.push(body);
  }
  const edit = await stack.store('PATCH', `/message/${sent[0].id}`, { from: users[0], message: 'first, edited' });
  assert.equal(edit.status, 200, JSON.stringify(edit.body));
  return group;
}

async function history(group, up) {
  const { status, body } = await stack.rest(`/chat/${group.id}/message`, { up });
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

async function overview(group, up) {
  const { status, body } = await stack.rest('/chat/message', { up });
  assert.equal(status, 200, JSON.stringify(body));
  const entry = body.groups.find((g) => g.group.id === group.id);
  assert.ok(entry, `${group.id} is listed for ${up}`);
  return entry.messages;
}

function assertHidden(page, where) {
  assert.deepEqual(page.items, [], `${where}: no history`);
  assert.equal(page.total, 0, `${where}: not even the count`);
  assert.equal(page.hasMore, false, where);
}

stack.test('with historyMinOnline 2 and one member online, REST and sync show no history; with two, they do', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await groupWithHistory([a, b, c], { historyMinOnline: 2 });
  assert.equal(group.historyMinOnline, 2);
  const alice = await stack.connect(a);

  assertHidden(await history(group, a), 'GET /chat/{group}/message');
  assertHidden(await overview(group, a), 'GET /chat/message');
  const hidden = await call(alice, 'sync', { room: group.id, since: LONG_AGO });
  assertHidden(hidden.messages, 'sync');
  assert.deepEqual(hidden.changes, [], 'sync: no changes either');

  const online = next(alice, 'online');
  const bob = await stack.connect(b);
  await online;

  const page = await history(group, a);
  assert.deepEqual(page.items.map((m) => m.message), ['second', 'first, edited']);
  assert.equal(page.total, 2);
  assert.equal((await overview(group, b)).items.length, 2);
  const shown = await call(alice, 'sync', { room: group.id, since: LONG_AGO });
  assert.equal(shown.messages.items.length, 2);
  assert.deepEqual(shown.changes.map((m) => m.message), ['first, edited']);

  bob.disconnect();
  await eventually(async () => assertHidden(await history(group, a), 'after B left'), 3000);
  assertHidden((await call(alice, 'sync', { room: group.id })).messages, 'sync after B left');
});

stack.test('a member\'s second socket does not count as a second member online', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await groupWithHistory([a, b], { historyMinOnline: 2 });
  await stack.connect(a);
  const laptop = await stack.connect(a);
  assertHidden(await history(group, a), 'two sockets of one user');
  assertHidden((await call(laptop, 'sync', { room: group.id })).messages, 'sync with two sockets of one user');
});

stack.test('a group without historyMinOnline shows its history with only one member online', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await groupWithHistory([a, b]);
  assert.equal(group.historyMinOnline, 0);
  const alice = await stack.connect(a);
  assert.equal((await history(group, a)).items.length, 2);
  assert.equal((await call(alice, 'sync', { room: group.id })).messages.items.length, 2);
});

/**
 * A gated group of three, two of them connected (one short of the gate),
 * with one stored message of A's.
 */
async function closedGate() {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c], { historyMinOnline: 3 });
  const { body: stored } = await stack.store('POST', '/message', { group: group.id, from: a, message: 'a secret from before' });
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  assertHidden((await call(bob, 'sync', { room: group.id })).messages, 'sync');
  return { group, stored, alice, bob, b, c };
}

/** A message as a gated group's readers see it: no text, and `hidden`. */
function assertWithheld(message, where) {
  assert.equal(message.message, '', `${where}: no text`);
  assert.equal(message.hidden, true, `${where}: marked hidden`);
}

for (const [name, change] of [
  ['react', (stored) => ['react', { messageId: stored.id, emoji: '👍', on: true }]],
  ['react (taking a reaction back)', (stored) => ['react', { messageId: stored.id, emoji: '👍', on: false }]],
  ['edit message', (stored) => ['edit message', { messageId: stored.id, message: 'a new secret' }]],
]) {
  stack.test(`while the gate is closed, ${name} answers and relays the message without its text`, async () => {
    const { stored, alice, bob } = await closedGate();
    const relayed = next(bob, 'message updated');
    const [event, payload] = change(stored);
    const answer = await call(alice, event, payload);
    assert.equal(answer.id, stored.id);
    assertWithheld(answer, `${name} ack`);
    assertWithheld(await relayed, `${name} relay`);
  });
}

stack.test('while the gate is closed, delete answers and relays the message without text, deleted', async () => {
  const { stored, alice, bob } = await closedGate();
  const relayed = next(bob, 'message updated');
  const answer = await call(alice, 'delete message', { messageId: stored.id });
  assert.equal(answer.deleted, true);
  assert.equal(answer.message, '');
  const seen = await relayed;
  assert.equal(seen.deleted, true);
  assert.equal(seen.message, '');
});

stack.test('while the gate is closed, read carries no text either way', async () => {
  const { group, stored, alice, bob, b } = await closedGate();
  const receipt = next(alice, 'read');
  const answer = await call(bob, 'read', { room: group.id, messageId: stored.id });
  assert.deepEqual(answer, { room: group.id, unread: 0, mentions: 0 });
  assert.deepEqual(await receipt, { room: group.id, up: b, messageId: stored.id });
});

stack.test('once the gate opens, the same change carries the text', async () => {
  const { stored, alice, bob, c } = await closedGate();
  const online = next(alice, 'online');
  await stack.connect(c);
  await online;
  const relayed = next(bob, 'message updated');
  const answer = await call(alice, 'react', { messageId: stored.id, emoji: '🎉', on: true });
  assert.equal(answer.message, 'a secret from before');
  assert.equal(answer.hidden, undefined);
  assert.equal((await relayed).message, 'a secret from before');
});
