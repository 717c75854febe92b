// The catalogue: search, "in stock only", pages of products.

import { api } from '../api.js';
import { h, show, money, errorBox, showError, busy } from '../dom.js';
import { addToCart, pager, pageOf, unitsLeft } from './shared.js';

const PAGE_SIZE = 12;

export async function render(main, _params, query, context) {
  const q = (query.get('q') || '').trim();
  const onlyAvailable = query.get('available') === 'true';
  const page = pageOf(query);

  const search = new URLSearchParams({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  if (q) search.set('q', q);
  if (onlyAvailable) search.set('available', 'true');
  const { data: { items: products, total } } = await api(`/api/products/products?${search}`);

  const hrefFor = (target, changes = {}) => {
    const next = new URLSearchParams();
    const values = { q, available: onlyAvailable ? 'true' : '', page: target, ...changes };
    for (const [key, value] of Object.entries(values)) {
      if (value && !(key === 'page' && value === 1)) next.set(key, value);
    }
    const text = next.toString();
    return text ? `#/?${text}` : '#/';
  };

  const availability = h('input', {
    type: 'checkbox', id: 'only-available', checked: onlyAvailable,
    onchange: (event) => context.navigate(hrefFor(1, { available: event.target.checked ? 'true' : '' })),
  });

  show(main,
    h('section', { class: 'hero' },
      h('h1', {}, q ? `Results for “${q}”` : 'Shop'),
      h('p', { class: 'muted' }, total === 1 ? '1 product' : `${total} products`)),
    h('div', { class: 'toolbar' },
      h('label', { class: 'check', for: 'only-available' }, availability, ' In stock only'),
      q ? h('a', { href: hrefFor(1, { q: '' }) }, 'Clear search') : null),
    products.length
      ? h('ul', { class: 'grid', id: 'products' }, products.map((item) => card(item, context)))
      : h('div', { class: 'empty' },
        h('h2', {}, 'No products found'),
        h('p', {}, q ? 'Try another word, or clear the search.' : 'The shelves are empty for now.')),
    pager(total, page, PAGE_SIZE, (target) => hrefFor(target)));
}

function card(product, context) {
  const left = unitsLeft(product);
  const error = errorBox();
  const form = h('form', { class: 'card-actions' },
    h('button', {
      type: 'submit', class: 'button', disabled: !product.available,
      'aria-label': `Add ${product.name} to cart`,
    }, product.available ? 'Add to cart' : 'Sold out'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await busy(form, () => addToCart(product, 1, context));
    } catch (failure) {
      showError(error, failure);
    }
  });
  return h('li', { class: 'card', dataset: { productId: product.id } },
    h('h2', { class: 'card-title' }, h('a', { href: `#/product/${product.id}` }, product.name)),
    product.description ? h('p', { class: 'card-text' }, product.description) : null,
    h('p', { class: 'price' }, money(product.price, product.currency)),
    h('p', { class: product.available ? 'stock in-stock' : 'stock out-of-stock' },
      product.available ? `In stock (${left} left)` : 'Out of stock'),
    form,
    error);
}
