// Two users in two browser contexts of the real client: messages (pending,
// then acked), unread counts, history on scroll-up, typing, reactions,
// edits and deletes, direct messages and a kick, each seen by the other.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { connected, startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
const HISTORY = 75;
let alice;
let bob;
let groups;

before(async () => {
  groups = {
    welcome: await stack.group(['alice', 'bob'], { name: 'welcome' }),
    study: await stack.group(['alice', 'bob'], { name: 'study' }),
    history: await stack.group(['alice', 'bob'], { name: 'history' }),
    moderated: await stack.group(['alice', 'bob'], { name: 'moderated', admins: ['alice'] }),
  };
  for (let i = 1; i <= HISTORY; i += 1) {
    const { status } = await stack.store('POST', '/message', { group: groups.history.id, from: 'alice', message: `h-${i}` });
    assert.equal(status, 201);
  }
  alice = await openClient(browser, stack, 'alice');
  bob = await openClient(browser, stack, 'bob');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

stack.test('a message shows at once as pending, then acked, and reaches the other user', async () => {
  await alice.open('welcome');
  await bob.open('welcome');
  // Record every state the sender's article goes through.
  await alice.region.evaluate((region) => {
    window.seenStates = [];
    new MutationObserver(() => {
      for (const a of region.querySelectorAll('article')) {
        if (a.textContent.includes('hello bob') && window.seenStates.at(-1) !== a.dataset.state) window.seenStates.push(a.dataset.state);
      }
    }).observe(region, { subtree: true, childList: true, attributes: true });
  });
  await alice.send('hello bob');
  await eventually(async () => assert.equal((await alice.article('hello bob').getAttribute('data-state')), 'sent'), SHOWN_MS);
  assert.deepEqual(await alice.page.evaluate(() => window.seenStates), ['pending', 'sent']);
  assert.equal(await alice.box.inputValue(), '');

  await bob.waitForText('hello bob');
  assert.match(await bob.article('hello bob').locator('.sender').textContent(), /^alice$/);
  // The Send button works as well as Enter.
  await bob.box.fill('hi alice');
  await bob.sendButton.click();
  await alice.waitForText('hi alice');
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('a message the server refuses is shown as not sent, with Retry, Edit and Discard', async () => {
  await alice.open('welcome');
  const long = 'x'.repeat(4001);
  await alice.send(long);
  const failed = alice.articles.filter({ has: alice.page.getByText(/^Not sent: .*over the limit of 4000/) });
  await failed.waitFor({ timeout: SHOWN_MS });
  assert.equal(await failed.getAttribute('data-state'), 'failed');
  await failed.getByRole('button', { name: 'Retry' }).click();
  await alice.page.getByText(/^Not sent: .*over the limit/).waitFor({ timeout: SHOWN_MS });
  // Edit puts the text back in the box; it is not sent.
  await alice.articles.filter({ hasText: 'Not sent' }).getByRole('button', { name: 'Edit' }).click();
  assert.equal(await alice.box.inputValue(), long);
  assert.equal(await alice.articles.filter({ hasText: 'Not sent' }).count(), 0);
  await alice.box.fill('x'.repeat(10));
  await alice.box.press('Enter');
  await alice.waitForText('x'.repeat(10));
  await alice.send(long);
  await alice.articles.filter({ hasText: 'Not sent' }).getByRole('button', { name: 'Discard' }).click();
  assert.equal(await alice.articles.filter({ hasText: 'Not sent' }).count(), 0);
  assert.equal(await alice.box.inputValue(), '');
});

stack.test('unread counts follow messages and reads, and come from the server after a reload', async () => {
  await alice.open('study');
  await bob.open('welcome');
  await alice.send('study 1');
  await alice.send('study 2');
  await bob.nav.getByRole('button', { name: 'study, 2 unread' }).waitFor({ timeout: SHOWN_MS });
  await bob.page.reload();
  await bob.nav.getByRole('button', { name: 'study, 2 unread' }).waitFor({ timeout: SHOWN_MS });
  await bob.open('study');
  await bob.waitForText('study 2');
  await bob.nav.getByRole('button', { name: 'study', exact: true }).waitFor({ timeout: SHOWN_MS });
  await bob.page.reload();
  await bob.nav.getByRole('button', { name: 'study', exact: true }).waitFor({ timeout: SHOWN_MS });
  // The read mark reached alice.
  await alice.page.getByText('Seen by bob').waitFor({ timeout: SHOWN_MS });
});

stack.test('older history loads on scroll-up, each message once, in order', async () => {
  await bob.open('history');
  await bob.waitForText(`h-${HISTORY}`);
  const first = await bob.shown();
  assert.ok(first.length < HISTORY, `${first.length} shown at first`);
  await eventually(async () => {
    await bob.region.hover();
    await bob.page.mouse.wheel(0, -20_000);
    const texts = (await bob.shown()).map((m) => m.text);
    assert.deepEqual(texts, Array.from({ length: HISTORY }, (_, i) => `h-${i + 1}`));
  }, 20_000, 300);
  await bob.page.getByText('This is the beginning of the conversation.').waitFor();
});

stack.test('typing shows on the other side while the user types', async () => {
  await alice.open('welcome');
  await bob.open('welcome');
  await alice.box.pressSequentially('I am writ');
  const typing = bob.page.getByText('alice is typing…');
  await typing.waitFor({ timeout: SHOWN_MS });
  await alice.box.fill('');
  await alice.box.dispatchEvent('input');
  await typing.waitFor({ state: 'hidden', timeout: SHOWN_MS });
});

stack.test('a reaction, an edit and a delete are seen by the other user', async () => {
  await alice.open('welcome');
  await bob.open('welcome');
  await alice.send('see you at 10');
  await bob.waitForText('see you at 10');
  // Only the author may edit or delete.
  await bob.article('see you at 10').hover();
  assert.equal(await bob.article('see you at 10').getByRole('button', { name: 'Edit' }).count(), 0);

  await bob.act('see you at 10', 'React');
  await bob.article('see you at 10').getByRole('button', { name: 'React with 👍' }).click();
  await alice.article('see you at 10').getByRole('button', { name: /^👍 1/ }).waitFor({ timeout: SHOWN_MS });

  const id = await alice.article('see you at 10').getAttribute('data-id');
  await alice.act('see you at 10', 'Edit');
  const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
  await editor.fill('see you at 11');
  await editor.press('Enter');
  await bob.waitForText('see you at 11');
  assert.equal(await bob.article('see you at 11').locator('.edited').textContent(), 'edited');
  assert.equal(await bob.article('see you at 10').count(), 0);

  await alice.act('see you at 11', 'Delete');
  await alice.page.getByRole('button', { name: 'Delete', exact: true }).last().click();
  const deleted = bob.region.locator(`article[data-id="${id}"]`);
  await deleted.getByText('Message deleted', { exact: true }).waitFor({ timeout: SHOWN_MS });
  assert.equal(await deleted.getAttribute('data-state'), 'deleted');
  assert.equal(await bob.article('see you at 11').count(), 0);
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('a direct message started with a user id reaches that user, who can answer', async () => {
  await alice.page.getByLabel('New direct message').fill('bob');
  await alice.page.getByRole('button', { name: 'Start' }).click();
  await alice.page.getByRole('heading', { name: 'bob', level: 2 }).waitFor();
  await alice.send('psst, bob');
  await eventually(async () => assert.equal(await alice.article('psst, bob').getAttribute('data-state'), 'sent'), SHOWN_MS);

  await bob.nav.getByRole('button', { name: 'alice, 1 unread' }).waitFor({ timeout: SHOWN_MS });
  await bob.open('alice');
  await bob.waitForText('psst, bob');
  await bob.send('what is it?');
  await alice.waitForText('what is it?');
  // The direct conversation is one entry on each side.
  assert.equal(await alice.group('bob').count(), 1);
  assert.equal(await bob.group('alice').count(), 1);
});

stack.test('a user removed from a group is told, and the group leaves their list', async () => {
  await bob.group('moderated').waitFor();
  const admin = await connected(await stack.socket('alice'));
  const answer = await admin.timeout(5000).emitWithAck('kick', { room: groups.moderated.id, up: 'bob' });
  assert.deepEqual(answer, { data: {} });
  await bob.page.getByText('You were removed from “moderated”.').waitFor({ timeout: SHOWN_MS });
  await bob.group('moderated').waitFor({ state: 'detached' });
  admin.disconnect();
});
