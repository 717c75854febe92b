// The storefront: a single page whose views are chosen by the address's hash
// (#/, #/product/3, #/cart, ...), so every view has a link of its own and the back
// button works, while the server has one page to send.

import { api } from './api.js';
import * as session from './session.js';
import { h, show } from './dom.js';
import * as catalog from './views/catalog.js';
import * as product from './views/product.js';
import * as account from './views/account.js';
import * as cart from './views/cart.js';
import * as orders from './views/orders.js';
import * as notifications from './views/notifications.js';
import * as admin from './views/admin.js';
import * as adminCategories from './views/admin-categories.js';

const routes = [
  [/^\/$/, catalog.render],
  [/^\/product\/(\d+)$/, product.render],
  [/^\/login$/, account.login],
  [/^\/register$/, account.register],
  [/^\/forgot$/, account.forgot],
  [/^\/reset$/, account.reset],
  [/^\/verify$/, account.verify],
  [/^\/cart$/, cart.render, { signedIn: true }],
  [/^\/orders$/, orders.list, { signedIn: true }],
  [/^\/orders\/(\d+)$/, orders.detail, { signedIn: true }],
  [/^\/notifications$/, notifications.render, { signedIn: true }],
  [/^\/admin$/, admin.list, { admin: true }],
  [/^\/admin\/mail$/, admin.mailbox, { admin: true }],
  [/^\/admin\/products\/new$/, admin.edit, { admin: true }],
  [/^\/admin\/products\/(\d+)$/, admin.edit, { admin: true }],
  [/^\/admin\/categories$/, adminCategories.render, { admin: true }],
];

const main = document.getElementById('main');
let firstView = true;
const flashBox = document.getElementById('flash');
let flashTimer = null;

/** What every view is given to act on the page around it. */
const context = {
  /** A short message at the top of the page ('ok' or 'error'). */
  flash(message, kind = 'ok') {
    clearTimeout(flashTimer);
    show(flashBox, h('p', { class: `flash-message flash-${kind}` }, message));
    flashTimer = setTimeout(() => flashBox.replaceChildren(), 6000);
  },
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  /** Re-reads the cart count and the unread count shown in the header. */
  refreshHeader: () => refreshCounts(),
};

/** `#/path?a=1` -> { path: '/path', query: URLSearchParams }. */
function location_() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = raw.split('?');
  return { path: path || '/', query: new URLSearchParams(query) };
}

/** Counts navigations, so a view that loads slowly never covers a later one. */
let latestRoute = 0;

/** Renders the view for `path` into `view`; false when it sent the shopper to log in. */
async function buildView(view, path, query) {
  const match = routes.find(([pattern]) => pattern.test(path));
  if (!match) {
    show(view, h('section', { class: 'empty' },
      h('h1', {}, 'Nothing here'),
      h('p', {}, 'This part of the shop does not exist.'),
      h('a', { class: 'button', href: '#/' }, 'Back to the shop')));
    return true;
  }
  const [pattern, render, needs = {}] = match;
  if ((needs.signedIn || needs.admin) && !session.current()) {
    location.hash = `#/login?next=${encodeURIComponent(`#${path}`)}`;
    return false;
  }
  if (needs.admin && !session.isAdmin()) {
    show(view, h('section', { class: 'empty' },
      h('h1', {}, 'Staff only'), h('p', {}, 'This page is for the shop\'s administrators.')));
    return true;
  }
  try {
    await render(view, path.match(pattern).slice(1), query, context);
  } catch (error) {
    show(view, h('section', { class: 'empty' },
      h('h1', {}, 'Something went wrong'),
      h('p', { class: 'error', role: 'alert' }, error.message || String(error)),
      h('a', { class: 'button', href: '#/' }, 'Back to the shop')));
  }
  return true;
}

