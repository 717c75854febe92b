// Calls to spinshop's public API, the same ones curl makes. Every failure becomes an
// ApiError carrying the message the API sent (`error.message` of its envelope).

import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

/**
 * `api('/api/carts/cart', { method: 'POST', body, auth: true, headers })` ->
 * { data, headers }. `body` is sent as JSON; `file` (a File or Blob, e.g. an image to
 * upload) is sent as it is, its bytes the whole body. With `auth`, sends the access
 * token (refreshed first when it is about to expire, and once more if the API says it
 * has expired).
 */
export async function api(path, { method = 'GET', body, file, auth = false, headers = {} } = {}) {
  if (auth && session.expiring()) await session.refresh();
  let response = await send(path, method, body, file, auth, headers);
  if (response.status === 401 && auth && session.current()) {
    if (await session.refresh()) response = await send(path, method, body, file, auth, headers);
  }
  return read(response);
}

async function send(path, method, body, file, auth, extra) {
  const headers = { accept: 'application/json', ...extra };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (file !== undefined) headers['content-type'] = file.type || 'application/octet-stream';
  if (auth) {
    const current = session.current();
    if (!current) throw new ApiError(401, 'unauthorized', 'Please log in first.');
    headers.authorization = `Bearer ${current.access_token}`;
  }
  try {
    return await fetch(path, {
      method,
      headers,
      body: file !== undefined ? file : body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The shop could not be reached. Check your connection and try again.');
  }
}

async function read(response) {
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = data && data.error ? data.error : {};
    throw new ApiError(
      response.status,
      error.code || 'error',
      error.message || `The request failed (${response.status}).`,
      error.details,
    );
  }
  return { data, headers: response.headers };
}

/** A key for one attempt at a request the API de-duplicates (`X-Idempotency-Key`). */
export function idempotencyKey(prefix) {
  const random = crypto.randomUUID ? crypto.randomUUID()
    : [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${prefix}-${random}`;
}
