// The signed-in user's token: read from the address (`/#token=<jwt>`) or the
// sign-in form, kept for this tab only (sessionStorage), and never left in
// the address bar. The claims are decoded only to show who is signed in and
// to explain an expired token early; the server is what checks the token.

const KEY = 'chat.token';

/** Takes `#token=` out of the address (keeping it for the tab); returns the token in use, if any. */
export function takeToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  const fromAddress = params.get('token');
  if (fromAddress !== null) {
    params.delete('token');
    const rest = params.toString();
    history.replaceState(history.state, '', location.pathname + location.search + (rest ? `#${rest}` : ''));
    if (fromAddress.trim()) sessionStorage.setItem(KEY, fromAddress.trim());
  }
  return sessionStorage.getItem(KEY);
}

export function keepToken(token) {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/**
 * The token's claims `{sub, exp}`, or a sentence saying why it cannot be
 * one (not a JWT, or expired: `exp` is checked with the server's 5 s of leeway).
 */
export function readClaims(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return { problem: 'This is not a token: a token has three parts separated by dots.' };
  let claims;
  try {
    const json = atob(parts[1].replace(/-/g, '+').replace(/_/g, '/'));
    claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
  } catch {
    return { problem: 'This is not a token: its middle part is not readable.' };
  }
  if (typeof claims.sub !== 'string' || !claims.sub) {
    return { problem: 'This token names no user (it has no `sub`).' };
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 + 5_000 < Date.now()) {
    const when = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
      .format(new Date(claims.exp * 1000));
    return { problem: `This token expired on ${when}. Get a new one and sign in again.` };
  }
  return { claims };
}
