// Accounts end to end in a real browser: a patient signs up, confirms the email from the demo
// mailbox, signs in, edits the profile and signs out; staff created with `carefront account
// create` enrol an authenticator and reach their dashboards; wrong passwords lock sign-in.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { PASSWORD, totp, signIn as staffSignIn, createStaff as createStaffOn } from './staff.mjs';

let server;
let browser;
before(async () => {
  // Demo mode: the operator's mailbox is open, as a newcomer trying Carefront would use it.
  server = await startServer('demo');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Sign-in helpers bound to this file's server.
const signIn = (page, email, password) => staffSignIn(page, server, email, password);
const createStaff = (role, email, name) => createStaffOn(server, role, email, name);

// First: later tests lock sign-in from this address on purpose.
test('the demo prints a patient sign-in that opens the patient dashboard', async () => {
  const page = await browser.newPage();
  await staffSignIn(page, server, 'patient@demo.carefront.example', 'carefront-demo-2026');
  await page.waitForURL(/\/home/);
  assert.match(await page.locator('h1').textContent(), /Demo patient/);
  await page.close();
});

test('a patient signs up, confirms the email, signs in, edits the profile, signs out', async () => {
  const page = await browser.newPage({ viewport: { width: 375, height: 800 } });
  await page.goto(server.url + '/?lang=en');
  await page.getByRole('link', { name: 'Sign up' }).first().click();
  assert.equal(await page.locator('h1').textContent(), 'Create your patient account');
  await screenshot(page, 'signup-form');

  // Mistakes are named next to their fields; what was typed stays, except the password.
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password').fill('short');
  await page.getByLabel('Given name').fill('Ada');
  await page.getByLabel('Date of birth').fill('1990-04-23');
  await page.getByRole('button', { name: 'Create my account' }).click();
  assert.match(await page.locator('[role=alert]').textContent(), /at least 12 characters/);
  assert.match(await page.locator('#f-family-error').textContent(), /required/);
  assert.equal(await page.getAttribute('#f-family', 'aria-describedby'), 'f-family-error');
  assert.equal(await page.inputValue('#f-email'), 'ada@example.com');
  assert.equal(await page.inputValue('#f-password'), '');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'the form fits a phone');
  await screenshot(page, 'signup-errors-phone');

  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Family name').fill('Lovelace');
  await page.getByRole('button', { name: 'Create my account' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Check your mail');

  // Before confirming, sign-in says so and offers a new link.
  await signIn(page, 'ada@example.com');
  assert.match(await page.locator('[role=alert]').textContent(), /confirm your email/);
  assert.ok(await page.getByRole('button', { name: 'Send me a new confirmation link' }).isVisible());

  await page.goto(server.url + '/mailbox');
  const mail = page.locator('article.mail').first();
  assert.match(await mail.textContent(), /ada@example\.com/);
  await mail.locator('a[href*="/confirm?token="]').click();
  assert.equal(await page.locator('h1').textContent(), 'Email address confirmed');

  // The same address cannot sign up twice.
  await page.goto(server.url + '/signup');
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByLabel('Given name').fill('Ada');
  await page.getByLabel('Family name').fill('Lovelace');
  await page.getByLabel('Date of birth').fill('1990-04-23');
  await page.getByRole('button', { name: 'Create my account' }).click();
  assert.match(await page.locator('[role=alert]').textContent(), /already uses this email/);

  await signIn(page, 'ada@example.com');
  assert.equal(new URL(page.url()).pathname, '/home');
  assert.equal(await page.locator('h1').textContent(), 'Hello, Ada Lovelace');
  for (const section of ['Appointments', 'Messages', 'Prescriptions', 'My record']) {
    assert.ok(await page.getByRole('heading', { name: section }).isVisible(), section);
  }
  assert.match(await page.locator('#appointments').textContent(), /will appear here/);
  await page.setViewportSize({ width: 1100, height: 800 });
  await screenshot(page, 'dashboard-patient');

  // The profile: change the phone, and a reload shows it (read back from the FHIR Patient).
  await page.getByRole('link', { name: 'My account' }).click();
  assert.equal(await page.inputValue('#f-given'), 'Ada');
  await page.getByLabel('Phone').fill('+33 6 12 34 56 78');
  await page.getByLabel('City').fill('Lyon');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /saved/);
  await page.reload();
  assert.equal(await page.inputValue('#f-phone'), '+33 6 12 34 56 78');
  assert.equal(await page.inputValue('#f-city'), 'Lyon');
  await page.getByLabel('Phone').fill('call me');
  await page.getByRole('button', { name: 'Save' }).click();
  assert.match(await page.locator('#f-phone-error').textContent(), /4 to 20 digits/);
  await screenshot(page, 'account-patient');

  // Keyboard: the sign-out button is reachable and works.
  await page.getByRole('button', { name: 'Sign out' }).focus();
  await page.keyboard.press('Enter');
  await page.waitForURL((u) => u.pathname === '/');
  await page.goto(server.url + '/home');
  assert.equal(new URL(page.url()).pathname, '/signin', 'signed out: /home asks to sign in');
  await page.close();
});

test('a forgotten password is reset from a mailed link', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/forgot?lang=en');
  await page.getByLabel('Email address').fill('ada@example.com');
  await page.getByRole('button', { name: 'Send the link' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /If this address has an account/);
  await page.goto(server.url + '/mailbox');
  await page.locator('article.mail').first().locator('a[href*="/reset?token="]').click();
  await page.getByLabel('New password').fill('another fine pass phrase');
  await page.getByRole('button', { name: 'Save my new password' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Password changed');
  await signIn(page, 'ada@example.com', 'another fine pass phrase');
  assert.equal(new URL(page.url()).pathname, '/home');
  await page.close();
});

test('a form posted without its CSRF token is refused with a page that says to reload', async () => {
  const r = await fetch(server.url + '/signin', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'accept-language': 'en' },
    body: 'email=ada%40example.com&password=x',
  });
  assert.equal(r.status, 403);
  assert.match(await r.text(), /Reload the page/);
});

test('the French locale renders the sign-in page', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '/signin?lang=fr');
  assert.equal(await page.locator('h1').textContent(), 'Connexion');
  assert.ok(await page.getByLabel('Adresse e-mail').isVisible());
  assert.ok(await page.getByLabel('Mot de passe').isVisible());
  await screenshot(page, 'signin-fr');
  await page.close();
});

