'use strict';
// node-peer: the Node socket.io v4 + MongoDB baseline of the chat-server
// benchmarks. It is NOT part of the product: it implements only what the load
// generator exercises (auth, presence, `chat message`, `join room`,
// `leave room`, `online`, group history over REST) with the same event names,
// payloads and error codes as the Rust chat-server, written the way a typical
// Node service would be, so the two can be measured side by side.
//
// With NODE_PEER_ADAPTER=mongodb several processes share rooms through the
// official @socket.io/mongo-adapter (a collection and a change stream on it),
// as the chat-server's nodes do with CHAT_ADAPTER=mongodb.

const http = require('node:http');
const { Server } = require('socket.io');
const { MongoClient, ObjectId } = require('mongodb');
const jwt = require('jsonwebtoken');
const { createAdapter } = require('@socket.io/mongo-adapter');

const SECRET = process.env.CHAT_JWT_SECRET;
if (!SECRET) {
  console.error('node-peer: CHAT_JWT_SECRET is required');
  process.exit(1);
}
const ADDR = process.env.CHAT_ADDR || '127.0.0.1:8090';
const MONGODB_URI = process.env.MONGODB_URI || 'mongodb://127.0.0.1:27017';
const MONGODB_DB = process.env.MONGODB_DB || 'node_peer';
const ADAPTER = process.env.NODE_PEER_ADAPTER || 'local';
if (!['local', 'mongodb'].includes(ADAPTER)) {
  console.error(`node-peer: NODE_PEER_ADAPTER must be \`local\` or \`mongodb\`, not \`${ADAPTER}\``);
  process.exit(1);
}
// The adapter's collection, in MONGODB_DB. Its documents expire through a TTL
// index, not a capped collection: secantusd-rs reports every document a capped
// collection evicts as a `delete` change event, which the adapter's change
// stream filter (`fullDocument.uid != own uid`) lets through to every process.
// An hour is longer than any bench run, so no expiry happens during one.
const ADAPTER_COLLECTION = 'socket.io-adapter-events';
const ADAPTER_TTL_SECONDS = 3600;

const MAX_MESSAGE_CHARS = 4000;
const MAX_NONCE_CHARS = 128;
const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 100;
const HEX_ID = /^[0-9a-fA-F]{24}$/;

const client = new MongoClient(MONGODB_URI);
const db = client.db(MONGODB_DB);
const users = db.collection('users');
const groups = db.collection('groups');
const messages = db.collection('messages');

// ---------------------------------------------------------------- helpers

class ApiError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const HTTP_STATUS = {
  invalid_argument: 400, unauthenticated: 401, permission_denied: 403,
  not_found: 404, payload_too_large: 413, unavailable: 503, internal: 500,
};

/** Any error as the wire's `{code, message}`; driver errors are `unavailable`. */
function toWireError(err) {
  if (err instanceof ApiError) return { code: err.code, message: err.message };
  if (/^Mongo.*(Network|Selection|NotConnected|TopologyClosed|Timeout)/.test(err?.name || '')) {
    console.error('node-peer: database unavailable:', err.message);
    return { code: 'unavailable', message: 'the database is unavailable' };
  }
  console.error('node-peer:', err);
  return { code: 'internal', message: 'internal error' };
}

/** The user id of a valid HS256 token with `sub` and `exp`, else throws. */
function verifyToken(token) {
  if (typeof token !== 'string' || token === '') throw new ApiError('unauthenticated', 'missing token');
  let claims;
  try {
    claims = jwt.verify(token, SECRET, { algorithms: ['HS256'] });
  } catch (err) {
    throw new ApiError('unauthenticated', `bad token: ${err.message}`);
  }
  if (typeof claims.sub !== 'string' || claims.sub === '' || typeof claims.exp !== 'number') {
    throw new ApiError('unauthenticated', 'the token needs `sub` and `exp`');
  }
  return claims.sub;
}

/** A 24-hex id, lowercased; `invalid_argument` otherwise. */
function parseId(field, raw) {
  if (typeof raw !== 'string' || !HEX_ID.test(raw)) {
    throw new ApiError('invalid_argument', `\`${field}\` must be a 24-hex id`);
  }
  return raw.toLowerCase();
}

/** Trims a text and checks it holds 1..max characters (code points). */
function parseText(field, raw, max, tooLongCode) {
  if (typeof raw !== 'string') throw new ApiError('invalid_argument', `\`${field}\` must be a string`);
  const text = raw.trim();
  if (text === '') throw new ApiError('invalid_argument', `\`${field}\` is empty`);
  const len = text.length <= max ? text.length : [...text].length;
  if (len > max) throw new ApiError(tooLongCode, `\`${field}\` has ${len} characters, at most ${max} allowed`);
  return text;
}