async function route() {
  const generation = ++latestRoute;
  const { path, query } = location_();
  const search = document.getElementById('search-q');
  const focusBefore = document.activeElement;
  const searchBefore = search.value;
  highlight(path);
  // Each view is built off the page and shown once its data has arrived, and only if
  // the shopper has not gone somewhere else meanwhile.
  const view = document.createElement('div');
  main.setAttribute('aria-busy', 'true');
  if (!(await buildView(view, path, query))) return;
  if (generation !== latestRoute) return;
  main.replaceChildren(view);
  main.removeAttribute('aria-busy');
  // A form's first field takes the focus; otherwise keyboard and screen-reader users
  // land on the new view (but a fresh page starts at the top, where the skip link is).
  // Whatever the shopper focused or typed while the view loaded is left alone.
  const untouched = document.activeElement === focusBefore || !document.activeElement
    || document.activeElement === document.body;
  const field = view.querySelector('[autofocus]');
  if (untouched && field) field.focus();
  else if (untouched && !firstView && !main.contains(document.activeElement)) {
    main.focus({ preventScroll: true });
  }
  firstView = false;
  if (path === '/' && document.activeElement !== search && search.value === searchBefore) {
    search.value = query.get('q') || '';
  }
}

function highlight(path) {
  const section = path.split('/')[1] || 'catalog';
  document.querySelectorAll('[data-nav]').forEach((link) => {
    const current = link.dataset.nav === section
      || (section === 'product' && link.dataset.nav === 'catalog');
    if (current) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  });
}

/** Shows what fits the session: log in and register, or the account's links. */
function renderSession(current) {
  document.querySelectorAll('[data-auth]').forEach((element) => {
    const needs = element.dataset.auth;
    element.hidden = needs === 'out' ? !!current
      : needs === 'in' ? !current
      : !(current && current.user && current.user.role === 'admin');
  });
  const who = document.getElementById('who');
  who.textContent = current ? (current.user.name || current.user.email) : '';
  if (!current) {
    document.getElementById('cart-count').hidden = true;
  }
  notificationsLink(current && inboxAvailable);
}

/** The inbox exists once the notifications service does; until then its link stays hidden. */
let inboxAvailable = false;

function notificationsLink(visible) {
  document.getElementById('nav-notifications').hidden = !visible;
}

async function refreshCounts() {
  if (!session.current()) return;
  const badge = document.getElementById('cart-count');
  try {
    const { data } = await api('/api/carts/cart', { auth: true });
    const count = data.items.reduce((sum, item) => sum + item.qty, 0);
    badge.textContent = String(count);
    badge.hidden = count === 0;
    badge.setAttribute('aria-label', `${count} items`);
  } catch {
    badge.hidden = true;
  }
  const unread = document.getElementById('unread-count');
  try {
    const { data } = await api('/api/notifications/notifications/unread-count', { auth: true });
    inboxAvailable = true;
    unread.textContent = String(data.unread);
    unread.hidden = !data.unread;
    unread.setAttribute('aria-label', `${data.unread} unread`);
  } catch {
    inboxAvailable = false;
    unread.hidden = true;
  }
  notificationsLink(inboxAvailable && !!session.current());
}

document.getElementById('search').addEventListener('submit', (event) => {
  event.preventDefault();
  const q = document.getElementById('search-q').value.trim();
  // A search keeps the other choices (a category, a sort, the facets), starts again on
  // the first page, and comes first in the address.
  const kept = new URLSearchParams(location_().path === '/' ? location_().query : '');
  kept.delete('page');
  kept.delete('q');
  const query = new URLSearchParams(q ? { q } : {});
  kept.forEach((value, name) => query.set(name, value));
  const text = query.toString();
  context.navigate(text ? `#/?${text}` : '#/');
});

document.getElementById('logout').addEventListener('click', async () => {
  const current = session.current();
  if (current) {
    // Ends the session at the API too, so the refresh token is worthless from now on.
    await api('/api/users/auth/logout', { method: 'POST', body: { refresh_token: current.refresh_token } })
      .catch(() => {});
  }
  session.end();
  context.flash('You are logged out.');
  context.navigate('#/');
});

session.onChange((current) => {
  renderSession(current);
  if (current) refreshCounts();
});

// The skip link moves the focus without touching the address (the hash is the route).
document.querySelector('.skip-link').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', route);
renderSession(session.current());
session.schedule();
refreshCounts();
route();
