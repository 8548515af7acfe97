// Small helpers to talk to a socket.io client in tests.

/** RFC 3339 UTC with milliseconds, as the contract writes every time. */
export const RFC3339_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** How long a test waits to be sure that something does NOT arrive. */
export const QUIET_MS = 300;

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Emits `event` with `payload` and resolves with the server's ack. */
export function ack(socket, event, payload, ms = 8000) {
  return socket.timeout(ms).emitWithAck(event, payload);
}

/**
 * Resolves with the first argument of the next `event` on `socket`. Start
 * waiting before causing the event; a timeout nobody awaits is not reported.
 */
export function next(socket, event, ms = 5000) {
  const waiting = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.off(event, handler);
      reject(new Error(`no \`${event}\` within ${ms} ms`));
    }, ms);
    const handler = (value) => {
      clearTimeout(timer);
      resolve(value);
    };
    socket.once(event, handler);
  });
  waiting.catch(() => {});
  return waiting;
}

/** Starts recording every `event` on `socket`; returns the (growing) list of payloads. */
export function record(socket, event) {
  const seen = [];
  socket.on(event, (value) => seen.push(value));
  return seen;
}

/** Retries `fn` until it returns without throwing, or rethrows after `ms`. */
export async function eventually(fn, ms = 5000, every = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(every);
    }
  }
}
