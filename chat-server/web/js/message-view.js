// One message as an `article`: sender, time, the quote of the message it
// answers, attachments, text (mentions shown as names), "edited",
// reactions, Reply, the author's edit and delete, the reaction picker, read
// marks, and the sending / failed states of a message not acked yet. Buttons (and
// the attachments' links) carry `data-action`; the timeline handles their
// clicks.

import { attachmentList } from './attachments.js';
import { formatDateTime, formatTime, h } from './format.js';
import { textWithMentions } from './mentions.js';
import { quoteView } from './replies.js';

export const EMOJI = ['👍', '❤️', '😂', '🎉', '😮', '😢'];

/** A stable colour per user, for avatars. */
export function hue(up) {
  let n = 0;
  for (const c of up) n = (n * 31 + c.charCodeAt(0)) % 360;
  return n;
}

/** A round badge: the last two digits of a student number (`up201905679`), else the first letter. */
export function avatar(up) {
  const initials = /^up\d{2,}$/i.test(up) ? up.slice(-2) : up.charAt(0).toUpperCase();
  const el = h('span', { class: 'avatar', 'aria-hidden': 'true' }, initials || '?');
  el.dataset.hue = String(hue(up) % 12);
  return el;
}

/**
 * Fills `el` (an `article`) for `item`: `{message}` or `{pending}`. `view`
 * says how: `{me, mine, grouped, readers, editing, confirming, picking,
 * sender, names, quote}` (`sender` the sender's name, `names` those of the
 * users it mentions, `quote` the quote as it reads now).
 * Only rebuilds when something shown changed; keeps the focus on the same
 * control when it does.
 */
export function renderArticle(el, item, view) {
  const key = JSON.stringify([item.message ?? item.pending, view]);
  if (el.dataset.key === key) return;
  const focused = el.contains(document.activeElement) ? focusId(document.activeElement) : null;
  el.dataset.key = key;
  const named = Boolean(item.message?.mentions?.includes(view.me)) && !item.message.deleted;
  const archived = Boolean(item.message?.archived);
  el.className = ['msg', view.mine && 'mine', view.grouped && 'grouped', named && 'mentions-me', archived && 'archived'].filter(Boolean).join(' ');
  el.replaceChildren(...(item.message ? messageParts(item.message, view) : pendingParts(item.pending, view)));
  if (item.message) {
    el.dataset.id = item.message.id;
    el.dataset.state = item.message.deleted ? 'deleted' : 'sent';
  } else {
    el.dataset.state = item.pending.state === 'failed' ? 'failed' : 'pending';
  }
  restoreFocus(el, focused, view);
}

function focusId(node) {
  const control = node.closest('[data-action]') ?? node;
  const { action, emoji, attachment } = control.dataset ?? {};
  return { action, emoji, attachment, tag: control.tagName };
}

function restoreFocus(el, focused, view) {
  if (view.editing) return el.querySelector('textarea')?.focus();
  if (!focused) return;
  const action = `[data-action="${CSS.escape(focused.action ?? '')}"]`;
  const selector = focused.emoji ? `${action}[data-emoji="${CSS.escape(focused.emoji)}"]`
    : focused.attachment ? `${action}[data-attachment="${CSS.escape(focused.attachment)}"]`
      : action;
  const target = (focused.action && el.querySelector(selector)) ?? el.querySelector('[data-action]');
  (target ?? el).focus();
}

function head(view, timestamp, extra) {
  return h('header', { class: 'msg-head' },
    h('span', { class: 'sender' }, view.mine ? `${view.sender} (you)` : view.sender),
    timestamp ? h('time', { datetime: timestamp, title: formatDateTime(timestamp) }, formatTime(timestamp)) : null,
    extra);
}

function messageParts(message, view) {
  const parts = [];
  if (!view.mine) parts.push(view.grouped ? h('span', { class: 'avatar-space', 'aria-hidden': 'true' }) : avatar(message.from));
  const edited = message.editedAt && !message.deleted
    ? h('span', { class: 'edited', title: formatDateTime(message.editedAt) }, 'edited') : null;
  const body = [head(view, message.timestamp, edited)];
  if (view.quote && !message.deleted) body.push(quoteView(view.quote));
  const attachments = message.deleted ? [] : (message.attachments ?? []);
  // A message kept only on this device: its files went with it on the server.
  if (attachments.length && message.archived) body.push(goneFiles(attachments));
  else if (attachments.length) body.push(attachmentList(attachments));
  if (message.deleted) {
    body.push(h('p', { class: 'text deleted' }, 'Message deleted'));
  } else if (view.editing) {
    body.push(editForm(message));
  } else if (message.message || attachments.length === 0) {
    body.push(h('p', { class: 'text' }, textWithMentions(message.message, message.mentions, view.me, (up) => view.names[up] ?? up)));
  }
  if (!message.deleted) body.push(message.archived ? keptReactions(message) : reactions(message, view));
  if (!message.deleted && !view.editing && !message.archived) body.push(actions(view));
  if (view.picking && !message.deleted) body.push(picker());
  if (view.readers.length) body.push(h('p', { class: 'seen' }, `Seen by ${list(view.readers)}`));
  parts.push(h('div', { class: 'bubble' }, body));
  return parts;
}

