// Logging in and registering (both start a session with the tokens the API answers),
// a forgotten password's reset, and verifying an email address.

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
    h('p', { class: 'muted' }, h('a', { href: `#/forgot?next=${encodeURIComponent(next(query))}` }, 'Forgot your password?')),
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

/** #/forgot: asks for a reset link. The answer is the same whether the address has
 *  an account or not, and so is the message. */
export async function forgot(main, _params, query) {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, autofocus: true });
  const error = errorBox();
  const done = h('p', { class: 'notice', role: 'status', hidden: true });
  const form = h('form', { class: 'panel form' },
    h('h1', {}, 'Forgot your password?'),
    h('p', { class: 'muted' }, 'Tell us your email address and we will mail you a link to set a new password.'),
    error,
    done,
    field('Email', email),
    h('button', { type: 'submit', class: 'button button-large' }, 'Send me a link'),
    h('p', { class: 'muted' }, h('a', { href: `#/login?next=${encodeURIComponent(next(query))}` }, 'Back to log in')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      await busy(form, () => api('/api/users/auth/password-reset', { method: 'POST', body: { email: email.value } }));
      done.hidden = false;
      done.textContent = `If ${email.value} has an account, a link to reset its password is on its way. It works for 30 minutes.`;
    } catch (failure) {
      showError(error, failure);
    }
  });
  show(main, h('div', { class: 'narrow' }, form));
}

/** #/reset?token=…: the page a reset link opens; sets the new password. */
export async function reset(main, _params, query, context) {
  const token = query.get('token') || '';
  const password = h('input', {
    type: 'password', name: 'new_password', autocomplete: 'new-password', required: true, minlength: 8, autofocus: true,
  });
  const error = errorBox();
  const form = h('form', { class: 'panel form' },
    h('h1', {}, 'Set a new password'),
    error,
    field('New password', password, 'At least 8 characters. Every device signed in to your account is signed out.'),
    h('button', { type: 'submit', class: 'button button-large' }, 'Set password'),
    h('p', { class: 'muted' }, 'Link expired? ', h('a', { href: '#/forgot' }, 'Ask for a new one')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearError(error);
    try {
      await busy(form, () => api('/api/users/auth/password-reset/confirm', {
        method: 'POST', body: { token, new_password: password.value },
      }));
      session.end();
      context.flash('Your password is set. Log in with it.');
      context.navigate('#/login');
    } catch (failure) {
      showError(error, failure);
    }
  });
  show(main, h('div', { class: 'narrow' }, form));
}

/** #/verify?token=…: the page a verification link opens; verifies at once. */
export async function verify(main, _params, query, context) {
  const token = query.get('token') || '';
  const error = errorBox();
  const panel = h('div', { class: 'panel form' }, h('h1', {}, 'Verify your email'), error);
  try {
    const { data } = await api('/api/users/auth/verify-email', { method: 'POST', body: { token } });
    session.updateUser(data);
    panel.append(h('p', { role: 'status' }, `${data.email} is verified. Thank you!`),
      h('a', { class: 'button', href: '#/' }, 'Back to the shop'));
    context.refreshHeader();
  } catch (failure) {
    showError(error, failure);
    panel.append(h('p', { class: 'muted' }, 'Signed in? Send a new link from your orders page.'));
  }
  show(main, h('div', { class: 'narrow' }, panel));
}

/** A notice for a signed-in account whose address is not verified yet, with a
 *  button that mails a new link; `null` once it is verified. */
export function verifyNotice(user, context) {
  if (!user || (user.email_verified && !user.pending_email)) return null;
  const to = user.pending_email || user.email;
  const button = h('button', { type: 'button', class: 'link-button' }, 'Send the link again');
  const notice = h('p', { class: 'notice verify-notice', role: 'status' },
    `Verify your email: we sent a link to ${to}. `, button);
  button.addEventListener('click', async () => {
    try {
      await api('/api/users/auth/verify-email/resend', { method: 'POST', auth: true });
      context.flash(`A new link is on its way to ${to}.`);
    } catch (failure) {
      context.flash(failure.message, 'error');
    }
  });
  return notice;
}