const wireMessage = (m) => {
  const out = {
    id: m._id.toHexString(), group: m.group.toHexString(), from: m.from, message: m.message,
    timestamp: m.timestamp.toISOString(), deleted: Boolean(m.deleted), reactions: {}, // the peer never reacts
  };
  if (m.nonce !== undefined) out.nonce = m.nonce;
  return out;
};

const wireGroup = (g) => ({
  id: g._id.toHexString(), name: g.name, kind: g.kind, users: g.users || [], admins: g.admins || [],
  open: Boolean(g.open), historyMinOnline: g.historyMinOnline || 0,
  createdAt: g.createdAt instanceof Date ? g.createdAt.toISOString() : g.createdAt,
});

const groupRooms = (socket) => [...socket.rooms].filter((r) => HEX_ID.test(r));
const logDbError = (what) => (err) => console.error(`node-peer: ${what}:`, err.message);

// ---------------------------------------------------------------- socket.io events

async function chatMessage(socket, payload) {
  const { up } = socket.data;
  const room = parseId('room', payload.room);
  const text = parseText('message', payload.message, MAX_MESSAGE_CHARS, 'payload_too_large');
  const nonce = payload.nonce == null ? undefined
    : parseText('nonce', payload.nonce, MAX_NONCE_CHARS, 'invalid_argument');
  if (!socket.rooms.has(room)) throw new ApiError('permission_denied', `you are not a member of group ${room}`);

  const doc = {
    _id: new ObjectId(), group: new ObjectId(room), from: up, message: text,
    timestamp: new Date(), deleted: false, reactions: [],
  };
  if (nonce !== undefined) doc.nonce = nonce;
  try {
    await messages.insertOne(doc);
  } catch (err) {
    if (err.code !== 11000 || nonce === undefined) throw err;
    const existing = await messages.findOne({ from: up, nonce });
    if (!existing) throw err;
    return { data: wireMessage(existing) }; // a retry: same message, no second broadcast
  }
  const message = wireMessage(doc);
  return { data: message, afterAck: () => socket.to(room).emit('chat message', message) };
}

async function joinRoom(socket, payload) {
  const { up } = socket.data;
  const room = parseId('room', payload.room);
  const group = await groups.findOne({ _id: new ObjectId(room) });
  if (!group) throw new ApiError('not_found', `no group ${room}`);
  const member = (group.users || []).includes(up);
  if (!member && !group.open) {
    throw new ApiError('permission_denied', `group ${room} is not open; ask an admin to add you`);
  }
  if (!member) {
    await groups.updateOne({ _id: group._id }, { $addToSet: { users: up } });
    group.users = [...(group.users || []), up];
  }
  io.in(`user:${up}`).socketsJoin(room); // every device of the user
  return { data: wireGroup(group) };
}

async function leaveRoom(socket, payload) {
  const { up } = socket.data;
  const room = parseId('room', payload.room);
  await groups.updateOne({ _id: new ObjectId(room) }, { $pull: { users: up } });
  io.in(`user:${up}`).socketsLeave(room);
  return { data: { room } };
}

/**
 * Registers an event. `fn(socket, payload)` resolves to `{data, afterAck?}`:
 * the ack is answered `{data}` (or `{error: {code, message}}` when it throws),
 * then `afterAck` runs, so a broadcast never overtakes the sender's ack.
 */
function handle(socket, event, fn) {
  socket.on(event, async (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : () => {};
    const payload = args[0] && typeof args[0] === 'object' ? args[0] : {};
    let result;
    try {
      result = await fn(socket, payload);
    } catch (err) {
      return ack({ error: toWireError(err) });
    }
    ack({ data: result.data });
    result.afterAck?.();
  });
}

// ---------------------------------------------------------------- REST

function sendJson(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function parsePaging(query) {
  const whole = (name, raw, min, max) => {
    const n = /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
    if (!(n >= min && n <= max)) throw new ApiError('invalid_argument', `\`${name}\` must be a whole number from ${min} to ${max}`);
    return n;
  };
  const perPage = query.has('perPage') ? whole('perPage', query.get('perPage'), 1, MAX_PER_PAGE) : DEFAULT_PER_PAGE;
  const given = ['page', 'before', 'after'].filter((k) => query.has(k));
  if (given.length > 1) throw new ApiError('invalid_argument', 'give at most one of `page`, `before` and `after`');
  const page = query.has('page') ? whole('page', query.get('page'), 0, Number.MAX_SAFE_INTEGER) : 0;
  const before = query.has('before') ? parseId('before', query.get('before')) : null;
  const after = query.has('after') ? parseId('after', query.get('after')) : null;
  return { perPage, page, before, after };
}

async function groupMessages(req, groupId, query) {
  const up = verifyToken((req.headers.authorization || '').replace(/^Bearer\s+/i, ''));
  const group = new ObjectId(parseId('group', groupId));
  const { perPage, page, before, after } = parsePaging(query);
  const found = await groups.findOne({ _id: group }, { projection: { users: 1 } });
  if (!found) throw new ApiError('not_found', `no group ${groupId}`);
  if (!(found.users || []).includes(up)) throw new ApiError('permission_denied', `you are not a member of group ${groupId}`);

  let cursor;
  if (before) cursor = messages.find({ group, _id: { $lt: new ObjectId(before) } }).sort({ _id: -1 });
  else if (after) cursor = messages.find({ group, _id: { $gt: new ObjectId(after) } }).sort({ _id: 1 });
  else cursor = messages.find({ group }).sort({ _id: -1 }).skip(page * perPage);
  const [docs, total] = await Promise.all([cursor.limit(perPage + 1).toArray(), messages.countDocuments({ group })]);
  const hasMore = docs.length > perPage;
  return { items: docs.slice(0, perPage).map(wireMessage), page: before || after ? 0 : page, perPage, total, hasMore };
}

async function onRequest(req, res) {
  const url = new URL(req.url, 'http://peer');
  try {
    if (req.method === 'GET' && url.pathname === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end('ok');
    }
    const m = req.method === 'GET' && url.pathname.match(/^\/chat\/([^/]+)\/message$/);
    if (m) return sendJson(res, 200, await groupMessages(req, decodeURIComponent(m[1]), url.searchParams));
    sendJson(res, 404, { error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } });
  } catch (err) {
    const error = toWireError(err);
    sendJson(res, HTTP_STATUS[error.code] || 500, { error });
  }
}

