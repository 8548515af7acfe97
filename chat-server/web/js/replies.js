// Replies: the quote a reply shows of its original (kept up to date from
// the original when it is held here, so an edit or a delete shows at once),
// and the bar above the message box that says which message is being
// answered.

import { h } from './format.js';

/** How a reply's quote reads now: from the original when it is held, else as the server quoted it. */
export function currentQuote(conversation, replyTo) {
  if (!replyTo) return null;
  const original = conversation.messages.get(replyTo.id);
  if (!original) return replyTo;
  return {
    id: replyTo.id,
    from: original.from,
    deleted: original.deleted,
    snippet: original.deleted ? '' : (original.hidden ? replyTo.snippet : original.message.slice(0, 120)),
  };
}

/** The quote of a reply (`{id, from, fromName, snippet, deleted}`): a button that shows the original. */
export function quoteView(quote) {
  const text = quote.deleted ? 'Message deleted' : quote.snippet || 'An earlier message';
  return h('button', { type: 'button', class: quote.deleted ? 'quote deleted' : 'quote', 'data-action': 'show-original', 'data-target': quote.id },
    h('span', { class: 'visually-hidden' }, 'In reply to '),
    h('span', { class: 'quote-from' }, quote.fromName ?? quote.from),
    h('span', { class: 'visually-hidden' }, ': '),
    h('span', { class: 'quote-text' }, text));
}

/** The bar above the message box while a message is being answered; `cancel` drops the reply. */
export function createReplyBar(bar, { cancel }) {
  bar.addEventListener('click', (event) => {
    if (event.target.closest('[data-action="cancel-reply"]')) cancel();
  });
  return {
    show(message, display) {
      if (!message) {
        bar.hidden = true;
        bar.replaceChildren();
        return;
      }
      const text = message.message || 'a file';
      bar.hidden = false;
      bar.replaceChildren(
        h('p', { class: 'reply-to' }, 'Replying to ', h('strong', {}, display(message.from)), ': ',
          h('span', { class: 'reply-snippet' }, text.slice(0, 120))),
        h('button', { type: 'button', class: 'quiet', 'data-action': 'cancel-reply' }, 'Cancel reply'));
    },
  };
}
