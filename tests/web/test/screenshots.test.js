// Screenshots of the real client with a lived-in conversation: desktop in
// light and dark colour schemes, a conversation with an image and a file
// (light and dark), and a phone (the conversation and the group list). With UPDATE_SCREENSHOTS=1 (`npm run screenshots`) they replace the
// ones in docs/screenshots/ that the README shows; otherwise they go to a
// temporary directory, so that a test run leaves the work tree as it was.

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { connected, startStack } from '../../js/test/harness.js';
import { eventually, openClient, SHOWN_MS, startBrowser } from './browser.js';
import { pdf, whiteboard } from './files.js';

const ME = 'up201905678';
const ANA = 'up201905679';
const RUI = 'up201900001';
const EVA = 'up201900002';
const OUT = process.env.UPDATE_SCREENSHOTS === '1'
  ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
  : mkdtempSync(path.join(os.tmpdir(), 'chat-web-screenshots-'));

const stack = await startStack();
const browser = await startBrowser();
const peers = [];
let leic;
let lastId;

before(async () => {
  mkdirSync(OUT, { recursive: true });
  // Older than the other conversations, so that the group list looks as before.
  const algorithms = await stack.group([ME, ANA, RUI], { name: 'Algorithms' });
  await stack.message(algorithms.id, RUI, 'The board at the end of today’s lecture: the shortest path is in red.',
    [await stack.upload(algorithms.id, RUI, 'whiteboard.png', whiteboard())]);
  await stack.message(algorithms.id, ANA, 'Thanks! Does anyone have the slides?');
  await stack.message(algorithms.id, ME, 'Here they are.',
    [await stack.upload(algorithms.id, ME, 'lecture-07-graphs.pdf', pdf('Lecture 7: graphs and shortest paths'))]);
  await stack.message(algorithms.id, ANA, 'Perfect, thank you 🙌');
  const erasmus = await stack.group([ME, EVA], { name: 'Erasmus 2027' });
  await stack.message(erasmus.id, EVA, 'The application forms are on the faculty website.');
  await stack.message(erasmus.id, ME, 'Thanks, I will send mine this week.');
  leic = await stack.group([ME, ANA, RUI, EVA], { name: 'LEIC 2nd year', admins: [ME] });
  await stack.message(leic.id, RUI, 'Morning! Has anyone started the algorithms assignment?');
  await stack.message(leic.id, ANA, 'I did the first two exercises. The third one is tricky 😅');
  await stack.message(leic.id, RUI, 'Same here. Is the deadline still Friday?');
  const deadline = await stack.message(leic.id, ME, 'Yes, Friday at 23:59, on Moodle.');
  for (const up of [RUI, ANA]) await stack.store('POST', `/message/${deadline.id}/reactions`, { up, emoji: '👍' });
  await stack.message(leic.id, ANA, 'Shall we meet in the library at 14:00 and go through it together?');
  await stack.message(leic.id, EVA, 'Count me in!');
  const room = await stack.message(leic.id, ME, 'See you there. I booked room B001.');
  await stack.store('PATCH', `/message/${room.id}`, { from: ME, message: 'See you there. I booked room B002 🙂' });
  const thanks = await stack.message(leic.id, RUI, 'Perfect, thanks!');
  await stack.store('POST', `/message/${thanks.id}/reactions`, { up: ME, emoji: '❤️' });
  lastId = (await stack.message(leic.id, ME, 'I will bring last year’s notes too.')).id;
  const welcome = await stack.group([ME, ANA, RUI], { name: 'welcome' });
  await stack.message(welcome.id, ANA, 'Welcome to the chat 👋');
  const direct = await stack.store('POST', '/group/direct', { users: [ANA, ME] });
  await stack.message(direct.body.id, ANA, 'Did you get the slides from today’s lecture?');
  await stack.message(direct.body.id, ANA, 'I missed the last half hour.');
  for (const up of [ANA, RUI]) peers.push(await connected(await stack.socket(up)));
});

after(async () => {
  for (const socket of peers) socket.disconnect();
  await browser.close();
  await stack.stop();
  process.stderr.write(`screenshots in ${OUT}\n`);
});

/** Rui has read the last message and Ana is typing, as the screenshot is taken. */
async function liveTouches(client) {
  await peers[1].timeout(5000).emitWithAck('read', { room: leic.id, messageId: lastId });
  await peers[0].timeout(5000).emitWithAck('typing', { room: leic.id, typing: true });
  await client.page.getByText(`${ANA} is typing…`).waitFor({ timeout: SHOWN_MS });
  await client.page.getByText(`Seen by ${RUI}`).waitFor({ timeout: SHOWN_MS });
  await client.page.mouse.move(0, 0);
}

async function shoot(client, name) {
  const file = path.join(OUT, name);
  await client.page.screenshot({ path: file, animations: 'disabled' });
  const png = readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  client.assertNoProblems();
}

for (const colorScheme of ['light', 'dark']) {
  stack.test(`desktop, ${colorScheme}`, async () => {
    const client = await openClient(browser, stack, ME, { colorScheme, viewport: { width: 1280, height: 800 } });
    await client.open('LEIC 2nd year');
    await client.waitForText('I will bring last year’s notes too.');
    await client.group('welcome, 1 unread').waitFor();
    await liveTouches(client);
    await shoot(client, `desktop-${colorScheme}.png`);
    await client.close();
  });
}

for (const colorScheme of ['light', 'dark']) {
  stack.test(`desktop, a conversation with an image and a file, ${colorScheme}`, async () => {
    const client = await openClient(browser, stack, ME, { colorScheme, viewport: { width: 1280, height: 800 } });
    await client.open('Algorithms');
    const image = client.region.getByRole('img', { name: 'whiteboard.png' });
    await eventually(async () => assert.ok(await image.evaluate((img) => img.complete && img.naturalWidth > 0)), SHOWN_MS);
    await client.region.getByRole('link', { name: /^Download lecture-07-graphs\.pdf/ }).waitFor({ timeout: SHOWN_MS });
    // A file attached to the message being written.
    await client.page.locator('#file-input').setInputFiles({ name: 'my-notes.pdf', mimeType: 'application/pdf', buffer: pdf('My notes') });
    await client.page.getByRole('button', { name: 'Remove my-notes.pdf' }).waitFor({ timeout: SHOWN_MS });
    await client.box.fill('And my notes, if they help');
    await client.page.mouse.move(0, 0);
    await shoot(client, `desktop-files-${colorScheme}.png`);
    await client.close();
  });
}

stack.test('phone: the conversation and the group list', async () => {
  const client = await openClient(browser, stack, ME, { viewport: { width: 390, height: 844 } });
  // On a phone the list comes first; a group opens full screen.
  await client.group('LEIC 2nd year').waitFor();
  assert.equal(await client.region.isVisible(), false);
  await client.open('LEIC 2nd year');
  assert.equal(await client.nav.isVisible(), false);
  await client.waitForText('I will bring last year’s notes too.');
  await liveTouches(client);
  await shoot(client, 'phone.png');
  await client.page.getByRole('button', { name: 'Back to groups' }).click();
  await client.nav.waitFor();
  await shoot(client, 'phone-groups.png');
  await client.close();
});
