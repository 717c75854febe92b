// The catalogue: categories to browse, a search, a sort order, facets to narrow the
// results down (categories and price bands, with their counts), "in stock only",
// and pages of products with their pictures. Every choice lives in the address
// (#/?q=&category=&sort=&min_price=&max_price=&available=&page=), so each result
// has a link of its own and the back button undoes a choice.

import { api } from '../api.js';
import { h, show, money, errorBox, showError, busy } from '../dom.js';
import { addToCart, bandLabel, pager, pageOf, productPicture, unitsLeft } from './shared.js';

const PAGE_SIZE = 12;

const SORTS = [
  ['relevance', 'Best match'],
  ['price_asc', 'Price: low to high'],
  ['price_desc', 'Price: high to low'],
  ['newest', 'Newest first'],
];

/** The choices the address holds, as the API takes them. */
const CHOICES = ['q', 'category', 'sort', 'min_price', 'max_price', 'available'];

export async function render(main, _params, query, context) {
  const chosen = Object.fromEntries(CHOICES.map((name) => [name, (query.get(name) || '').trim()]));
  const page = pageOf(query);

  const search = new URLSearchParams({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  for (const [name, value] of Object.entries(chosen)) if (value) search.set(name, value);
  const [{ data: listing }, { data: tree }] = await Promise.all([
    api(`/api/products/search?${search}`),
    api('/api/products/categories'),
  ]);
  const { items: products, total, facets } = listing;

  /** The address with `changes` made, back on the first page unless one is given. */
  const hrefFor = (changes = {}, target = 1) => {
    const next = new URLSearchParams();
    for (const [key, value] of Object.entries({ ...chosen, ...changes })) if (value) next.set(key, value);
    if (target > 1) next.set('page', target);
    const text = next.toString();
    return text ? `#/?${text}` : '#/';
  };

  const current = findCategory(tree, chosen.category);
  const heading = chosen.q ? `Results for “${chosen.q}”` : current ? current.name : 'Shop';
  const sortDefault = chosen.q ? 'relevance' : 'newest';
  const sort = h('select', {
    id: 'sort', name: 'sort',
    onchange: (event) => context.navigate(hrefFor({ sort: event.target.value === sortDefault ? '' : event.target.value })),
  }, SORTS.filter(([value]) => value !== 'relevance' || chosen.q)
    .map(([value, label]) => h('option', { value, selected: (chosen.sort || sortDefault) === value }, label)));
  const availability = h('input', {
    type: 'checkbox', id: 'only-available', checked: chosen.available === 'true',
    onchange: (event) => context.navigate(hrefFor({ available: event.target.checked ? 'true' : '' })),
  });
  const narrowed = chosen.category || chosen.min_price || chosen.max_price || chosen.available;

  show(main,
    categoryNav(tree, chosen.category, (slug) => hrefFor({ category: slug })),
    h('section', { class: 'hero' },
      h('h1', {}, heading),
      h('p', { class: 'muted', id: 'result-count' }, total === 1 ? '1 product' : `${total} products`)),
    h('div', { class: 'toolbar' },
      h('label', { class: 'sort', for: 'sort' }, 'Sort by ', sort),
      h('label', { class: 'check', for: 'only-available' }, availability, ' In stock only'),
      chosen.q ? h('a', { href: hrefFor({ q: '', sort: '' }) }, 'Clear search') : null,
      narrowed ? h('a', { href: hrefFor({ category: '', min_price: '', max_price: '', available: '' }) }, 'Clear filters') : null),
    h('div', { class: 'catalog' },
      facetPanel(facets, chosen, hrefFor),
      h('div', { class: 'results' },
        products.length
          ? h('ul', { class: 'grid', id: 'products' }, products.map((item) => card(item, context)))
          : h('div', { class: 'empty' },
            h('h2', {}, 'No products found'),
            h('p', {}, chosen.q || narrowed ? 'Try other words, or clear the filters.' : 'The shelves are empty for now.')),
        pager(total, page, PAGE_SIZE, (target) => hrefFor({}, target)))));
}

/** The category (top-level or under one) with `slug` in the tree, if any. */
function findCategory(tree, slug) {
  if (!slug) return null;
  for (const top of tree) {
    if (top.slug === slug) return top;
    const child = top.children.find((category) => category.slug === slug);
    if (child) return { ...child, parentNode: top };
  }
  return null;
}

/** The categories to browse: the top-level ones, and under the one chosen, its own. */
function categoryNav(tree, chosen, hrefFor) {
  if (!tree.length) return null;
  const current = findCategory(tree, chosen);
  const open = current ? (current.parentNode || current) : null;
  const link = (category, label = category.name) => h('a', {
    href: hrefFor(category.slug),
    'aria-current': category.slug === chosen ? 'page' : null,
  }, label, h('span', { class: 'count' }, String(category.count)));
  return h('nav', { class: 'categories', id: 'categories', 'aria-label': 'Categories' },
    h('ul', { class: 'category-list' },
      h('li', {}, h('a', { href: hrefFor(''), 'aria-current': chosen ? null : 'page' }, 'All')),
      tree.map((top) => h('li', {}, link(top)))),
    open && open.children.length
      ? h('ul', { class: 'category-list category-children', 'aria-label': `In ${open.name}` },
        h('li', {}, link(open, `All ${open.name}`)),
        open.children.map((child) => h('li', {}, link(child))))
      : null);
}

/** The facets of the current results: their categories and price bands, with counts. */
function facetPanel(facets, chosen, hrefFor) {
  const categoryLinks = facets.categories.map((category) => h('li', {},
    h('a', {
      href: hrefFor({ category: category.slug === chosen.category ? '' : category.slug }),
      'aria-current': category.slug === chosen.category ? 'true' : null,
    }, category.name, h('span', { class: 'count' }, String(category.count)))));
  const bandLinks = facets.price_bands.map((band) => {
    const min = String(band.min);
    const max = band.max === null ? '' : String(band.max);
    const selected = chosen.min_price === min && chosen.max_price === max;
    return h('li', {}, h('a', {
      href: hrefFor(selected ? { min_price: '', max_price: '' } : { min_price: min, max_price: max }),
      'aria-current': selected ? 'true' : null,
    }, bandLabel(band), h('span', { class: 'count' }, String(band.count))));
  });
  if (!categoryLinks.length && !bandLinks.length) return h('aside', { class: 'facets' });
  return h('aside', { class: 'facets', id: 'facets', 'aria-label': 'Narrow the results' },
    categoryLinks.length ? h('section', { id: 'facet-categories' },
      h('h2', {}, 'Category'), h('ul', {}, categoryLinks)) : null,
    bandLinks.length ? h('section', { id: 'facet-prices' },
      h('h2', {}, 'Price'), h('ul', {}, bandLinks)) : null);
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
    h('div', { class: 'card-picture' }, productPicture(product)),
    h('h2', { class: 'card-title' }, h('a', { href: `#/product/${product.id}` }, product.name)),
    product.category ? h('p', { class: 'card-category' }, product.category.name) : null,
    product.description ? h('p', { class: 'card-text' }, product.description) : null,
    h('p', { class: 'price' }, money(product.price, product.currency)),
    h('p', { class: product.available ? 'stock in-stock' : 'stock out-of-stock' },
      product.available ? `In stock (${left} left)` : 'Out of stock'),
    form,
    error);
}
