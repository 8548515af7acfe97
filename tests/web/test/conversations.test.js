// Names, replies and mentions in the real client, two users in two browser
// contexts: a name set in one tab shows in the other, a reply quotes its
// original (following its edit, and jumping to it when clicked, older
// pages loaded as needed), and `@` completes a member whose mention is
// marked for them and counted in their group list.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
const HISTORY = 70;
let alice;
let bob;
let groups;

before(async () => {
  groups = {
    club: await stack.group(['alice', 'bob'], { name: 'club' }),
    quiet: await stack.group(['alice', 'bob'], { name: 'quiet' }),
  };
  const old = await stack.store('POST', '/message', { group: groups.club.id, from: 'alice', message: 'the very first one' });
  assert.equal(old.status, 201);
  groups.first = old.body;
  for (let i = 1; i <= HISTORY; i += 1) {
    const { status } = await stack.store('POST', '/message', { group: groups.club.id, from: 'bob', message: `filler ${i}` });
    assert.equal(status, 201);
  }
  alice = await openClient(browser, stack, 'alice');
  bob = await openClient(browser, stack, 'bob');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

stack.test('a name set in one tab shows on the other user\'s screen, live', async () => {
  await bob.open('club');
  await alice.page.getByRole('button', { name: 'alice: change your name' }).click();
  await alice.page.getByRole('textbox', { name: 'Your name' }).fill('  Ana Sousa ');
  await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
  await alice.page.getByRole('button', { name: 'Ana Sousa: change your name' }).waitFor({ timeout: SHOWN_MS });

  // Bob's page learns it from `user updated`, without a reload.
  await eventually(async () => {
    const senders = (await bob.shown()).filter((m) => m.text === 'the very first one').map((m) => m.sender);
    assert.ok(senders.length === 0 || senders.every((s) => s === 'Ana Sousa'), JSON.stringify(senders));
  }, SHOWN_MS);
  await alice.open('club');
  await alice.send('lunch at noon?');
  await bob.waitForText('lunch at noon?');
  assert.equal(await bob.article('lunch at noon?').locator('.sender').textContent(), 'Ana Sousa');
  // A bad name is refused with the server's words, and the name stays.
  await alice.page.getByRole('button', { name: 'Ana Sousa: change your name' }).click();
  await alice.page.getByRole('textbox', { name: 'Your name' }).fill('x'.repeat(70));
  await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
  // The field's maxlength keeps 64 characters: accepted. The server's own
  // refusal is for control characters, which a text field cannot hold.
  await alice.page.getByRole('button', { name: `${'x'.repeat(64)}: change your name` }).waitFor({ timeout: SHOWN_MS });
  await alice.page.getByRole('button', { name: `${'x'.repeat(64)}: change your name` }).click();
  await alice.page.getByRole('textbox', { name: 'Your name' }).fill('Ana Sousa');
  await alice.page.getByRole('button', { name: 'Save', exact: true }).click();
  await alice.page.getByRole('button', { name: 'Ana Sousa: change your name' }).waitFor({ timeout: SHOWN_MS });
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('a reply quotes its original, follows its edit, and the quote leads to the original', async () => {
  await alice.open('club');
  await bob.open('club');
  await bob.waitForText('lunch at noon?');
  await bob.act('lunch at noon?', 'Reply');
  await bob.page.getByText('Replying to Ana Sousa').waitFor({ timeout: SHOWN_MS });
  await bob.send('yes, see you');
  const quoteOf = (client, text) => client.article(text).locator('.quote');
  await alice.waitForText('yes, see you');
  assert.equal(await quoteOf(alice, 'yes, see you').textContent(), 'In reply to Ana Sousa: lunch at noon?');
  assert.equal(await bob.page.getByText('Replying to').count(), 0, 'the reply bar is gone once sent');

  await alice.act('lunch at noon?', 'Edit');
  const editor = alice.page.getByRole('textbox', { name: 'Edit message' });
  await editor.fill('lunch at one?');
  await editor.press('Enter');
  await eventually(async () => assert.match(await quoteOf(bob, 'yes, see you').textContent(), /lunch at one\?$/), SHOWN_MS);

  // A reply to a message far back: following its quote loads older pages.
  const { status } = await stack.store('POST', '/message', {
    group: groups.club.id, from: 'bob', message: 'about that first one', replyTo: groups.first.id,
  });
  assert.equal(status, 201);
  await alice.waitForText('about that first one');
  assert.equal(await alice.article('the very first one').count(), 0, 'the original is not loaded yet');
  await quoteOf(alice, 'about that first one').click();
  await eventually(async () => {
    const focused = await alice.page.evaluate(() => document.activeElement?.querySelector('.text')?.textContent);
    assert.equal(focused, 'the very first one');
  }, SHOWN_MS);
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('@ completes a member, whose mention is marked for them and counted in their list', async () => {
  await alice.open('quiet');
  await bob.open('quiet');
  await bob.box.fill('hey @An');
  const option = bob.page.getByRole('option', { name: /Ana Sousa/ });
  await option.waitFor({ timeout: SHOWN_MS });
  await bob.box.press('Enter');
  assert.equal(await bob.box.inputValue(), 'hey @alice ', 'Enter chooses the member, it does not send');
  await bob.box.pressSequentially('are you in?');
  await bob.box.press('Enter');
  await alice.waitForText('hey @Ana Sousa are you in?');
  const mention = alice.article('hey @Ana Sousa are you in?').locator('.mention.me');
  assert.equal(await mention.textContent(), '@Ana Sousa');

  // In another group, a mention shows in the list until it is read.
  await alice.open('club');
  await bob.send('@alice one more thing');
  const quietButton = alice.nav.getByRole('button', { name: /^quiet, 1 unread, 1 mentioning you$/ });
  await quietButton.waitFor({ timeout: SHOWN_MS });
  await quietButton.click();
  await alice.nav.getByRole('button', { name: /^quiet$/ }).waitFor({ timeout: SHOWN_MS });
  alice.assertNoProblems();
  bob.assertNoProblems();
});
