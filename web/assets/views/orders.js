// Order history, one order, paying it with the (simulated) card, and cancelling.

import { api, idempotencyKey } from '../api.js';
import { h, show, money, when, statusBadge, errorBox, showError, clearError, field, busy } from '../dom.js';
import { pager, pageOf } from './shared.js';
import { verifyNotice } from './account.js';

const PAGE_SIZE = 10;

export async function list(main, _params, query, context) {
  const page = pageOf(query);
  const search = new URLSearchParams({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  const [{ data: orders, headers }, { data: me }] = await Promise.all([
    api(`/api/orders/orders?${search}`, { auth: true }),
    api('/api/users/users/me', { auth: true }),
  ]);
  const total = Number(headers.get('x-total-count') || orders.length);
  // Unverified customers hear of it where they follow their orders.
  const notice = verifyNotice(me, context);
  if (!orders.length && page === 1) {
    show(main, notice, h('section', { class: 'empty' },
      h('h1', {}, 'No orders yet'),
      h('p', {}, 'Your orders will be listed here.'),
      h('a', { class: 'button', href: '#/' }, 'Start shopping')));
    return;
  }
  show(main,
    notice,
    h('h1', {}, 'Your orders'),
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'orders' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Order'),
          h('th', { scope: 'col' }, 'Placed'),
          h('th', { scope: 'col' }, 'Items'),
          h('th', { scope: 'col', class: 'num' }, 'Total'),
          h('th', { scope: 'col' }, 'Status'),
          h('th', { scope: 'col' }, 'Payment'))),
        h('tbody', {}, orders.map((order) => h('tr', { dataset: { orderId: order.id } },
          h('th', { scope: 'row' }, h('a', { href: `#/orders/${order.id}` }, `#${order.id}`)),
          h('td', {}, when(order.created_at)),
          h('td', {}, order.items.reduce((sum, item) => sum + item.qty, 0)),
          h('td', { class: 'num' }, money(order.total, order.currency)),
          h('td', { class: 'order-status' }, statusBadge(order.status)),
          h('td', {}, statusBadge(order.payment_status))))))),
    pager(total, page, PAGE_SIZE, (target) => `#/orders?page=${target}`));
}

export async function detail(main, [id], _query, context) {
  const { data: order } = await api(`/api/orders/orders/${id}`, { auth: true });
  const error = errorBox();
  const rerender = () => detail(main, [id], null, context);
  const payable = order.status === 'pending' && order.payment_status !== 'paid';
  const cancellable = order.status === 'pending' || order.status === 'paid';

  const cancel = cancellable ? h('button', {
    type: 'button', class: 'button button-quiet danger', id: 'cancel-order',
    onclick: async (event) => {
      const refund = order.status === 'paid' ? ' It has been paid, so the payment will be refunded.' : '';
      if (!window.confirm(`Cancel order #${order.id}?${refund}`)) return;
      clearError(error);
      event.target.disabled = true;
      try {
        await api(`/api/orders/orders/${order.id}/cancel`, { method: 'POST', auth: true });
        context.flash(`Order #${order.id} is cancelled.`);
        await rerender();
      } catch (failure) {
        event.target.disabled = false;
        showError(error, failure);
      }
    },
  }, 'Cancel order') : null;

  show(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' }, h('a', { href: '#/orders' }, '← All orders')),
    h('div', { class: 'order-head' },
      h('h1', {}, `Order #${order.id}`),
      h('p', { id: 'order-status' }, statusBadge(order.status), ' ', statusBadge(order.payment_status))),
    h('p', { class: 'muted' }, `Placed ${when(order.created_at)}`,
      order.shipping_address ? ` · ships to ${order.shipping_address}` : ''),
    error,
    h('div', { class: 'cart-layout' },
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Product'),
            h('th', { scope: 'col', class: 'num' }, 'Price'),
            h('th', { scope: 'col', class: 'num' }, 'Qty'),
            h('th', { scope: 'col', class: 'num' }, 'Total'))),
          h('tbody', {}, order.items.map((item) => h('tr', {},
            h('th', { scope: 'row' }, h('a', { href: `#/product/${item.product_id}` }, item.name)),
            h('td', { class: 'num' }, money(item.unit_price, order.currency)),
            h('td', { class: 'num' }, item.qty),
            h('td', { class: 'num' }, money(item.line_total, order.currency))))),
          h('tfoot', {}, h('tr', {},
            h('th', { scope: 'row', colspan: 3 }, 'Total'),
            h('td', { class: 'num' }, h('strong', {}, money(order.total, order.currency))))))),
      h('div', { class: 'side' },
        payable ? payForm(order, error, context, rerender) : paidNote(order),
        cancel)));
}

function paidNote(order) {
  const text = {
    paid: 'Paid. Thank you for your order!',
    fulfilled: 'On its way to you.',
    cancelled: order.payment_status === 'refunded' ? 'Cancelled and refunded.' : 'Cancelled.',
  }[order.status] || '';
  return h('div', { class: 'panel' }, h('p', { class: 'big-note' }, text));
}

/**
 * The card form. Each attempt has its own idempotency key: a retry after a network
 * failure reuses it (the API answers the first attempt's outcome, never charging
 * twice), while a new attempt after the API's answer (a declined card) gets a new one.
 */
function payForm(order, error, context, rerender) {
  let key = idempotencyKey(`order-${order.id}`);
  const year = new Date().getFullYear();
  const number = h('input', {
    type: 'text', name: 'card-number', inputmode: 'numeric', autocomplete: 'cc-number',
    required: true, pattern: '[0-9 ]{12,23}', placeholder: '4242 4242 4242 4242',
  });
  const month = h('input', { type: 'number', name: 'exp-month', min: 1, max: 12, required: true, value: 12, autocomplete: 'cc-exp-month' });
  const expYear = h('input', { type: 'number', name: 'exp-year', min: year, max: 2099, required: true, value: year + 3, autocomplete: 'cc-exp-year' });
  const cvc = h('input', { type: 'text', name: 'cvc', inputmode: 'numeric', pattern: '[0-9]{3,4}', required: true, autocomplete: 'cc-csc', value: '123' });
  const form = h('form', { class: 'panel form pay', id: 'pay-form' },
    h('h2', {}, 'Pay'),
    field('Card number', number, 'Simulated: 4242 4242 4242 4242 is accepted, 4000 0000 0000 0002 is declined.'),
    h('div', { class: 'row' }, field('Month', month), field('Year', expYear), field('CVC', cvc)),
    h('button', { type: 'submit', class: 'button button-large' }, `Pay ${money(order.total, order.currency)}`));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      await busy(form, () => api('/api/payments/pay', {
        method: 'POST',
        auth: true,
        headers: { 'x-idempotency-key': key },
        body: {
          order_id: order.id,
          amount: order.total,
          method: 'card',
          card: {
            number: number.value,
            exp_month: Number(month.value),
            exp_year: Number(expYear.value),
            cvc: cvc.value,
          },
        },
      }));
      context.flash(`Payment received for order #${order.id}.`);
      context.refreshHeader();
      await rerender();
    } catch (failure) {
      // The API answered: this attempt is over, the next one is a new payment.
      if (failure.status && failure.status !== 503) key = idempotencyKey(`order-${order.id}`);
      showError(error, failure);
      number.focus();
    }
  });
  return form;
}
