// The `Groups` navigation: one row per conversation, most recently active
// first, with its name (the button that opens it, named with the unread
// count and the mentions of the user), the time and preview of its last
// message, the unread count, `@N` when N of them mention the user,
// and (for direct messages) the other user's name and presence; and the
// form that starts a direct message with a user id.

import { describeAttachments } from './attachments.js';
import { formatWhen, h, reconcile } from './format.js';
import { plainWithMentions } from './mentions.js';
import { avatar } from './message-view.js';

const UP = /^[A-Za-z0-9._@-]{1,64}$/;

export function createSidebar(listEl, form, errorEl, handlers) {
  const items = new Map(); // conversation id -> li

  listEl.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-id]');
    if (button) handlers.open(button.dataset.id);
  });
  listEl.addEventListener('keydown', (event) => {
    // Arrow keys move between the groups, as in a list.
    if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
    const buttons = [...listEl.querySelectorAll('button[data-id]')];
    const at = buttons.indexOf(document.activeElement);
    if (at < 0) return;
    event.preventDefault();
    buttons[Math.max(0, Math.min(buttons.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)))].focus();
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = form.elements.user;
    const up = input.value.trim();
    if (!UP.test(up)) {
      errorEl.textContent = 'A user id is 1 to 64 letters, digits or . _ @ -, e.g. up201905679.';
      return;
    }
    if (up === handlers.me) {
      errorEl.textContent = 'That is you: enter someone else’s user id.';
      return;
    }
    errorEl.textContent = '';
    input.value = '';
    handlers.startDirect(up);
  });

  function render(state) {
    const nodes = state.ordered().map((conversation) => {
      let li = items.get(conversation.id);
      if (!li) {
        li = h('li');
        items.set(conversation.id, li);
      }
      fill(li, conversation, state);
      return li;
    });
    if (nodes.length === 0) nodes.push(h('li', { class: 'empty' }, 'No groups yet. Start a direct message below.'));
    reconcile(listEl, nodes);
    for (const [id, li] of items) if (!li.isConnected) items.delete(id);
  }

  function fill(li, conversation, state) {
    const last = conversation.newest;
    const peer = conversation.peer;
    const view = {
      title: peer ? handlers.display(peer) : conversation.title, unread: conversation.unread,
      mentions: conversation.mentions, active: conversation.id === state.activeId,
      preview: preview(last, state.me, Boolean(peer), handlers.display), time: last ? formatWhen(last.timestamp) : '',
      online: peer ? state.online.has(peer) : null, kind: conversation.kind,
    };
    const key = JSON.stringify(view);
    if (li.dataset.key === key) return;
    const hadFocus = li.contains(document.activeElement);
    li.dataset.key = key;
    const counts = [view.unread && `${view.unread} unread`, view.mentions && `${view.mentions} mentioning you`].filter(Boolean);
    const label = [view.title, ...counts].join(', ');
    const icon = peer ? avatar(peer) : h('span', { class: 'avatar group', 'aria-hidden': 'true' }, '#');
    if (peer) icon.append(h('span', { class: `dot ${view.online ? 'on' : 'off'}` }));
    const previewId = `preview-${conversation.id}`;
    // The button holds the name only, so that its accessible name (with the
    // unread count) contains all its visible text; it covers the whole row
    // (app.css), whose time, preview and badge are beside it.
    const button = h('button', {
      type: 'button', class: 'group', 'data-id': conversation.id, 'aria-label': label,
      'aria-describedby': previewId, 'aria-current': view.active ? 'page' : false,
    }, h('span', { class: 'group-name' }, view.title));
    li.className = view.active ? 'group-item current' : 'group-item';
    li.replaceChildren(icon, h('span', { class: 'group-main' },
      h('span', { class: 'group-line' }, button, h('span', { class: 'group-time' }, view.time)),
      h('span', { class: 'group-line' },
        h('span', { class: 'group-preview', id: previewId }, view.preview),
        view.mentions ? h('span', { class: 'badge mention' }, `@${view.mentions > 99 ? '99+' : view.mentions}`) : null,
        view.unread ? h('span', { class: 'badge' }, view.unread > 99 ? '99+' : String(view.unread)) : null)));
    if (hadFocus) button.focus();
  }

  return { render };
}

function preview(message, me, direct, display) {
  if (!message) return 'No messages yet';
  const text = message.deleted ? 'Message deleted'
    : plainWithMentions(message.message, message.mentions, display) || describeAttachments(message.attachments ?? []);
  if (message.from === me) return `You: ${text}`;
  return direct ? text : `${display(message.from)}: ${text}`;
}

