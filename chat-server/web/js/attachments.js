// Attachments as messages show them (docs/chat-api.md#attachments): an
// image as its thumbnail, a link that opens the full image; any other file
// as a card with its name, size and a download link. Every link is the
// attachment's signed `url` (no token in a URL), which lives 15 to 20
// minutes: `linkFresh` tells when one has to be fetched again.

import { h } from './format.js';

const sizeFormats = new Map();

/** `15 bytes`, `12.3 kB`, `2.5 MB`, in the user's locale (decimal units). */
export function formatSize(bytes) {
  const units = [['byte', 1], ['kilobyte', 1e3], ['megabyte', 1e6], ['gigabyte', 1e9]];
  let [unit, scale] = units[0];
  for (const [u, s] of units) if (bytes >= s) [unit, scale] = [u, s];
  if (!sizeFormats.has(unit)) {
    sizeFormats.set(unit, new Intl.NumberFormat(undefined, {
      style: 'unit', unit, unitDisplay: unit === 'byte' ? 'long' : 'short', maximumFractionDigits: 1,
    }));
  }
  return sizeFormats.get(unit).format(bytes / scale);
}

/** An image the server made a thumbnail of (PNG, JPEG, GIF, WebP). */
export const isImage = (attachment) => Boolean(attachment.thumbnail?.url);

/** Whether a signed link is still good for `marginS` seconds (its `exp`). */
export function linkFresh(url, marginS = 30) {
  const exp = Number(new URL(url, location.origin).searchParams.get('exp'));
  return Number.isFinite(exp) && exp * 1000 > Date.now() + marginS * 1000;
}

/** What a file is, in a few letters, for its card: `PDF`, `ZIP`, else `FILE`. */
export function fileBadge(attachment) {
  const extension = /\.([A-Za-z0-9]{1,4})$/.exec(attachment.name)?.[1];
  return (extension ?? 'file').toUpperCase();
}

/** A short description for previews: `📷 photo.png` or `📎 notes.pdf`. */
export function describeAttachments(attachments) {
  return attachments.map((a) => `${isImage(a) ? '📷' : '📎'} ${a.name}`).join(', ');
}

/**
 * The attachments of a message, in order. Their links carry
 * `data-action` (`view-image`, `download`) and `data-attachment` (the id),
 * for the timeline to handle.
 */
export function attachmentList(attachments) {
  return h('div', { class: 'attachments' }, attachments.map((a) => (isImage(a) ? imageLink(a) : fileCard(a))));
}

function imageLink(attachment) {
  const { thumbnail } = attachment;
  const size = attachment.width ? `${attachment.width} × ${attachment.height}, ` : '';
  return h('a', {
    class: 'attachment-image', href: attachment.url, 'data-action': 'view-image', 'data-attachment': attachment.id,
    title: `${attachment.name} (${size}${formatSize(attachment.size)}): open the full image`,
  }, h('img', {
    src: thumbnail.url, alt: attachment.name, width: thumbnail.width, height: thumbnail.height, decoding: 'async',
  }));
}

function fileCard(attachment) {
  return h('div', { class: 'file-card' },
    h('span', { class: 'file-badge', 'aria-hidden': 'true' }, fileBadge(attachment)),
    h('span', { class: 'file-info' },
      h('span', { class: 'file-name' }, attachment.name),
      h('span', { class: 'file-size' }, formatSize(attachment.size))),
    h('a', {
      class: 'download', href: attachment.url, download: attachment.name,
      'data-action': 'download', 'data-attachment': attachment.id,
      'aria-label': `Download ${attachment.name}, ${formatSize(attachment.size)}`,
    }, 'Download'));
}
