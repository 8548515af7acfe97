// Accessibility of every view of the client, checked by axe-core (the npm
// package, pinned in package.json) with the WCAG 2.1 A and AA rules and
// axe's best practices: the sign-in page, the group list, a group
// conversation (reactions, an edited and a deleted message, read marks,
// typing, a message's actions, the reaction picker, the delete question,
// the edit form, a message not sent), a direct conversation, a new one, a
// conversation with files (thumbnails, file cards, the attached files'
// chips while uploading, uploaded and refused) and the image viewer, a long
// conversation before and after an older page loads (`Load older
// messages`, `Latest messages ↓`), names, replies and mentions (quotes,
// a mention of the reader, the name form, the reply bar and the `@`
// completion), and `Reconnecting…`. Each on a
// desktop and on a phone, in the light and the dark colour scheme; the
// test fails on any violation and prints each one.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { after, before } from 'node:test';
import { connected, startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';
import { pdf, png } from './files.js';

/** axe's own build, evaluated in the page: the page's CSP (`script-src 'self'`) refuses a script tag. */
const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const RULES = {
  runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  resultTypes: ['violations'],
};

const ME = 'up201905678';
const ANA = 'up201905679';
const RUI = 'up201900001';
const TIA = 'up201900003'; // the one user with a name
const LIMIT = 1024 * 1024;
const DEVICES = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, phone: true },
};

const stack = await startStack({
  chatEnv: { CHAT_MAX_ATTACHMENT_BYTES: String(LIMIT) },
  // The retention views sweep when the test asks, messages of any age.
  storeEnv: { STORE_RETENTION_SWEEP_SECONDS: '0', STORE_RETENTION_MIN_AGE_SECONDS: '0', STORE_RETENTION_PAUSE_MS: '0' },
});
const browser = await startBrowser();
const peers = {};
let leic;
let lastId;

/** A change through the store, which must succeed. */
async function change(method, route, body) {
  const { status } = await stack.store(method, route, body);
  assert.ok(status >= 200 && status < 300, `${method} ${route}: ${status}`);
}

before(async () => {
  const files = await stack.group([ME, ANA, RUI], { name: 'Algorithms' });
  await stack.message(files.id, RUI, 'The board after the lecture.', [await stack.upload(files.id, RUI, 'board.png', png(800, 500))]);
  await stack.message(files.id, RUI, 'And the slides.', [await stack.upload(files.id, RUI, 'slides.pdf', pdf('Slides'))]);
  await stack.message(files.id, ME, 'My notes.', [await stack.upload(files.id, ME, 'notes.pdf', pdf('Notes'))]);
  await stack.message(files.id, ME, '', [await stack.upload(files.id, ME, 'photo.png', png(300, 400))]);

  const long = await stack.group([ME, ANA], { name: 'Long thread' });
  for (let i = 1; i <= 45; i += 1) await stack.message(long.id, i % 2 ? ANA : ME, `Message number ${i}`);

  const direct = await stack.store('POST', '/group/direct', { users: [ANA, ME] });
  await stack.message(direct.body.id, ANA, 'Did you get the slides?');
  await stack.message(direct.body.id, ME, 'Yes, I will send them.');

  leic = await stack.group([ME, ANA, RUI], { name: 'LEIC 2nd year', admins: [ME] });
  await stack.message(leic.id, RUI, 'Has anyone started the assignment?');
  const theirs = await stack.message(leic.id, ANA, 'I did the first two exercises.');
  await change('PATCH', `/message/${theirs.id}`, { from: ANA, message: 'I did the first three exercises.' });
  const gone = await stack.message(leic.id, RUI, 'Wrong group, sorry.');
  await change('DELETE', `/message/${gone.id}?from=${RUI}`);
  const deadline = await stack.message(leic.id, ME, 'The deadline is Friday.');
  for (const up of [RUI, ANA, ME]) await change('POST', `/message/${deadline.id}/reactions`, { up, emoji: '👍' });
  await change('POST', `/message/${deadline.id}/reactions`, { up: ANA, emoji: '🎉' });
  const mine = await stack.message(leic.id, ME, 'See you in room B001.');
  await change('PATCH', `/message/${mine.id}`, { from: ME, message: 'See you in room B002.' });
  const oops = await stack.message(leic.id, ME, 'Oops, not this one.');
  await change('DELETE', `/message/${oops.id}?from=${ME}`);
  lastId = (await stack.message(leic.id, ME, 'I will bring my notes.')).id;
  await stack.message(leic.id, ANA, 'Thanks!');
  const talk = await stack.group([ME, TIA, RUI], { name: 'Weekend plans' });
  await change('POST', `/user/${TIA}`, { name: 'Tia Lopes' });
  const question = await stack.message(talk.id, TIA, 'Hiking on Saturday?');
  const dropped = await stack.message(talk.id, RUI, 'I cannot make it.');
  await change('POST', '/message', { group: talk.id, from: ME, message: `Count me in, @${TIA}!`, replyTo: question.id });
  await change('POST', '/message', { group: talk.id, from: TIA, message: 'Shame!', replyTo: dropped.id });
  await change('DELETE', `/message/${dropped.id}?from=${RUI}`);
  await change('POST', '/message', { group: talk.id, from: RUI, message: `@${ME} bring water` });
  for (const up of [ANA, RUI]) peers[up] = await connected(await stack.socket(up));
});

