// The administrator's pages end to end: an administrator created with `carefront account
// create` adds a clinic and a practitioner with a sign-in, disables that account, and reads
// the audit log; other roles are refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { PASSWORD, createStaff, enrolStaff, signIn } from './staff.mjs';

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

test('signed out, the admin pages ask to sign in', async () => {
  const page = await browser.newPage();
  for (const path of ['/admin/clinics', '/admin/practitioners', '/admin/accounts', '/admin/audit']) {
    await page.goto(server.url + path);
    assert.equal(new URL(page.url()).pathname, '/signin', path);
  }
  await page.close();
});

test('an administrator adds a clinic and a practitioner, disables an account, reads the audit log', async () => {
  createStaff(server, 'administrator', 'root@example.org', 'Alan Admin');
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  await enrolStaff(page, server, 'root@example.org');

  // Clinics, from the dashboard card.
  await page.getByRole('link', { name: 'Open Clinics' }).click();
  assert.equal(new URL(page.url()).pathname, '/admin/clinics');
  assert.match(await page.locator('main').textContent(), /No clinic yet/);
  await page.getByLabel('Clinic name').fill('Lyon Part-Dieu Clinic');
  await page.getByLabel('Street address').fill('12 rue Garibaldi');
  await page.getByLabel('Postal code').fill('69003');
  await page.getByLabel('Country').fill('FR');
  await page.getByLabel('Phone').fill('+33 4 72 00 00 00');
  await page.getByLabel('Latitude').fill('95');
  await page.getByRole('button', { name: 'Add the clinic' }).click();
  // Mistakes are named next to their fields, and what was typed stays.
  assert.match(await page.locator('#f-city-error').textContent(), /required/);
  assert.match(await page.locator('#f-latitude-error').textContent(), /between -90 and 90/);
  assert.equal(await page.inputValue('#f-name'), 'Lyon Part-Dieu Clinic');
  await page.getByLabel('City').fill('Lyon');
  await page.getByLabel('Latitude').fill('45.7606');
  await page.getByLabel('Longitude').fill('4,8590');
  await page.getByRole('button', { name: 'Add the clinic' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /clinic is added/);
  const clinic = page.locator('table tbody tr').filter({ hasText: 'Lyon Part-Dieu Clinic' });
  assert.match(await clinic.textContent(), /Lyon/);
  await screenshot(page, 'admin-clinics');

  // Practitioners, with a sign-in.
  await page.goto(server.url + '/admin/practitioners');
  await page.getByLabel('Given name').fill('Grace');
  await page.getByLabel('Family name').fill('Hopper');
  await page.getByLabel('Specialty').selectOption({ label: 'Paediatrics' });
  await page.getByLabel('Email address').fill('grace@example.org');
  await page.getByLabel('Role').selectOption('practitioner');
  await page.getByLabel('Initial password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Add the practitioner' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /practitioner is added/);
  const row = page.locator('table tbody tr').filter({ hasText: 'Grace Hopper' });
  assert.match(await row.textContent(), /Paediatrics/);

  // The new account can sign in (and is asked to enrol its authenticator) ...
  const other = await browser.newPage();
  await signIn(other, server, 'grace@example.org');
  assert.equal(new URL(other.url()).pathname, '/account/totp');

  // ... until it is disabled.
  await page.goto(server.url + '/admin/accounts');
  const account = page.locator('tr').filter({ hasText: 'grace@example.org' });
  assert.match(await account.locator('.status').textContent(), /Active/);
  assert.match(await page.locator('tr').filter({ hasText: 'root@example.org' }).textContent(), /Your account/);
  await account.getByRole('button', { name: 'Disable grace@example.org' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /disabled and signed out/);
  assert.match(await page.locator('tr').filter({ hasText: 'grace@example.org' }).locator('.status').textContent(), /Disabled/);
  await other.goto(server.url + '/account/totp');
  assert.equal(new URL(other.url()).pathname, '/signin', 'the session ended with the account');
  await signIn(other, server, 'grace@example.org');
  assert.notEqual(new URL(other.url()).pathname, '/account/totp', 'a disabled account cannot sign in');
  await other.close();

  // The audit log shows what the administrator did, and the chain checks out.
  await page.goto(server.url + '/admin/audit');
  const entries = page.locator('table.audit tbody tr');
  assert.ok(await entries.count() >= 3);
  assert.ok(await entries.filter({ hasText: 'create' }).filter({ hasText: 'Location/' }).count() >= 1);
  await page.getByLabel('Resource type').fill('Practitioner');
  await page.getByRole('button', { name: 'Apply the filters' }).click();
  assert.match(page.url(), /resource_type=Practitioner/);
  for (const text of await entries.allTextContents()) assert.match(text, /Practitioner/);
  await page.getByRole('button', { name: 'Verify the chain' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /chain is intact/);
  await screenshot(page, 'admin-audit');
  await page.close();
});

test('other roles get a page that says they are not allowed', async () => {
  createStaff(server, 'dispatcher', 'dan@example.org', 'Dan Dispatch');
  const page = await browser.newPage();
  await enrolStaff(page, server, 'dan@example.org');
  const r = await page.goto(server.url + '/admin/clinics?lang=en');
  assert.equal(r.status(), 403);
  assert.equal(await page.locator('h1').textContent(), 'Not allowed');
  await page.close();
});
