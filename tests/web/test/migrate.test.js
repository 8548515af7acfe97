// A draining node moves the client: `migrate {url}` points the socket at
// another chat node (another origin: the page's CSP allows it, and the
// client goes there over WebSocket, as long-polling across origins would
// need CORS), the client reconnects there by itself and the conversation
// goes on.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack({ nodes: 2 });
const browser = await startBrowser();
let alice;
let bob;

before(async () => {
  await stack.group(['alice', 'bob'], { name: 'welcome' });
  alice = await openClient(browser, stack, 'alice', { node: 0 });
  bob = await openClient(browser, stack, 'bob', { node: 1 });
});

after(async () => {
  await browser.close();
  await stack.stop();
});

stack.test('a client of a draining node follows migrate to the other node and keeps chatting', async () => {
  await alice.open('welcome');
  await bob.open('welcome');
  await alice.send('on node 0');
  await bob.waitForText('on node 0');
  const sockets = [];
  alice.page.on('websocket', (ws) => sockets.push(ws.url()));

  await stack.stopNode(0, 'SIGTERM');
  await eventually(() => assert.ok(sockets.some((url) => url.startsWith(stack.chatUrls[1].replace('http', 'ws'))),
    `alice's sockets: ${sockets}`), 20_000, 200);
  await alice.status.getByText('Reconnecting…').waitFor({ state: 'hidden', timeout: SHOWN_MS });

  await bob.send('still here?');
  await alice.waitForText('still here?');
  await alice.send('yes, on node 1');
  await bob.waitForText('yes, on node 1');
  alice.assertNoProblems();
}, { timeout: 60_000 });
