// Dates and times in the user's locale (Intl), and small DOM helpers shared
// by the views.

const time = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });
const dayInYear = new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' });
const fullDay = new Intl.DateTimeFormat(undefined, { dateStyle: 'full' });
const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const shortDay = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

/** `14:05` (or `2:05 PM`), in the user's locale. */
export const formatTime = (iso) => time.format(new Date(iso));

/** `Tuesday, 24 November 2026`, in the user's locale. */
export const formatDateTime = (iso) => dateTime.format(new Date(iso));

/** A short date for lists: the time today, `Yesterday`, else `24 Nov`. */
export function formatWhen(iso, now = new Date()) {
  if (dayKey(iso) === dayKey(now.toISOString())) return formatTime(iso);
  const yesterday = new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1).toISOString();
  if (dayKey(iso) === dayKey(yesterday)) return formatDay(iso, now);
  return shortDay.format(new Date(iso));
}

/** The local calendar day of a time, as a key: `2026-11-24`. */
export function dayKey(iso) {
  const d = new Date(iso);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** A day separator's text: today, yesterday, a weekday and date, or a full date. */
export function formatDay(iso, now = new Date()) {
  const d = new Date(iso);
  const startOf = (x) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((startOf(d) - startOf(now)) / 86_400_000);
  if (days === 0 || days === -1) return capitalise(relative.format(days, 'day'));
  return d.getFullYear() === now.getFullYear() ? dayInYear.format(d) : fullDay.format(d);
}

const capitalise = (text) => text.charAt(0).toLocaleUpperCase() + text.slice(1);

/** `h('p', {class: 'x'}, 'text', child)`: an element with attributes and children. */
export function h(tag, attributes = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/**
 * Makes `parent`'s children exactly `nodes`, moving only what is out of
 * place (a moved element loses the focus). The children that go are
 * removed first, so that a node that stays is not moved just because one
 * before it went (older messages coming in above, the top line changing).
 */
export function reconcile(parent, nodes) {
  const keep = new Set(nodes);
  for (const child of [...parent.childNodes]) if (!keep.has(child)) child.remove();
  let cursor = parent.firstChild;
  for (const node of nodes) {
    if (node === cursor) {
      cursor = cursor.nextSibling;
      continue;
    }
    parent.insertBefore(node, cursor);
  }
}
