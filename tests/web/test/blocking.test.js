// Blocking and hiding one's presence in the real client: `Block` on a
// direct conversation refuses the other user's messages and hides the
// blocker's presence from them; `Unblock` undoes it; "Show when I'm
// online" hides the user from everyone. Both controls are used with the
// keyboard.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
let alice;
let bob;

before(async () => {
  await stack.group(['alice', 'bob'], { name: 'team' });
  alice = await openClient(browser, stack, 'alice');
  bob = await openClient(browser, stack, 'bob');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

/** What the open conversation's header says about presence. */
const header = (client) => client.page.locator('#conversation-members');

async function says(client, text) {
  await eventually(async () => assert.equal(await header(client).textContent(), text), SHOWN_MS);
}

/** Presses `key` on the control named `name` (a button or a checkbox). */
async function press(client, role, name, key) {
  const control = client.page.getByRole(role, { name, exact: true });
  await control.focus();
  await client.page.keyboard.press(key);
}

stack.test('a blocked user\'s message is refused, and the blocker\'s presence is hidden from them until unblocked', async () => {
  await bob.page.getByLabel('New direct message').fill('alice');
  await bob.page.getByRole('button', { name: 'Start' }).click();
  await bob.page.getByRole('heading', { name: 'alice', level: 2 }).waitFor({ timeout: SHOWN_MS });
  await bob.send('hi alice');
  await alice.nav.getByRole('button', { name: 'bob, 1 unread' }).waitFor({ timeout: SHOWN_MS });
  await alice.open('bob');
  await alice.waitForText('hi alice');
  await bob.open('team');
  await says(bob, '2 members, 2 online');
  await bob.open('alice');
  await says(bob, 'online');
  assert.equal(await bob.page.getByRole('button', { name: 'Block', exact: true }).isVisible(), true);

  await press(alice, 'button', 'Block', 'Enter');
  await alice.page.getByRole('button', { name: 'Unblock', exact: true }).waitFor({ timeout: SHOWN_MS });
  assert.equal(await alice.box.isDisabled(), true, 'the blocker cannot write either');
  await alice.page.getByText('You blocked bob.', { exact: false }).first().waitFor({ timeout: SHOWN_MS });

  await bob.send('are you there?');
  await bob.page.getByText(/^Not sent: bob cannot write to alice/).waitFor({ timeout: SHOWN_MS });
  await bob.page.waitForTimeout(500);
  assert.equal(await alice.article('are you there?').count(), 0, 'nothing reached the blocker');

  // Alice leaves and comes back: bob's client hears nothing, and asking
  // (opening the conversation again) does not show her either.
  await alice.close();
  alice = await openClient(browser, stack, 'alice');
  await bob.open('team');
  await says(bob, '2 members, 1 online');
  await bob.open('alice');
  await says(bob, 'direct message');

  await alice.open('bob');
  await press(alice, 'button', 'Unblock', 'Enter');
  await alice.page.getByRole('button', { name: 'Block', exact: true }).waitFor({ timeout: SHOWN_MS });
  assert.equal(await alice.box.isDisabled(), false);
  await bob.open('team');
  await says(bob, '2 members, 2 online');
  await bob.open('alice');
  await says(bob, 'online');
  await bob.send('friends again?');
  await alice.waitForText('friends again?');
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('"Show when I\'m online" unchecked hides the user from everyone, also after a reload, until checked again', async () => {
  await bob.open('team');
  await says(bob, '2 members, 2 online');
  const toggle = alice.page.getByRole('checkbox', { name: 'Show when I\'m online', exact: true });
  assert.equal(await toggle.isChecked(), true);

  await press(alice, 'checkbox', 'Show when I\'m online', 'Space');
  await says(bob, '2 members, 1 online');
  await eventually(async () => assert.equal(await toggle.isChecked(), false), SHOWN_MS);

  await alice.page.reload();
  await alice.nav.waitFor({ timeout: SHOWN_MS });
  const reloaded = alice.page.getByRole('checkbox', { name: 'Show when I\'m online', exact: true });
  await eventually(async () => assert.equal(await reloaded.isChecked(), false, 'the setting is stored'), SHOWN_MS);
  await bob.open('alice');
  await says(bob, 'direct message');
  await bob.open('team');
  await says(bob, '2 members, 1 online');

  await press(alice, 'checkbox', 'Show when I\'m online', 'Space');
  await says(bob, '2 members, 2 online');
  alice.assertNoProblems();
  bob.assertNoProblems();
});
