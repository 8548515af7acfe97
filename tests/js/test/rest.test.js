// The public REST gateway: `Authorization: Bearer <user JWT>`.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { ack, eventually, RFC3339_MS } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const stack = await startStack();
after(() => stack.stop());

async function send(up, group, texts) {
  const socket = await stack.connect(up);
  const sent = [];
  for (const message of texts) {
    const answer = await ack(socket, 'chat message', { room: group.id, message });
    assert.ok(answer.data, JSON.stringify(answer));
    sent.push(answer.data);
  }
  socket.disconnect();
  return sent;
}

function assertError({ status, body }, wantStatus, code) {
  assert.equal(status, wantStatus, JSON.stringify(body));
  assert.equal(body.error?.code, code, JSON.stringify(body));
  assert.equal(typeof body.error.message, 'string');
}

stack.test('the location is the chat node of the user', async () => {
  const { status, body } = await stack.rest('/chat/location', { up: uniqueUp('a') });
  assert.equal(status, 200);
  assert.deepEqual(body, { url: stack.chatUrl });
});

stack.test("a member gets the group's messages newest first in a page", async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const sent = await send(a, group, ['one', 'two', 'three']);
  const { status, body } = await stack.rest(`/chat/${group.id}/message`, { up: b });
  assert.equal(status, 200, JSON.stringify(body));
  assert.deepEqual(body, { items: sent.toReversed(), page: 0, perPage: 20, total: 3, hasMore: false });
  for (const message of body.items) assert.match(message.timestamp, RFC3339_MS);

  const paged = await stack.rest(`/chat/${group.id}/message?page=1&perPage=2`, { up: b });
  assert.deepEqual(paged.body.items.map((m) => m.message), ['one']);
  assert.equal(paged.body.hasMore, false);
});

stack.test("a non-member is refused the group's messages with 403 permission_denied", async () => {
  const group = await stack.group([uniqueUp('a')]);
  assertError(await stack.rest(`/chat/${group.id}/message`, { up: uniqueUp('o') }), 403, 'permission_denied');
});

stack.test('a request without a token or with a bad one is 401 unauthenticated', async () => {
  const group = await stack.group([uniqueUp('a')]);
  for (const route of ['/chat/location', `/chat/${group.id}/message`, '/chat/message']) {
    assertError(await stack.rest(route), 401, 'unauthenticated');
    assertError(await stack.rest(route, { token: 'garbage' }), 401, 'unauthenticated');
    const forged = await stack.token('a', { secret: 'another-secret' });
    assertError(await stack.rest(route, { token: forged }), 401, 'unauthenticated');
  }
});

stack.test('a malformed group id is 400 invalid_argument and an unknown one 404 not_found', async () => {
  const up = uniqueUp('a');
  assertError(await stack.rest('/chat/not-an-id/message', { up }), 400, 'invalid_argument');
  assertError(await stack.rest('/chat/65f0c0ffee0000000000abcd/message', { up }), 404, 'not_found');
});

stack.test("every group of the user comes with a page of its messages", async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const first = await stack.group([a, b], { name: 'first' });
  const second = await stack.group([a], { name: 'second' });
  await stack.group([b], { name: 'not mine' });
  const inFirst = await send(b, first, ['hi a', 'hi again']);
  const inSecond = await send(a, second, ['note to self']);

  const { status, body } = await stack.rest('/chat/message', { up: a });
  assert.equal(status, 200, JSON.stringify(body));
  const byId = new Map(body.groups.map((entry) => [entry.group.id, entry]));
  assert.deepEqual([...byId.keys()].sort(), [first.id, second.id].sort());
  assert.deepEqual(byId.get(first.id).messages.items, inFirst.toReversed());
  assert.deepEqual(byId.get(second.id).messages.items, inSecond);
  assert.equal(byId.get(first.id).group.name, 'first');
});

stack.test('the Swagger UI is served and the OpenAPI document lists the three /chat paths', async () => {
  const docs = await fetch(`${stack.chatUrl}/docs/`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger/i);
  const spec = await (await fetch(`${stack.chatUrl}/api-docs/openapi.json`)).json();
  for (const route of ['/chat/location', '/chat/{group}/message', '/chat/message']) {
    assert.ok(spec.paths[route]?.get, `${route} is documented`);
  }
});

stack.test("a request's id follows it from the gateway to the store, in both servers' logs", async () => {
  const up = uniqueUp('a');
  const group = await stack.group([up]);
  const id = `trace-${Date.now()}`;
  const res = await fetch(`${stack.chatUrl}/chat/${group.id}/message`, {
    headers: { authorization: `Bearer ${await stack.token(up)}`, 'x-request-id': id },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-request-id'), id, 'the answer carries the caller\'s id');
  const logged = () => {
    const logs = stack.allLogs();
    return [`"GET /chat/${group.id}/message HTTP/1.1" 200`, `/group/messages`]
      .map((line) => logs.split('\n').some((l) => l.includes(line) && l.endsWith(`"${id}"`)));
  };
  await eventually(() => assert.deepEqual(logged(), [true, true], 'both requests.log lines end with the id'), 5000);

  const unfit = await fetch(`${stack.chatUrl}/healthz`, { headers: { 'x-request-id': 'x'.repeat(200) } });
  assert.match(unfit.headers.get('x-request-id'), /^[0-9a-f-]{36}$/, 'an unfit id is replaced by a new one');
});
