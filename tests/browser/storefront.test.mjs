// The storefront as a person uses it, in headless Chromium (Debian's `chromium`, driven
// by playwright-core): a shopper registers, searches, fills a cart, checks out, has a
// card declined, pays, and sees the order paid (in the inbox too) and the stock gone
// down; an admin changes a price and the shopper sees it. A shopper browses a
// category and searches with a sort and a facet, seeing the products' pictures; an
// admin adds a product with its picture, adds and reorders another and deletes one,
// and the shopper sees them; an admin manages categories. Every page must run under the
// shop's CSP without a console error. `./dev test` serves the app in spinshop's host and runs this with
// BASE set; SCREENSHOTS=<dir> also saves the pictures docs/storefront.md shows.
//
//   BASE=http://127.0.0.1:3000 node --test tests/browser/

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const BASE = process.env.BASE || 'http://127.0.0.1:3000';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOTS = process.env.SCREENSHOTS || '';
const ADMIN_EMAIL = process.env.ADMIN_EMAIL || 'admin@spinshop.local';
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || 'change-me-admin';
const DECLINED_CARD = '4000 0000 0000 0002';
const GOOD_CARD = '4242 4242 4242 4242';
/** The repository, for the picture files an admin uploads. */
const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
});

/** A page of its own (its own sessionStorage) that fails the test on any console error. */
async function openPage(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport, baseURL: BASE });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    // Chromium logs every answer of 400 and up ("Failed to load resource"); the shop
    // expects some (a declined card, the inbox before it exists). Anything else, a CSP
    // refusal above all, is a problem.
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.problems = problems;
  return page;
}

