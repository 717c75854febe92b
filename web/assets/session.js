// The signed-in session: the access and refresh tokens, kept in sessionStorage. That
// is as safe as a page can keep a bearer token: this tab only, gone when it closes,
// never sent by the browser on its own (no cookie, so no cross-site request can use
// it), and out of reach of other sites; the CSP forbids the inline and foreign
// scripts that could read it. The access token is refreshed a minute before it
// expires, with the refresh token (which the API rotates on every use).

const KEY = 'spinshop.session';
/** Refresh this long before the access token expires. */
const EARLY_MS = 60_000;

let timer = null;
let refreshing = null;
const listeners = new Set();

/** The current session: { access_token, refresh_token, expires_at, user }, or null. */
export function current() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    return null;
  }
}

export function isAdmin() {
  return current()?.user?.role === 'admin';
}

/** Called with the session (or null) whenever it changes. */
export function onChange(listener) {
  listeners.add(listener);
}

function changed() {
  const session = current();
  listeners.forEach((listener) => listener(session));
}

/** Keeps the tokens of a login, a registration or a refresh. */
export function start(tokens) {
  const session = {
    access_token: tokens.access_token,
    refresh_token: tokens.refresh_token,
    expires_at: Date.now() + tokens.expires_in * 1000,
    user: tokens.user,
  };
  sessionStorage.setItem(KEY, JSON.stringify(session));
  schedule();
  changed();
}

/** Keeps the account as the API answered it now (e.g. once its email is verified). */
export function updateUser(user) {
  const session = current();
  if (!session || session.user?.id !== user.id) return;
  sessionStorage.setItem(KEY, JSON.stringify({ ...session, user }));
  changed();
}

export function end() {
  sessionStorage.removeItem(KEY);
  clearTimeout(timer);
  timer = null;
  changed();
}

/** Plans the next refresh; called on start and when the page loads. */
export function schedule() {
  clearTimeout(timer);
  const session = current();
  if (!session) return;
  const wait = Math.max(session.expires_at - Date.now() - EARLY_MS, 1_000);
  timer = setTimeout(() => { refresh().catch(() => {}); }, wait);
}

/** Whether the access token is about to expire (and so should be refreshed first). */
export function expiring() {
  const session = current();
  return !!session && session.expires_at - Date.now() < EARLY_MS / 2;
}

/**
 * Exchanges the refresh token for a new pair; one exchange at a time, since the
 * API rotates refresh tokens and a second use of the old one would end the session.
 * Resolves true when refreshed; ends the session (false) when the API refuses.
 */
export function refresh() {
  if (refreshing) return refreshing;
  const session = current();
  if (!session) return Promise.resolve(false);
  refreshing = (async () => {
    try {
      const response = await fetch('/api/users/auth/refresh', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh_token }),
      });
      if (response.ok) {
        start(await response.json());
        return true;
      }
      if (response.status === 400 || response.status === 401) end();
      return false;
    } catch {
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}
