// The web client's search (docs/web-client.md#search): the Search box of
// the top bar, results with the group, the sender, the time and the text
// with the matched words in <mark>, used with the keyboard; a result opens
// its conversation, loading older pages until the message is there, and
// shows it highlighted and in focus.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';

const stack = await startStack();
const browser = await startBrowser();
const FILLER = 90;
let alice;
let groups;

async function store(group, from, message) {
  const { status, body } = await stack.store('POST', '/message', { group: group.id, from, message });
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

before(async () => {
  groups = {
    archive: await stack.group(['alice', 'bob'], { name: 'archive' }),
    welcome: await stack.group(['alice', 'bob'], { name: 'welcome' }),
    elsewhere: await stack.group(['bob'], { name: 'elsewhere' }),
  };
  // The oldest message of a long conversation: three pages back.
  await store(groups.archive, 'bob', 'The secret Recipe is café au lait');
  for (let i = 1; i <= FILLER; i += 1) await store(groups.archive, 'alice', `filler ${i}`);
  await store(groups.elsewhere, 'bob', 'a recipe alice cannot see');
  await store(groups.welcome, 'bob', 'Recipe for tonight: soup');
  alice = await openClient(browser, stack, 'alice');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

stack.test('the Search box finds words in every group, newest first, with the words marked', async () => {
  const { page } = alice;
  const box = page.getByRole('searchbox', { name: 'Search' });
  await box.fill('RECIPE');
  await box.press('Enter');
  const results = page.getByRole('region', { name: 'Search results' });
  const hits = results.getByRole('button', { name: /recipe/i });
  await eventually(async () => assert.equal(await hits.count(), 2), SHOWN_MS);
  const shown = await results.evaluate((panel) => [...panel.querySelectorAll('.search-hit')].map((hit) => ({
    group: hit.querySelector('.search-group').textContent,
    from: hit.querySelector('.search-from').textContent,
    time: hit.querySelector('time').getAttribute('datetime'),
    text: hit.querySelector('.search-text').textContent,
    marked: [...hit.querySelectorAll('mark')].map((mark) => mark.textContent),
  })));
  assert.deepEqual(shown.map(({ group, from, text, marked }) => ({ group, from, text, marked })), [
    { group: 'welcome', from: 'bob', text: 'Recipe for tonight: soup', marked: ['Recipe'] },
    { group: 'archive', from: 'bob', text: 'The secret Recipe is café au lait', marked: ['Recipe'] },
  ]);
  assert.ok(shown.every(({ time }) => !Number.isNaN(Date.parse(time))), 'each result has its time');
  assert.match(await results.textContent(), /2 messages found/);

  // Accents and case do not matter; two words must both be there.
  await box.fill('Cafe recipe');
  await box.press('Enter');
  await eventually(async () => assert.equal(await results.locator('.search-hit').count(), 1), SHOWN_MS);
  assert.deepEqual(await results.locator('mark').allTextContents(), ['Recipe', 'café']);

  await box.fill('nothing like this');
  await box.press('Enter');
  await eventually(async () => assert.match(await results.textContent(), /No messages found/), SHOWN_MS);
  await box.press('Escape');
  assert.equal(await results.isHidden(), true);
  alice.assertNoProblems();
});

stack.test('a result chosen with the keyboard opens its conversation at the message, loading older pages', async () => {
  const { page } = alice;
  const box = page.getByRole('searchbox', { name: 'Search' });
  await box.fill('recipe');
  await box.press('Enter');
  const results = page.getByRole('region', { name: 'Search results' });
  await eventually(async () => assert.equal(await results.locator('.search-hit').count(), 2), SHOWN_MS);

  await box.press('ArrowDown');
  await box.page().keyboard.press('ArrowDown');
  const focused = await page.evaluate(() => document.activeElement.querySelector('.search-text')?.textContent);
  assert.equal(focused, 'The secret Recipe is café au lait');
  await page.keyboard.press('Enter');

  await page.getByRole('heading', { name: 'archive', exact: true, level: 2 }).waitFor({ timeout: SHOWN_MS });
  assert.equal(await results.isHidden(), true);
  const target = alice.article('The secret Recipe is café au lait');
  await target.waitFor({ timeout: 20_000 });
  await eventually(async () => {
    const state = await target.evaluate((article) => {
      const box = article.getBoundingClientRect();
      const region = article.closest('#messages').getBoundingClientRect();
      return {
        focused: document.activeElement === article,
        marked: article.classList.contains('flash'),
        visible: box.top >= region.top - 1 && box.bottom <= region.bottom + 1,
      };
    });
    assert.deepEqual(state, { focused: true, marked: true, visible: true });
  }, SHOWN_MS);
  // Older pages were loaded to reach it: the whole conversation is there.
  assert.equal(await alice.articles.count(), FILLER + 1);
  alice.assertNoProblems();
});

stack.test('the search can be narrowed to the open conversation', async () => {
  const { page } = alice;
  await alice.open('welcome');
  const box = page.getByRole('searchbox', { name: 'Search' });
  await box.focus();
  await page.getByRole('combobox', { name: 'Search in' }).selectOption({ label: 'welcome' });
  await box.fill('recipe');
  await box.press('Enter');
  const results = page.getByRole('region', { name: 'Search results' });
  await eventually(async () => assert.match(await results.textContent(), /1 message found/), SHOWN_MS);
  assert.deepEqual(await results.locator('.search-text').allTextContents(), ['Recipe for tonight: soup']);
  await box.press('Escape');
  alice.assertNoProblems();
});
