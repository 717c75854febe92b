// For the shop's administrators: products (create, edit, archive, their category),
// their stock, and their pictures (admin-images.js); categories have a view of their
// own (admin-categories.js); and the local mailbox.

import { api } from '../api.js';
import { h, show, money, when, errorBox, showError, clearError, field, busy, statusBadge } from '../dom.js';
import { pager, pageOf } from './shared.js';
import { imagesPanel, pictureFields, uploadImage } from './admin-images.js';
import { categorySelect } from './admin-categories.js';

const PAGE_SIZE = 20;

export async function list(main, _params, query, context) {
  const page = pageOf(query);
  const q = (query.get('q') || '').trim();
  const search = new URLSearchParams({
    limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, include_archived: 'true',
  });
  if (q) search.set('q', q);
  const { data: products, headers } = await api(`/api/products/products?${search}`);
  const total = Number(headers.get('x-total-count') || products.length);
  const error = errorBox();
  const rerender = () => list(main, [], query, context);

  const rows = products.map((product) => {
    const stock = h('input', {
      type: 'number', name: `stock-${product.id}`, min: 0, max: 1000000000, value: product.stock,
      inputmode: 'numeric', 'aria-label': `Stock of ${product.name}`, disabled: product.archived,
    });
    const stockForm = h('form', { class: 'qty-form' }, stock,
      h('button', { type: 'submit', class: 'button button-small button-quiet', disabled: product.archived }, 'Set'));
    stockForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearError(error);
      try {
        await busy(stockForm, () => api(`/api/products/products/${product.id}/stock`, {
          method: 'PUT', auth: true, body: { stock: Number(stock.value) },
        }));
        context.flash(`Stock of ${product.name} set to ${stock.value}.`);
        await rerender();
      } catch (failure) {
        showError(error, failure);
      }
    });
    const archive = product.archived ? null : h('button', {
      type: 'button', class: 'link-button danger', 'aria-label': `Archive ${product.name}`,
      onclick: async () => {
        if (!window.confirm(`Take ${product.name} off the shelves?`)) return;
        clearError(error);
        try {
          await api(`/api/products/products/${product.id}`, { method: 'DELETE', auth: true });
          context.flash(`${product.name} is no longer sold.`);
          await rerender();
        } catch (failure) {
          showError(error, failure);
        }
      },
    }, 'Archive');
    return h('tr', { dataset: { productId: product.id } },
      h('th', { scope: 'row' }, h('a', { href: `#/admin/products/${product.id}` }, product.name),
        product.category ? h('span', { class: 'muted small' }, ` · ${product.category.name}`) : null),
      h('td', { class: 'num' }, money(product.price, product.currency)),
      h('td', {}, stockForm),
      h('td', { class: 'num' }, product.reserved),
      h('td', {}, product.archived ? statusBadge('archived')
        : product.available ? statusBadge('available') : statusBadge('sold-out')),
      h('td', {}, h('div', { class: 'actions' },
        h('a', { href: `#/admin/products/${product.id}`, 'aria-label': `Edit ${product.name}` }, 'Edit'),
        archive)));
  });

  const filter = h('input', {
    type: 'search', name: 'q', value: q, 'aria-label': 'Find products', placeholder: 'Find products',
  });
  const filterForm = h('form', { class: 'inline-form', role: 'search' }, filter,
    h('button', { type: 'submit', class: 'button button-quiet' }, 'Find'));
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = filter.value.trim();
    context.navigate(value ? `#/admin?q=${encodeURIComponent(value)}` : '#/admin');
  });

  show(main,
    h('div', { class: 'order-head' },
      h('h1', {}, 'Products'),
      h('div', { class: 'actions' },
        h('a', { class: 'button button-quiet', href: '#/admin/categories' }, 'Categories'),
        h('a', { class: 'button button-quiet', href: '#/admin/mail' }, 'Mailbox'),
        h('a', { class: 'button', href: '#/admin/products/new' }, 'New product'))),
    filterForm,
    error,
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table', id: 'admin-products' },
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col' }, 'Name'),
          h('th', { scope: 'col', class: 'num' }, 'Price'),
          h('th', { scope: 'col' }, 'Stock'),
          h('th', { scope: 'col', class: 'num' }, 'Reserved'),
          h('th', { scope: 'col' }, 'State'),
          h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        h('tbody', {}, rows))),
    pager(total, page, PAGE_SIZE, (target) => `#/admin?page=${target}${q ? `&q=${encodeURIComponent(q)}` : ''}`));
}

/** "12.50" -> 1250; NaN when it isn't an amount with at most two decimals. */
function cents(text) {
  const match = /^\s*(\d+)(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!match) return Number.NaN;
  return Number(match[1]) * 100 + Number((match[2] || '0').padEnd(2, '0'));
}