async function screenshot(page, name) {
  if (!SCREENSHOTS) return;
  mkdirSync(SCREENSHOTS, { recursive: true });
  // The pictures on the screen have arrived (lazy ones further down are not asked for).
  await page.waitForFunction(() => [...document.images].every((img) => {
    const box = img.getBoundingClientRect();
    return img.complete || box.bottom < 0 || box.top > window.innerHeight;
  }));
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** A product as the API shows it, found by name. */
async function productNamed(name) {
  const response = await fetch(`${BASE}/api/products/products?q=${encodeURIComponent(name)}&limit=5`);
  assert.equal(response.status, 200);
  const items = await response.json();
  const product = items.find((candidate) => candidate.name === name);
  assert.ok(product, `the demo catalog has ${name}`);
  return product;
}

/** The page's own messages (flash and errors), for assertion messages. */
async function shown(page) {
  return page.locator('#flash, .error').allInnerTexts();
}

async function searchFor(page, words) {
  await page.fill('#search-q', words);
  await page.press('#search-q', 'Enter');
  await page.waitForURL((url) => url.hash.startsWith('#/?q=')
    && new URLSearchParams(url.hash.split('?')[1]).get('q') === words);
  await page.getByRole('heading', { name: `Results for “${words}”` }).waitFor();
}

async function addFromGrid(page, name) {
  const card = page.locator('.card', { has: page.getByRole('link', { name, exact: true }) });
  await card.getByRole('button', { name: `Add ${name} to cart` }).click();
  await page.getByText(`Added 1 × ${name} to your cart.`).waitFor();
}

test('a shopper buys two products, is declined once, pays, and an admin reprices', async () => {
  const keyboard = await productNamed('Mechanical keyboard');
  const mouse = await productNamed('Wireless mouse');
  const shopper = await openPage();
  const email = `shopper-${Date.now()}@example.com`;

  // The shop, before anyone signs in.
  await shopper.goto('/');
  await shopper.locator('#products .card').first().waitFor();
  await screenshot(shopper, 'storefront');

  // Register.
  await shopper.getByRole('link', { name: 'Register', exact: true }).click();
  await shopper.getByLabel('Name').fill('Sam Shopper');
  await shopper.getByLabel('Email').fill(email);
  await shopper.getByLabel('Password').fill('correct-horse-battery');
  await shopper.getByRole('button', { name: 'Create account' }).click();
  await shopper.locator('#who', { hasText: 'Sam Shopper' }).waitFor();

  // Search, and add two products.
  await searchFor(shopper, 'mechanical');
  assert.equal(await shopper.locator('#products .card').count(), 1, 'one mechanical keyboard matches');
  await addFromGrid(shopper, keyboard.name);
  await searchFor(shopper, 'mouse');
  await addFromGrid(shopper, mouse.name);
  await shopper.locator('#cart-count', { hasText: '2' }).waitFor();

  // The cart: two keyboards instead of one.
  await shopper.getByRole('link', { name: /^Cart/ }).click();
  const keyboardRow = shopper.locator(`#cart tr[data-product-id="${keyboard.id}"]`);
  await keyboardRow.getByLabel(`Quantity of ${keyboard.name}`).fill('2');
  await keyboardRow.getByRole('button', { name: 'Update' }).click();
  await shopper.getByText('Cart updated.').waitFor();
  const total = keyboard.price * 2 + mouse.price;
  await shopper.locator('#cart-count', { hasText: '3' }).waitFor();
  await shopper.locator('#cart-total', { hasText: (total / 100).toFixed(2) }).waitFor();

  // Check out.
  await shopper.getByLabel('Shipping address').fill('1 Main St, Springfield');
  await shopper.getByRole('button', { name: 'Place order' }).click();
  await shopper.waitForURL(/#\/orders\/\d+$/);
  const orderId = Number(shopper.url().split('/').pop());
  await shopper.locator('#pay-form').waitFor();

  // The declined card: the API's message, and the order still waits for payment.
  await shopper.getByLabel('Card number').fill(DECLINED_CARD);
  await shopper.getByRole('button', { name: /^Pay / }).click();
  const declined = shopper.getByRole('alert');
  await declined.waitFor();
  assert.match(await declined.innerText(), /declined/i);
  await screenshot(shopper, 'payment-declined');

  // Retried with a good card (a new attempt, a new idempotency key): paid.
  await shopper.getByLabel('Card number').fill(GOOD_CARD);
  await shopper.getByRole('button', { name: /^Pay / }).click();
  await shopper.getByText(`Payment received for order #${orderId}.`).waitFor();
  await shopper.locator('#order-status .status-paid').first().waitFor();
  assert.equal(await shopper.locator('#pay-form').count(), 0, 'nothing left to pay');

  // The order history says paid.
  await shopper.getByRole('link', { name: 'Orders', exact: true }).click();
  const row = shopper.locator(`#orders tr[data-order-id="${orderId}"]`);
  await row.waitFor();
  assert.equal((await row.locator('.order-status').innerText()).trim().toLowerCase(), 'paid');
  await screenshot(shopper, 'orders');

  // The inbox says so too: events reach it just after the answers that made them.
  await shopper.getByRole('link', { name: /^Inbox/ }).waitFor();
  let inboxed = 0;
  for (let attempt = 0; attempt < 40 && !inboxed; attempt += 1) {
    await shopper.goto('/#/notifications');
    await shopper.reload();
    await shopper.getByRole('heading', { name: 'Inbox', exact: true }).waitFor();
    inboxed = await shopper.getByRole('heading', { name: 'Order paid' }).count();
    if (!inboxed) await shopper.waitForTimeout(250);
  }
  assert.ok(inboxed, 'the inbox shows the paid order');
  await screenshot(shopper, 'inbox');

  // The stock went down by what was bought.
  await shopper.goto(`/#/product/${keyboard.id}`);
  const left = keyboard.stock - keyboard.reserved - 2;
  await shopper.locator('#product-stock', { hasText: `${left} available` }).waitFor();
  assert.equal((await productNamed(keyboard.name)).stock, keyboard.stock - 2);

  // An admin changes the mouse's price...
  const admin = await openPage();
  await admin.goto('/#/login');
  await admin.getByLabel('Email').fill(ADMIN_EMAIL);
  await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await admin.getByRole('button', { name: 'Log in' }).click();
  await admin.getByRole('link', { name: 'Admin', exact: true }).click();
  await admin.locator('#admin-products').waitFor();
  await screenshot(admin, 'admin');
  await admin.getByRole('link', { name: `Edit ${mouse.name}` }).click();
  const newPrice = mouse.price + 500;
  await admin.getByLabel('Price').fill((newPrice / 100).toFixed(2));
  await admin.getByRole('button', { name: 'Save changes' }).click();
  await admin.getByText(`${mouse.name} is saved.`).waitFor();

  // ...and the shopper sees it.
  await shopper.goto(`/#/product/${mouse.id}`);
  await shopper.reload();
  await shopper.locator('#product-price', { hasText: (newPrice / 100).toFixed(2) }).waitFor();
  assert.equal((await productNamed(mouse.name)).price, newPrice);

  assert.deepEqual(shopper.problems, [], `the shopper's pages logged errors (${await shown(shopper)})`);
  assert.deepEqual(admin.problems, [], "the admin's pages logged errors");
});

/** Signs the demo admin in on a page of its own. */
async function adminPage() {
  const admin = await openPage();
  await admin.goto('/#/login');
  await admin.getByLabel('Email').fill(ADMIN_EMAIL);
  await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await admin.getByRole('button', { name: 'Log in' }).click();
  await admin.getByRole('link', { name: 'Admin', exact: true }).waitFor();
  return admin;
}

/** The cards' product names, in the order shown. */
async function cardNames(page) {
  return page.locator('#products .card-title').allInnerTexts();
}

/** Every picture in the grid has its alt text, lazy loading and its size, and has loaded. */
async function checkPictures(page) {
  const pictures = page.locator('#products img.picture');
  assert.ok(await pictures.count() > 0, 'the cards show pictures');
  for (const picture of await pictures.all()) {
    assert.ok((await picture.getAttribute('alt')).length > 0, 'a picture has alt text');
    assert.equal(await picture.getAttribute('loading'), 'lazy');
    assert.ok(Number(await picture.getAttribute('width')) > 0);
    assert.ok(Number(await picture.getAttribute('height')) > 0);
    await picture.scrollIntoViewIfNeeded();
    await page.waitForFunction((img) => img.complete && img.naturalWidth > 0, await picture.elementHandle());
  }
}

test('a shopper browses a category, then searches with a sort and a facet', async () => {
  const page = await openPage();
  await page.goto('/');
  await page.locator('#products .card').first().waitFor();
  await checkPictures(page);

  // Browsing: a top-level category, then one under it.
  const categories = page.getByRole('navigation', { name: 'Categories' });
  await categories.getByRole('link', { name: /^Electronics/ }).click();
  await page.getByRole('heading', { name: 'Electronics', exact: true }).waitFor();
  await categories.getByRole('link', { name: /^Audio/ }).click();
  await page.getByRole('heading', { name: 'Audio', exact: true }).waitFor();
  assert.match(page.url(), /category=audio/);
  const audio = await cardNames(page);
  assert.deepEqual([...audio].sort(), ['Bookshelf speakers', 'Noise-cancelling headphones', 'Wireless earbuds']);
  await checkPictures(page);
  await screenshot(page, 'category');

  // A search for wireless things that are no mouse, cheapest first.
  await page.getByRole('link', { name: /^All$/ }).click();
  await page.getByRole('heading', { name: 'Shop', exact: true }).waitFor();
  await searchFor(page, 'wireless -mouse');
  const found = await cardNames(page);
  assert.ok(found.length >= 3, `found ${found}`);
  assert.ok(!found.includes('Wireless mouse'), 'the mouse is left out');
  await page.getByLabel('Sort by').selectOption('price_asc');
  await page.waitForURL(/sort=price_asc/);
  // The new order shows once the sorted page has arrived.
  await page.waitForFunction(() => {
    const shown = [...document.querySelectorAll('#products .price')]
      .map((price) => Number(price.textContent.replace(/[^0-9]/g, '')));
    return shown.length > 1 && shown.every((cents, i) => i === 0 || shown[i - 1] <= cents);
  });
  const prices = await page.locator('#products .price').allInnerTexts();
  const cents = prices.map((text) => Number(text.replace(/[^0-9]/g, '')));
  assert.deepEqual(cents, [...cents].sort((a, b) => a - b), `cheapest first: ${prices}`);

  // A facet: the search's audio products only, with the count the facet promised.
  const facet = page.locator('#facet-categories a', { hasText: 'Audio' });
  const promised = Number(await facet.locator('.count').innerText());
  await facet.click();
  await page.waitForURL(/category=audio/);
  await page.locator('#result-count', { hasText: promised === 1 ? '1 product' : `${promised} products` }).waitFor();
  const narrowed = await cardNames(page);
  assert.equal(narrowed.length, promised);
  assert.ok(narrowed.every((name) => audio.includes(name)), `only audio: ${narrowed}`);
  assert.match(page.url(), /q=wireless/, 'still the search');
  assert.match(page.url(), /sort=price_asc/, 'still the sort');
  await screenshot(page, 'search-facets');

  // A price band narrows too, and a second click widens again.
  const band = page.locator('#facet-prices a').first();
  await band.click();
  await page.waitForURL(/min_price=/);
  await page.locator('#facet-prices a[aria-current]').click();
  await page.waitForURL((url) => !url.hash.includes('min_price'));
  assert.deepEqual(page.problems, []);
});

test('an admin adds a product with its picture, adds another and reorders them, and the shopper sees them', async () => {
  const admin = await adminPage();
  admin.on('dialog', (dialog) => dialog.accept());
  await admin.getByRole('link', { name: 'Admin', exact: true }).click();
  await admin.getByRole('link', { name: 'New product' }).click();
  const name = `Desk lamp ${Date.now()}`;
  await admin.getByLabel('Name').fill(name);
  await admin.getByLabel('Price').fill('39.00');
  await admin.getByLabel('Stock', { exact: true }).fill('7');
  await admin.getByLabel('Category').selectOption('desk');
  await admin.getByLabel('Picture', { exact: true }).setInputFiles(join(REPOSITORY, 'demo/images/laptop-stand.webp'));
  await admin.getByLabel('Describe the picture').fill('A lamp bending over a desk');
  await admin.getByRole('button', { name: 'Create product' }).click();
  await admin.getByText(`${name} is in the shop.`).waitFor();
  await admin.getByRole('heading', { name: 'Pictures (1 of 8)' }).waitFor();

  // A second picture, then moved first.
  await admin.locator('#image-upload').getByLabel('Picture', { exact: true }).setInputFiles(join(REPOSITORY, 'tests/fixtures/images/4x3.png'));
  await admin.locator('#image-upload').getByLabel('Describe the picture').fill('The lamp, lit');
  await admin.getByRole('button', { name: 'Upload picture' }).click();
  await admin.getByRole('heading', { name: 'Pictures (2 of 8)' }).waitFor();
  await admin.getByRole('button', { name: 'Move picture 2 up' }).click();
  await admin.getByText('Picture 2 moved up.').waitFor();
  await admin.locator('#image-list li').first().locator('input[value="The lamp, lit"]').waitFor();

  // A file that is no picture is refused with the API's words, and nothing changes.
  await admin.locator('#image-upload').getByLabel('Picture', { exact: true }).setInputFiles({
    name: 'photo.png', mimeType: 'image/png', buffer: Buffer.from('not a picture at all'),
  });
  await admin.getByRole('button', { name: 'Upload picture' }).click();
  await admin.locator('#product-images .error', { hasText: 'not a PNG, JPEG or WebP image' }).waitFor();
  await admin.getByRole('heading', { name: 'Pictures (2 of 8)' }).waitFor();
  await screenshot(admin, 'admin-pictures');

  // The shopper finds it, pictures in the admin's order.
  const product = await productNamed(name);
  assert.equal(product.category.slug, 'desk');
  assert.deepEqual(product.images.map((image) => image.alt), ['The lamp, lit', 'A lamp bending over a desk']);
  const shopper = await openPage();
  await shopper.goto('/');
  await searchFor(shopper, name);
  const card = shopper.locator('.card', { hasText: name });
  const picture = card.locator('img.picture');
  assert.equal(await picture.getAttribute('alt'), 'The lamp, lit');
  assert.equal(await picture.getAttribute('src'), product.images[0].url);
  await shopper.waitForFunction((img) => img.complete && img.naturalWidth > 0, await picture.elementHandle());
  await card.getByRole('link', { name }).click();
  await shopper.locator('#gallery .gallery-main img[alt="The lamp, lit"]').waitFor();
  await shopper.getByRole('button', { name: 'Show picture 2 of 2' }).click();
  await shopper.locator('#gallery .gallery-main img[alt="A lamp bending over a desk"]').waitFor();

  // The admin deletes the first picture; the shopper's page shows the other.
  await admin.getByRole('button', { name: 'Delete picture 1' }).click();
  await admin.getByRole('heading', { name: 'Pictures (1 of 8)' }).waitFor();
  await shopper.reload();
  await shopper.locator('#gallery img[alt="A lamp bending over a desk"]').waitFor();
  assert.equal((await productNamed(name)).images.length, 1);
  assert.deepEqual(admin.problems, []);
  assert.deepEqual(shopper.problems, []);
});

test('an admin manages categories, and one that holds products is not deleted', async () => {
  const admin = await adminPage();
  await admin.goto('/#/admin/categories');
  await admin.locator('#admin-categories').waitFor();
  const slug = `lamps-${Date.now()}`;
  await admin.getByLabel('Slug').fill(slug);
  await admin.getByLabel('Name', { exact: true }).fill('Lamps');
  await admin.getByLabel('Under').selectOption('accessories');
  await admin.getByRole('button', { name: 'Create category' }).click();
  await admin.getByText('Lamps is created.').waitFor();
  const row = admin.locator(`#admin-categories tr[data-slug="${slug}"]`);
  await row.getByLabel('Name of Lamps').fill('Lights');
  await row.getByLabel('Parent of Lamps').selectOption('electronics');
  await row.getByRole('button', { name: 'Save' }).click();
  await admin.getByText('Lights is saved.').waitFor();
  const categories = await (await fetch(`${BASE}/api/products/categories`)).json();
  const electronics = categories.find((category) => category.slug === 'electronics');
  assert.ok(electronics.children.some((child) => child.slug === slug && child.name === 'Lights'));

  // Audio holds products: the API's 409 is shown, and it stays.
  admin.on('dialog', (dialog) => dialog.accept());
  await admin.locator('#admin-categories tr[data-slug="audio"]').getByRole('button', { name: 'Delete Audio' }).click();
  await admin.locator('.error', { hasText: /audio/i }).waitFor();
  await admin.locator(`#admin-categories tr[data-slug="${slug}"]`).getByRole('button', { name: 'Delete Lights' }).click();
  await admin.getByText('Lights is deleted.').waitFor();
  assert.equal(await admin.locator('#admin-categories tr[data-slug="audio"]').count(), 1);
  await screenshot(admin, 'admin-categories');
  assert.deepEqual(admin.problems, []);
});

test('the API documentation renders under the CSP and serves its document', async () => {
  const page = await openPage();
  await page.goto('/docs');
  await page.locator('.swagger-ui .info .title', { hasText: 'spinshop' }).waitFor();
  await page.locator('.opblock-tag', { hasText: 'products' }).first().waitFor();
  await screenshot(page, 'docs');
  const yaml = await page.request.get('/docs/openapi.yaml');
  assert.equal(yaml.status(), 200);
  assert.match(await yaml.text(), /^openapi: 3\.1/);
  assert.deepEqual(page.problems, []);
});

test('the shop works on a phone-sized screen and from the keyboard', async () => {
  const page = await openPage({ width: 390, height: 844 });
  await page.goto('/');
  await page.locator('#products .card').first().waitFor();
  // No sideways scrolling on a phone.
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the screen`);
  await screenshot(page, 'storefront-phone');

  // The first Tab reaches the skip link, which takes the focus to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip-link');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');

  // Searching by keyboard alone.
  await page.focus('#search-q');
  await page.keyboard.type('hub');
  await page.keyboard.press('Enter');
  await page.locator('#products .card', { hasText: 'USB-C hub' }).waitFor();
  assert.deepEqual(page.problems, []);
});

test('a search typed while the shop is still loading is kept, and its results win', async () => {
  const page = await openPage();
  // The whole catalogue answers slowly; a search answers at once.
  await page.route('**/api/products/search?*', async (route) => {
    if (!new URL(route.request().url()).searchParams.has('q')) {
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
    await route.continue();
  });
  await page.goto('/');
  await page.fill('#search-q', 'hub');
  await page.press('#search-q', 'Enter');
  await page.getByRole('heading', { name: 'Results for “hub”' }).waitFor();
  // The slow catalogue arrives after the results and must not cover them or the words.
  await page.waitForTimeout(2000);
  assert.equal(await page.getByRole('heading', { name: 'Results for “hub”' }).count(), 1);
  assert.equal(await page.inputValue('#search-q'), 'hub');
  assert.match(page.url(), /#\/\?q=hub$/);
  assert.deepEqual(page.problems, []);
});

test('an unknown page is a friendly 404 and an unknown API path the JSON envelope', async () => {
  const page = await openPage();
  const answer = await page.goto('/no-such-page');
  assert.equal(answer.status(), 404);
  await page.getByRole('heading', { name: "We couldn't find that page" }).waitFor();
  const api = await page.request.get('/api/no-such-service');
  assert.equal(api.status(), 404);
  assert.equal((await api.json()).error.code, 'not_found');
  assert.deepEqual(page.problems, []);
});

/** The admin's bearer token, from the API. */
async function adminToken() {
  const response = await fetch(`${BASE}/api/users/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: ADMIN_EMAIL, password: ADMIN_PASSWORD }),
  });
  assert.equal(response.status, 200);
  return (await response.json()).access_token;
}