const STAFF = [
  ['practitioner', 'grace@example.org', 'Dr Grace Hopper', "Today's agenda"],
  ['pharmacist', 'marie@example.org', 'Marie Curie', 'Prescriptions to dispense'],
  ['dispatcher', 'dan@example.org', 'Dan Dispatch', 'Home visits'],
  ['employer-admin', 'erin@example.org', 'Erin Employer', 'Aggregate reports'],
  ['administrator', 'root@example.org', 'Alan Admin', 'Audit'],
];

test('staff enrol an authenticator at first sign-in, then sign in with a code', async () => {
  for (const [role, email, name, section] of STAFF) {
    createStaff(role, email, name);
    const page = await browser.newPage();
    await signIn(page, email);
    assert.equal(new URL(page.url()).pathname, '/account/totp', role);
    assert.ok(await page.locator('figure.qr svg').isVisible(), 'QR code shown');
    const secret = await page.getAttribute('#totp-secret', 'data-secret');
    if (role === 'practitioner') await screenshot(page, 'totp-enrolment');
    await page.getByLabel('Six-digit code').fill('000000');
    await page.getByRole('button', { name: 'Turn on and continue' }).click();
    assert.match(await page.locator('#f-code-error').textContent(), /does not match/);
    await page.getByLabel('Six-digit code').fill(totp(secret));
    await page.getByRole('button', { name: 'Turn on and continue' }).click();
    assert.equal(new URL(page.url()).pathname, '/home', role);
    assert.equal(await page.locator('h1').textContent(), `Hello, ${name}`);
    assert.ok(await page.getByRole('heading', { name: section }).isVisible(), section);
    await page.setViewportSize({ width: 1100, height: 800 });
    await screenshot(page, `dashboard-${role}`);

    // Next time: password, then the code (the next step's: this one was just used).
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, email);
    assert.equal(new URL(page.url()).pathname, '/signin/totp');
    await page.goto(server.url + '/home');
    assert.equal(new URL(page.url()).pathname, '/signin/totp', 'no dashboard before the code');
    await page.getByLabel('Six-digit code').fill(totp(secret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.equal(new URL(page.url()).pathname, '/home');
    await page.close();
  }
});

// Last: it locks the account (and, when the server sees peer addresses, this address).
test('five wrong passwords lock sign-in with a message that says when to retry', async () => {
  const page = await browser.newPage();
  for (let i = 0; i < 4; i++) {
    await signIn(page, 'ada@example.com', 'wrong password ' + i);
    assert.match(await page.locator('[role=alert]').textContent(), /email address or password is not right/);
  }
  await signIn(page, 'ada@example.com', 'wrong password 5');
  const locked = await page.locator('[role=alert]').textContent();
  assert.match(locked, /Too many failed attempts.*locked.*until \d\d:\d\d UTC/s);
  // Even the right password is refused while locked.
  await signIn(page, 'ada@example.com', 'another fine pass phrase');
  assert.match(await page.locator('[role=alert]').textContent(), /Too many failed attempts/);
  await screenshot(page, 'signin-locked');
  await page.close();
});
