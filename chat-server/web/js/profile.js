// One's own name: the button in the top bar shows it (the `up` until one is
// set) and opens the form that changes it (`PATCH /chat/me`); the server
// tells the user's groups (`user updated`).

export function createProfile({ button, form, input, cancel, error }, { me, api, names, notice }) {
  function show() {
    button.textContent = names.display(me);
    button.setAttribute('aria-label', `${names.display(me)}: change your name`);
  }

  function close() {
    form.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    error.textContent = '';
  }

  button.addEventListener('click', () => {
    if (!form.hidden) return close();
    form.hidden = false;
    button.setAttribute('aria-expanded', 'true');
    input.value = names.named(me) ? names.display(me) : '';
    input.focus();
  });
  cancel.addEventListener('click', () => {
    close();
    button.focus();
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      close();
      button.focus();
    }
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
      close();
      button.focus();
      notice(`Your name is now ${saved.name}.`);
    } catch (err) {
      error.textContent = err.message;
    }
  });

  return { show };
}
