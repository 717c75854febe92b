// What several views share: adding to the cart, paging links, product pictures and
// price bands.

import { api } from '../api.js';
import * as session from '../session.js';
import { h, money } from '../dom.js';

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

/**
 * A product's first picture (or its initial on a coloured square when it has none),
 * as wide as the box it is put in: the width and height attributes give the browser
 * its shape before it arrives, and it is only fetched once it is near the screen.
 */
export function productPicture(product, { image = product.images?.[0], eager = false } = {}) {
  if (!image) {
    return h('div', { class: 'picture picture-none', 'aria-hidden': 'true' },
      product.name.slice(0, 1).toUpperCase());
  }
  return h('img', {
    class: 'picture',
    src: image.url,
    alt: image.alt || product.name,
    width: image.width,
    height: image.height,
    loading: eager ? 'eager' : 'lazy',
    decoding: 'async',
  });
}

/** `{min, max}` cents of a price band, as shoppers read it: "$10.00 – $24.99", "$500.00 and up". */
export function bandLabel(band, currency = 'USD') {
  if (band.max === null || band.max === undefined) return `${money(band.min, currency)} and up`;
  if (band.min === 0) return `Under ${money(band.max + 1, currency)}`;
  return `${money(band.min, currency)} – ${money(band.max, currency)}`;
}
