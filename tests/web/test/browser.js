// Debian's Chromium driven by Playwright (playwright-core: no browser of its
// own is ever downloaded), and a signed-in web client per user, on the stack
// of tests/js/test/harness.js (the real debug binaries).
//
//   const browser = await startBrowser();
//   const alice = await openClient(browser, stack, 'alice');
//   await alice.send('hello');
//   await alice.waitForText('hello');

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { eventually } from '../../js/test/events.js';

export { eventually };

/** Debian's package; CHROMIUM_PATH overrides it. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags that work in containers and CI, with nothing fetched in the background. */
export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** How long a test waits for something the page should show. */
export const SHOWN_MS = 10_000;

/**
 * Launches headless Chromium. Playwright gives it a fresh, temporary
 * `--user-data-dir` (and removes it at close); the browser contexts of one
 * launch share nothing (cookies, storage).
 */
export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
  });
  return browser;
}

/** A temporary directory, removed by the returned function. */
export function tempDir(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A browser context of `up` with the client signed in through a sign-in
 * link (`/#token=`). Options: `viewport`, `colorScheme`, `locale`, `node`
 * (which chat node serves the page), `token` (`''`: none, the sign-in form
 * shows), `signedIn` (false: do not wait for the chat to show and connect), `phone`
 * (true: a touch screen that honours the page's viewport meta tag).
 */
export async function openClient(browser, stack, up, {
  viewport = { width: 1280, height: 800 },
  colorScheme = 'light',
  locale = 'en-GB',
  node = 0,
  token,
  signedIn = true,
  phone = false,
} = {}) {
  const context = await browser.newContext({
    viewport, colorScheme, locale, timezoneId: 'Europe/Lisbon', isMobile: phone, hasTouch: phone,
  });
  const page = await context.newPage();
  const client = new Client(up, context, page, stack.chatUrls);
  const jwt = token ?? await stack.token(up);
  await page.goto(`${stack.chatUrls[node]}/#token=${jwt}`);
  if (signedIn) {
    await client.nav.waitFor({ timeout: SHOWN_MS });
    // The list shows before the chat has loaded the groups and connected:
    // a form used before then is not the chat's yet.
    await page.locator('#app[data-connection="up"]').waitFor({ state: 'attached', timeout: SHOWN_MS });
  }
  return client;
}

/** One user's tab, with the page's contract roles (docs/web-client.md). */
export class Client {
  constructor(up, context, page, chatUrls) {
    this.up = up;
    this.context = context;
    this.page = page;
    /** Page errors, CSP violations and requests to hosts that are not chat nodes. */
    this.problems = [];
    page.on('pageerror', (err) => this.problems.push(`page error: ${err.message}`));
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) this.problems.push(`CSP: ${message.text()}`);
    });
    context.on('request', (request) => {
      const url = request.url();
      if (!chatUrls.some((base) => url.startsWith(`${base}/`))) {
        this.problems.push(`a request to another host: ${url}`);
      }
    });
    this.nav = page.getByRole('navigation', { name: 'Groups' });
    this.region = page.getByRole('region', { name: 'Messages' });
    this.articles = this.region.getByRole('article');
    this.box = page.getByRole('textbox', { name: 'Message', exact: true });
    this.sendButton = page.getByRole('button', { name: 'Send', exact: true });
    this.status = page.getByRole('status');
  }

  /** The nav's button of a group (its accessible name is the group's name, then its counts). */
  group(name) {
    return this.nav.getByRole('button', { name: new RegExp(`^${escape(name)}(, \\d+ unread)?(, \\d+ mentioning you)?$`) });
  }

  async open(name) {
    await this.group(name).click();
    await this.page.getByRole('heading', { name, exact: true, level: 2 }).waitFor({ timeout: SHOWN_MS });
  }

  /** Types `text` in the Message box and presses Enter. */
  async send(text) {
    await this.box.fill(text);
    await this.box.press('Enter');
  }

  /** The article holding exactly `text` as its message. */
  article(text) {
    return this.articles.filter({ has: this.page.locator('.text', { hasText: new RegExp(`^${escape(text)}$`) }) });
  }

  /** What the Messages region shows: `{id, state, sender, text}` per article, in order. */
  shown() {
    return this.region.evaluate((region) => [...region.querySelectorAll('article')].map((a) => ({
      id: a.dataset.id ?? null,
      state: a.dataset.state,
      sender: a.querySelector('.sender')?.textContent ?? '',
      text: a.querySelector('.text')?.textContent ?? '',
    })));
  }

  /** Waits until an article holds `text`. */
  async waitForText(text, ms = SHOWN_MS) {
    await this.article(text).first().waitFor({ timeout: ms });
  }

  /** Hovers a message (its actions show) and clicks one of its buttons. */
  async act(text, button) {
    const article = this.article(text);
    await article.hover();
    await article.getByRole('button', { name: button, exact: true }).click();
  }

  assertNoProblems() {
    assert.deepEqual(this.problems, [], `${this.up}'s page had problems`);
  }

  async close() {
    await this.context.close();
  }
}

export const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
