// A button that opens a form and closes it again (one's name, a group's
// retention): `aria-expanded` follows the form, Cancel and Escape close it
// and give the focus back to the button, and closing clears its error line.

/**
 * `elements`: `{button, form, cancel, error}`; `onOpen()` fills the form and
 * focuses its first field once it shows. Answers `close()` (the focus stays
 * where it is) and `closeToButton()`.
 */
export function createDisclosure({ button, form, cancel, error }, { onOpen }) {
  function close() {
    form.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    error.textContent = '';
  }

  function closeToButton() {
    close();
    button.focus();
  }

  button.addEventListener('click', () => {
    if (!form.hidden) return close();
    form.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    onOpen();
  });
  cancel.addEventListener('click', closeToButton);
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeToButton();
  });

  return { close, closeToButton };
}
