// The cart: change quantities, remove items, and check out (which places an order).

import { api } from '../api.js';
import { h, show, money, errorBox, showError, clearError, field, busy } from '../dom.js';

export async function render(main, _params, _query, context) {
  const { data: cart } = await api('/api/carts/cart', { auth: true });
  const error = errorBox();
  if (!cart.items.length) {
    show(main, h('section', { class: 'empty' },
      h('h1', {}, 'Your cart is empty'),
      h('p', {}, 'Find something you like in the shop.'),
      h('a', { class: 'button', href: '#/' }, 'Browse products')));
    return;
  }
  const rerender = () => render(main, [], null, context);

  const rows = cart.items.map((item) => {
    const qty = h('input', {
      type: 'number', name: `qty-${item.product_id}`, min: 0, max: 1000, value: item.qty,
      inputmode: 'numeric', 'aria-label': `Quantity of ${item.name || `product ${item.product_id}`}`,
    });
    const update = h('form', { class: 'qty-form' }, qty,
      h('button', { type: 'submit', class: 'button button-small button-quiet' }, 'Update'));
    update.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearError(error);
      try {
        await busy(update, () => api(`/api/carts/cart/items/${item.product_id}`, {
          method: 'PATCH', auth: true, body: { qty: Number(qty.value) },
        }));
        await rerender();
        context.flash('Cart updated.');
        context.refreshHeader();
      } catch (failure) {
        showError(error, failure);
      }
    });
    const remove = h('button', {
      type: 'button', class: 'link-button danger',
      'aria-label': `Remove ${item.name || `product ${item.product_id}`}`,
      onclick: async () => {
        clearError(error);
        try {
          await api(`/api/carts/cart/items/${item.product_id}`, { method: 'DELETE', auth: true });
          await rerender();
          context.flash('Removed from your cart.');
          context.refreshHeader();
        } catch (failure) {
          showError(error, failure);
        }
      },
    }, 'Remove');
    return h('tr', { dataset: { productId: item.product_id } },
      h('th', { scope: 'row' },
        item.name ? h('a', { href: `#/product/${item.product_id}` }, item.name) : `Product ${item.product_id}`,
        item.available ? null : h('span', { class: 'status status-cancelled' }, 'unavailable')),
      h('td', { class: 'num' }, item.unit_price === null ? '—' : money(item.unit_price, cart.currency)),
      h('td', {}, update),
      h('td', { class: 'num line-total' }, money(item.line_total, cart.currency)),
      h('td', {}, remove));
  });

  const address = h('textarea', { name: 'shipping_address', rows: 3, maxlength: 1000, required: true, autocomplete: 'street-address' });
  const notes = h('textarea', { name: 'notes', rows: 2, maxlength: 1000 });
  const checkout = h('form', { class: 'panel form checkout' },
    h('h2', {}, 'Checkout'),
    field('Shipping address', address),
    field('Notes for the shop (optional)', notes),
    h('p', { class: 'total' }, 'Total ', h('strong', { id: 'cart-total' }, money(cart.total, cart.currency))),
    h('button', { type: 'submit', class: 'button button-large' }, 'Place order'));
  checkout.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      const body = { shipping_address: address.value };
      if (notes.value.trim()) body.notes = notes.value;
      const { data: order } = await busy(checkout, () => api('/api/carts/cart/checkout', {
        method: 'POST', auth: true, body,
      }));
      context.flash(`Order #${order.id} placed. Pay to complete it.`);
      context.refreshHeader();
      context.navigate(`#/orders/${order.id}`);
    } catch (failure) {
      showError(error, failure);
    }
  });

  show(main,
    h('h1', {}, 'Your cart'),
    error,
    h('div', { class: 'cart-layout' },
      h('div', { class: 'table-wrap' },
        h('table', { class: 'table', id: 'cart' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Product'),
            h('th', { scope: 'col', class: 'num' }, 'Price'),
            h('th', { scope: 'col' }, 'Quantity'),
            h('th', { scope: 'col', class: 'num' }, 'Total'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h('tbody', {}, rows))),
      checkout));
}
