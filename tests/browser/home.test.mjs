// The public pages render in English and French, keyboard first, and on a phone.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the home page greets visitors and links to the API', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/');
  assert.equal(await page.locator('h1').textContent(), 'Welcome to Carefront');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await page.getByRole('link', { name: "Browse the API's capabilities" }).click();
  assert.match(await page.textContent('body'), /CapabilityStatement/);
  await page.close();
});

test('the French locale renders and is remembered', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/');
  await page.getByRole('link', { name: 'Français' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Bienvenue sur Carefront');
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await page.goto(server.url + '/');
  assert.equal(await page.locator('h1').textContent(), 'Bienvenue sur Carefront', 'cookie kept');
  await screenshot(page, 'home-fr');
  await page.close();
});

test('keyboard users can skip to the content; a phone-size screen fits', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 740 } });
  await page.goto(server.url + '/?lang=en');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Skip to content');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no horizontal scrolling on a phone');
  await screenshot(page, 'home-phone');
  await page.close();
});

test('an unknown page says so in plain words', async () => {
  const page = await browser.newPage();
  const response = await page.goto(server.url + '/no/such/page?lang=en');
  assert.equal(response.status(), 404);
  assert.equal(await page.locator('h1').textContent(), 'Page not found');
  await page.close();
});
