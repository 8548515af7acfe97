// Files and images in messages, in two browser contexts of the real client
// (docs/web-client.md#files-and-images): one user attaches an image and a
// PDF (with the Attach button, the keyboard, a drop and a paste) and sends
// them; the other sees the thumbnail and the file card, opens the full
// image and downloads the PDF. An upload can be cancelled, and one over the
// server's limit is refused in words.

import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';
import { pdf, png } from './files.js';

const LIMIT = 1024 * 1024;
const stack = await startStack({ chatEnv: { CHAT_MAX_ATTACHMENT_BYTES: String(LIMIT) } });
const browser = await startBrowser();
const IMAGE = png(800, 500);
const PDF = pdf('Lecture notes');
let alice;
let bob;

before(async () => {
  await stack.group(['alice', 'bob'], { name: 'files' });
  alice = await openClient(browser, stack, 'alice');
  // Playwright intercepts file choosers while the page has a listener; one
  // that stays keeps it from being turned off and on between two choosers
  // (the second one could open natively, unseen).
  alice.page.on('filechooser', () => {});
  bob = await openClient(browser, stack, 'bob');
  await alice.open('files');
  await bob.open('files');
});

after(async () => {
  await browser.close();
  await stack.stop();
});

/** The composer's parts of a client. */
const attachButton = (client) => client.page.getByRole('button', { name: 'Attach a file', exact: true });
const tray = (client) => client.page.getByRole('list', { name: 'Attachments' });

/** Picks `files` ({name, mimeType, buffer}) through the Attach button's file chooser. */
async function attach(client, files, press = () => attachButton(client).click()) {
  const [chooser] = await Promise.all([client.page.waitForEvent('filechooser'), press()]);
  assert.equal(chooser.isMultiple(), true);
  await chooser.setFiles(files);
}

/** Waits until the chip of `name` is uploaded (its Remove button shows). */
async function uploaded(client, name) {
  await tray(client).getByRole('button', { name: `Remove ${name}`, exact: true }).waitFor({ timeout: SHOWN_MS });
}

/** Whether an `img` has loaded, and its natural width. */
const loaded = (img) => img.evaluate((el) => (el.complete && el.naturalWidth > 0 ? el.naturalWidth : 0));

