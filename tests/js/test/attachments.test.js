// Files and images in messages, through the public gateway: uploads (raw
// and multipart), downloads with a token or a signed link, ranges, the
// headers that keep a browser from running a file, the limits (a 2 GiB
// upload refused before it is read, a chunked one cut off at the limit, a
// PNG claiming 100,000 x 100,000 pixels), and messages that carry
// attachments to the other members, once.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import http from 'node:http';
import zlib from 'node:zlib';
import { after } from 'node:test';
import { ack, next } from './events.js';
import { startStack, uniqueUp } from './harness.js';

const LIMIT = 1024 * 1024;
const stack = await startStack({
  chatEnv: { CHAT_MAX_ATTACHMENT_BYTES: String(LIMIT), CHAT_ATTACHMENT_QUOTA_BYTES: String(3 * LIMIT) },
});
after(() => stack.stop());

/** A PNG chunk with its CRC. */
function chunk(kind, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(kind, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  return Buffer.concat([length, body, crc]);
}

/** A real PNG of `width` x `height` gray pixels. */
function png(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 0, 0, 0, 0], 8); // 8-bit grayscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y += 1) rows[y * (width + 1)] = 0; // filter: none
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The start of a PNG whose header claims `side` x `side` pixels. */
function pngBomb(side) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(side, 0);
  header.writeUInt32BE(side, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', header),
    chunk('IDAT', Buffer.from([0x78, 0x9c])),
  ]);
}

async function bearer(up) {
  return { authorization: `Bearer ${await stack.token(up)}` };
}

/** `POST /chat/{group}/attachment` of a raw body: `{status, body}`. */
async function upload(up, group, bytes, { name = 'file.bin', type = 'application/octet-stream' } = {}) {
  const res = await fetch(`${stack.chatUrl}/chat/${group}/attachment?name=${encodeURIComponent(name)}`, {
    method: 'POST',
    headers: { ...(await bearer(up)), 'content-type': type },
    body: bytes,
  });
  return { status: res.status, body: await res.json() };
}

/** Uploads and returns the attachment (asserting 201). */
async function uploaded(up, group, bytes, options) {
  const { status, body } = await upload(up, group, bytes, options);
  assert.equal(status, 201, JSON.stringify(body));
  return body;
}

