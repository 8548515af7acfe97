// Users' display names: asked of the gateway (`GET /chat/users`, at most
// 100 at a time) for the users the views show, kept for the page's life,
// and updated by `user updated`. A user without a name is shown by their
// `up`. `display(up)` never waits: an unknown user shows as their `up` until
// the answer comes, then the views are drawn again.

const BATCH = 100;

export function createNames(api, me, onChange) {
  const names = new Map(); // up -> name ('' when none)
  const wanted = new Set();
  let asking = false;

  async function ask() {
    if (asking || wanted.size === 0) return;
    asking = true;
    const ups = [...wanted].slice(0, BATCH);
    for (const up of ups) wanted.delete(up);
    try {
      const { items } = await api.users(ups);
      // Users who share no group are left out: shown by their `up`.
      for (const up of ups) if (!names.has(up)) names.set(up, '');
      for (const { up, name } of items) names.set(up, name);
      onChange();
    } catch {
      // Names are a nicety: the `up` stays shown; ask again later.
      for (const up of ups) names.delete(up);
    } finally {
      asking = false;
      if (wanted.size) queueMicrotask(ask);
    }
  }

  return {
    /** The name to show for `up`: their name, or the `up`. */
    display(up) {
      if (!up) return '';
      if (!names.has(up) && !wanted.has(up)) {
        wanted.add(up);
        queueMicrotask(ask);
      }
      return names.get(up) || up;
    },
    /** Whether `up` has a name of their own. */
    named: (up) => Boolean(names.get(up)),
    /** The name of `up` became `name` (`user updated`, or one's own change). */
    set(up, name) {
      names.set(up, name);
      onChange();
    },
    /** Asks for the names of `ups` not known yet (the members of the open conversation). */
    want(ups) {
      for (const up of ups) this.display(up);
    },
    /** Members whose name or `up` starts a word with `prefix` (for `@` completion). */
    matching(ups, prefix) {
      const wantedPrefix = prefix.toLocaleLowerCase();
      return ups.filter((up) => up !== me && (up.toLocaleLowerCase().startsWith(wantedPrefix)
        || (names.get(up) ?? '').toLocaleLowerCase().split(/\s+/).some((word) => word.startsWith(wantedPrefix))));
    },
  };
}
