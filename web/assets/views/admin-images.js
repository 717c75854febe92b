// For the shop's administrators: a product's pictures. Upload one (the file's bytes
// are the request's body), move them up and down (the first is the one shoppers see
// first), describe them (alt text), and delete them.

import { api } from '../api.js';
import { h, show, errorBox, showError, clearError, field, busy } from '../dom.js';
import { productPicture } from './shared.js';

/** The most pictures a product shows, as the API holds it. */
const MAX_IMAGES = 8;

/** Sends `file` as `product`'s next picture, with its alt text; the image as stored. */
export async function uploadImage(productId, file, alt) {
  const query = alt.trim() ? `?alt=${encodeURIComponent(alt.trim())}` : '';
  const { data } = await api(`/api/products/products/${productId}/images${query}`, {
    method: 'POST', auth: true, file,
  });
  return data;
}

/** A file input and an alt text field, for a form that sends a picture. */
export function pictureFields(idPrefix) {
  const file = h('input', {
    type: 'file', name: `${idPrefix}-file`, id: `${idPrefix}-file`,
    accept: 'image/png,image/jpeg,image/webp',
  });
  const alt = h('input', { type: 'text', name: `${idPrefix}-alt`, id: `${idPrefix}-alt`, maxlength: 300 });
  return {
    file,
    alt,
    fields: [
      field('Picture', file, 'PNG, JPEG or WebP, up to 2 MB and 4096 × 4096 pixels.'),
      field('Describe the picture', alt, 'For people who can\'t see it, e.g. "A navy keyboard seen from above".'),
    ],
  };
}

/** The panel that manages `product`'s pictures; `reload()` reads the product again. */
export function imagesPanel(product, context, reload) {
  const images = product.images || [];
  const error = errorBox();
  const panel = h('section', { class: 'panel form', id: 'product-images', 'aria-labelledby': 'images-heading' });

  const act = async (work, message) => {
    clearError(error);
    try {
      await busy(panel, work);
      await reload();
      context.flash(message);
    } catch (failure) {
      showError(error, failure);
    }
  };
  const path = (image) => `/api/products/products/${product.id}/images/${image.id}`;
  const move = (image, position, message) => act(
    () => api(path(image), { method: 'PATCH', auth: true, body: { position } }), message);

  const rows = images.map((image, index) => {
    const alt = h('input', {
      type: 'text', name: `alt-${image.id}`, value: image.alt, maxlength: 300,
      'aria-label': `Alt text of picture ${index + 1}`,
    });
    const altForm = h('form', { class: 'row' }, alt,
      h('button', { type: 'submit', class: 'button button-small button-quiet' }, 'Save text'));
    altForm.addEventListener('submit', (event) => {
      event.preventDefault();
      act(() => api(path(image), { method: 'PATCH', auth: true, body: { alt: alt.value } }),
        `The text of picture ${index + 1} is saved.`);
    });
    return h('li', { dataset: { imageId: image.id } },
      productPicture(product, { image }),
      h('div', { class: 'form' },
        altForm,
        h('div', { class: 'actions' },
          h('button', {
            type: 'button', class: 'button button-small button-quiet', disabled: index === 0,
            'aria-label': `Move picture ${index + 1} up`,
            onclick: () => move(image, index - 1, `Picture ${index + 1} moved up.`),
          }, '↑ Up'),
          h('button', {
            type: 'button', class: 'button button-small button-quiet', disabled: index === images.length - 1,
            'aria-label': `Move picture ${index + 1} down`,
            onclick: () => move(image, index + 1, `Picture ${index + 1} moved down.`),
          }, '↓ Down'),
          h('button', {
            type: 'button', class: 'link-button danger', 'aria-label': `Delete picture ${index + 1}`,
            onclick: () => {
              if (!window.confirm(`Delete picture ${index + 1} of ${product.name}?`)) return;
              act(() => api(path(image), { method: 'DELETE', auth: true }), `Picture ${index + 1} deleted.`);
            },
          }, 'Delete'))));
  });

  const picture = pictureFields('upload');
  const upload = h('form', { class: 'upload', id: 'image-upload' }, picture.fields,
    h('button', { type: 'submit', class: 'button' }, 'Upload picture'));
  upload.addEventListener('submit', (event) => {
    event.preventDefault();
    const [file] = picture.file.files;
    if (!file) {
      showError(error, new Error('Choose a picture to upload first.'));
      picture.file.focus();
      return;
    }
    act(() => uploadImage(product.id, file, picture.alt.value), `The picture of ${product.name} is uploaded.`);
  });

  show(panel,
    h('h2', { id: 'images-heading' }, `Pictures (${images.length} of ${MAX_IMAGES})`),
    error,
    images.length
      ? h('ol', { class: 'image-admin', id: 'image-list' }, rows)
      : h('p', { class: 'muted' }, 'No pictures yet: shoppers see the product\'s initial.'),
    images.length < MAX_IMAGES ? upload : h('p', { class: 'muted' }, 'Delete a picture to add another.'));
  return panel;
}