after(async () => {
  for (const socket of Object.values(peers)) socket.disconnect();
  await browser.close();
  await stack.stop();
});

/** Runs axe on `client`'s page once its transitions are over; its violations, one entry per element. */
async function violations(client, view) {
  const { page } = client;
  // Colours are checked as they end up, not halfway through a fade.
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((animation) => animation instanceof CSSTransition).map((animation) => animation.finished)));
  if (!await page.evaluate(() => 'axe' in window)) await page.evaluate(AXE);
  const found = await page.evaluate((rules) => window.axe.run(document, rules), RULES);
  return found.violations.flatMap((v) => v.nodes.map((node) => [
    `${view}: ${v.id} (${v.impact}): ${v.help}`,
    `    at ${node.target.join(' ')}`,
    `    ${node.failureSummary.replaceAll('\n', '\n    ')}`,
  ].join('\n')));
}

/** Checks each view that `walk` brings `client` to, and fails with all the violations at the end. */
async function checkViews(client, walk) {
  const found = [];
  const check = async (view) => found.push(...await violations(client, view));
  await walk(check);
  assert.equal(found.length, 0, `axe found violations:\n${found.join('\n')}`);
  client.assertNoProblems();
}

/** On a phone, back from a conversation to the group list (a desktop shows both). */
async function toList(client) {
  const back = client.page.getByRole('button', { name: 'Back to groups' });
  if (await back.isVisible()) {
    await back.click();
    await client.nav.waitFor();
  }
}

/** Opens group `name`; on a phone, from the group list. */
async function openGroup(client, name) {
  await toList(client);
  await client.open(name);
}

/** The buttons of a message, as a tap (or a click) on it shows them. */
async function showActions(client, text) {
  const article = client.article(text);
  await article.locator('.text').click();
  await eventually(async () => assert.equal(await article.locator('.actions').evaluate((el) => getComputedStyle(el).opacity), '1'), SHOWN_MS);
  return article;
}

const attachButton = (client) => client.page.getByRole('button', { name: 'Attach a file', exact: true });
const tray = (client) => client.page.getByRole('list', { name: 'Attachments' });

