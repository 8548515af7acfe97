// A group's retention in the conversation header ("Messages are kept
// forever", "… deleted after 7 days", "… deleted once everyone has read
// them"), and, for the group's admins, the form that changes it
// (`POST /chat/{group}/retention`, docs/chat-api.md#retention): Forever,
// Delete after N days, or Delete once everyone has read them with N hours
// of grace. The server tells the group's other members (`group updated`).

import { createDisclosure } from './disclosure.js';

export const FOREVER = { mode: 'forever' };

const dayCount = (days) => (days === 1 ? 'a day' : `${days} days`);

/** How a retention reads in the header. */
export function describeRetention(retention = FOREVER) {
  switch (retention.mode) {
    case 'days':
      return `Messages are deleted from the server ${dayCount(retention.days)} after they are sent`;
    case 'untilRead': {
      const grace = retention.graceHours;
      const after = grace === 0 ? '' : `, ${grace === 1 ? 'an hour' : `${grace} hours`} later`;
      return `Messages are deleted from the server once everyone has read them${after}`;
    }
    default:
      return 'Messages are kept forever';
  }
}

/** The top of a conversation whose server history has ended and this device holds nothing older. */
export function startOfKept(retention = FOREVER) {
  switch (retention.mode) {
    case 'days':
      return `Nothing older is kept: this group's messages are deleted ${dayCount(retention.days)} after they are sent.`;
    case 'untilRead':
      return 'Nothing older is kept: this group\'s messages are deleted once everyone has read them.';
    default:
      return 'This is the beginning of the conversation.';
  }
}

/**
 * The header line and the admins' form. `elements`: `{line, text, button,
 * form, days, grace, cancel, error}`; `api.setRetention`, `onSaved(group)`.
 */
export function createRetentionControl(elements, { me, api, notice, onSaved }) {
  const { line, text, button, form, days, grace, cancel, error } = elements;
  let shown = null; // the conversation the header shows

  const radios = () => [...form.querySelectorAll('input[name="retention-mode"]')];

  function fill(retention) {
    for (const radio of radios()) radio.checked = radio.value === retention.mode;
    days.value = String(retention.mode === 'days' ? retention.days : 30);
    grace.value = String(retention.mode === 'untilRead' ? retention.graceHours : 0);
  }

  /** What the form says, or a sentence saying what is wrong with it. */
  function chosen() {
    const mode = radios().find((radio) => radio.checked)?.value;
    const whole = (input, min, max) => {
      const n = Number(input.value);
      return input.value.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
    };
    if (mode === 'forever') return { retention: FOREVER };
    if (mode === 'days') {
      const n = whole(days, 1, 3650);
      return n === null ? { problem: 'Write a number of days from 1 to 3650.', field: days } : { retention: { mode, days: n } };
    }
    if (mode === 'untilRead') {
      const n = whole(grace, 0, 720);
      return n === null ? { problem: 'Write a number of hours from 0 to 720.', field: grace } : { retention: { mode, graceHours: n } };
    }
    return { problem: 'Choose how long messages are kept.', field: radios()[0] };
  }

  const { close, closeToButton } = createDisclosure({ button, form, cancel, error }, {
    onOpen: () => {
      fill(shown?.retention ?? FOREVER);
      (radios().find((radio) => radio.checked) ?? radios()[0]).focus();
    },
  });
  // Typing a number chooses its option.
  days.addEventListener('input', () => { form.querySelector('input[value="days"]').checked = true; });
  grace.addEventListener('input', () => { form.querySelector('input[value="untilRead"]').checked = true; });
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const conv = shown;
    if (!conv) return close();
    const { retention, problem, field } = chosen();
    if (problem) {
      error.textContent = problem;
      field?.focus();
      return;
    }
    try {
      const group = await api.setRetention(conv.id, retention);
      onSaved(group);
      closeToButton();
      notice(`${describeRetention(group.retention)}.`);
    } catch (err) {
      error.textContent = err.message;
    }
  });

  /** Shows `conv`'s retention (none for a conversation that is not stored yet). */
  function show(conv) {
    if (conv !== shown && !form.hidden) close();
    shown = conv;
    const stored = Boolean(conv) && !conv.draft;
    line.hidden = !stored;
    if (!stored) return;
    text.textContent = describeRetention(conv.retention);
    const admin = conv.admins.includes(me);
    button.hidden = !admin;
  }

  return { show };
}
