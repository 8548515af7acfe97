// Searching the user's messages: the `Search` box of the top bar, its
// results (group, sender, time, and the text with the matched words in
// <mark>), paged with the gateway's cursor (GET /chat/search,
// docs/chat-api.md#search), and opening a result: its conversation, older
// pages loaded until the message is there, the message scrolled to,
// focused and highlighted.
//
// Keyboard: Enter searches; ArrowDown goes from the box to the results,
// ArrowUp / ArrowDown / Home / End move through them, Enter opens one,
// Escape closes the results and comes back to the box.

import { formatWhen, h } from './format.js';

/** Pages of results fetched in a row while they come back empty. */
const EMPTY_PAGES_IN_A_ROW = 5;
/** Older pages loaded at most to reach a result. */
const MAX_OLDER_PAGES = 200;

/** The text of `message` with its `matches` (UTF-16 ranges) in <mark>. */
export function markedText(message, matches) {
  const nodes = [];
  let at = 0;
  for (const { start, end } of [...matches].sort((a, b) => a.start - b.start)) {
    if (start < at || end <= start) continue;
    if (start > at) nodes.push(message.slice(at, start));
    nodes.push(h('mark', {}, message.slice(start, end)));
    at = end;
  }
  if (at < message.length) nodes.push(message.slice(at));
  return nodes;
}

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `els`: the form, the box, the scope select, the results panel, its status,
 * list and "More results" button. `handlers`: `search(params)` (the
 * gateway's page), `title(groupId)` (a group's name, or null), `display(up)`
 * (a user's name, or their up), `active()`
 * (the open conversation's id), `open(groupId)`, `conversation(groupId)`,
 * `loadOlder(conv)`, `reveal(messageId)` (into view, focused and marked),
 * `notice(text)`.
 */
export function createSearch(els, handlers) {
  const { form, input, scope, panel, status, list, more } = els;
  let query = null; // {q, group} of the results shown
  let cursor = null;
  let busy = false;
  let run = 0; // a newer search makes older answers stale

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    start();
  });
  input.addEventListener('focus', fillScope);
  input.addEventListener('keydown', (event) => {
    if (event.key === 'ArrowDown' && !panel.hidden) {
      event.preventDefault();
      list.querySelector('button')?.focus();
    } else if (event.key === 'Escape' && !panel.hidden) {
      event.preventDefault();
      close();
    }
  });
  panel.addEventListener('keydown', (event) => {
    const buttons = [...list.querySelectorAll('button')];
    const at = buttons.indexOf(document.activeElement);
    if (event.key === 'Escape') {
      event.preventDefault();
      close();
      input.focus();
      return;
    }
    if (at < 0 || !['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(event.key)) return;
    event.preventDefault();
    const next = event.key === 'Home' ? 0 : event.key === 'End' ? buttons.length - 1
      : Math.max(0, Math.min(buttons.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)));
    if (event.key === 'ArrowUp' && at === 0) input.focus();
    else buttons[next].focus();
  });
  more.addEventListener('click', () => fetchMore());

  /** The scope's options: every group, or the open conversation. */
  function fillScope() {
    const active = handlers.active();
    const chosen = scope.value;
    const options = [h('option', { value: '' }, 'All groups')];
    if (active) options.push(h('option', { value: active }, handlers.title(active) ?? 'This conversation'));
    scope.replaceChildren(...options);
    scope.value = [...scope.options].some((o) => o.value === chosen) ? chosen : '';
  }

  function start() {
    const q = input.value.trim();
    if (!q) {
      close();
      return;
    }
    query = { q, group: scope.value || null };
    cursor = null;
    run += 1;
    list.replaceChildren();
    panel.hidden = false;
    fetchMore();
  }

  function close() {
    run += 1;
    panel.hidden = true;
    query = null;
    list.replaceChildren();
    status.textContent = '';
  }

  async function fetchMore() {
    if (!query || busy) return;
    const mine = run;
    busy = true;
    more.hidden = true;
    status.textContent = 'Searching…';
    try {
      let empty = 0;
      for (;;) {
        const params = { q: query.q };
        if (query.group) params.group = query.group;
        if (cursor) params.cursor = cursor;
        const page = await handlers.search(params);
        if (mine !== run) return;
        for (const item of page.items) list.append(result(item));
        cursor = page.cursor ?? null;
        if (page.items.length > 0 || !cursor || ++empty >= EMPTY_PAGES_IN_A_ROW) break;
      }
      const count = list.children.length;
      status.textContent = count === 0 ? (cursor ? 'Nothing found yet.' : 'No messages found.')
        : `${count} ${count === 1 ? 'message' : 'messages'} found${cursor ? ' so far' : ''}.`;
      more.hidden = !cursor;
    } catch (err) {
      if (mine === run) status.textContent = `The search failed: ${err.message}`;
    } finally {
      busy = false;
    }
  }

  function result(message) {
    const group = handlers.title(message.group) ?? 'A group';
    const button = h('button', { type: 'button', class: 'search-hit' },
      h('span', { class: 'search-meta' },
        h('span', { class: 'search-group' }, group),
        h('span', { class: 'search-from' }, handlers.display(message.from)),
        h('time', { datetime: message.timestamp }, formatWhen(message.timestamp))),
      h('span', { class: 'search-text' }, ...markedText(message.message, message.matches ?? [])));
    button.addEventListener('click', () => openResult(message.group, message.id));
    return h('li', {}, button);
  }

  /** Opens `groupId` and shows message `id`, loading older pages as needed. */
  async function openResult(groupId, id) {
    const conv = handlers.conversation(groupId);
    if (!conv) {
      handlers.notice('That conversation is no longer in your list.');
      return;
    }
    close();
    handlers.open(groupId);
    for (let tries = 0; tries < MAX_OLDER_PAGES * 20 && !conv.messages.has(id); tries += 1) {
      if (!conv.loaded || conv.loadingOlder) {
        await pause(50);
        continue;
      }
      if (!conv.hasOlder) break;
      await handlers.loadOlder(conv);
    }
    if (!conv.messages.has(id)) {
      handlers.notice('That message could not be found in the conversation any more.');
      return;
    }
    // After the opening's redraw (scrolled to the newest), not before it.
    await nextFrame();
    handlers.reveal(id);
  }

  return { close };
}