function pendingParts(pending, view) {
  const failed = pending.state === 'failed';
  const state = failed
    ? h('span', { class: 'failed-note' }, `Not sent: ${pending.error ?? 'no answer from the server'}`)
    : h('span', { class: 'sending' }, 'Sending…');
  const attachments = pending.attachments ?? [];
  const body = [
    head(view, null, state),
    view.quote ? quoteView(view.quote) : null,
    attachments.length ? attachmentList(attachments) : null,
    pending.text || attachments.length === 0 ? h('p', { class: 'text' }, pending.text) : null,
  ].filter(Boolean);
  if (failed) {
    body.push(h('div', { class: 'actions shown' },
      h('button', { type: 'button', 'data-action': 'retry' }, 'Retry'),
      h('button', { type: 'button', 'data-action': 'unsend' }, 'Edit'),
      h('button', { type: 'button', 'data-action': 'discard' }, 'Discard')));
  }
  return [h('div', { class: 'bubble' }, body)];
}

function reactions(message, view) {
  const chips = Object.entries(message.reactions ?? {}).filter(([, ups]) => ups.length).map(([emoji, ups]) => {
    const mine = ups.includes(view.me);
    return h('button', {
      type: 'button', class: 'reaction', 'data-action': 'toggle-reaction', 'data-emoji': emoji,
      'aria-pressed': String(mine), title: list(ups),
      'aria-label': `${emoji} ${ups.length}, ${mine ? 'remove your reaction' : 'react too'}`,
    }, emoji, ' ', h('span', { class: 'count' }, String(ups.length)));
  });
  return h('div', { class: 'reactions' }, chips);
}

/** The reactions of a message kept only on this device: shown, not changeable. */
function keptReactions(message) {
  const chips = Object.entries(message.reactions ?? {}).filter(([, ups]) => ups.length)
    .map(([emoji, ups]) => h('span', { class: 'reaction', title: list(ups) }, emoji, ' ', h('span', { class: 'count' }, String(ups.length))));
  return h('div', { class: 'reactions' }, chips);
}

/** The files of a message kept only on this device, by name: the server deleted them. */
function goneFiles(attachments) {
  return h('p', { class: 'gone-files' }, `${attachments.map((a) => a.name).join(', ')}: no longer on the server`);
}

function actions(view) {
  const buttons = [
    h('button', { type: 'button', 'data-action': 'reply' }, 'Reply'),
    h('button', { type: 'button', 'data-action': 'pick', 'aria-expanded': String(Boolean(view.picking)) }, 'React'),
  ];
  if (view.mine && view.confirming) {
    return h('div', { class: 'actions shown confirm' },
      h('span', {}, 'Delete this message?'),
      h('button', { type: 'button', class: 'danger', 'data-action': 'confirm-delete' }, 'Delete'),
      h('button', { type: 'button', 'data-action': 'cancel-delete' }, 'Keep'));
  }
  if (view.mine) {
    buttons.push(h('button', { type: 'button', 'data-action': 'edit' }, 'Edit'));
    buttons.push(h('button', { type: 'button', 'data-action': 'delete' }, 'Delete'));
  }
  return h('div', { class: 'actions' }, buttons);
}

function picker() {
  return h('div', { class: 'picker', role: 'group', 'aria-label': 'Reactions' },
    EMOJI.map((emoji) => h('button', { type: 'button', 'data-action': 'react', 'data-emoji': emoji, 'aria-label': `React with ${emoji}` }, emoji)));
}

function editForm(message) {
  const id = `edit-${message.id}`;
  return h('form', { class: 'edit-form', 'data-action': 'save-edit' },
    h('label', { for: id, class: 'visually-hidden' }, 'Edit message'),
    h('textarea', { id, rows: '2', 'data-action': 'edit-text' }, message.message),
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'primary' }, 'Save'),
      h('button', { type: 'button', 'data-action': 'cancel-edit' }, 'Cancel')));
}

const listFormat = new Intl.ListFormat(undefined, { style: 'long', type: 'conjunction' });
export const list = (items) => listFormat.format(items);
