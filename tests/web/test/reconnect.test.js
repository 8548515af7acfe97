// The client across a chat-server restart: `Reconnecting…` while the socket
// is down, a message typed meanwhile sent once it is back, and what happened
// elsewhere meanwhile (a message, an edit, a delete) caught up with the
// reconnect recipe; every message shown once on both sides.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
let alice;
let bob;
let room;

before(async () => {
  room = (await stack.group(['alice', 'bob'], { name: 'welcome' })).id;
  alice = await openClient(browser, stack, 'alice');
  bob = await openClient(browser, stack, 'bob');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

/** Every article's text on `client`'s page, each message id once, and no pending one left. */
async function assertEachOnce(client, texts) {
  await eventually(async () => {
    const shown = await client.shown();
    const ids = shown.map((m) => m.id);
    assert.equal(new Set(ids).size, ids.length, `${client.up} shows a message twice: ${JSON.stringify(shown)}`);
    assert.ok(shown.every((m) => m.id && m.state !== 'pending'), `${client.up}: ${JSON.stringify(shown)}`);
    for (const text of texts) {
      assert.equal(shown.filter((m) => m.text === text).length, 1, `${client.up} shows "${text}" once: ${JSON.stringify(shown)}`);
    }
  }, 20_000, 200);
}

stack.test('after a chat-server restart, messages, edits and deletes made meanwhile appear, each once', async () => {
  await alice.open('welcome');
  await bob.open('welcome');
  await alice.send('before the restart');
  await alice.send('to be edited');
  await alice.send('to be deleted');
  await bob.waitForText('to be deleted');
  const ids = Object.fromEntries(await Promise.all(['to be edited', 'to be deleted']
    .map(async (text) => [text, await alice.article(text).getAttribute('data-id')])));

  await stack.stopChat('SIGTERM');
  await alice.status.getByText('Reconnecting…', { exact: true }).waitFor({ timeout: SHOWN_MS });
  await bob.status.getByText('Reconnecting…', { exact: true }).waitFor({ timeout: SHOWN_MS });

  // Bob writes while the server is down: pending until it is back.
  await bob.send('sent while the server was down');
  assert.equal(await bob.article('sent while the server was down').getAttribute('data-state'), 'pending');
  // Elsewhere (another node, another device), the conversation goes on.
  const stored = async (method, route, body) => {
    const { status } = await stack.store(method, route, body);
    assert.ok(status === 200 || status === 201, `${method} ${route}: ${status}`);
  };
  await stored('POST', '/message', { group: room, from: 'bob', message: 'stored while alice was away' });
  await stored('PATCH', `/message/${ids['to be edited']}`, { from: 'alice', message: 'edited while away' });
  await stored('DELETE', `/message/${ids['to be deleted']}?from=alice`);

  await stack.startNode(0);
  await alice.status.getByText('Reconnecting…').waitFor({ state: 'hidden', timeout: 20_000 });
  await bob.status.getByText('Reconnecting…').waitFor({ state: 'hidden', timeout: 20_000 });

  const texts = ['before the restart', 'sent while the server was down', 'stored while alice was away', 'edited while away'];
  for (const client of [alice, bob]) {
    await assertEachOnce(client, texts);
    assert.equal(await client.article('to be edited').count(), 0);
    const deleted = client.region.locator(`article[data-id="${ids['to be deleted']}"]`);
    assert.equal(await deleted.getAttribute('data-state'), 'deleted');
    assert.equal(await client.article('edited while away').locator('.edited').count(), 1);
  }
  // Stored once: the retry with the same nonce did not store it twice.
  const page = await stack.rest(`/chat/${room}/message?perPage=100`, { up: 'alice' });
  assert.equal(page.body.items.filter((m) => m.message === 'sent while the server was down').length, 1);
  alice.assertNoProblems();
  bob.assertNoProblems();
}, { timeout: 90_000 });

stack.test('after the restart, live messages flow both ways again', async () => {
  await alice.send('back to normal');
  await bob.waitForText('back to normal');
  await bob.send('indeed');
  await alice.waitForText('indeed');
});
