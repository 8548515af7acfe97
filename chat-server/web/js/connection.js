// The Socket.IO connection (the vendored official socket.io-client): the
// handshake token, acks as promises, the connection's state for the status
// line, refused handshakes (docs/chat-api.md#connecting-socketio) and
// `migrate` (docs/chat-api.md#migrate-moving-to-another-node).

import { io } from '../vendor/socket.io.esm.min.js';

/** An `{error}` ack: the contract's code and message. */
export class AckError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/**
 * Opens the socket on the page's origin. `onState('connecting' | 'up' |
 * 'down')` follows it; `onRefused(message)` is called when the server
 * refuses the token, after which the socket stays closed; `onNotice(text)`
 * explains other refusals, which are retried.
 */
export function openConnection(token, { onState, onRefused, onNotice }) {
  const socket = io({
    auth: { token },
    reconnectionDelay: 500,
    reconnectionDelayMax: 5000,
    timeout: 10_000,
  });
  let everUp = false;
  let retryTimer = null;
  const down = () => onState(everUp ? 'down' : 'connecting');

  onState('connecting');
  socket.on('connect', () => {
    everUp = true;
    onState('up');
  });
  socket.on('disconnect', (reason) => {
    down();
    // The server closed this socket on purpose: socket.io-client does not
    // come back by itself.
    if (reason === 'io server disconnect') retryLater(1000);
  });
  socket.on('connect_error', (err) => {
    down();
    returnHomeIfMigrated();
    if (socket.active) return; // a transport failure: the manager retries with its back-off
    if (err.message === 'unauthenticated') {
      onRefused('The server refused this token: it is invalid or has expired. Get a new token and sign in again.');
    } else if (err.message === 'rate_limited') {
      onNotice('You have too many chat tabs or devices open: close one and this tab connects again.');
      retryLater(10_000);
    } else {
      // `unavailable` (the store is down) and the like: try again later.
      retryLater(3000);
    }
  });
  // A token that expires while connected (servers that check it again).
  socket.on('unauthenticated', () => {
    onRefused('Your session has expired. Get a new token and sign in again.');
  });
  // A draining node names the node to use next; the next automatic
  // reconnection goes there. Only absolute http(s) URLs are followed, and
  // the page's Content-Security-Policy lets the browser connect only to
  // the chat nodes the server knew when the page loaded: if the new node
  // cannot be reached (or is not allowed), the client comes back to the
  // page's own origin. Another origin is reached over WebSocket only:
  // long-polling across origins would need CORS headers, which the chat
  // nodes do not send.
  const home = { uri: socket.io.uri, transports: socket.io.opts.transports };
  let migrated = false;
  socket.on('migrate', ({ url } = {}) => {
    let target;
    try {
      target = new URL(url);
    } catch {
      return; // not a URL: stay where we are
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') return;
    migrated = target.origin !== location.origin;
    socket.io.uri = target.href;
    socket.io.opts.transports = migrated ? ['websocket'] : home.transports;
  });
  socket.on('connect', () => {
    migrated = false;
  });
  function returnHomeIfMigrated() {
    if (!migrated) return;
    migrated = false;
    socket.io.uri = home.uri;
    socket.io.opts.transports = home.transports;
  }

  function retryLater(ms) {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!socket.connected) socket.connect();
    }, ms);
  }

  return {
    socket,
    get connected() {
      return socket.connected;
    },
    /** Emits `event` and resolves with the ack's `data`; rejects with AckError or a timeout. */
    async request(event, payload, ms = 10_000) {
      const answer = await socket.timeout(ms).emitWithAck(event, payload);
      if (answer?.error) throw new AckError(answer.error.code, answer.error.message);
      return answer?.data;
    },
    /** Emits without waiting for the outcome (e.g. `typing`). */
    notify(event, payload) {
      if (socket.connected) socket.emit(event, payload, () => {});
    },
    /** Resolves once the socket is connected. */
    whenConnected() {
      if (socket.connected) return Promise.resolve();
      return new Promise((resolve) => socket.once('connect', resolve));
    },
    close() {
      clearTimeout(retryTimer);
      socket.disconnect();
    },
  };
}
