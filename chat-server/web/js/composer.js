// The message box: Enter sends (Shift+Enter is a new line), the box grows
// with its text, a draft is kept per conversation, and `typing` is sent
// while the user types (at most every few seconds, then `false` when they
// stop or send). The files attached to the message are the tray's
// (tray.js): a message is its text, its uploaded files, or both. A message
// may answer another (the reply bar, replies.js), and `@` offers the
// members to mention (mentions.js).

const TYPING_REPEAT_MS = 3000;
const TYPING_IDLE_MS = 4000;

export function createComposer(form, input, button, { send, typing, tray, notice, completion, replyBar, display }) {
  const drafts = new Map(); // conversation id -> unsent text
  let room = null;
  let replying = null; // the message being answered
  let typingSince = 0;
  let idleTimer = null;

  function stopTyping() {
    clearTimeout(idleTimer);
    if (typingSince && room) typing(room, false);
    typingSince = 0;
  }

  function grow() {
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, 160)}px`;
  }

  function submit() {
    const text = input.value.trim();
    if (!room) return;
    if (tray.busy()) {
      notice('Wait until the files are uploaded, or cancel them.');
      return;
    }
    const attachments = tray.ready();
    if (!text && attachments.length === 0) return;
    const replyTo = replying;
    input.value = '';
    drafts.delete(room);
    tray.clear();
    setReply(null);
    grow();
    stopTyping();
    completion.close();
    send(text, attachments, replyTo);
    input.focus();
  }

  function setReply(message) {
    replying = message;
    replyBar.show(message, display);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit();
  });
  input.addEventListener('keydown', (event) => {
    if (completion.handleKey(event)) return;
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    } else if (event.key === 'Escape' && replying) {
      event.preventDefault();
      setReply(null);
    }
  });
  input.addEventListener('input', () => {
    grow();
    if (!room) return;
    drafts.set(room, input.value);
    if (!input.value.trim()) return stopTyping();
    const now = Date.now();
    if (now - typingSince > TYPING_REPEAT_MS) {
      typingSince = now;
      typing(room, true);
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  });
  input.addEventListener('blur', stopTyping);

  return {
    /** Points the box at conversation `id` (null: none open). */
    open(id) {
      if (id === room) return;
      stopTyping();
      room = id;
      setReply(null);
      input.disabled = !id;
      button.disabled = !id;
      input.value = (id && drafts.get(id)) ?? '';
      tray.open(id);
      grow();
    },
    /** A draft conversation got its real id. */
    rename(from, to) {
      if (room === from) room = to;
      tray.rename(from, to);
    },
    focus() {
      input.focus();
    },
    /** Answers `message` with the next message sent (null: no longer). */
    reply(message) {
      setReply(message);
      input.focus();
    },
    /** Draws the reply bar again (a name came in). */
    redraw() {
      replyBar.show(replying, display);
    },
    /** Puts `text` back in the box (before what is there), and `attachments` back in the tray, and focuses it. */
    put(text, attachments = []) {
      tray.restore(attachments);
      input.value = [text, input.value].filter(Boolean).join('\n');
      if (room) drafts.set(room, input.value);
      grow();
      input.focus();
    },
  };
}
