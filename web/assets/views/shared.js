// What several views share: adding to the cart, and paging links.

import { api } from '../api.js';
import * as session from '../session.js';
import { h } from '../dom.js';

/** Adds `qty` of a product to the cart, telling the shopper how it went. */
export async function addToCart(product, qty, context) {
  if (!session.current()) {
    context.navigate(`#/login?next=${encodeURIComponent(`#/product/${product.id}`)}`);
    return false;
  }
  await api('/api/carts/cart/items', {
    method: 'POST',
    auth: true,
    body: { product_id: product.id, qty },
  });
  context.flash(`Added ${qty} × ${product.name} to your cart.`);
  context.refreshHeader();
  return true;
}

/** Previous / next links for a list of `total` items shown `size` at a time. */
export function pager(total, page, size, hrefFor) {
  const pages = Math.max(1, Math.ceil(total / size));
  if (pages <= 1) return null;
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 1
      ? h('a', { class: 'button button-quiet', href: hrefFor(page - 1), rel: 'prev' }, '← Previous')
      : h('span', { class: 'button button-quiet', 'aria-disabled': 'true' }, '← Previous'),
    h('span', { class: 'pager-position' }, `Page ${page} of ${pages}`),
    page < pages
      ? h('a', { class: 'button button-quiet', href: hrefFor(page + 1), rel: 'next' }, 'Next →')
      : h('span', { class: 'button button-quiet', 'aria-disabled': 'true' }, 'Next →'));
}

/** A positive page number from the query, 1 when absent or odd. */
export function pageOf(query) {
  const page = Number.parseInt(query.get('page') || '1', 10);
  return Number.isFinite(page) && page > 0 ? page : 1;
}

/** Units a shopper can still buy. */
export function unitsLeft(product) {
  return product.archived ? 0 : Math.max(0, product.stock - product.reserved);
}
