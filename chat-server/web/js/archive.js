// This device's archive of the messages the client has shown, in IndexedDB,
// per user and conversation: the newest KEEP of each conversation. A group
// whose retention deletes messages from the server (docs/chat-api.md,
// Retention) still reads the same on this device: when the server's
// history ends, older pages come from here. Signing out forgets the user's
// archive. Without IndexedDB (a private window that refuses it) every call
// does nothing and the client works from the server alone.
//
// One object store, `messages`, keyed by `user \0 group \0 timestamp \0 id`:
// a conversation is one key range, in time order (timestamps are RFC 3339
// UTC with milliseconds, so they sort as text), and a message edited later
// keeps its key.

const DB_NAME = 'chat-archive';
const STORE = 'messages';
/** Messages kept per conversation (the newest). */
export const KEEP = 2000;
const SEP = '\u0000';
const END = '\uffff';

let opening = null;

/** The database, or null when this browser will not give one. */
function database() {
  opening ??= openAt(undefined);
  return opening;
}

/**
 * Opens the database (at `version`, or its current one), creating the
 * store if it is missing (a database made by something else at version 1
 * without it: opened again one version up).
 */
function openAt(version) {
  return new Promise((resolve) => {
    let request;
    try {
      request = version === undefined ? indexedDB.open(DB_NAME) : indexedDB.open(DB_NAME, version);
    } catch {
      resolve(null);
      return;
    }
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE, { keyPath: 'key' });
    };
    request.onsuccess = () => {
      const db = request.result;
      if (db.objectStoreNames.contains(STORE)) {
        // Another tab upgrading: let it, and open again next time.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        resolve(db);
        return;
      }
      const next = db.version + 1;
      db.close();
      openAt(next).then(resolve);
    };
    request.onerror = () => resolve(null);
    request.onblocked = () => resolve(null);
  });
}

/** Runs `work(store)` in a transaction; resolves with what it answers once the transaction is done (null on any failure). */
async function transact(mode, work) {
  const db = await database();
  if (!db) return null;
  return new Promise((resolve) => {
    let result = null;
    let tx;
    try {
      tx = db.transaction(STORE, mode);
      result = work(tx.objectStore(STORE));
    } catch {
      resolve(null);
      return;
    }
    tx.oncomplete = () => resolve(result?.value ?? result);
    tx.onerror = () => resolve(null);
    tx.onabort = () => resolve(null);
  });
}

const prefix = (me, group) => `${me}${SEP}${group}${SEP}`;
const keyOf = (me, message) => `${prefix(me, message.group)}${message.timestamp}${SEP}${message.id}`;
const range = (from, to, openUpper = false) => IDBKeyRange.bound(from, to, false, openUpper);

/** The archive of user `me`. */
export function openArchive(me) {
  const trimmed = new Map(); // group -> writes since its last trim

  return {
    /** Keeps `messages` (all of `group`) as they are now; trims the conversation to its newest KEEP now and then. */
    async keep(group, messages) {
      if (messages.length === 0) return;
      await transact('readwrite', (store) => {
        for (const message of messages) store.put({ key: keyOf(me, message), message });
      });
      const writes = (trimmed.get(group) ?? 0) + messages.length;
      trimmed.set(group, writes);
      if (writes >= 100) {
        trimmed.set(group, 0);
        await trim(me, group);
      }
    },

    /**
     * Up to `limit` messages of `group` older than `before` (a message;
     * null: the newest), newest first.
     */
    async older(group, before, limit) {
      const from = prefix(me, group);
      const to = before ? `${from}${before.timestamp}${SEP}${before.id}` : `${from}${END}`;
      return (await transact('readonly', (store) => {
        const found = [];
        const request = store.openCursor(range(from, to, true), 'prev');
        request.onsuccess = () => {
          const cursor = request.result;
          if (!cursor || found.length >= limit) return;
          found.push(cursor.value.message);
          cursor.continue();
        };
        return { get value() { return found; } };
      })) ?? [];
    },
  };
}

/** Deletes the oldest messages of `group` beyond the newest KEEP. */
async function trim(me, group) {
  const from = prefix(me, group);
  const all = range(from, `${from}${END}`);
  const count = await transact('readonly', (store) => {
    const request = store.count(all);
    return { get value() { return request.result ?? 0; } };
  });
  if (!count || count <= KEEP) return;
  let excess = count - KEEP;
  await transact('readwrite', (store) => {
    const request = store.openCursor(all);
    request.onsuccess = () => {
      const cursor = request.result;
      if (!cursor || excess <= 0) return;
      cursor.delete();
      excess -= 1;
      cursor.continue();
    };
  });
}

/** Forgets everything kept for `me` on this device (signing out). */
export async function forgetArchive(me) {
  await transact('readwrite', (store) => store.delete(range(`${me}${SEP}`, `${me}${SEP}${END}`)));
}
