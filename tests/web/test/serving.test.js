// How the chat-server serves the web client: the page and its assets, their
// security and cache headers, and the routes that must keep working beside
// it. No browser here: plain HTTP.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before } from 'node:test';
import { startStack } from '../../js/test/harness.js';

const stack = await startStack();
after(() => stack.stop());

let page;
let assets;
before(async () => {
  page = await fetch(`${stack.chatUrl}/`);
  const html = await page.text();
  assets = [...html.matchAll(/(?:href|src)="(\/assets\/[^"]+)"/g)].map((m) => m[1]);
});

stack.test('the page is served at / with a strict CSP, nosniff and no-cache', async () => {
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type'), /^text\/html; charset=utf-8/);
  const csp = page.headers.get('content-security-policy');
  for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"]) {
    assert.ok(csp.includes(directive), `${directive} in ${csp}`);
  }
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  const connect = csp.split('; ').find((directive) => directive.startsWith('connect-src'));
  const own = new URL(stack.chatUrl);
  assert.equal(connect, `connect-src 'self' ${own.origin} ws://${own.host}`, 'connections to the known chat nodes only');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  const again = await fetch(`${stack.chatUrl}/`, { headers: { 'if-none-match': page.headers.get('etag') } });
  assert.equal(again.status, 304);
});

stack.test('versioned assets are cached for good, other versions revalidated, unknown files 404', async () => {
  assert.ok(assets.some((a) => a.endsWith('/js/main.js')) && assets.some((a) => a.endsWith('/app.css')), String(assets));
  for (const asset of assets) {
    const res = await fetch(`${stack.chatUrl}${asset}`);
    assert.equal(res.status, 200, asset);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=31536000, immutable', asset);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff', asset);
    assert.ok(res.headers.get('etag'), asset);
  }
  const js = await fetch(`${stack.chatUrl}${assets.find((a) => a.endsWith('/js/main.js'))}`);
  assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
  const old = await fetch(`${stack.chatUrl}/assets/0123456789ab/js/main.js`);
  assert.equal(old.status, 200);
  assert.equal(old.headers.get('cache-control'), 'no-cache');
  assert.equal((await fetch(`${stack.chatUrl}/assets/0123456789ab/nothing.js`)).status, 404);
});

stack.test('the other routes keep working beside the client', async () => {
  assert.equal((await fetch(`${stack.chatUrl}/healthz`)).status, 200);
  assert.equal((await fetch(`${stack.chatUrl}/readyz`)).status, 200);
  assert.equal((await fetch(`${stack.chatUrl}/docs/`)).status, 200);
  assert.equal((await fetch(`${stack.chatUrl}/api-docs/openapi.json`)).status, 200);
  assert.equal((await stack.rest('/chat/message')).status, 401);
  assert.equal((await stack.rest('/chat/message', { up: 'alice' })).status, 200);
  const poll = await fetch(`${stack.chatUrl}/socket.io/?EIO=4&transport=polling`);
  assert.equal(poll.status, 200);
  assert.match(await poll.text(), /^0\{"sid"/);
  assert.equal((await fetch(`${stack.chatUrl}/no/such/route`)).status, 404);
});

stack.test('a flood of page loads reads the node registry from the store at most once every few seconds', async () => {
  // The chat node's own count of its store calls that read the registry.
  const registryReads = async () => {
    const metrics = await (await fetch(`${stack.chatUrl}/metrics`)).text();
    return [...metrics.matchAll(/^chat_store_call_duration_seconds_count\{operation="live_nodes",outcome="\w+"\} (\d+)/gm)]
      .reduce((sum, m) => sum + Number(m[1]), 0);
  };
  const before = await registryReads();
  const pages = await Promise.all(Array.from({ length: 50 }, () => fetch(`${stack.chatUrl}/`)));
  for (const page of pages) {
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy'), /connect-src 'self' /);
  }
  assert.ok(await registryReads() - before <= 1, 'fifty page loads, at most one registry read');
});

stack.test('the vendored socket.io client is the pinned npm package file, with its licence', async () => {
  const pinned = JSON.parse(readFileSync(new URL('../package.json', import.meta.url))).devDependencies['socket.io-client'];
  const installed = new URL('../node_modules/socket.io-client/', import.meta.url);
  assert.equal(JSON.parse(readFileSync(new URL('package.json', installed))).version, pinned);
  const vendor = new URL('../../../chat-server/web/vendor/', import.meta.url);
  assert.ok(readFileSync(new URL('socket.io.esm.min.js', vendor)).equals(readFileSync(new URL('dist/socket.io.esm.min.js', installed))),
    'chat-server/web/vendor/socket.io.esm.min.js differs from the pinned package: run scripts/vendor-web.sh');
  assert.ok(readFileSync(new URL('LICENSE-socket.io-client.txt', vendor)).equals(readFileSync(new URL('LICENSE', installed))));
  const served = await fetch(`${stack.chatUrl}${assets.find((a) => a.includes('socket.io.esm.min.js'))}`);
  assert.match(await served.text(), new RegExp(`Socket\\.IO v${pinned.replace(/\./g, '\\.')}`));
});
