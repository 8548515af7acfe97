// The full image of an attachment, over the page: a modal `dialog` named
// after the file, with a `Download` link and `Close`. Escape, `Close` or a
// click beside the image closes it; the focus goes back to the thumbnail
// that opened it.

import { formatSize } from './attachments.js';

export function createViewer(dialog) {
  const title = dialog.querySelector('.viewer-title');
  const detail = dialog.querySelector('.viewer-detail');
  const image = dialog.querySelector('img');
  const problem = dialog.querySelector('.viewer-problem');
  const download = dialog.querySelector('a[download]');
  let opener = null;
  let shownId = null;

  dialog.querySelector('.viewer-close').addEventListener('click', () => dialog.close());
  // A click on the backdrop (the dialog itself, around its content) closes it.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener('close', () => {
    image.removeAttribute('src');
    // The thumbnail may have been drawn again meanwhile (fresh links).
    const back = opener?.isConnected ? opener
      : document.querySelector(`[data-action="view-image"][data-attachment="${CSS.escape(shownId ?? '')}"]`);
    back?.focus();
    opener = null;
  });
  image.addEventListener('error', () => {
    if (!image.getAttribute('src')) return;
    image.hidden = true;
    problem.textContent = 'The image could not be loaded. Close this and open it again.';
  });

  return {
    /** Shows `attachment` (its `url` fresh); `from` gets the focus back. */
    show(attachment, from) {
      opener = from;
      shownId = attachment.id;
      title.textContent = attachment.name;
      detail.textContent = [attachment.width && `${attachment.width} × ${attachment.height}`, formatSize(attachment.size)]
        .filter(Boolean).join(', ');
      problem.textContent = '';
      image.hidden = false;
      image.alt = attachment.name;
      if (attachment.width) {
        image.width = attachment.width;
        image.height = attachment.height;
      } else {
        image.removeAttribute('width');
        image.removeAttribute('height');
      }
      image.src = attachment.url;
      download.href = attachment.url;
      download.download = attachment.name;
      download.setAttribute('aria-label', `Download ${attachment.name}`);
      if (!dialog.open) dialog.showModal();
    },
    close() {
      if (dialog.open) dialog.close();
    },
  };
}
