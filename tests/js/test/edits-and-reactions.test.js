// `react`, `edit message` and `delete message`: who may, what the ack is,
// and `message updated` to the room.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, next, QUIET_MS, record, RFC3339_MS, sleep } from './events.js';
import { assertError, call } from './feature-helpers.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

const LIKE = '👍';

async function stored(id) {
  const { status, body } = await stack.store('GET', `/message/${id}`);
  assert.equal(status, 200, JSON.stringify(body));
  return body;
}

/** A group of author A (admin: D) and member B, each connected, with one message of A. */
async function scene() {
  const [a, b, d, x] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('d'), uniqueUp('x')];
  const group = await stack.group([a, b], { admins: [d] });
  const sockets = {
    alice: await stack.connect(a),
    bob: await stack.connect(b),
    admin: await stack.connect(d),
    intruder: await stack.connect(x),
  };
  const message = await call(sockets.alice, 'chat message', { room: group.id, message: 'original text' });
  return { a, b, d, x, group, message, ...sockets };
}

stack.test('react on adds the user under the emoji, react off removes it, and the room gets message updated', async () => {
  const { a, b, message, alice, bob, admin } = await scene();
  const aliceGot = record(alice, 'message updated');

  let toBob = next(bob, 'message updated');
  const toAdmin = next(admin, 'message updated');
  const liked = await call(alice, 'react', { messageId: message.id, emoji: LIKE, on: true });
  assert.equal(liked.id, message.id);
  assert.deepEqual(liked.reactions, { [LIKE]: [a] });
  assert.equal(liked.message, 'original text');
  assert.deepEqual(await toBob, liked);
  assert.deepEqual(await toAdmin, liked);
  assert.deepEqual((await stored(message.id)).reactions, { [LIKE]: [a] });

  const both = await call(bob, 'react', { messageId: message.id, emoji: LIKE, on: true, up: 'someone' });
  assert.deepEqual([...both.reactions[LIKE]].sort(), [a, b].sort(), 'B reacts as B, whatever the payload says');

  toBob = next(bob, 'message updated');
  const unliked = await call(alice, 'react', { messageId: message.id, emoji: LIKE, on: false });
  assert.deepEqual(unliked.reactions, { [LIKE]: [b] }, 'only A\'s reaction is gone');
  assert.deepEqual(await toBob, unliked);
  const none = await call(bob, 'react', { messageId: message.id, emoji: LIKE, on: false });
  assert.equal(none.reactions[LIKE], undefined, 'an emoji nobody uses any more is gone');
  assert.deepEqual((await stored(message.id)).reactions, {});
  await sleep(QUIET_MS);
  assert.equal(aliceGot.length, 2, 'A hears of B\'s two reactions, not of its own');
});

stack.test('a react by a non-member is permission_denied, on or off, and reveals nothing', async () => {
  const { message, bob, intruder } = await scene();
  const bobGot = record(bob, 'message updated');
  assertError(await ack(intruder, 'react', { messageId: message.id, emoji: LIKE, on: true }), 'permission_denied');
  assertError(await ack(intruder, 'react', { messageId: message.id, emoji: LIKE, on: false }), 'permission_denied');
  await sleep(QUIET_MS);
  assert.deepEqual(bobGot, [], 'the room hears nothing');
  assert.deepEqual((await stored(message.id)).reactions, {});
});

stack.test('the author edits a message: new text and editedAt, and the room gets message updated', async () => {
  const { message, alice, bob } = await scene();
  const toBob = next(bob, 'message updated');
  const before = Date.now();
  const edited = await call(alice, 'edit message', { messageId: message.id, message: '  better text  ' });
  assert.equal(edited.id, message.id);
  assert.equal(edited.message, 'better text');
  assert.match(edited.editedAt, RFC3339_MS);
  assert.ok(Math.abs(Date.parse(edited.editedAt) - before) < 60_000, 'editedAt is now');
  assert.equal(edited.timestamp, message.timestamp, 'the send time stays');
  assert.deepEqual(await toBob, edited);
  assert.deepEqual(await stored(message.id), edited);
});

stack.test('an edit by someone other than the author is permission_denied and the text is unchanged', async () => {
  const { message, alice, bob, admin, intruder } = await scene();
  const aliceGot = record(alice, 'message updated');
  for (const other of [bob, admin, intruder]) {
    assertError(await ack(other, 'edit message', { messageId: message.id, message: 'hijacked' }), 'permission_denied');
  }
  const now = await stored(message.id);
  assert.equal(now.message, 'original text');
  assert.equal(now.editedAt, undefined);
  await sleep(QUIET_MS);
  assert.deepEqual(aliceGot, []);
});

stack.test('the author deletes a message: deleted with empty text, and the room gets message updated', async () => {
  const { message, alice, bob } = await scene();
  const toBob = next(bob, 'message updated');
  const deleted = await call(alice, 'delete message', { messageId: message.id });
  assert.equal(deleted.id, message.id);
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.message, '');
  assert.deepEqual(await toBob, deleted);
  assert.deepEqual(await stored(message.id), deleted);
});

stack.test('a group admin may delete another member\'s message', async () => {
  const { message, bob, admin } = await scene();
  const toBob = next(bob, 'message updated');
  const deleted = await call(admin, 'delete message', { messageId: message.id });
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.message, '');
  assert.deepEqual(await toBob, deleted);
  assert.equal((await stored(message.id)).deleted, true);
});

stack.test('a delete by a member who is neither the author nor an admin is permission_denied', async () => {
  const { message, alice, bob, intruder } = await scene();
  const aliceGot = record(alice, 'message updated');
  assertError(await ack(bob, 'delete message', { messageId: message.id }), 'permission_denied');
  assertError(await ack(intruder, 'delete message', { messageId: message.id }), 'permission_denied');
  const now = await stored(message.id);
  assert.equal(now.deleted, false);
  assert.equal(now.message, 'original text');
  await sleep(QUIET_MS);
  assert.deepEqual(aliceGot, []);
});
