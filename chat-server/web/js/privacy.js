// Blocking and hiding one's presence (docs/chat-api.md, "Blocking and
// hiding presence"): the `Block` / `Unblock` button of a direct
// conversation, and the "Show when I'm online" switch in the header.
// While the other user of the open conversation is blocked, the message box
// is closed and says why; their `typing` is not shown.

const PLACEHOLDER = 'Write a message…';

/**
 * `button`: the conversation header's block button; `toggle`: the
 * presence checkbox; `input` and `send`: the message box and its button.
 */
export function createPrivacy({ button, toggle, input, send }, { request, notice, render }) {
  const blocked = new Set();
  let conv = null;
  let busy = false;

  button.addEventListener('click', async () => {
    const peer = conv?.peer;
    if (!peer || busy) return;
    const blocking = !blocked.has(peer);
    busy = true;
    try {
      await request(blocking ? 'block' : 'unblock', { up: peer });
      if (blocking) blocked.add(peer);
      else blocked.delete(peer);
      notice(blocking
        ? `You blocked ${peer}. They can no longer write to you or see when you are online.`
        : `You unblocked ${peer}.`);
    } catch (err) {
      notice(`${peer} could not be ${blocking ? 'blocked' : 'unblocked'}: ${err.message}`);
    } finally {
      busy = false;
      render();
      button.focus();
    }
  });

  toggle.addEventListener('change', async () => {
    const visible = toggle.checked;
    toggle.disabled = true;
    try {
      await request('presence visible', { visible });
      notice(visible ? 'Others can see when you are online again.' : 'Nobody can see when you are online now.');
    } catch (err) {
      toggle.checked = !visible;
      notice(`Your presence setting could not be changed: ${err.message}`);
    } finally {
      toggle.disabled = false;
    }
  });

  return {
    /** Reads the blocked users and the presence setting (after each connect). */
    async load() {
      try {
        const [list, setting] = await Promise.all([
          request('blocked', {}),
          request('presence setting', {}),
        ]);
        blocked.clear();
        for (const up of list.items) blocked.add(up);
        toggle.checked = setting.visible;
        render();
      } catch {
        // Kept as it was; the next connect reads them again.
      }
    },

    /** Whether `up` is blocked by this user. */
    isBlocked(up) {
      return blocked.has(up);
    },

    /** Shows the controls for the open conversation `open` (null: none). */
    render(open) {
      conv = open;
      const peer = open?.peer;
      button.hidden = !peer;
      if (!peer) {
        input.placeholder = PLACEHOLDER;
        return;
      }
      const isBlocked = blocked.has(peer);
      button.textContent = isBlocked ? 'Unblock' : 'Block';
      button.title = isBlocked ? `Unblock ${peer}` : `Block ${peer}`;
      input.disabled = isBlocked;
      send.disabled = isBlocked;
      input.placeholder = isBlocked ? `You blocked ${peer}. Unblock them to write to them.` : PLACEHOLDER;
    },
  };
}
