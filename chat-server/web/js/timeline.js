// The `Messages` region of the open conversation: articles in time order
// with day separators, older pages loaded when the reader scrolls to the
// top, the view kept at the bottom while it is there, the clicks on the
// articles' buttons, quotes and attachments passed to the controller, and
// a message brought into view (`reveal`) when a quote is followed. Messages
// that only this device still holds (retention deleted them from the
// server) are set apart by a line.

import { linkFresh } from './attachments.js';
import { dayKey, formatDay, h, reconcile } from './format.js';
import { renderArticle } from './message-view.js';
import { currentQuote } from './replies.js';

/** Messages of one sender within this time share one header. */
const RUN_MS = 5 * 60_000;
/** How long a message brought into view stays marked. */
const REVEALED_MS = 4000;
/** Closer than this to the top loads the previous page. */
const LOAD_MARGIN_PX = 200;

export function createTimeline(region, list, handlers) {
  const elements = new Map(); // key -> element
  let shownId = null;
  let conversation = null;
  const ui = { editing: null, confirming: null, picking: null };

  const jump = region.querySelector('#jump');
  jump.addEventListener('click', () => {
    region.scrollTop = region.scrollHeight;
    region.querySelector('article:last-of-type')?.focus();
  });
  // Whether the view is at the newest message, as of the last scroll (the
  // region's size may be changing at the time of a render). The view stays
  // there when new messages come, and when the region gets smaller (files
  // attached above the message box, a longer text).
  let keptAtBottom = true;
  // The message last brought into view (a quote's original, a search
  // result): highlighted until `until`, through every redraw meanwhile.
  let revealed = { id: null, until: 0 };
  const nearBottom = () => region.scrollHeight - region.scrollTop - region.clientHeight < 48;
  region.addEventListener('scroll', () => {
    keptAtBottom = nearBottom();
    maybeLoadOlder();
    updateJump();
  });
  new ResizeObserver(() => {
    if (keptAtBottom && conversation) region.scrollTop = region.scrollHeight;
  }).observe(region);
  region.addEventListener('click', (event) => {
    const control = event.target.closest('[data-action]');
    const article = event.target.closest('article');
    if (control?.dataset.attachment && article) {
      openAttachment(event, article, control);
      return;
    }
    if (!control || !article || control.tagName === 'FORM' || control.tagName === 'TEXTAREA') {
      if (article && !control) article.classList.toggle('selected');
      return;
    }
    act(control.dataset.action, article, control);
  });
  region.addEventListener('submit', (event) => {
    event.preventDefault();
    const article = event.target.closest('article');
    if (article) act('save', article, event.target);
  });
  region.addEventListener('focusin', () => updateTabStops());
  // A thumbnail that does not load: its signed link may have expired.
  region.addEventListener('error', (event) => {
    const article = event.target.tagName === 'IMG' ? event.target.closest('article') : null;
    if (article?.dataset.id) handlers.brokenImage(conversation, article.dataset.id, event.target);
  }, true);
  region.addEventListener('keydown', (event) => {
    if (moveFocus(event)) return;
    const article = event.target.closest('article');
    if (!article) return;
    if (event.key === 'Escape') {
      if (ui.editing || ui.confirming || ui.picking) {
        event.preventDefault();
        Object.assign(ui, { editing: null, confirming: null, picking: null });
        redraw();
        article.querySelector('[data-action="pick"]')?.focus();
      }
    } else if (event.key === 'Enter' && !event.shiftKey && event.target.dataset.action === 'edit-text' && !event.isComposing) {
      event.preventDefault();
      act('save', article, event.target);
    }
  });

  function act(action, article, control) {
    const id = article.dataset.id;
    const nonce = article.dataset.nonce;
    switch (action) {
      case 'pick': ui.picking = ui.picking === id ? null : id; break;
      case 'react': ui.picking = null; handlers.react(id, control.dataset.emoji, true); break;
      case 'toggle-reaction': handlers.react(id, control.dataset.emoji, control.getAttribute('aria-pressed') !== 'true'); break;
      case 'edit': Object.assign(ui, { editing: id, picking: null, confirming: null }); break;
      case 'cancel-edit': ui.editing = null; break;
      case 'save': {
        const text = article.querySelector('textarea')?.value ?? '';
        ui.editing = null;
        handlers.edit(id, text);
        break;
      }
      case 'delete': Object.assign(ui, { confirming: id, picking: null }); break;
      case 'cancel-delete': ui.confirming = null; break;
      case 'confirm-delete': ui.confirming = null; handlers.remove(id); break;
      case 'retry': handlers.retry(nonce); break;
      case 'discard': handlers.discard(nonce); break;
      case 'unsend': handlers.unsend(nonce); break;
      case 'reply': handlers.reply(id); return;
      case 'show-original': handlers.showOriginal(conversation, control.dataset.target); return;
      default: return;
    }
    redraw();
  }

  /**
   * A thumbnail opens the image viewer; a download link downloads, once
   * its signed link is fresh (docs/chat-api.md#signed-links).
   */
  function openAttachment(event, article, control) {
    const held = article.dataset.id ? conversation?.messages.get(article.dataset.id)
      : conversation?.pending.get(article.dataset.nonce);
    const attachment = (held?.attachments ?? []).find((a) => a.id === control.dataset.attachment);
    if (!attachment) return;
    const action = control.dataset.action;
    if (action === 'download' && linkFresh(attachment.url)) return; // the link does it
    event.preventDefault();
    handlers.openAttachment({ conv: conversation, messageId: article.dataset.id ?? null, attachment, action, opener: control });
  }

  /**
   * The keyboard moves between messages with the arrow keys (and Home /
   * End); Tab then reaches the buttons of the message in focus only, so the
   * region is not a long row of tab stops.
   */
  function moveFocus(event) {
    const keys = ['ArrowUp', 'ArrowDown', 'Home', 'End'];
    if (!keys.includes(event.key) || event.altKey || event.ctrlKey || event.metaKey) return false;
    if (event.target !== region && event.target.tagName !== 'ARTICLE') return false;
    const articles = [...list.querySelectorAll('article')];
    if (articles.length === 0) return false;
    const at = articles.indexOf(event.target);
    let next;
    if (event.key === 'Home') next = 0;
    else if (event.key === 'End' || at < 0) next = articles.length - 1;
    else next = Math.max(0, Math.min(articles.length - 1, at + (event.key === 'ArrowDown' ? 1 : -1)));
    event.preventDefault();
    articles[next].focus();
    articles[next].scrollIntoView({ block: 'nearest' });
    return true;
  }

  /** The way back to the newest message, shown once the reader is a screen away from it. */
  function updateJump() {
    jump.hidden = !conversation || region.scrollHeight - region.scrollTop - region.clientHeight < region.clientHeight;
  }

  function updateTabStops() {
    const current = document.activeElement?.closest?.('article');
    for (const control of list.querySelectorAll('article button, article textarea, article a[href]')) {
      control.tabIndex = control.closest('article') === current ? 0 : -1;
    }
  }

  function redraw() {
    if (conversation) render(conversation);
  }

  function maybeLoadOlder() {
    if (!conversation || conversation.draft || !conversation.hasOlder || conversation.loadingOlder) return;
    if (region.scrollTop < LOAD_MARGIN_PX) handlers.loadOlder(conversation);
  }

  /** Draws `conv` (null: nothing open). `{toBottom}` scrolls to the newest message. */
  function render(conv, { toBottom = false } = {}) {
    const switched = conv?.id !== shownId;
    if (switched) {
      elements.clear();
      list.replaceChildren();
      Object.assign(ui, { editing: null, confirming: null, picking: null });
    }
    conversation = conv;
    shownId = conv?.id ?? null;
    if (!conv) {
      if (switched) list.replaceChildren(h('p', { class: 'empty' }, 'Choose a group, or start a direct message with a user id.'));
      updateJump();
      return;
    }
    const atBottom = keptAtBottom;
    const anchor = firstArticle();
    const anchorTop = anchor?.offsetTop;

    const nodes = [top(conv)];
    const readers = readersByMessage(conv);
    let day = null;
    let previous = null;
    // Messages only this device still holds (retention deleted them from
    // the server) come first; a line says where the server's history starts.
    let archivedAbove = false;
    let boundaryPlaced = false;
    const items = [
      ...conv.sorted().map((message) => ({ message, key: message.id, from: message.from, at: message.timestamp })),
      ...[...conv.pending.values()].sort((a, b) => (a.createdAt < b.createdAt ? -1 : 1))
        .map((pending) => ({ pending, key: `pending:${pending.nonce}`, from: conv.me, at: pending.createdAt })),
    ];
    for (const item of items) {
      if (item.message?.archived) archivedAbove = true;
      else if (archivedAbove && !boundaryPlaced) {
        nodes.push(keptHere());
        boundaryPlaced = true;
      }
      if (dayKey(item.at) !== day) {
        day = dayKey(item.at);
        nodes.push(separator(day, item.at));
        previous = null;
      }
      const grouped = Boolean(previous && previous.from === item.from && !previous.message?.deleted
        && new Date(item.at) - new Date(previous.at) < RUN_MS);
      const replyTo = item.message?.replyTo ?? item.pending?.replyTo;
      const quote = replyTo ? currentQuote(conv, replyTo) : null;
      nodes.push(article(item, {
        me: conv.me,
        mine: item.from === conv.me,
        grouped,
        sender: handlers.display(item.from),
        names: Object.fromEntries((item.message?.mentions ?? []).map((up) => [up, handlers.display(up)])),
        quote: quote && { ...quote, fromName: handlers.display(quote.from) },
        readers: item.message ? (readers.get(item.message.id) ?? []).filter((up) => up !== item.from).map(handlers.display) : [],
        editing: item.message && ui.editing === item.key,
        confirming: item.message && ui.confirming === item.key,
        picking: item.message && ui.picking === item.key,
      }));
      previous = item;
    }
    if (archivedAbove && !boundaryPlaced) nodes.push(keptHere());
    if (items.length === 0) nodes.push(h('p', { class: 'empty' }, conv.draft
      ? `Say hello: your first message starts a conversation with ${conv.title}.`
      : 'No messages yet.'));
    reconcile(list, nodes);
    const shown = new Set(nodes);
    for (const [key, el] of elements) if (!shown.has(el)) elements.delete(key);

    if (switched || toBottom || atBottom) {
      region.scrollTop = region.scrollHeight;
      keptAtBottom = true;
    } else if (anchor?.isConnected && anchorTop !== undefined) {
      region.scrollTop += anchor.offsetTop - anchorTop; // older messages came in above: stay put
    }
    updateTabStops();
    updateJump();
    // A first page shorter than the screen: fetch more right away.
    if (region.scrollHeight <= region.clientHeight) maybeLoadOlder();
  }

  function firstArticle() {
    return list.querySelector('article');
  }

  function top(conv) {
    const key = conv.hasOlder ? (conv.loadingOlder ? 'top:loading' : 'top:more') : conv.loaded ? 'top:start' : 'top:none';
    if (key === 'top:start' && elements.has(key)) {
      // Where history starts: the beginning, or what retention kept.
      const start = elements.get(key);
      const text = handlers.startText(conv);
      if (start.textContent !== text) start.textContent = text;
      return start;
    }
    if (elements.has(key)) return elements.get(key);
    let el;
    if (key === 'top:more') {
      el = h('button', { type: 'button', class: 'load-older quiet', onclick: () => handlers.loadOlder(conversation) }, 'Load older messages');
    } else if (key === 'top:loading') {
      el = h('p', { class: 'load-older' }, 'Loading older messages…');
    } else if (key === 'top:start') {
      el = h('p', { class: 'start' });
    } else {
      el = h('p', { class: 'start' }, '');
    }
    for (const k of ['top:more', 'top:loading', 'top:start', 'top:none']) elements.delete(k);
    elements.set(key, el);
    if (key === 'top:start') el.textContent = handlers.startText(conv);
    return el;
  }

  /** The line between the messages only this device holds and the server's. */
  function keptHere() {
    if (!elements.has('kept-here')) {
      elements.set('kept-here', h('p', { class: 'kept-here' },
        'Older messages are kept only on this device: the server no longer has them.'));
    }
    return elements.get('kept-here');
  }

  function separator(day, at) {
    const key = `day:${day}`;
    if (!elements.has(key)) elements.set(key, h('h3', { class: 'day' }, h('span', {}, formatDay(at))));
    return elements.get(key);
  }

  function article(item, view) {
    let el = elements.get(item.key);
    // An acked message takes over the element of its pending send.
    const pendingKey = item.message?.nonce && item.message.from === view.me ? `pending:${item.message.nonce}` : null;
    if (!el && pendingKey && elements.has(pendingKey)) {
      el = elements.get(pendingKey);
      elements.delete(pendingKey);
    }
    if (!el) el = h('article', { tabindex: '-1' });
    elements.set(item.key, el);
    if (item.pending) el.dataset.nonce = item.pending.nonce;
    else delete el.dataset.nonce;
    renderArticle(el, item, view);
    if (item.key === revealed.id && Date.now() < revealed.until) el.classList.add('flash');
    return el;
  }

  /** Brings message `id` into view, focused and marked for a moment; false when it is not shown. */
  function reveal(id) {
    const el = elements.get(id);
    if (!el?.isConnected) return false;
    el.scrollIntoView({ block: 'center' });
    keptAtBottom = nearBottom();
    el.focus({ preventScroll: true });
    el.classList.remove('flash');
    void el.offsetWidth; // restarts the animation
    el.classList.add('flash');
    revealed = { id, until: Date.now() + REVEALED_MS };
    return true;
  }

  return { render, redraw, reveal, get shownId() { return shownId; } };
}

/** message id -> the other users whose read mark is there. */
function readersByMessage(conv) {
  const map = new Map();
  for (const [up, messageId] of conv.readMarks) {
    if (up === conv.me) continue;
    if (!map.has(messageId)) map.set(messageId, []);
    map.get(messageId).push(up);
  }
  return map;
}
