// The per-sender message rate: with `CHAT_MSG_RATE=2` and
// `CHAT_MSG_BURST=3`, a burst beyond 3 is answered `rate_limited`, the
// connection stays up, and other senders are not slowed down.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, QUIET_MS, record, sleep } from './events.js';
import { call, startStackWith } from './feature-helpers.js';
import { uniqueUp } from './harness.js';

const stack = await startStackWith({ CHAT_MSG_RATE: '2', CHAT_MSG_BURST: '3' });
after(() => stack.stop());

/** Sends `count` messages at once; resolves with the acks in sending order. */
function burst(socket, room, count, prefix) {
  return Promise.all(Array.from({ length: count }, (_, i) => ack(socket, 'chat message', { room, message: `${prefix}${i}` })));
}

const codes = (acks) => acks.map((answer) => (answer.data ? 'ok' : answer.error.code));

stack.test('a burst over the limit gets rate_limited acks, the connection stays up, and another sender is not limited', async () => {
  const [a, b, c] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('c')];
  const group = await stack.group([a, b, c]);
  const alice = await stack.connect(a);
  const bob = await stack.connect(b);
  const carol = await stack.connect(c);
  const carolGot = record(carol, 'chat message');
  const disconnected = record(alice, 'disconnect');

  const [fromAlice, fromBob] = await Promise.all([
    burst(alice, group.id, 6, 'fast '),
    burst(bob, group.id, 3, 'calm '),
  ]);
  const aliceCodes = codes(fromAlice);
  const accepted = aliceCodes.filter((code) => code === 'ok').length;
  assert.ok(accepted >= 3 && accepted <= 4, `the burst of 3 (and at most one refill) passes: ${aliceCodes}`);
  assert.ok(aliceCodes.every((code) => code === 'ok' || code === 'rate_limited'), `${aliceCodes}`);
  assert.ok(aliceCodes.includes('rate_limited'), `some are rate_limited: ${aliceCodes}`);
  assert.deepEqual(codes(fromBob), ['ok', 'ok', 'ok'], 'another user sending at the same time is not limited');

  await sleep(QUIET_MS);
  assert.ok(alice.connected, 'the limited sender stays connected');
  assert.deepEqual(disconnected, []);
  const delivered = carolGot.filter((m) => m.from === a).map((m) => m.id).sort();
  const acked = fromAlice.filter((x) => x.data).map((x) => x.data.id).sort();
  assert.deepEqual(delivered, acked, 'only the accepted messages are broadcast');
  const page = await stack.store('GET', `/group/messages?groupID=${group.id}`);
  assert.equal(page.body.total, accepted + 3, 'a refused message is not stored');

  // The bucket refills: 2 per second.
  await sleep(1100);
  const later = await call(alice, 'chat message', { room: group.id, message: 'after a pause' });
  assert.equal(later.from, a);
});

stack.test('the limit is per user, across all of their sockets', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const phone = await stack.connect(a);
  const laptop = await stack.connect(a);
  const [onPhone, onLaptop] = await Promise.all([
    burst(phone, group.id, 3, 'phone '),
    burst(laptop, group.id, 3, 'laptop '),
  ]);
  const all = [...codes(onPhone), ...codes(onLaptop)];
  const accepted = all.filter((code) => code === 'ok').length;
  assert.ok(accepted >= 3 && accepted <= 4, `two sockets share one bucket: ${all}`);

});

stack.test('private messages are limited too', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const alice = await stack.connect(a);
  const direct = codes(await Promise.all(Array.from({ length: 6 }, (_, i) => ack(alice, 'private message', { to: b, message: `dm ${i}` }))));
  const accepted = direct.filter((code) => code === 'ok').length;
  assert.ok(accepted >= 3 && accepted <= 4, `${direct}`);
  assert.ok(direct.every((code) => code === 'ok' || code === 'rate_limited'), `${direct}`);
  assert.ok(alice.connected);
});