for (const [device, options] of Object.entries(DEVICES)) {
  for (const colorScheme of ['light', 'dark']) {
    const opening = { ...options, colorScheme };

    stack.test(`the sign-in page, ${device}, ${colorScheme}`, async () => {
      const client = await openClient(browser, stack, ME, { ...opening, token: '', signedIn: false });
      await checkViews(client, async (check) => {
        await client.page.getByLabel('Token').waitFor({ timeout: SHOWN_MS });
        await check('the sign-in form');
        await client.page.getByLabel('Token').fill('not-a-token');
        await client.page.getByRole('button', { name: 'Sign in' }).click();
        await client.page.getByRole('alert').getByText(/not a token/).waitFor({ timeout: SHOWN_MS });
        await check('the sign-in form with an error');
      });
      await client.close();
    });

    stack.test(`the group list and a group conversation, ${device}, ${colorScheme}`, async () => {
      const client = await openClient(browser, stack, ME, opening);
      await checkViews(client, async (check) => {
        await client.group('LEIC 2nd year').waitFor({ timeout: SHOWN_MS });
        await check('the group list, no conversation open');
        await client.page.getByLabel('New direct message').fill(ME);
        await client.page.getByRole('button', { name: 'Start', exact: true }).click();
        await client.page.getByText('That is you').waitFor({ timeout: SHOWN_MS });
        await check('the group list, a refused user id');

        await openGroup(client, 'LEIC 2nd year');
        await client.waitForText('Thanks!');
        await client.page.getByText('Message deleted').first().waitFor();
        await peers[RUI].timeout(5000).emitWithAck('read', { room: leic.id, messageId: lastId });
        await peers[ANA].timeout(5000).emitWithAck('typing', { room: leic.id, typing: true });
        await client.page.getByText(`${ANA} is typing…`).waitFor({ timeout: SHOWN_MS });
        await client.page.getByText(`Seen by ${RUI}`).waitFor({ timeout: SHOWN_MS });
        await client.page.mouse.move(0, 0);
        await check('a group conversation: reactions, edited and deleted messages, read marks, typing');

        const theirs = await showActions(client, 'I did the first three exercises.');
        await check('the buttons of another user’s message');
        await theirs.getByRole('button', { name: 'React', exact: true }).click();
        await theirs.getByRole('group', { name: 'Reactions' }).waitFor();
        await check('the reaction picker');
        await client.page.keyboard.press('Escape');

        const mine = await showActions(client, 'The deadline is Friday.');
        await check('the buttons of one’s own message');
        await mine.getByRole('button', { name: 'Delete', exact: true }).click();
        await mine.getByText('Delete this message?').waitFor();
        await check('the question before a delete');
        await mine.getByRole('button', { name: 'Keep', exact: true }).click();
        await (await showActions(client, 'The deadline is Friday.')).getByRole('button', { name: 'Edit', exact: true }).click();
        await client.page.getByRole('textbox', { name: 'Edit message' }).waitFor();
        await check('editing a message');
        await client.page.keyboard.press('Escape');

        await client.send('x'.repeat(4001));
        await client.page.getByText(/^Not sent: /).waitFor({ timeout: SHOWN_MS });
        await client.page.mouse.move(0, 0);
        await check('a message not sent');
      });
      await client.close();
    }, { timeout: 60_000 }); // nine views

    stack.test(`direct conversations and an older page, ${device}, ${colorScheme}`, async () => {
      const client = await openClient(browser, stack, ME, opening);
      await checkViews(client, async (check) => {
        await openGroup(client, ANA);
        await client.waitForText('Yes, I will send them.');
        await client.page.getByText('online', { exact: true }).waitFor({ timeout: SHOWN_MS });
        await check('a direct conversation');

        await toList(client);
        await client.page.getByLabel('New direct message').fill('up202000042');
        await client.page.getByRole('button', { name: 'Start', exact: true }).click();
        await client.page.getByText('Say hello').waitFor({ timeout: SHOWN_MS });
        // The button is aria-disabled (Playwright does not click those); a click explains why.
        await attachButton(client).dispatchEvent('click');
        await client.page.getByText('Files can be attached once the conversation has started').waitFor({ timeout: SHOWN_MS });
        await check('a new direct conversation, with a notice');

        await openGroup(client, 'Long thread');
        await client.waitForText('Message number 45');
        await client.region.getByRole('button', { name: 'Load older messages' }).waitFor({ timeout: SHOWN_MS });
        await check('a long conversation, with older messages to load');
        // Scrolled to the top, the older page loads (a render may first take the view back down).
        await eventually(async () => {
          await client.region.evaluate((region) => { region.scrollTop = 0; });
          assert.ok(await client.page.getByText('This is the beginning of the conversation.').isVisible());
        }, SHOWN_MS, 200);
        await client.page.getByRole('button', { name: 'Latest messages ↓' }).waitFor({ timeout: SHOWN_MS });
        await check('an older page, with Latest messages');
      });
      await client.close();
    });

    stack.test(`names, replies and mentions, ${device}, ${colorScheme}`, async () => {
      const client = await openClient(browser, stack, ME, opening);
      await checkViews(client, async (check) => {
        await client.page.getByRole('button', { name: `${ME}: change your name` }).click();
        await client.page.getByRole('textbox', { name: 'Your name' }).waitFor();
        await check('the name form');
        await client.page.getByRole('button', { name: 'Cancel', exact: true }).click();

        await client.page.getByRole('searchbox', { name: 'Search' }).fill('hiking');
        await client.page.keyboard.press('Enter');
        const results = client.page.getByRole('region', { name: 'Search results' });
        await results.locator('mark', { hasText: 'Hiking' }).waitFor({ timeout: SHOWN_MS });
        await check('search results, the matched words marked');
        await client.page.keyboard.press('Escape');
        await results.waitFor({ state: 'hidden', timeout: SHOWN_MS });

        await openGroup(client, 'Weekend plans');
        await client.waitForText(`@${ME} bring water`);
        await client.region.getByText('In reply to Tia Lopes').first().waitFor({ timeout: SHOWN_MS });
        await client.page.mouse.move(0, 0);
        await check('a conversation with quotes (one of a deleted message) and mentions, one of the reader');

        const question = await showActions(client, 'Hiking on Saturday?');
        await question.getByRole('button', { name: 'Reply', exact: true }).click();
        await client.page.getByText('Replying to Tia Lopes').waitFor({ timeout: SHOWN_MS });
        await client.box.fill('Sure @Ti');
        await client.page.getByRole('option', { name: /Tia Lopes/ }).waitFor({ timeout: SHOWN_MS });
        await check('the reply bar and the members offered for a mention');
      });
      await client.close();
    }, { timeout: 60_000 }); // four views

    stack.test(`retention: the admins' form, and messages kept only on this device, ${device}, ${colorScheme}`, async () => {
      const name = `Short-lived, ${device}, ${colorScheme}`;
      const group = await stack.group([ME, ANA], { name, admins: [ME] });
      await stack.message(group.id, ANA, 'This will not last.');
      const last = await stack.message(group.id, ANA, 'Read it while you can.');
      await change('POST', `/group/${group.id}/read`, { up: ANA, messageId: last.id });
      const client = await openClient(browser, stack, ME, opening);
      await checkViews(client, async (check) => {
        await openGroup(client, name);
        await client.waitForText('Read it while you can.');
        await client.page.getByRole('button', { name: 'Change how long messages are kept' }).click();
        await client.page.getByRole('radio', { name: 'Delete once everyone has read them' }).check();
        await check('the retention form');
        await client.page.getByRole('spinbutton', { name: 'hours later' }).fill('0');
        await client.page.getByRole('button', { name: 'Save', exact: true }).click();
        await client.page.getByText('Nothing older is kept').waitFor({ timeout: SHOWN_MS });
        // Swept once the page has read them (and kept them on the device).
        await eventually(async () => {
          const { body } = await stack.store('POST', `/retention/sweep?group=${group.id}`);
          assert.ok((await stack.storedTexts(group.id)).length === 0, JSON.stringify(body));
        }, SHOWN_MS, 200);
        await client.page.reload();
        await client.page.locator('#app[data-connection="up"]').waitFor({ timeout: SHOWN_MS });
        await openGroup(client, name);
        await client.page.getByText('Older messages are kept only on this device').waitFor({ timeout: SHOWN_MS });
        await client.waitForText('Read it while you can.');
        await client.page.mouse.move(0, 0);
        await check('a conversation whose messages only this device keeps');
      });
      await client.close();
    });

    stack.test(`files, attached and in messages, and the image viewer, ${device}, ${colorScheme}`, async () => {
      const client = await openClient(browser, stack, ME, opening);
      client.page.on('filechooser', () => {});
      await checkViews(client, async (check) => {
        await openGroup(client, 'Algorithms');
        const image = client.region.getByRole('img', { name: 'board.png' });
        await eventually(async () => assert.ok(await image.evaluate((img) => img.complete && img.naturalWidth > 0)), SHOWN_MS);
        await client.region.getByRole('link', { name: /^Download slides\.pdf/ }).waitFor({ timeout: SHOWN_MS });

        // One upload held back by the test (in progress), one over the limit, two uploaded.
        let held;
        await client.page.route(/attachment\?name=slow/, (route) => { held = route; });
        const [chooser] = await Promise.all([client.page.waitForEvent('filechooser'), attachButton(client).click()]);
        await chooser.setFiles([
          { name: 'picture.png', mimeType: 'image/png', buffer: png(200, 100) },
          { name: 'draft.pdf', mimeType: 'application/pdf', buffer: pdf('Draft') },
          { name: 'huge.pdf', mimeType: 'application/pdf', buffer: Buffer.alloc(LIMIT + 1, 1) },
          { name: 'slow.pdf', mimeType: 'application/pdf', buffer: pdf('Slow') },
        ]);
        for (const name of ['picture.png', 'draft.pdf']) {
          await tray(client).getByRole('button', { name: `Remove ${name}`, exact: true }).waitFor({ timeout: SHOWN_MS });
        }
        await tray(client).getByRole('button', { name: 'Dismiss huge.pdf', exact: true }).waitFor({ timeout: SHOWN_MS });
        await tray(client).getByRole('progressbar', { name: 'Uploading slow.pdf' }).waitFor({ timeout: SHOWN_MS });
        await client.box.fill('With files');
        await client.page.mouse.move(0, 0);
        await check('a conversation with files, and files attached to the message being written');
        await held?.abort();

        await image.click();
        const viewer = client.page.getByRole('dialog', { name: 'board.png' });
        await viewer.waitFor({ timeout: SHOWN_MS });
        await eventually(async () => assert.ok(await viewer.getByRole('img').evaluate((img) => img.complete && img.naturalWidth > 0)), SHOWN_MS);
        await check('the image viewer');
        await viewer.getByRole('button', { name: 'Close' }).click();
      });
      await client.close();
    });
  }
}

// Last: the chat-server stops for good.
stack.test('Reconnecting…, on a desktop and a phone, light and dark', async () => {
  const clients = [];
  for (const [device, options] of Object.entries(DEVICES)) {
    for (const colorScheme of ['light', 'dark']) {
      const client = await openClient(browser, stack, ME, { ...options, colorScheme });
      await openGroup(client, 'LEIC 2nd year');
      await client.waitForText('Thanks!');
      clients.push([`${device}, ${colorScheme}`, client]);
    }
  }
  await stack.stopChat('SIGTERM');
  for (const [name, client] of clients) {
    await checkViews(client, async (check) => {
      await client.status.getByText('Reconnecting…', { exact: true }).waitFor({ timeout: SHOWN_MS });
      await client.page.mouse.move(0, 0);
      await check(`Reconnecting…, ${name}`);
    });
    await client.close();
  }
});
