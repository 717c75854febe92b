// Building the page: elements from data, never HTML from strings, so nothing a
// product name or an error message holds can become markup.

/** An element: h('a', { href: '#/' , class: 'x', onclick: fn }, 'text', child, ...) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      element.className = value;
    } else if (name === 'dataset') {
      Object.assign(element.dataset, value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces what `element` shows. */
export function show(element, ...children) {
  element.replaceChildren();
  append(element, children);
}

/** Money in minor units, shown in its currency: 1999 USD -> $19.99. */
export function money(cents, currency = 'USD') {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}

/** A timestamp for people: 30 Nov 2026, 10:15. */
export function when(timestamp) {
  const date = new Date(timestamp);
  if (Number.isNaN(date.getTime())) return timestamp;
  return date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A status as a coloured badge. */
export function statusBadge(status) {
  return h('span', { class: `status status-${status}` }, status);
}

/** The error box a form shows its failure in (announced to screen readers). */
export function errorBox() {
  return h('div', { class: 'error', role: 'alert', hidden: true });
}

export function showError(box, error) {
  box.hidden = false;
  show(box, error.message || String(error));
}

export function clearError(box) {
  box.hidden = true;
  box.replaceChildren();
}

/** A labelled form field; `input` gets an id from `name` so the label points at it. */
export function field(label, input, hint) {
  const id = input.id || `field-${input.name}`;
  input.id = id;
  const hintNode = hint ? h('small', { class: 'hint', id: `${id}-hint` }, hint) : null;
  if (hintNode) input.setAttribute('aria-describedby', hintNode.id);
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hintNode);
}

/** Disables a form's controls while `work` runs, so it is sent once. */
export async function busy(form, work) {
  const controls = [...form.querySelectorAll('button, input, select, textarea')];
  const before = controls.map((control) => control.disabled);
  controls.forEach((control) => { control.disabled = true; });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    controls.forEach((control, index) => { control.disabled = before[index]; });
    form.removeAttribute('aria-busy');
  }
}
