// What another service changes through the store API reaches an open tab
// of the real client: a group it is added to appears in the list, a message
// posted through the store shows in the open conversation, an edit through
// the store replaces its text, and a removal takes the group away.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
let alice;

before(async () => {
  await stack.group(['alice', 'bob'], { name: 'lobby' });
  alice = await openClient(browser, stack, 'alice');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

stack.test('a tab follows the store: added to a group, a posted message, an edit, and a removal', async () => {
  const course = await stack.group(['bob'], { name: 'course announcements' });
  assert.equal(await alice.group('course announcements').count(), 0, 'not a member yet');

  const joined = await stack.store('POST', `/group/${course.id}/users`, { up: 'alice' });
  assert.equal(joined.status, 200);
  await alice.page.getByText('You were added to “course announcements”.').waitFor({ timeout: SHOWN_MS });
  await alice.open('course announcements');

  const posted = await stack.store('POST', '/message', { group: course.id, from: 'bob', message: 'Exam moved to Friday' });
  assert.equal(posted.status, 201);
  await alice.waitForText('Exam moved to Friday');
  assert.match(await alice.article('Exam moved to Friday').locator('.sender').textContent(), /^bob$/);

  const edited = await stack.store('PATCH', `/message/${posted.body.id}`, { from: 'bob', message: 'Exam moved to Monday' });
  assert.equal(edited.status, 200);
  await alice.waitForText('Exam moved to Monday');

  const left = await stack.store('DELETE', `/group/${course.id}/users/alice`);
  assert.equal(left.status, 200);
  await alice.page.getByText('You were removed from “course announcements”.').waitFor({ timeout: SHOWN_MS });
  await alice.group('course announcements').waitFor({ state: 'detached', timeout: SHOWN_MS });
  alice.assertNoProblems();
});
