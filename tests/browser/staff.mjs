// Staff accounts in browser tests: created with `carefront account create`, signed in with a
// password and a TOTP code computed here (what an authenticator app would show).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { binary } from './server.mjs';

export const PASSWORD = 'a long enough pass phrase';
export const OTHER_PATIENT_PASSWORD = 'another long pass phrase';

// RFC 6238 code for a base32 secret at `at` (what an authenticator app shows).
export function totp(base32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of base32.replace(/[\s=]/g, '').toUpperCase()) {
    bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const h = createHmac('sha1', key).update(counter).digest();
  const o = h[19] & 15;
  const n = ((h[o] & 0x7f) << 24) | (h[o + 1] << 16) | (h[o + 2] << 8) | h[o + 3];
  return String(n % 1_000_000).padStart(6, '0');
}

export async function signIn(page, server, email, password = PASSWORD) {
  await page.goto(server.url + '/signin?lang=en');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

export function createStaff(server, role, email, name) {
  // `demo` keeps its own database (demo.db) in the data folder.
  const store = server.command === 'demo'
    ? ['--db', `sqlite://${server.dataDir}/demo.db`]
    : ['--data-dir', server.dataDir];
  const r = spawnSync(binary, [
    'account', 'create', '--role', role, '--email', email, '--name', name,
    '--password-stdin', ...store,
  ], { input: PASSWORD + '\n', encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

// First sign-in of a staff account: password, then the authenticator enrolment page.
// Returns the TOTP secret; the page ends on /home.
export async function enrolStaff(page, server, email) {
  await signIn(page, server, email);
  assert.equal(new URL(page.url()).pathname, '/account/totp');
  const secret = await page.getAttribute('#totp-secret', 'data-secret');
  await page.getByLabel('Six-digit code').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on and continue' }).click();
  assert.equal(new URL(page.url()).pathname, '/home');
  return secret;
}

// The demo's published sign-ins share one password.
export const DEMO_PASSWORD = 'carefront-demo-2026';

// Demo staff enrol their authenticator at the first sign-in, then use a code; returns the
// secret (for signing in again) and leaves the page on /home.
export async function enrolDemoStaff(page, server, email) {
  await signIn(page, server, email, DEMO_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/account/totp', email);
  const secret = await page.getAttribute('#totp-secret', 'data-secret');
  await page.getByLabel('Six-digit code').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on and continue' }).click();
  assert.equal(new URL(page.url()).pathname, '/home', email);
  return secret;
}

// Someone else with a patient account: signs up, confirms from the demo mailbox, signs in
// (the page ends on /home).
export async function signUpPatient(page, server, { email, given, family, birthDate, password = OTHER_PATIENT_PASSWORD }) {
  await page.goto(server.url + '/signup?lang=en');
  await page.getByLabel('Email address').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByLabel('Given name').fill(given);
  await page.getByLabel('Family name').fill(family);
  await page.getByLabel('Date of birth').fill(birthDate);
  await page.getByRole('button', { name: 'Create my account' }).click();
  await page.goto(server.url + '/mailbox');
  await page.locator('article.mail', { hasText: email }).first()
    .locator('a[href*="/confirm?token="]').click();
  await signIn(page, server, email, password);
  assert.equal(new URL(page.url()).pathname, '/home', email);
}