/** The newest link to the storefront's `view` mailed to `to`, read from the local
 *  mailbox as the admin, once `count` such mails have arrived. */
async function mailedLink(to, view, count = 1) {
  const token = await adminToken();
  for (let tries = 0; tries < 100; tries += 1) {
    const response = await fetch(`${BASE}/api/notifications/mail?to=${encodeURIComponent(to)}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.status, 200);
    const links = (await response.json())
      .map((mail) => mail.text.match(new RegExp(`https?://\\S+/#/${view}\\?token=\\w+`)))
      .filter((link) => link);
    if (links.length >= count) return links[0][0];
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no ${view} link reached ${to}`);
}

test('a shopper who forgot the password resets it from the login page and logs in', async () => {
  const email = `forgetful-${Date.now()}@example.com`;
  const registered = await fetch(`${BASE}/api/users/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'first-password-1', name: 'Fran Forgetful' }),
  });
  assert.equal(registered.status, 201);

  const page = await openPage();
  await page.goto('/#/login');
  await page.getByRole('link', { name: 'Forgot your password?' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByRole('button', { name: 'Send me a link' }).click();
  await page.getByText(`If ${email} has an account, a link to reset its password is on its way.`).waitFor();
  await screenshot(page, 'forgot-password');

  // The link, as the mail carries it, opens the storefront's reset page.
  const link = await mailedLink(email, 'reset');
  assert.ok(link.startsWith(BASE), `${link} opens this shop`);
  await page.goto(link);
  await page.getByLabel('New password').fill('second-password-2');
  await page.getByRole('button', { name: 'Set password' }).click();
  await page.getByText('Your password is set. Log in with it.').waitFor();

  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('second-password-2');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#who', { hasText: 'Fran Forgetful' }).waitFor();
  assert.deepEqual(page.problems, [], 'the pages logged errors');
});

