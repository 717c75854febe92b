// One product: its pictures, description, price and stock, and a quantity to add to
// the cart.

import { api } from '../api.js';
import { h, show, money, errorBox, showError, clearError, field, busy } from '../dom.js';
import { addToCart, productPicture, unitsLeft } from './shared.js';

export async function render(main, [id], _query, context) {
  const { data: product } = await api(`/api/products/products/${id}`);
  const left = unitsLeft(product);
  const error = errorBox();
  const qty = h('input', {
    type: 'number', name: 'qty', min: 1, max: Math.max(1, Math.min(left, 1000)), value: 1,
    required: true, inputmode: 'numeric',
  });
  const form = h('form', { class: 'buy' },
    field('Quantity', qty),
    h('button', { type: 'submit', class: 'button button-large', disabled: !product.available },
      product.available ? 'Add to cart' : 'Sold out'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      await busy(form, () => addToCart(product, Number(qty.value), context));
    } catch (failure) {
      showError(error, failure);
    }
  });
  show(main,
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/' }, '← All products'),
      product.category ? [' · ', h('a', { href: `#/?category=${encodeURIComponent(product.category.slug)}` },
        product.category.name)] : null),
    h('article', { class: 'product' },
      gallery(product),
      h('div', { class: 'product-body' },
        h('h1', {}, product.name),
        h('p', { class: 'price price-large', id: 'product-price' }, money(product.price, product.currency)),
        h('p', { class: product.available ? 'stock in-stock' : 'stock out-of-stock', id: 'product-stock' },
          product.archived ? 'No longer sold'
            : product.available ? `In stock: ${left} available` : 'Out of stock'),
        product.description ? h('p', { class: 'description' }, product.description) : null,
        product.archived ? null : form,
        error)));
}

/** The product's pictures: the first one large, the others as thumbnails that take its place. */
function gallery(product) {
  const images = product.images || [];
  const large = h('div', { class: 'gallery-main' }, productPicture(product, { eager: true }));
  if (images.length < 2) return h('div', { class: 'gallery', id: 'gallery' }, large);
  const thumbs = images.map((image, index) => h('button', {
    type: 'button', class: 'thumb', 'aria-pressed': index === 0 ? 'true' : 'false',
    'aria-label': `Show picture ${index + 1} of ${images.length}`,
    onclick: (event) => {
      show(large, productPicture(product, { image, eager: true }));
      event.currentTarget.parentElement.querySelectorAll('.thumb')
        .forEach((thumb) => thumb.setAttribute('aria-pressed', String(thumb === event.currentTarget)));
    },
  }, productPicture(product, { image })));
  return h('div', { class: 'gallery', id: 'gallery' }, large, h('div', { class: 'thumbs' }, thumbs));
}
