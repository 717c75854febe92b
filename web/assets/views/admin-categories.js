// For the shop's administrators: the category tree (two levels at most). Create a
// category, rename it, move it under another top-level category (or to the top), and
// delete it; the API's refusals (a category that still holds products, one with
// categories under it, a move three levels deep) are shown as it words them.

import { api } from '../api.js';
import { h, show, errorBox, showError, clearError, field, busy } from '../dom.js';

/**
 * A <select> of the categories in `tree` (top-level ones, and those under each
 * indented), `selected` chosen; with `none`, a first choice of no category.
 * `topOnly` lists the top-level ones alone (the parents a category may have).
 */
export function categorySelect(tree, selected, { name, none, topOnly = false, label } = {}) {
  const option = (category, indent) => h('option', {
    value: category.slug, selected: category.slug === selected,
  }, `${indent ? '— ' : ''}${category.name}`);
  return h('select', { name, 'aria-label': label },
    none ? h('option', { value: '', selected: !selected }, none) : null,
    tree.map((top) => [option(top, false), topOnly ? [] : top.children.map((child) => option(child, true))]));
}

export async function render(main, _params, _query, context) {
  const { data: tree } = await api('/api/products/categories');
  const error = errorBox();
  const rerender = () => render(main, [], _query, context);
  const act = async (form, work, message) => {
    clearError(error);
    try {
      await busy(form, work);
      await rerender();
      context.flash(message);
    } catch (failure) {
      showError(error, failure);
    }
  };
  const path = (category) => `/api/products/categories/${encodeURIComponent(category.slug)}`;

  const row = (category, depth) => {
    const newName = h('input', {
      type: 'text', name: `name-${category.slug}`, value: category.name, required: true, maxlength: 100,
      'aria-label': `Name of ${category.name}`,
    });
    // A category with categories under it stays top-level (the tree has two levels).
    const parent = category.children?.length ? null : categorySelect(
      tree.filter((top) => top.slug !== category.slug), category.parent || '',
      { name: `parent-${category.slug}`, none: 'Top level', topOnly: true, label: `Parent of ${category.name}` },
    );
    const form = h('form', { class: 'row' }, newName, parent,
      h('button', { type: 'submit', class: 'button button-small button-quiet' }, 'Save'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const body = { name: newName.value };
      if (parent) body.parent = parent.value || null;
      act(form, () => api(path(category), { method: 'PATCH', auth: true, body }), `${newName.value} is saved.`);
    });
    const remove = h('button', {
      type: 'button', class: 'link-button danger', 'aria-label': `Delete ${category.name}`,
      onclick: () => {
        if (!window.confirm(`Delete the category ${category.name}?`)) return;
        act(form, () => api(path(category), { method: 'DELETE', auth: true }), `${category.name} is deleted.`);
      },
    }, 'Delete');
    return h('tr', { dataset: { slug: category.slug } },
      h('th', { scope: 'row', class: depth ? 'child' : null },
        depth ? '— ' : '', h('a', { href: `#/?category=${encodeURIComponent(category.slug)}` }, category.slug)),
      h('td', {}, form),
      h('td', { class: 'num' }, category.count),
      h('td', {}, remove));
  };

  const slug = h('input', {
    type: 'text', name: 'slug', required: true, maxlength: 64, pattern: '[a-z0-9]+(-[a-z0-9]+)*', autofocus: true,
    placeholder: 'usb-hubs',
  });
  const name = h('input', { type: 'text', name: 'name', required: true, maxlength: 100, placeholder: 'USB hubs' });
  const parent = categorySelect(tree, '', { name: 'parent', none: 'Top level', topOnly: true });
  const create = h('form', { class: 'panel form', id: 'category-form' },
    h('h2', {}, 'New category'),
    h('div', { class: 'row' },
      field('Slug', slug, 'In addresses: lower-case words joined by hyphens, e.g. usb-hubs.'),
      field('Name', name),
      field('Under', parent)),
    h('button', { type: 'submit', class: 'button' }, 'Create category'));
  create.addEventListener('submit', (event) => {
    event.preventDefault();
    act(create, () => api('/api/products/categories', {
      method: 'POST', auth: true, body: { slug: slug.value, name: name.value, parent: parent.value || null },
    }), `${name.value} is created.`);
  });

  show(main,
    h('div', { class: 'order-head' },
      h('h1', {}, 'Categories'),
      h('a', { class: 'button button-quiet', href: '#/admin' }, '← Products')),
    error,
    tree.length
      ? h('div', { class: 'table-wrap' },
        h('table', { class: 'table', id: 'admin-categories' },
          h('thead', {}, h('tr', {},
            h('th', { scope: 'col' }, 'Slug'),
            h('th', { scope: 'col' }, 'Name and place'),
            h('th', { scope: 'col', class: 'num' }, 'Products'),
            h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
          h('tbody', {}, tree.map((top) => [row(top, 0), top.children.map((child) => row(child, 1))]))))
      : h('p', { class: 'muted' }, 'No categories yet.'),
    create);
}
