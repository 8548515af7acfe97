// Handshake auth: a JWT from `auth.token` or `?token=`, else `unauthenticated`.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

async function refusal(options) {
  const err = await stack.connect(uniqueUp('intruder'), options).then(
    () => assert.fail('the connection was accepted'),
    (error) => error,
  );
  return err.message;
}

stack.test('a client without a token is refused as unauthenticated', async () => {
  assert.equal(await refusal({ token: null }), 'unauthenticated');
});

stack.test('a client with a garbage token is refused as unauthenticated', async () => {
  assert.equal(await refusal({ token: 'not.a.jwt' }), 'unauthenticated');
  assert.equal(await refusal({ token: 'garbage', via: 'query' }), 'unauthenticated');
});

stack.test('a client with an expired token is refused as unauthenticated', async () => {
  const up = uniqueUp('late');
  const token = await stack.token(up, { exp: Math.floor(Date.now() / 1000) - 3600 });
  assert.equal(await refusal({ token }), 'unauthenticated');
});

stack.test('a client with a token signed with another secret is refused as unauthenticated', async () => {
  const up = uniqueUp('forger');
  const token = await stack.token(up, { secret: 'not-the-server-secret' });
  assert.equal(await refusal({ token }), 'unauthenticated');
});

stack.test('a token in the handshake auth object is accepted and names the user', async () => {
  const up = uniqueUp('alice');
  const socket = await stack.connect(up, { via: 'auth' });
  assert.equal(socket.connected, true);
  assert.deepEqual(await ack(socket, 'online', {}), { data: { up } });
});

stack.test('a token in the query string is accepted and names the user', async () => {
  const up = uniqueUp('bob');
  const socket = await stack.connect(up, { via: 'query' });
  assert.equal(socket.connected, true);
  assert.deepEqual(await ack(socket, 'online', {}), { data: { up } });
});
