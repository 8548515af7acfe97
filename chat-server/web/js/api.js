// The REST gateway (`/chat/...`, docs/chat-api.md#rest-gateway), on the
// page's own origin, with the user's token as a bearer. Errors become
// ApiError with the HTTP status and the contract's error code.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function createApi(token) {
  async function call(path, { method = 'GET', body } = {}) {
    const headers = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res;
    try {
      res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'unavailable', 'The chat server cannot be reached.');
    }
    const answer = await res.json().catch(() => null);
    if (!res.ok) {
      const error = answer?.error ?? {};
      throw new ApiError(res.status, error.code ?? 'internal', error.message ?? `HTTP ${res.status}`);
    }
    return answer;
  }

  return {
    /** Every group of the user, with `unread` and the newest `perPage` messages of each. */
    groups: (perPage = 30) => call(`/chat/message?perPage=${perPage}`),
    /** A page of a group's messages, newest first: the newest, or those `before` an id. */
    messages: (group, { before, perPage = 30 } = {}) => {
      const query = new URLSearchParams({ perPage: String(perPage) });
      if (before) query.set('before', before);
      return call(`/chat/${encodeURIComponent(group)}/message?${query}`);
    },
    /** The names of users who share a group with the user (at most 100). */
    users: (ups) => call(`/chat/users?${new URLSearchParams({ ups: ups.join(',') })}`),
    /** Sets the user's own name; answers `{up, name}`. */
    setName: (name) => call('/chat/me', { method: 'PATCH', body: { name } }),
    /** A page of search results: `{q, group?, cursor?}` (docs/chat-api.md#search). */
    search: (params) => call(`/chat/search?${new URLSearchParams(params)}`),
    /** Sets a group's retention (admins only); answers the Group. */
    setRetention: (group, retention) => call(`/chat/${encodeURIComponent(group)}/retention`, { method: 'POST', body: retention }),
  };
}
