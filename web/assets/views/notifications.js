// The inbox: what the shop told the shopper (orders placed, paid, cancelled, ...).
// It lists only when the notifications service is part of the app.

import { api } from '../api.js';
import { h, show, when, errorBox, showError } from '../dom.js';
import { pager, pageOf } from './shared.js';

const PAGE_SIZE = 20;

export async function render(main, _params, query, context) {
  const page = pageOf(query);
  const search = new URLSearchParams({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  let notifications;
  let total;
  try {
    const answer = await api(`/api/notifications/notifications?${search}`, { auth: true });
    notifications = answer.data;
    total = Number(answer.headers.get('x-total-count') || notifications.length);
  } catch (failure) {
    if (failure.status !== 404) throw failure;
    show(main, h('section', { class: 'empty' },
      h('h1', {}, 'Inbox'),
      h('p', {}, 'Notifications are not available in this shop yet.')));
    return;
  }
  const error = errorBox();
  const rerender = () => render(main, [], query, context);
  const markAll = h('button', {
    type: 'button', class: 'button button-quiet',
    onclick: async () => {
      try {
        await api('/api/notifications/notifications/read-all', { method: 'POST', auth: true });
        context.refreshHeader();
        await rerender();
      } catch (failure) {
        showError(error, failure);
      }
    },
  }, 'Mark all read');
  show(main,
    h('div', { class: 'order-head' }, h('h1', {}, 'Inbox'), notifications.some((n) => !n.read_at) ? markAll : null),
    error,
    notifications.length
      ? h('ul', { class: 'inbox' }, notifications.map((note) => h('li', { class: note.read_at ? 'read' : 'unread' },
        h('div', {},
          h('h2', {}, note.title),
          h('p', {}, note.message),
          h('p', { class: 'muted small' }, when(note.created_at),
            orderOf(note) ? [' · ', h('a', { href: `#/orders/${orderOf(note)}` }, 'View order')] : null)),
        note.read_at ? null : h('button', {
          type: 'button', class: 'link-button', 'aria-label': `Mark “${note.title}” read`,
          onclick: async () => {
            try {
              await api(`/api/notifications/notifications/${note.id}/read`, { method: 'POST', auth: true });
              context.refreshHeader();
              await rerender();
            } catch (failure) {
              showError(error, failure);
            }
          },
        }, 'Mark read'))))
      : h('div', { class: 'empty' }, h('p', {}, 'Nothing new.')),
    pager(total, page, PAGE_SIZE, (target) => `#/notifications?page=${target}`));
}

/** The order a notification is about: an order event's own id, a payment's order. */
function orderOf(note) {
  const data = note.data || {};
  if (typeof note.type !== 'string') return null;
  if (note.type.startsWith('order.')) return data.id || null;
  if (note.type.startsWith('payment.')) return data.order_id || null;
  return null;
}
