// The files attached to the message being written: picked with `Attach a
// file`, dropped on the conversation, or pasted into the message box. Each
// is uploaded at once (upload.js) and shown in the `Attachments` list above
// the box: a progress bar and `Cancel` while it uploads, then a chip with
// `Remove`, or the reason it was refused. Kept per conversation, like the
// draft text; the composer sends the ready ones with the message.

import { fileBadge, formatSize, isImage } from './attachments.js';
import { h, reconcile } from './format.js';
import { cleanName, upload } from './upload.js';

/** A message carries at most this many files (docs/chat-api.md#chat-message). */
export const MAX_FILES = 10;

const percent = new Intl.NumberFormat(undefined, { style: 'percent' });

/**
 * `elements`: `{list, button, picker, dropZone, box}` (the chips' `ul`,
 * the Attach button, its hidden file input, the area files can be dropped
 * on, the message box that takes pasted files). `options`: `{token,
 * canAttach(room), notice(text)}`.
 */
export function createTray({ list, button, picker, dropZone, box }, { token, canAttach, notice }) {
  const trays = new Map(); // conversation id -> [item]
  let room = null;
  let dragDepth = 0;

  const items = (id = room) => {
    if (!trays.has(id)) trays.set(id, []);
    return trays.get(id);
  };

  button.addEventListener('click', () => {
    if (allowed()) picker.click();
  });
  picker.addEventListener('change', () => {
    add([...picker.files]);
    picker.value = '';
  });
  box.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData?.files ?? [])];
    if (files.length === 0) return; // text: pasted as usual
    event.preventDefault();
    if (allowed()) add(files.map(named));
  });

  // Files dragged over the conversation: it shows it takes them.
  const carriesFiles = (event) => [...(event.dataTransfer?.types ?? [])].includes('Files');
  dropZone.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event) || !room) return;
    dragDepth += 1;
    dropZone.classList.add('dropping');
  });
  dropZone.addEventListener('dragleave', (event) => {
    if (!carriesFiles(event)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (dragDepth === 0) dropZone.classList.remove('dropping');
  });
  dropZone.addEventListener('dragover', (event) => {
    if (!carriesFiles(event) || !room) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = 'copy';
  });
  dropZone.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    dragDepth = 0;
    dropZone.classList.remove('dropping');
    if (allowed()) add([...event.dataTransfer.files]);
  });
  // A file dropped anywhere else must not replace the page with itself.
  const ignoreDrop = (event) => {
    if (carriesFiles(event) && !event.defaultPrevented) {
      event.preventDefault();
      event.dataTransfer.dropEffect = 'none';
    }
  };
  window.addEventListener('dragover', ignoreDrop);
  window.addEventListener('drop', ignoreDrop);

  function allowed() {
    if (!room) return false;
    if (canAttach(room)) return true;
    notice('Files can be attached once the conversation has started: send a first message.');
    return false;
  }

  function add(files) {
    const id = room;
    for (const file of files) {
      if (items(id).filter((item) => item.state !== 'failed').length >= MAX_FILES) {
        notice(`A message carries at most ${MAX_FILES} files.`);
        break;
      }
      start(id, file);
    }
    draw();
  }

  function start(id, file) {
    const item = { key: crypto.randomUUID(), name: cleanName(file.name), size: file.size, state: 'uploading', progress: 0 };
    items(id).push(item);
    const sending = upload({
      token, group: id, file, name: item.name,
      onProgress: (fraction) => {
        item.progress = fraction;
        showProgress(item);
      },
    });
    item.abort = sending.abort;
    sending.done.then((attachment) => {
      Object.assign(item, { state: 'ready', attachment, name: attachment.name, size: attachment.size });
    }, (err) => {
      if (err.code === 'cancelled') return;
      Object.assign(item, { state: 'failed', error: err.message });
      notice(`${item.name} was not uploaded: ${err.message}.`);
    }).finally(() => {
      item.abort = null;
      if (id === room) draw();
    });
  }

  function remove(item) {
    const held = items();
    const at = held.indexOf(item);
    if (at < 0) return;
    item.abort?.();
    held.splice(at, 1);
    const focusWasIn = item.el?.contains(document.activeElement);
    draw();
    if (focusWasIn) (held[at] ?? held[at - 1])?.el?.querySelector('button')?.focus() ?? box.focus();
  }

  list.addEventListener('click', (event) => {
    const control = event.target.closest('button[data-key]');
    const item = control && items().find((i) => i.key === control.dataset.key);
    if (item) remove(item);
  });

  function showProgress(item) {
    const bar = item.el?.querySelector('progress');
    if (!bar) return;
    bar.value = item.progress;
    bar.nextElementSibling.textContent = percent.format(item.progress);
  }

  /** One chip: its content follows the item's state; the focus stays on its button. */
  function fill(item) {
    if (item.el?.dataset.state === item.state) return item.el;
    const hadFocus = item.el?.contains(document.activeElement);
    item.el ??= h('li');
    item.el.dataset.state = item.state;
    item.el.className = `chip ${item.state}`;
    const icon = item.state === 'ready' && isImage(item.attachment)
      ? h('img', { class: 'chip-thumb', src: item.attachment.thumbnail.url, alt: '', width: 36, height: 36 })
      : h('span', { class: 'file-badge', 'aria-hidden': 'true' }, fileBadge(item));
    const name = h('span', { class: 'chip-name', title: item.name }, item.name);
    if (item.state === 'uploading') {
      item.el.replaceChildren(icon, h('span', { class: 'chip-main' }, name,
        h('span', { class: 'chip-progress' },
          h('progress', { max: '1', value: String(item.progress), 'aria-label': `Uploading ${item.name}` }),
          h('span', { class: 'chip-detail', 'aria-hidden': 'true' }, percent.format(item.progress)))),
      h('button', { type: 'button', class: 'quiet', 'data-key': item.key, 'aria-label': `Cancel the upload of ${item.name}` }, 'Cancel'));
    } else {
      const detail = item.state === 'failed'
        ? h('span', { class: 'chip-detail error' }, `Not uploaded: ${item.error}`)
        : h('span', { class: 'chip-detail' }, formatSize(item.size));
      const verb = item.state === 'failed' ? 'Dismiss' : 'Remove';
      item.el.replaceChildren(icon, h('span', { class: 'chip-main' }, name, detail),
        h('button', { type: 'button', class: 'quiet chip-remove', 'data-key': item.key, 'aria-label': `${verb} ${item.name}`, title: verb }, '×'));
    }
    if (hadFocus) item.el.querySelector('button').focus();
    return item.el;
  }

  function draw() {
    const shown = room ? items() : [];
    reconcile(list, shown.map(fill));
    list.hidden = shown.length === 0;
  }

  /** A pasted image is often just `image.png`: name it after the moment. */
  function named(file) {
    if (!/^image\.\w+$/.test(file.name)) return file;
    const stamp = new Date().toISOString().slice(0, 19).replace('T', ' ').replaceAll(':', '.');
    return new File([file], `Pasted image ${stamp}.${file.name.split('.').pop()}`, { type: file.type });
  }

  return {
    /** Shows conversation `id`'s files (null: none open). */
    open(id) {
      room = id;
      button.disabled = !id;
      button.setAttribute('aria-disabled', String(Boolean(id) && !canAttach(id)));
      draw();
    },
    /** A draft conversation got its real id. */
    rename(from, to) {
      if (trays.has(from)) trays.set(to, trays.get(from));
      trays.delete(from);
      if (room === from) this.open(to);
    },
    /** Some file of the open conversation is still uploading. */
    busy: () => items().some((item) => item.state === 'uploading'),
    /** The uploaded files of the open conversation (Attachments). */
    ready: () => items().filter((item) => item.state === 'ready').map((item) => item.attachment),
    /** After a send: the open conversation's chips go. */
    clear() {
      trays.delete(room);
      draw();
    },
    /** Puts attachments of a message not sent back as chips. */
    restore(attachments) {
      for (const attachment of attachments) {
        items().push({ key: crypto.randomUUID(), state: 'ready', attachment, name: attachment.name, size: attachment.size });
      }
      draw();
    },
    stop() {
      for (const held of trays.values()) for (const item of held) item.abort?.();
      trays.clear();
      window.removeEventListener('dragover', ignoreDrop);
      window.removeEventListener('drop', ignoreDrop);
    },
  };
}
