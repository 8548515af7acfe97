// Signing in to the web client: a sign-in link (`/#token=`), the sign-in
// form (a field labelled Token), the token kept for the tab only, and a bad
// or expired token explained rather than a blank page.

import assert from 'node:assert/strict';
import { after } from 'node:test';
import { signJwt, startStack } from '../../js/test/harness.js';
import { openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
after(async () => {
  await browser.close();
  await stack.stop();
});
await stack.group(['alice', 'bob'], { name: 'welcome' });

const alert = (client) => client.page.locator('#sign-in-error');

stack.test('a sign-in link signs in, and the token leaves the address bar but stays for the tab', async () => {
  const alice = await openClient(browser, stack, 'alice');
  assert.equal(new URL(alice.page.url()).hash, '');
  await alice.group('welcome').waitFor();
  assert.ok(await alice.page.evaluate(() => sessionStorage.getItem('chat.token')));
  await alice.page.reload();
  await alice.group('welcome').waitFor({ timeout: SHOWN_MS });
  await alice.page.getByRole('button', { name: 'Sign out' }).click();
  await alice.page.getByLabel('Token').waitFor();
  assert.equal(await alice.page.evaluate(() => sessionStorage.getItem('chat.token')), null);
  alice.assertNoProblems();
  await alice.close();
});

stack.test('the sign-in form takes a pasted token', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${stack.chatUrl}/`);
  await page.getByLabel('Token').fill(await stack.token('bob'));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Groups' }).getByRole('button', { name: 'welcome' }).waitFor({ timeout: SHOWN_MS });
  await context.close();
});

stack.test('a token that is not a JWT is explained, and the link is still removed', async () => {
  const client = await openClient(browser, stack, 'alice', { token: 'not-a-token', signedIn: false });
  await alert(client).getByText(/not a token/).waitFor({ timeout: SHOWN_MS });
  assert.equal(new URL(client.page.url()).hash, '');
  assert.ok(await client.page.getByLabel('Token').isVisible());
  await client.close();
});

stack.test('an expired token is explained with its expiry', async () => {
  const token = signJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 3600 }, stack.jwtSecret);
  const client = await openClient(browser, stack, 'alice', { token, signedIn: false });
  await alert(client).getByText(/expired on/).waitFor({ timeout: SHOWN_MS });
  await client.close();
});

stack.test('a token the server refuses (401 from the gateway) is explained', async () => {
  const token = signJwt({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 3600 }, 'another-secret-another-secret-another');
  const client = await openClient(browser, stack, 'alice', { token, signedIn: false });
  await alert(client).getByText(/refused this token/).waitFor({ timeout: SHOWN_MS });
  assert.equal(await client.page.evaluate(() => sessionStorage.getItem('chat.token')), null);
  await client.close();
});