test('the verification link verifies the address, and the admin reads the mailbox', async () => {
  const email = `verifier-${Date.now()}@example.com`;
  const registered = await fetch(`${BASE}/api/users/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'first-password-1' }),
  });
  assert.equal(registered.status, 201);
  const page = await openPage();
  await page.goto('/#/login');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill('first-password-1');
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.locator('#who', { hasText: email }).waitFor();
  // Not verified yet: the orders page says so, and sends the link again.
  await page.goto('/#/orders');
  await page.getByText(`Verify your email: we sent a link to ${email}.`).waitFor();
  await page.getByRole('button', { name: 'Send the link again' }).click();
  await page.getByText(`A new link is on its way to ${email}.`).waitFor();
  await page.goto(await mailedLink(email, 'verify', 2));
  await page.getByText(`${email} is verified. Thank you!`).waitFor();
  await page.goto('/#/orders');
  await page.getByRole('heading', { name: 'No orders yet' }).waitFor();
  assert.equal(await page.getByText('Verify your email:').count(), 0);

  const admin = await openPage();
  await admin.goto('/#/login');
  await admin.getByLabel('Email').fill(ADMIN_EMAIL);
  await admin.getByLabel('Password').fill(ADMIN_PASSWORD);
  await admin.getByRole('button', { name: 'Log in' }).click();
  await admin.locator('#who').filter({ hasText: /./ }).waitFor();
  await admin.goto(`/#/admin/mail?to=${encodeURIComponent(email)}`);
  // Both links mailed to the address: at registration, and sent again.
  await admin.locator('.mail h2', { hasText: 'spinshop: Verify your email address' }).nth(1).waitFor();
  assert.equal(await admin.locator('.mail').count(), 2);
  assert.ok((await admin.locator('.mail-link').first().getAttribute('href')).includes('/#/verify?token='));
  assert.deepEqual(page.problems, [], 'the pages logged errors');
  assert.deepEqual(admin.problems, [], "the admin's pages logged errors");
});
