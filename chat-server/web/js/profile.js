// One's own name: the button in the top bar shows it (the `up` until one is
// set) and opens the form that changes it (`PATCH /chat/me`); the server
// tells the user's groups (`user updated`).

import { createDisclosure } from './disclosure.js';

export function createProfile({ button, form, input, cancel, error }, { me, api, names, notice }) {
  function show() {
    button.textContent = names.display(me);
    button.setAttribute('aria-label', `${names.display(me)}: change your name`);
  }

  const disclosure = createDisclosure({ button, form, cancel, error }, {
    onOpen: () => {
      input.value = names.named(me) ? names.display(me) : '';
      input.focus();
    },
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    if (!name) {
      error.textContent = 'Write a name of 1 to 64 characters.';
      return;
    }
    try {
      const saved = await api.setName(name);
      names.set(me, saved.name);
      disclosure.closeToButton();
      notice(`Your name is now ${saved.name}.`);
    } catch (err) {
      error.textContent = err.message;
    }
  });

  return { show };
}
