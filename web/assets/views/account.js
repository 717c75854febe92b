// Logging in and registering. Both start a session with the tokens the API answers.

import { api } from '../api.js';
import * as session from '../session.js';
import { h, show, errorBox, showError, clearError, field, busy } from '../dom.js';

/** Where to go after signing in: the page that asked (only a page of this shop). */
function next(query) {
  const target = query.get('next') || '#/';
  return /^#\/[\w/?=&%.-]*$/.test(target) ? target : '#/';
}

export async function login(main, _params, query, context) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const error = errorBox();
  const form = h('form', { class: 'panel form', novalidate: false },
    h('h1', {}, 'Log in'),
    error,
    field('Email', email),
    field('Password', password),
    h('button', { type: 'submit', class: 'button button-large' }, 'Log in'),
    h('p', { class: 'muted' }, 'New here? ', h('a', { href: `#/register?next=${encodeURIComponent(next(query))}` }, 'Create an account')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      const { data } = await busy(form, () => api('/api/users/auth/login', {
        method: 'POST',
        body: { email: email.value, password: password.value },
      }));
      session.start(data);
      context.flash(`Welcome back, ${data.user.name || data.user.email}.`);
      context.navigate(next(query));
    } catch (failure) {
      showError(error, failure);
      password.select();
    }
  });
  show(main, h('div', { class: 'narrow' }, form));
}

export async function register(main, _params, query, context) {
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'name', maxlength: 100, autofocus: true });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'email', required: true });
  const password = h('input', {
    type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 8,
  });
  const error = errorBox();
  const form = h('form', { class: 'panel form' },
    h('h1', {}, 'Create your account'),
    error,
    field('Name', name),
    field('Email', email),
    field('Password', password, 'At least 8 characters.'),
    h('button', { type: 'submit', class: 'button button-large' }, 'Create account'),
    h('p', { class: 'muted' }, 'Already have an account? ', h('a', { href: `#/login?next=${encodeURIComponent(next(query))}` }, 'Log in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      const body = { email: email.value, password: password.value };
      if (name.value.trim()) body.name = name.value;
      const { data } = await busy(form, () => api('/api/users/auth/register', { method: 'POST', body }));
      session.start(data);
      context.flash(`Welcome to spinshop, ${data.user.name || data.user.email}.`);
      context.navigate(next(query));
    } catch (failure) {
      showError(error, failure);
    }
  });
  show(main, h('div', { class: 'narrow' }, form));
}
