// Retention in the real client (docs/web-client.md, Retention): an admin
// sets "Delete once everyone has read them" with the header's form (by
// keyboard), the other member's header follows live; once both have read
// the messages the store sweeps them, and after a reload the same device
// still shows them, from its archive, with a line saying where the
// server's history ends. Signing out forgets that archive.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack({
  storeEnv: {
    STORE_RETENTION_SWEEP_SECONDS: '0',
    STORE_RETENTION_MIN_AGE_SECONDS: '0',
    STORE_RETENTION_PAUSE_MS: '0',
  },
});
const browser = await startBrowser();
const UNTIL_READ = 'Messages are deleted from the server once everyone has read them';
const KEPT_HERE = 'Older messages are kept only on this device: the server no longer has them.';
let alice;
let bob;
let group;

before(async () => {
  group = await stack.group(['alice', 'bob'], { name: 'ephemeral', admins: ['alice'] });
  alice = await openClient(browser, stack, 'alice');
  bob = await openClient(browser, stack, 'bob');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

/** How many messages `client`'s device keeps in its archive. */
function keptOnDevice(client) {
  return client.page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open('chat-archive');
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('messages')) {
        db.close();
        resolve(0);
        return;
      }
      const count = db.transaction('messages').objectStore('messages').count();
      count.onsuccess = () => {
        db.close();
        resolve(count.result);
      };
    };
    open.onerror = () => resolve(-1);
  }));
}

const texts = async (client) => (await client.shown()).map((m) => m.text);

stack.test('an admin chooses "delete once everyone has read them" with the keyboard; the other member sees it', async () => {
  await alice.open('ephemeral');
  await bob.open('ephemeral');
  const line = (client) => client.page.locator('#retention-text');
  assert.equal(await line(alice).textContent(), 'Messages are kept forever');
  assert.equal(await bob.page.getByRole('button', { name: 'Change how long messages are kept' }).count(), 0,
    'only admins may change it');

  const change = alice.page.getByRole('button', { name: 'Change how long messages are kept' });
  await change.focus();
  await alice.page.keyboard.press('Enter');
  const forever = alice.page.getByRole('radio', { name: 'Forever' });
  assert.ok(await forever.isChecked());
  assert.ok(await forever.evaluate((el) => el === document.activeElement), 'the chosen option takes the focus');
  // Escape closes the form and gives the focus back.
  await alice.page.keyboard.press('Escape');
  assert.ok(await alice.page.locator('#retention-form').isHidden());
  assert.ok(await change.evaluate((el) => el === document.activeElement));

  await alice.page.keyboard.press('Enter');
  await alice.page.keyboard.press('ArrowDown'); // Delete after a number of days
  await alice.page.keyboard.press('ArrowDown'); // Delete once everyone has read them
  assert.ok(await alice.page.getByRole('radio', { name: 'Delete once everyone has read them' }).isChecked());
  const hours = alice.page.getByRole('spinbutton', { name: 'hours later' });
  await hours.fill('0');
  await hours.press('Enter');
  await eventually(async () => assert.equal(await line(alice).textContent(), UNTIL_READ), SHOWN_MS);
  await eventually(async () => assert.equal(await line(bob).textContent(), UNTIL_READ), SHOWN_MS);
  const stored = await stack.store('GET', `/group/${group.id}`);
  assert.deepEqual(stored.body.retention, { mode: 'untilRead', graceHours: 0 });

  // A number out of bounds is explained, and nothing is sent.
  await change.click();
  await alice.page.getByRole('radio', { name: 'Delete after a number of days' }).check();
  await alice.page.getByRole('spinbutton', { name: 'days' }).fill('0');
  await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
  await alice.page.getByText('Write a number of days from 1 to 3650.').waitFor({ timeout: SHOWN_MS });
  await alice.page.getByRole('button', { name: 'Cancel', exact: true }).click();
  assert.equal(await line(alice).textContent(), UNTIL_READ);
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('messages swept on the server still read the same on this device after a reload, below a line saying so', async () => {
  await alice.open('ephemeral');
  await bob.open('ephemeral');
  for (const text of ['first', 'second', 'third']) await alice.send(text);
  for (const text of ['first', 'second', 'third']) await bob.waitForText(text);
  await bob.act('second', 'React');
  await bob.page.getByRole('button', { name: 'React with 👍' }).click();
  await alice.article('second').getByRole('button', { name: /^👍 1/ }).waitFor({ timeout: SHOWN_MS });
  // Both have read all three (the sender's own, the reader's open page).
  await eventually(async () => {
    const { body } = await stack.store('GET', '/group/user/bob');
    assert.equal(body.items.find((g) => g.id === group.id).unread, 0);
  }, SHOWN_MS);
  await eventually(async () => assert.ok(await keptOnDevice(bob) >= 3), SHOWN_MS);
  // As the page shows them (three sends at once may be stored in any order).
  const shownBefore = await texts(bob);
  assert.deepEqual([...shownBefore].sort(), ['first', 'second', 'third']);
  const swept = await stack.store('POST', `/retention/sweep?group=${group.id}`);
  assert.equal(swept.body.messages, 3, JSON.stringify(swept.body));
  assert.deepEqual(await stack.storedTexts(group.id), [], 'the server holds none of them');

  await bob.page.reload();
  await bob.nav.waitFor({ timeout: SHOWN_MS });
  await bob.page.getByRole('heading', { name: 'ephemeral', level: 2 }).waitFor({ timeout: SHOWN_MS });
  await bob.waitForText('third');
  await eventually(async () => assert.deepEqual(await texts(bob), shownBefore), SHOWN_MS);
  await bob.page.getByText(KEPT_HERE).waitFor({ timeout: SHOWN_MS });
  const second = bob.article('second');
  assert.match(await second.locator('.reactions').textContent(), /👍 1/, 'its reaction too');
  assert.equal(await second.getByRole('button').count(), 0, 'nothing to do on a message the server no longer has');

  // New messages come below the line.
  await alice.send('fourth');
  await bob.waitForText('fourth');
  const order = await bob.region.evaluate((region) => [...region.querySelectorAll('article .text, .kept-here')]
    .map((el) => (el.classList.contains('kept-here') ? 'line' : el.textContent)));
  assert.deepEqual(order, [...shownBefore, 'line', 'fourth']);

  // A device without that archive (alice's is hers) shows what retention left.
  assert.equal(await alice.page.getByText(KEPT_HERE).count(), 0, 'alice never reloaded: she holds them in the page');
  bob.assertNoProblems();
});

stack.test('signing out forgets what the device kept', async () => {
  assert.ok(await keptOnDevice(bob) >= 3);
  await bob.page.getByRole('button', { name: 'Sign out', exact: true }).click();
  await bob.page.getByRole('textbox', { name: 'Token' }).waitFor({ timeout: SHOWN_MS });
  await eventually(async () => assert.equal(await keptOnDevice(bob), 0), SHOWN_MS);
  await bob.page.goto(`${stack.chatUrls[0]}/#token=${await stack.token('bob')}`);
  await bob.nav.waitFor({ timeout: SHOWN_MS });
  await bob.open('ephemeral');
  await bob.waitForText('fourth');
  await bob.page.getByText('Nothing older is kept: this group\'s messages are deleted once everyone has read them.')
    .waitFor({ timeout: SHOWN_MS });
  assert.deepEqual(await texts(bob), ['fourth'], 'nothing of the archive is left');
  assert.equal(await bob.page.getByText(KEPT_HERE).count(), 0);
  bob.assertNoProblems();
});