// ---------------------------------------------------------------- server

const httpServer = http.createServer(onRequest);
const io = new Server(httpServer, {
  path: '/socket.io/',
  transports: ['polling', 'websocket'],
  serveClient: false,
  perMessageDeflate: false,
  maxHttpBufferSize: 1e5,
});

io.use(async (socket, next) => {
  let up;
  try {
    up = verifyToken(socket.handshake.auth?.token ?? socket.handshake.query?.token);
  } catch {
    return next(new Error('unauthenticated'));
  }
  try {
    const mine = await groups.find({ users: up }, { projection: { _id: 1 } }).toArray();
    socket.data.up = up;
    socket.data.groups = mine.map((g) => g._id.toHexString());
    next();
  } catch (err) {
    logDbError('loading groups')(err);
    next(new Error('unavailable'));
  }
});

const socketsPerUser = new Map();

io.on('connection', (socket) => {
  const { up, groups: mine } = socket.data;
  socket.join([...mine, `user:${up}`]);
  const count = (socketsPerUser.get(up) || 0) + 1;
  socketsPerUser.set(up, count);
  if (count === 1) {
    users.updateOne({ _id: up }, { $set: { online: true } }).catch(logDbError('marking online'));
    if (mine.length) socket.to(mine).emit('online', { up });
  }

  handle(socket, 'chat message', chatMessage);
  handle(socket, 'join room', joinRoom);
  handle(socket, 'leave room', leaveRoom);
  handle(socket, 'online', async (s) => ({ data: { up: s.data.up } }));

  socket.on('disconnecting', () => {
    const left = (socketsPerUser.get(up) || 1) - 1;
    if (left > 0) return socketsPerUser.set(up, left);
    socketsPerUser.delete(up);
    const lastSeen = new Date();
    users.updateOne({ _id: up }, { $set: { online: false, lastSeen } }).catch(logDbError('marking offline'));
    const rooms = groupRooms(socket);
    if (rooms.length) socket.to(rooms).emit('offline', { up, lastSeen: lastSeen.toISOString() });
  });
});

/** Shares rooms with the other processes of the cluster through MongoDB. */
async function useMongoAdapter() {
  const events = db.collection(ADAPTER_COLLECTION);
  await events.createIndex({ createdAt: 1 }, { expireAfterSeconds: ADAPTER_TTL_SECONDS });
  io.adapter(createAdapter(events, { addCreatedAtField: true }));
}

async function main() {
  await client.connect();
  await Promise.all([
    messages.createIndex({ group: 1, _id: -1 }),
    messages.createIndex({ from: 1, nonce: 1 }, { unique: true, partialFilterExpression: { nonce: { $exists: true } } }),
    groups.createIndex({ users: 1 }),
  ]);
  if (ADAPTER === 'mongodb') await useMongoAdapter();
  const colon = ADDR.lastIndexOf(':');
  const host = ADDR.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(ADDR.slice(colon + 1));
  httpServer.listen(port, host, () => {
    const { address, port: bound } = httpServer.address();
    const shown = address.includes(':') ? `[${address}]` : address;
    console.log(`node-peer listening on http://${shown}:${bound} (adapter: ${ADAPTER})`);
  });
}

let stopping = false;
async function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  console.log(`node-peer: ${signal}, shutting down`);
  io.close();
  await client.close().catch(logDbError('closing the client'));
  process.exit(0);
}
process.on('SIGINT', () => shutdown('SIGINT'));
process.on('SIGTERM', () => shutdown('SIGTERM'));

main().catch((err) => {
  console.error('node-peer: could not start:', err.message);
  process.exit(1);
});
