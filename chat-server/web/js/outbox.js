// What the user sends: messages (text, uploaded files or both, perhaps
// answering another), shown at once as pending and sent until acked with
// the same nonce (so the server stores each once, see
// docs/chat-api.md#retries-with-a-nonce), a failed one kept for a retry by
// hand; and reactions, edits and deletes, applied from their acks.

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
/** Tries of one send before it is shown as failed (a dropped connection does not count). */
const TRIES = 4;

export function createOutbox({ state, connection, request, render, notice, markRead, promoted }) {
  let stopped = false;

  function send(conv, text, attachments = [], replying = null) {
    if (!conv) return;
    const replyTo = replying ? { id: replying.id, from: replying.from, snippet: replying.message.slice(0, 120), deleted: false } : null;
    const pending = { nonce: crypto.randomUUID(), text, attachments, replyTo, createdAt: new Date().toISOString(), state: 'sending' };
    conv.pending.set(pending.nonce, pending);
    render({ toBottom: true });
    deliver(conv, pending);
  }

  async function deliver(conv, pending) {
    Object.assign(pending, { state: 'sending', error: null });
    render();
    for (let tries = 1; ;) {
      await connection.whenConnected();
      if (stopped || !conv.pending.has(pending.nonce)) return; // settled meanwhile (a sync, another device)
      const content = { message: pending.text, nonce: pending.nonce };
      if (pending.attachments.length) content.attachments = pending.attachments.map((a) => a.id);
      if (pending.replyTo) content.replyTo = pending.replyTo.id;
      const [event, payload] = conv.kind === 'direct'
        ? ['private message', { to: conv.peer, ...content }]
        : ['chat message', { room: conv.id, ...content }];
      try {
        const message = await request(event, payload);
        if (conv.draft) {
          const draftId = conv.id;
          conv = state.promote(conv, message.group);
          promoted(draftId, conv.id);
        }
        conv.put(message);
        if (conv.live) conv.markSynced();
        conv.pending.delete(pending.nonce);
        render();
        markRead(conv);
        return;
      } catch (err) {
        const retryable = !err.code || err.code === 'unavailable' || err.code === 'rate_limited';
        // No ack while connected counts as a try; a dropped connection does not.
        if (err.code || connection.connected) tries += 1;
        if (!retryable || tries > TRIES) {
          Object.assign(pending, { state: 'failed', error: err.code ? err.message : 'no answer from the server' });
          render();
          return;
        }
        if (err.code) await sleep(1000 * tries);
      }
    }
  }

  async function change(event, payload) {
    try {
      const message = await request(event, payload);
      state.conversations.get(message.group)?.change(message);
      render();
    } catch (err) {
      notice(err.code ? err.message : 'The server did not answer; try again.');
    }
  }

  return {
    send,
    retry(nonce) {
      const conv = state.active;
      const pending = conv?.pending.get(nonce);
      if (pending) deliver(conv, pending);
    },
    /** Drops a message not sent; returns its `{text, attachments}`. */
    discard(nonce) {
      const { text = '', attachments = [] } = state.active?.pending.get(nonce) ?? {};
      state.active?.pending.delete(nonce);
      render();
      return { text, attachments };
    },
    react: (messageId, emoji, on) => change('react', { messageId, emoji, on }),
    edit(messageId, text) {
      const message = state.active?.messages.get(messageId);
      const trimmed = text.trim();
      if (!message || trimmed === message.message) return;
      if (!trimmed) return notice('A message cannot be empty: delete it instead.');
      change('edit message', { messageId, message: trimmed });
    },
    remove: (messageId) => change('delete message', { messageId }),
    stop() {
      stopped = true;
    },
  };
}
