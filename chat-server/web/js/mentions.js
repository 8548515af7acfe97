// Mentions: a message's text with its `@up`s shown as the members' names
// (the reader's own highlighted), and the message box's `@` completion,
// which offers the conversation's members by name or id and writes the
// chosen one as `@up` (the form the server reads, docs/chat-api.md#mentions).

import { h } from './format.js';

/** `@` then an id, where an `@` may start a mention (as the server reads it). */
const MENTION = /(^|[^A-Za-z0-9._@-])@([A-Za-z0-9._@-]+)/g;
/** The `@word` being typed just before the caret. */
const TYPING = /(?:^|[^A-Za-z0-9._@-])@([^\s@]{0,64})$/;
const SHOWN = 8;

/** The nodes of `text`: its `@up`s that are in `mentions` become name chips. */
export function textWithMentions(text, mentions, me, display) {
  if (!mentions?.length) return [text];
  const nodes = [];
  let at = 0;
  for (const match of text.matchAll(MENTION)) {
    const id = match[2].replace(/\.+$/, '');
    if (!mentions.includes(id)) continue;
    const start = match.index + match[1].length;
    nodes.push(text.slice(at, start));
    nodes.push(h('span', { class: id === me ? 'mention me' : 'mention', title: `@${id}` }, `@${display(id)}`));
    at = start + 1 + id.length;
  }
  nodes.push(text.slice(at));
  return nodes;
}

/** `text` with its mentions written as names, for one-line previews. */
export function plainWithMentions(text, mentions, display) {
  if (!mentions?.length) return text;
  return text.replace(MENTION, (whole, before, id) => {
    const up = id.replace(/\.+$/, '');
    return mentions.includes(up) ? `${before}@${display(up)}${id.slice(up.length)}` : whole;
  });
}

/**
 * The `@` completion of `input` (a textarea) into `listEl` (a listbox):
 * `members()` are the ups to offer; ArrowUp/ArrowDown move, Enter or Tab
 * choose, Escape closes. `handleKey` is called first by the box's own
 * keydown (so Enter chooses rather than sends).
 */
export function createCompletion(input, listEl, { members, names }) {
  let options = [];
  let active = 0;
  let start = -1;

  function close() {
    options = [];
    start = -1;
    listEl.hidden = true;
    listEl.replaceChildren();
    input.removeAttribute('aria-activedescendant');
  }

  function update() {
    const before = input.value.slice(0, input.selectionStart);
    const typed = TYPING.exec(before);
    if (!typed || input.selectionStart !== input.selectionEnd) return close();
    options = names.matching(members(), typed[1]).slice(0, SHOWN);
    if (options.length === 0) return close();
    start = before.length - typed[1].length - 1;
    active = Math.min(active, options.length - 1);
    draw();
  }

  function draw() {
    listEl.hidden = false;
    listEl.replaceChildren(...options.map((up, i) => h('li', {
      id: `mention-option-${i}`, role: 'option', 'aria-selected': String(i === active), 'data-up': up,
    }, h('span', { class: 'option-name' }, names.display(up)), names.named(up) ? h('span', { class: 'option-up' }, ` @${up}`) : null)));
    input.setAttribute('aria-activedescendant', `mention-option-${active}`);
  }

  function choose(up) {
    const end = input.selectionStart;
    input.setRangeText(`@${up} `, start, end, 'end');
    close();
    input.dispatchEvent(new Event('input', { bubbles: true }));
  }

  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-controls', listEl.id);
  input.addEventListener('input', update);
  input.addEventListener('click', update);
  // Closed once the focus has left the box (a click on an option keeps it).
  input.addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== input) close();
  }, 150));
  // The pointer chooses without taking the focus from the box.
  listEl.addEventListener('mousedown', (event) => event.preventDefault());
  listEl.addEventListener('click', (event) => {
    const option = event.target.closest('[data-up]');
    if (option) choose(option.dataset.up);
  });

  return {
    /** Handles a key of the box; true when it was the completion's. */
    handleKey(event) {
      if (options.length === 0) return false;
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        active = (active + (event.key === 'ArrowDown' ? 1 : options.length - 1)) % options.length;
        draw();
      } else if ((event.key === 'Enter' || event.key === 'Tab') && !event.shiftKey && !event.isComposing) {
        choose(options[active]);
      } else if (event.key === 'Escape') {
        close();
      } else {
        return false;
      }
      event.preventDefault();
      event.stopPropagation();
      return true;
    },
    close,
  };
}
