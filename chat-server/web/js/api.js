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
  async function get(path) {
    let res;
    try {
      res = await fetch(path, { headers: { authorization: `Bearer ${token}` }, cache: 'no-store' });
    } catch {
      throw new ApiError(0, 'unavailable', 'The chat server cannot be reached.');
    }
    const body = await res.json().catch(() => null);
    if (!res.ok) {
      const error = body?.error ?? {};
      throw new ApiError(res.status, error.code ?? 'internal', error.message ?? `HTTP ${res.status}`);
    }
    return body;
  }

  return {
    /** Every group of the user, with `unread` and the newest `perPage` messages of each. */
    groups: (perPage = 30) => get(`/chat/message?perPage=${perPage}`),
    /** A page of a group's messages, newest first: the newest, or those `before` an id. */
    messages: (group, { before, perPage = 30 } = {}) => {
      const query = new URLSearchParams({ perPage: String(perPage) });
      if (before) query.set('before', before);
      return get(`/chat/${encodeURIComponent(group)}/message?${query}`);
    },
    /** A page of search results: `{q, group?, cursor?}` (docs/chat-api.md#search). */
    search: (params) => get(`/chat/search?${new URLSearchParams(params)}`),
  };
}