stack.test('an image and a PDF reach the other user, who opens the image and downloads the PDF', async () => {
  await attach(alice, [
    { name: 'sunset.png', mimeType: 'image/png', buffer: IMAGE },
    { name: 'notes.pdf', mimeType: 'application/pdf', buffer: PDF },
  ]);
  await uploaded(alice, 'sunset.png');
  await uploaded(alice, 'notes.pdf');
  assert.equal(await tray(alice).getByRole('listitem').count(), 2);
  await alice.send('the photo and the notes');
  await eventually(async () => assert.equal(await alice.article('the photo and the notes').getAttribute('data-state'), 'sent'), SHOWN_MS);
  assert.equal(await tray(alice).isVisible(), false, 'the chips go with the message');

  // Bob sees a thumbnail (a signed link, no token in it) and a file card.
  const article = bob.article('the photo and the notes');
  await article.waitFor({ timeout: SHOWN_MS });
  const thumbnail = article.getByRole('img', { name: 'sunset.png', exact: true });
  await eventually(async () => assert.equal(await loaded(thumbnail), 320), SHOWN_MS);
  const src = await thumbnail.getAttribute('src');
  assert.match(src, /^\/chat\/attachment\/[0-9a-f]{24}\/thumbnail\?exp=\d+&sig=[0-9a-f]{64}$/);
  const token = await stack.token('bob');
  assert.ok(!src.includes(token.split('.')[1]), 'no JWT in an image URL');
  assert.match(await article.locator('.file-card').innerText(), new RegExp(`notes\\.pdf\\s+${PDF.length} bytes`));

  // The PDF downloads with its bytes, served as an attachment.
  const link = article.getByRole('link', { name: `Download notes.pdf, ${PDF.length} bytes`, exact: true });
  const [download] = await Promise.all([bob.page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'notes.pdf');
  assert.deepEqual(readFileSync(await download.path()), PDF);
  const res = await fetch(new URL(await link.getAttribute('href'), stack.chatUrl));
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/pdf');
  assert.match(res.headers.get('content-disposition'), /^attachment; filename="notes\.pdf"/);

  // The thumbnail opens the full image; Escape closes it, and the focus is back.
  const opener = article.getByRole('link', { name: 'sunset.png', exact: true });
  await opener.click();
  const viewer = bob.page.getByRole('dialog', { name: 'sunset.png' });
  await viewer.waitFor({ timeout: SHOWN_MS });
  await eventually(async () => assert.equal(await loaded(viewer.getByRole('img', { name: 'sunset.png' })), 800), SHOWN_MS);
  assert.match(await viewer.innerText(), /800 × 500/);
  await bob.page.keyboard.press('Escape');
  await viewer.waitFor({ state: 'hidden', timeout: SHOWN_MS });
  assert.equal(await opener.evaluate((el) => el === document.activeElement), true);

  // The same from the history: after a reload the page comes from the gateway.
  await bob.page.reload();
  await bob.nav.waitFor({ timeout: SHOWN_MS });
  await bob.open('files');
  const again = bob.article('the photo and the notes');
  await eventually(async () => assert.equal(await loaded(again.getByRole('img', { name: 'sunset.png' })), 320), SHOWN_MS);
  await again.getByRole('link', { name: /^Download notes\.pdf/ }).waitFor({ timeout: SHOWN_MS });
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('files attached with the keyboard, dropped and pasted are sent without text', async () => {
  // Keyboard: from the message box, Shift+Tab reaches Attach; Enter opens the chooser.
  await alice.box.focus();
  await alice.page.keyboard.press('Shift+Tab');
  assert.equal(await attachButton(alice).evaluate((el) => el === document.activeElement), true);
  await attach(alice, [{ name: 'keyboard.png', mimeType: 'image/png', buffer: png(40, 30) }], () => alice.page.keyboard.press('Enter'));
  await uploaded(alice, 'keyboard.png');

  // A file dropped on the conversation.
  const dropped = await alice.page.evaluateHandle((bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'dropped.pdf', { type: 'application/pdf' }));
    return data;
  }, [...PDF]);
  for (const type of ['dragenter', 'dragover']) await alice.region.dispatchEvent(type, { dataTransfer: dropped });
  assert.equal(await alice.page.locator('#conversation.dropping').count(), 1, 'the conversation shows it takes the files');
  await alice.region.dispatchEvent('drop', { dataTransfer: dropped });
  await uploaded(alice, 'dropped.pdf');

  // An image pasted into the message box (a screenshot's `image.png`).
  await alice.box.evaluate((box, bytes) => {
    const data = new DataTransfer();
    data.items.add(new File([new Uint8Array(bytes)], 'image.png', { type: 'image/png' }));
    box.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, [...png(60, 20)]);
  const pasted = tray(alice).getByRole('button', { name: /^Remove Pasted image .*\.png$/ });
  await pasted.waitFor({ timeout: SHOWN_MS });
  const pastedName = (await pasted.getAttribute('aria-label')).replace(/^Remove /, '');

  // Enter with an empty box sends the files.
  await alice.box.press('Enter');
  const article = bob.articles.filter({ has: bob.page.getByRole('img', { name: 'keyboard.png' }) });
  await article.waitFor({ timeout: SHOWN_MS });
  await article.getByRole('img', { name: pastedName, exact: true }).waitFor({ timeout: SHOWN_MS });
  await article.getByRole('link', { name: /^Download dropped\.pdf/ }).waitFor({ timeout: SHOWN_MS });
  assert.equal(await article.locator('.text').count(), 0, 'no text shown');
  // Bob's list of groups previews it by its files.
  assert.match(await bob.nav.innerText(), /alice: 📷 keyboard\.png, 📎 dropped\.pdf, 📷 Pasted image/);
  alice.assertNoProblems();
  bob.assertNoProblems();
});

stack.test('a cancelled upload leaves no chip and sends nothing', async () => {
  const before = (await bob.shown()).length;
  // A slow network, so that the upload is still under way when Cancel is pressed.
  const cdp = await alice.context.newCDPSession(alice.page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 32 * 1024,
  });
  await attach(alice, [{ name: 'big.bin', mimeType: 'application/octet-stream', buffer: crypto.randomBytes(900_000) }]);
  const progress = tray(alice).getByRole('progressbar', { name: 'Uploading big.bin' });
  await progress.waitFor({ timeout: SHOWN_MS });
  await eventually(async () => assert.ok(Number(await progress.getAttribute('value')) > 0), SHOWN_MS);
  // Sending waits for the upload.
  await alice.send('not before the file');
  await alice.page.getByRole('alert').filter({ hasText: 'Wait until the files are uploaded, or cancel them.' }).waitFor({ timeout: SHOWN_MS });
  assert.equal(await alice.box.inputValue(), 'not before the file');
  await alice.box.fill('');
  const cancel = tray(alice).getByRole('button', { name: 'Cancel the upload of big.bin' });
  await cancel.click();
  await progress.waitFor({ state: 'detached', timeout: SHOWN_MS });
  assert.equal(await tray(alice).isVisible(), false, 'no chip is left');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  await alice.send('after the cancel');
  await bob.waitForText('after the cancel');
  const shown = await bob.shown();
  assert.equal(shown.length, before + 1, 'one message, the text');
  assert.equal(await bob.article('after the cancel').locator('.attachments').count(), 0);
  alice.assertNoProblems();
});

stack.test('a file over the limit is refused in words', async () => {
  await attach(alice, [{ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(LIMIT + 100_000, 7) }]);
  const chip = tray(alice).getByRole('listitem').filter({ hasText: 'huge.bin' });
  await chip.getByText('Not uploaded: the file is too large (a file may hold at most 1 MB)').waitFor({ timeout: SHOWN_MS });
  await alice.page.getByRole('alert').filter({ hasText: 'huge.bin was not uploaded' }).waitFor({ timeout: SHOWN_MS });
  await chip.getByRole('button', { name: 'Dismiss huge.bin' }).click();
  assert.equal(await tray(alice).isVisible(), false);
  alice.assertNoProblems();
});

stack.test('a signed link past its time is fetched again before the image opens or the file downloads', async () => {
  // Bob's page lives 25 minutes ahead: the links it holds are past their
  // `exp` (docs/chat-api.md#signed-links), though the server still takes them.
  await bob.page.clock.install({ time: Date.now() + 25 * 60_000 });
  const article = bob.article('the photo and the notes');
  const refreshed = () => bob.page.waitForRequest(/\/chat\/[0-9a-f]{24}\/message\?perPage=30(&before=[0-9a-f]{24})?$/);

  const [, download] = await Promise.all([
    refreshed(),
    bob.page.waitForEvent('download'),
    article.getByRole('link', { name: /^Download notes\.pdf/ }).click(),
  ]);
  assert.deepEqual(readFileSync(await download.path()), PDF);

  await Promise.all([refreshed(), article.getByRole('link', { name: 'sunset.png', exact: true }).click()]);
  const viewer = bob.page.getByRole('dialog', { name: 'sunset.png' });
  await eventually(async () => assert.equal(await loaded(viewer.getByRole('img', { name: 'sunset.png' })), 800), SHOWN_MS);
  await viewer.getByRole('button', { name: 'Close' }).click();
  await viewer.waitFor({ state: 'hidden', timeout: SHOWN_MS });
  bob.assertNoProblems();
});
