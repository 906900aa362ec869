// Spooky console: the REST API client. Every call goes to /v1 with `Authorization: Bearer
// <token>`; the token lives in sessionStorage only (never a URL, never a cookie) and is removed
// on a 401. A change carries its reason as Spooky-Change-Reason with a fresh Idempotency-Key,
// so a double submit moves nothing twice.

export const TOKEN_KEY = 'spooky.token';
export const SCOPE_KEY = 'spooky.scope';
export const SCOPE_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const token = () => sessionStorage.getItem(TOKEN_KEY);
export const scope = () => sessionStorage.getItem(SCOPE_KEY) ?? 'default';
export const storeToken = (value) => sessionStorage.setItem(TOKEN_KEY, value);
export const forgetToken = () => sessionStorage.removeItem(TOKEN_KEY);
export const storeScope = (value) => sessionStorage.setItem(SCOPE_KEY, value);

export class ApiError extends Error {
  constructor(status, problem) {
    super(`${status} ${problem?.title ?? 'error'}${problem?.detail ? `: ${problem.detail}` : ''}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Aborted when the page changes, so a slow answer never lands on the next page. */
let pageAbort = new AbortController();
export const pageSignal = () => pageAbort.signal;
export function newPage() {
  pageAbort.abort();
  pageAbort = new AbortController();
  return pageAbort.signal;
}

let onUnauthorized = () => {};
/** What a 401 does (the shell shows the sign-in form). */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** Calls the REST API; resolves to {body, headers}; rejects with ApiError on a non-2xx answer. */
export async function api(method, path, { body, reason, ifMatch, signal } = {}) {
  const headers = { authorization: `Bearer ${token()}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (reason !== undefined) {
    headers['spooky-change-reason'] = reason;
    headers['idempotency-key'] = crypto.randomUUID();
  }
  if (ifMatch !== undefined) headers['if-match'] = ifMatch;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'omit',
    cache: 'no-store',
    signal: signal ?? pageAbort.signal,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = { title: text.slice(0, 200) };
  }
  if (res.status === 401) onUnauthorized('The token was refused (401). Enter a valid token.');
  if (!res.ok) throw new ApiError(res.status, parsed);
  return { body: parsed, headers: res.headers };
}

/** Opens the SSE stream of the scope (a streaming fetch, so the token goes in a header). */
export function openEvents(lastId, signal) {
  const headers = { authorization: `Bearer ${token()}`, accept: 'text/event-stream' };
  if (lastId !== null) headers['last-event-id'] = lastId;
  return fetch(`/v1/events?scope=${encodeURIComponent(scope())}`, { headers, credentials: 'omit', cache: 'no-store', signal });
}