/** `GET` of a gateway path: the response, its body read. */
async function get(path, headers = {}) {
  const res = await fetch(`${stack.chatUrl}${path}`, { headers });
  return { res, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A raw HTTP request whose body is written by `write(request)`; resolves with `{status, body}`. */
function rawRequest(path, headers, write) {
  return new Promise((resolve, reject) => {
    const url = new URL(`${stack.chatUrl}${path}`);
    const request = http.request({ method: 'POST', host: url.hostname, port: url.port, path, headers }, (res) => {
      let text = '';
      res.on('data', (data) => { text += data; });
      res.on('end', () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    // The server closes after answering, with the body still coming: it
    // lingers so that the answer is read, not lost to a reset.
    request.on('error', reject);
    write(request);
  });
}

function assertError({ status, body }, wantStatus, code) {
  assert.equal(status, wantStatus, JSON.stringify(body));
  assert.equal(body.error?.code, code, JSON.stringify(body));
}

stack.test('a member uploads a file and downloads it with a token or its signed link', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const bytes = crypto.randomBytes(300_000);
  const file = await uploaded(a, group.id, bytes, { name: 'report.bin', type: 'image/png' });
  assert.equal(file.name, 'report.bin');
  assert.equal(file.size, 300_000);
  assert.equal(file.type, 'application/octet-stream', 'the bytes decide, not the Content-Type');
  assert.match(file.url, new RegExp(`^/chat/attachment/${file.id}\\?exp=\\d+&sig=[0-9a-f]{64}$`));

  const withToken = await get(`/chat/attachment/${file.id}`, await bearer(a));
  assert.equal(withToken.res.status, 200);
  assert.deepEqual(withToken.bytes, bytes);
  assert.equal(withToken.res.headers.get('content-length'), '300000');
  assert.equal(withToken.res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(withToken.res.headers.get('content-disposition'), /^attachment;/);
  assert.ok(withToken.res.headers.get('etag'));

  const withLink = await get(file.url);
  assert.equal(withLink.res.status, 200);
  assert.deepEqual(withLink.bytes, bytes);
  const nothing = await get(`/chat/attachment/${file.id}`);
  assert.equal(nothing.res.status, 401);
});

stack.test('a multipart upload takes its name from the file part', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const form = new FormData();
  form.append('file', new Blob([png(64, 48)], { type: 'application/pdf' }), 'holiday.png');
  const res = await fetch(`${stack.chatUrl}/chat/${group.id}/attachment`, {
    method: 'POST', headers: await bearer(a), body: form,
  });
  const file = await res.json();
  assert.equal(res.status, 201, JSON.stringify(file));
  assert.equal(file.name, 'holiday.png');
  assert.equal(file.type, 'image/png');
  assert.deepEqual([file.width, file.height], [64, 48]);
  assert.equal(file.thumbnail.width, 64, 'a small image is not scaled up');
  const image = await get(file.url);
  assert.match(image.res.headers.get('content-disposition'), /^inline;/);
  const thumbnail = await get(file.thumbnail.url);
  assert.equal(thumbnail.res.status, 200);
  assert.equal(thumbnail.res.headers.get('content-type'), 'image/jpeg');
});

stack.test('a range request is answered 206 with exactly those bytes', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const bytes = crypto.randomBytes(600_000);
  const file = await uploaded(a, group.id, bytes);
  const part = await get(file.url, { range: 'bytes=261000-262023' });
  assert.equal(part.res.status, 206);
  assert.equal(part.res.headers.get('content-range'), 'bytes 261000-262023/600000');
  assert.deepEqual(part.bytes, bytes.subarray(261_000, 262_024));
  const tail = await get(file.url, { range: 'bytes=-100' });
  assert.deepEqual(tail.bytes, bytes.subarray(599_900));
  const past = await get(file.url, { range: 'bytes=600000-' });
  assert.equal(past.res.status, 416);
});

stack.test('an HTML page named .png is typed from its bytes and served only as a download', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const page = Buffer.from('<!DOCTYPE html><html><body><script>fetch("/x?c="+document.cookie)</script></body></html>');
  const file = await uploaded(a, group.id, page, { name: 'cute-cat.png', type: 'image/png' });
  assert.equal(file.type, 'text/html');
  assert.equal(file.thumbnail, undefined);
  const served = await get(file.url);
  assert.equal(served.res.headers.get('content-type'), 'text/html');
  assert.equal(served.res.headers.get('x-content-type-options'), 'nosniff');
  assert.match(served.res.headers.get('content-disposition'), /^attachment; filename="cute-cat.png"/);
  assert.match(served.res.headers.get('content-security-policy'), /sandbox/);
});

stack.test('a PNG whose header claims 100000 x 100000 pixels is refused with 413', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  assertError(await upload(a, group.id, pngBomb(100_000), { name: 'bomb.png' }), 413, 'payload_too_large');
});

stack.test('a 2 GiB upload is refused from its Content-Length, before its body is read', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const started = Date.now();
  const answer = await rawRequest(`/chat/${group.id}/attachment?name=huge.bin`, {
    ...(await bearer(a)), 'content-type': 'application/octet-stream', 'content-length': String(2 * 1024 ** 3),
  }, (request) => request.write(Buffer.alloc(1024)));
  assertError(answer, 413, 'payload_too_large');
  assert.ok(Date.now() - started < 5000);
});

stack.test('a chunked upload is cut off once it passes the limit, and nothing of it is kept', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  let written = 0;
  let answered = false;
  const piece = crypto.randomBytes(64 * 1024);
  const answer = await rawRequest(`/chat/${group.id}/attachment?name=endless.bin`, {
    ...(await bearer(a)), 'content-type': 'application/octet-stream', 'transfer-encoding': 'chunked',
  }, (request) => {
    const pump = () => {
      // Up to 2 GiB, but the server stops reading long before.
      while (!answered && written < 2 * 1024 ** 3) {
        written += piece.length;
        if (!request.write(piece)) return request.once('drain', pump);
      }
      return request.end();
    };
    request.on('response', () => { answered = true; });
    request.on('error', () => { answered = true; });
    pump();
  });
  assertError(answer, 413, 'payload_too_large');
  assert.ok(written < 64 * 1024 * 1024, `the client wrote ${written} bytes before it was cut off`);
  // The quota is three files of the limit: the refused upload holds none of it.
  for (let i = 0; i < 3; i += 1) await uploaded(a, group.id, crypto.randomBytes(LIMIT));
  assertError(await upload(a, group.id, Buffer.alloc(10)), 413, 'payload_too_large');
});

stack.test('a non-member can neither upload to a group nor download its files, and a removed member loses access', async () => {
  const [a, b, outsider] = [uniqueUp('a'), uniqueUp('b'), uniqueUp('o')];
  const group = await stack.group([a, b]);
  assertError(await upload(outsider, group.id, Buffer.from('x')), 403, 'permission_denied');
  const file = await uploaded(a, group.id, Buffer.from('team secrets'));
  const refused = await get(`/chat/attachment/${file.id}`, await bearer(outsider));
  assert.equal(refused.res.status, 403);
  assert.equal((await get(`/chat/attachment/${file.id}`, await bearer(b))).res.status, 200);
  const left = await stack.store('DELETE', `/group/${group.id}/users/${b}`);
  assert.equal(left.status, 200);
  assert.equal((await get(`/chat/attachment/${file.id}`, await bearer(b))).res.status, 403);
});