export async function edit(main, [id], _query, context) {
  const [existing, { data: tree }] = await Promise.all([
    id ? api(`/api/products/products/${id}`).then(({ data }) => data) : null,
    api('/api/products/categories'),
  ]);
  const category = categorySelect(tree, existing?.category?.slug || '', { name: 'category', none: 'No category' });
  const picture = existing ? null : pictureFields('new-picture');
  const name = h('input', {
    type: 'text', name: 'name', required: true, maxlength: 200, value: existing?.name || '', autofocus: true,
  });
  const price = h('input', {
    type: 'text', name: 'price', inputmode: 'decimal', required: true, pattern: '\\d+([.,]\\d{1,2})?',
    value: existing ? (existing.price / 100).toFixed(2) : '',
  });
  const currency = h('input', {
    type: 'text', name: 'currency', required: true, pattern: '[A-Z]{3}', maxlength: 3, value: existing?.currency || 'USD',
  });
  const stock = h('input', { type: 'number', name: 'stock', min: 0, max: 1000000000, value: existing ? existing.stock : 0 });
  const description = h('textarea', { name: 'description', rows: 5, maxlength: 5000 }, existing?.description || '');
  const error = errorBox();
  const form = h('form', { class: 'panel form', id: 'product-form' },
    h('h1', {}, existing ? `Edit ${existing.name}` : 'New product'),
    error,
    field('Name', name),
    h('div', { class: 'row' },
      field('Price', price, 'In the currency\'s units, e.g. 19.99.'),
      field('Currency', currency, 'ISO 4217, e.g. USD.')),
    existing ? null : field('Stock', stock),
    field('Category', category),
    field('Description', description),
    picture ? picture.fields : null,
    h('div', { class: 'row' },
      h('button', { type: 'submit', class: 'button button-large' }, existing ? 'Save changes' : 'Create product'),
      h('a', { class: 'button button-quiet', href: '#/admin' }, 'Back')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    const amount = cents(price.value);
    if (Number.isNaN(amount)) {
      showError(error, new Error('Price must be an amount such as 19.99.'));
      price.focus();
      return;
    }
    const body = {
      name: name.value,
      price: amount,
      currency: currency.value,
      description: description.value.trim() ? description.value : null,
      category: category.value || null,
    };
    try {
      if (existing) {
        await busy(form, () => api(`/api/products/products/${existing.id}`, { method: 'PATCH', auth: true, body }));
        context.flash(`${name.value} is saved.`);
      } else {
        body.stock = Number(stock.value);
        const [file] = picture.file.files;
        const { data: created } = await busy(form, () => api('/api/products/products', { method: 'POST', auth: true, body }));
        // The product exists now: a picture that is refused leaves it without one, and
        // its page (where pictures are managed) says why.
        try {
          if (file) await busy(form, () => uploadImage(created.id, file, picture.alt.value));
          context.flash(`${name.value} is in the shop.`);
        } catch (failure) {
          context.flash(`${name.value} is in the shop, but its picture was refused: ${failure.message}`, 'error');
        }
        context.navigate(`#/admin/products/${created.id}`);
        return;
      }
      context.navigate('#/admin');
    } catch (failure) {
      showError(error, failure);
    }
  });
  // The pictures panel is drawn again from the product as stored after each change,
  // leaving the form (and whatever is being typed in it) as it is.
  let panel = null;
  const reload = async () => {
    const { data: fresh } = await api(`/api/products/products/${existing.id}`);
    const next = imagesPanel(fresh, context, reload);
    panel.replaceWith(next);
    panel = next;
  };
  if (existing) panel = imagesPanel(existing, context, reload);
  show(main, h('div', { class: 'narrow stack' }, form, panel));
}

/** #/admin/mail: the local mailbox, every mail the shop wrote, newest first. With no
 *  mail API configured this is where mails stay, so the links in them can be
 *  followed from here. */
export async function mailbox(main, _params, query, context) {
  const page = pageOf(query);
  const to = (query.get('to') || '').trim();
  const search = new URLSearchParams({ limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE });
  if (to) search.set('to', to);
  const { data: mails, headers } = await api(`/api/notifications/mail?${search}`, { auth: true });
  const total = Number(headers.get('x-total-count') || mails.length);
  const address = h('input', {
    type: 'search', name: 'to', value: to, 'aria-label': 'Mails to', placeholder: 'Mails to (an address)',
  });
  const filterForm = h('form', { class: 'inline-form', role: 'search' }, address,
    h('button', { type: 'submit', class: 'button button-quiet' }, 'Find'));
  filterForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const value = address.value.trim();
    context.navigate(value ? `#/admin/mail?to=${encodeURIComponent(value)}` : '#/admin/mail');
  });
  const items = mails.map((mail) => {
    const links = [...new Set(mail.text.match(/https?:\/\/\S+/g) || [])];
    return h('article', { class: 'panel mail', dataset: { mailId: mail.id } },
      h('h2', {}, mail.subject),
      h('p', { class: 'muted' }, `To ${mail.to}, ${when(mail.created_at)} `, statusBadge(mail.status)),
      h('pre', { class: 'mail-text' }, mail.text),
      links.length ? h('p', {}, ...links.map((link) => h('a', { href: link, class: 'mail-link' }, link))) : null);
  });
  show(main,
    h('div', { class: 'order-head' },
      h('h1', {}, 'Mailbox'),
      h('a', { class: 'button button-quiet', href: '#/admin' }, 'Products')),
    filterForm,
    mails.length ? items : h('p', { class: 'muted' }, 'No mail yet.'),
    pager(total, page, PAGE_SIZE, (target) => `#/admin/mail?page=${target}${to ? `&to=${encodeURIComponent(to)}` : ''}`));
}