stack.test('an expired or forged link is refused', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const file = await uploaded(a, group.id, Buffer.from('hello'));
  const url = new URL(file.url, stack.chatUrl);
  const sig = url.searchParams.get('sig');
  const forged = sig.replace(/^./, sig[0] === '0' ? '1' : '0');
  assert.equal((await get(`/chat/attachment/${file.id}?exp=${url.searchParams.get('exp')}&sig=${forged}`)).res.status, 401);
  // A link signed with the right key, whose time is over.
  const key = crypto.createHmac('sha256', stack.jwtSecret).update('chat-server attachment links v1').digest();
  const exp = Math.floor(Date.now() / 1000) - 60;
  const expiredSig = crypto.createHmac('sha256', key).update(`${file.id}.${exp}`).digest('hex');
  const expired = await get(`/chat/attachment/${file.id}?exp=${exp}&sig=${expiredSig}`);
  assert.equal(expired.res.status, 401);
  const fresh = crypto.createHmac('sha256', key).update(`${file.id}.${exp + 600}`).digest('hex');
  assert.equal((await get(`/chat/attachment/${file.id}?exp=${exp + 600}&sig=${fresh}`)).res.status, 200);
});

stack.test('a message with attachments reaches the other member with their metadata, each attachment once', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const group = await stack.group([a, b]);
  const image = await uploaded(a, group.id, png(800, 600), { name: 'photo.png' });
  const notes = await uploaded(a, group.id, Buffer.from('notes'), { name: 'notes.txt' });
  const [sa, sb] = [await stack.connect(a), await stack.connect(b)];
  const arriving = next(sb, 'chat message');
  const sent = await ack(sa, 'chat message', { room: group.id, attachments: [image.id, notes.id] });
  assert.ok(sent.data, JSON.stringify(sent));
  assert.equal(sent.data.message, '');
  const got = await arriving;
  assert.equal(got.id, sent.data.id);
  assert.deepEqual(got.attachments.map((f) => [f.id, f.name, f.type, f.size]),
    [[image.id, 'photo.png', 'image/png', image.size], [notes.id, 'notes.txt', 'text/plain', 5]]);
  assert.deepEqual([got.attachments[0].width, got.attachments[0].height], [800, 600]);
  assert.deepEqual([got.attachments[0].thumbnail.width, got.attachments[0].thumbnail.height], [320, 240]);
  assert.equal((await get(got.attachments[0].thumbnail.url)).res.status, 200);
  const page = await stack.rest(`/chat/${group.id}/message`, { up: b });
  assert.deepEqual(page.body.items[0].attachments.map((f) => f.id), [image.id, notes.id]);

  const again = await ack(sa, 'chat message', { room: group.id, message: 'again', attachments: [image.id] });
  assert.equal(again.error?.code, 'already_exists', JSON.stringify(again));
  const theirs = await ack(sb, 'chat message', { room: group.id, message: 'mine?', attachments: [notes.id] });
  assert.equal(theirs.error?.code, 'permission_denied', JSON.stringify(theirs));
  const empty = await ack(sa, 'chat message', { room: group.id });
  assert.equal(empty.error?.code, 'invalid_argument', JSON.stringify(empty));
});

stack.test('a private message carries files uploaded to the direct group', async () => {
  const [a, b] = [uniqueUp('a'), uniqueUp('b')];
  const direct = (await stack.store('POST', '/group/direct', { users: [a, b] })).body;
  const file = await uploaded(a, direct.id, Buffer.from('for your eyes'), { name: 'dm.txt' });
  const [sa, sb] = [await stack.connect(a), await stack.connect(b)];
  const arriving = next(sb, 'private message');
  const sent = await ack(sa, 'private message', { to: b, message: 'see attached', attachments: [file.id] });
  assert.ok(sent.data, JSON.stringify(sent));
  const got = await arriving;
  assert.deepEqual(got.attachments.map((f) => f.name), ['dm.txt']);
  assert.equal((await get(got.attachments[0].url)).bytes.toString(), 'for your eyes');
});

stack.test('deleting a message deletes its files', async () => {
  const a = uniqueUp('a');
  const group = await stack.group([a]);
  const file = await uploaded(a, group.id, Buffer.from('short-lived'));
  const sa = await stack.connect(a);
  const sent = await ack(sa, 'chat message', { room: group.id, message: 'soon gone', attachments: [file.id] });
  assert.ok(sent.data, JSON.stringify(sent));
  assert.equal((await get(`/chat/attachment/${file.id}`, await bearer(a))).res.status, 200);
  const deleted = await ack(sa, 'delete message', { messageId: sent.data.id });
  assert.deepEqual(deleted.data.attachments, []);
  assert.equal((await get(`/chat/attachment/${file.id}`, await bearer(a))).res.status, 404);
  assert.equal((await stack.store('GET', `/attachment/${file.id}/metadata`)).status, 404);
});
