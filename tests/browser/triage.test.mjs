// Symptom check end to end on the demo network: a patient's check ends "urgent, by video" and
// they book one of the video times it offers (the visit carries the check); another ends in
// an emergency, which says whom to call and what to do while waiting, and offers no booking
// (in French, without JavaScript, on a phone); a clinician finds the urgent check in the
// triage queue and re-triages it with a reason.
//
// The answers follow crates/triage/protocols: urinary-symptoms (a woman of 70 with no warning
// sign: "urgent, by video, as urine infections in older people can become serious more
// quickly") and chest-pain (heavy pain spreading to the arm: an emergency).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { signIn, totp } from './staff.mjs';

const DEMO_PASSWORD = 'carefront-demo-2026';
const PATIENT = 'patient@demo.carefront.example';
// The sample patient's own general practitioner.
const PRACTITIONER = 'practitioner@demo.carefront.example';

let server;
let browser;
// The urgent check of the first test, for the clinician's.
let urgent;
before(async () => {
  server = await startServer('demo');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function signInPatient(page) {
  await signIn(page, server, PATIENT, DEMO_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/home');
}

// Fill the start form: age in years, sex, the complaint as typed. When the words could mean
// several complaints, take `title` among the "Did you mean" choices.
async function startCheck(page, { age, sex, says, title }) {
  await page.locator('input[name=age]').fill(String(age));
  await page.locator(`input[name=sex][value=${sex}]`).check();
  await page.locator('input[name=complaint_text]').fill(says);
  await page.locator('form.triage-start button[type=submit]:not([name])').click();
  if (await page.locator('.did-you-mean').count()) {
    await page.locator('.did-you-mean button', { hasText: title }).click();
  }
  assert.match(new URL(page.url()).pathname, /^\/triage\/[0-9a-f-]{36}$/, 'the interview started');
  return new URL(page.url()).pathname.split('/').pop();
}

// Answer question after question: `answers` by question id (yes-no questions not named are
// answered "no"), until the outcome shows. Returns the question ids asked, in order.
async function answerAll(page, answers) {
  const asked = [];
  for (let n = 0; n < 40; n++) {
    if (await page.locator('section.outcome').count()) return asked;
    const question = await page.locator('form.question input[name=question]').inputValue();
    asked.push(question);
    const answer = answers[question] ?? 'no';
    const choice = page.locator(`form.question input[name=answer][value="${answer}"]`);
    if (await page.locator('form.question .answers').count()) {
      await page.locator(`form.question button[name=answer][value=${answer}]`).click();
    } else if (await choice.count()) {
      await choice.check();
      await page.locator('form.question button[type=submit]:not([name])').click();
    } else {
      assert.fail(`the script does not say how to answer "${question}" (${asked.join(', ')})`);
    }
  }
  assert.fail(`the interview did not end: ${asked.join(', ')}`);
}

test('a patient checks a symptom, is told "urgent, by video" and books an offered video time', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
  await signInPatient(page);
  await page.getByRole('link', { name: 'Check symptoms' }).first().click();
  assert.equal(new URL(page.url()).pathname, '/triage');
  assert.equal(await page.locator('h1').textContent(), 'Check your symptoms');

  // Nothing typed, no age: each field says what is missing.
  await page.locator('form.triage-start button[type=submit]:not([name])').click();
  assert.ok(await page.locator('#f-age-error').count() === 1, 'the age is asked for');
  assert.ok(await page.locator('#f-sex-error').count() === 1, 'the sex is asked for');

  urgent = await startCheck(page, { age: 70, sex: 'female', says: 'burning when I pee', title: 'Urinary symptoms' });
  assert.match(await page.locator('.progress').textContent(), /Urinary symptoms · Question 1 of at most \d+/);
  assert.equal(await page.locator('form.question.red-flag').count(), 1, 'warning signs come first, marked');
  const asked = await answerAll(page, { duration: 'short' });
  assert.ok(asked.includes('confused') && asked.includes('duration'), asked.join(', '));

  // The outcome: urgent, by video, and why (with the guidance it follows).
  const outcome = page.locator('section.outcome');
  assert.match(await outcome.getAttribute('class'), /level-urgent/);
  assert.equal(await page.locator('h1').textContent(), 'Urgent: be seen today');
  assert.match(await outcome.textContent(), /Kind of visit: Video call/);
  const reasons = page.locator('ul.reasons li');
  assert.ok(await reasons.count() >= 1);
  assert.match(await reasons.first().textContent(), /older people/);
  assert.match(await reasons.first().locator('a').getAttribute('href'), /^https:\/\//);
  assert.match(await page.locator('dl.answers').textContent(), /How long have you had these symptoms\?\s*Less than 2 days/);
  assert.equal(await page.locator('.button.call').count(), 0, 'no emergency call');

  // Video times of general practice, each leading to the confirm page with the check.
  const offered = page.locator('section.offered');
  const slots = offered.locator('ul.slots a');
  assert.ok(await slots.count() >= 1, 'video times are offered');
  assert.ok(await slots.count() <= 6, 'only the first few');
  for (const modality of await offered.locator('li.offer .modality').allTextContents()) {
    assert.equal(modality.trim(), 'Video call');
  }
  const href = await slots.first().getAttribute('href');
  assert.match(href, /^\/book\/slot\/[^?]+\?triage=[0-9a-f-]{36}$/, href);
  assert.match(await offered.locator('a', { hasText: 'Search all free times' }).getAttribute('href'), /modality=video/);
  await screenshot(page, 'triage-outcome-urgent');

  await slots.first().click();
  assert.equal(await page.locator('h1').textContent(), 'Confirm your appointment');
  assert.match(await page.locator('.triage-line').textContent(), /Symptom check:\s*Urgent\s*Urinary symptoms/);
  await page.getByLabel('Reason for the visit').fill('Burning when I pee');
  await page.getByRole('button', { name: 'Confirm the appointment' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is booked/);
  assert.match(await page.locator('dl.visit').textContent(), /Video call/);
  assert.match(await page.locator('.triage-line').textContent(), /Symptom check:\s*Urgent\s*Urinary symptoms/);
  const detail = new URL(page.url()).pathname;

  // Under "My appointments", marked as booked from the check; its page links back to it.
  await page.getByRole('link', { name: 'My appointments', exact: true }).click();
  const visit = page.locator('section[aria-labelledby=upcoming-title] li').filter({ has: page.locator(`a[href="${detail}"]`) });
  assert.equal(await visit.count(), 1, 'the visit is upcoming');
  assert.match(await visit.textContent(), /Symptom check/);
  await visit.locator(`a[href="${detail}"]`).click();
  await page.locator('.triage-line a').click();
  assert.equal(new URL(page.url()).pathname, `/triage/${urgent}`);
  assert.match(await page.locator('h1').textContent(), /^Urgent/);
  await page.close();
});

test('an emergency says whom to call and what to do meanwhile, and offers no booking (French, no JavaScript, phone)', async () => {
  const context = await browser.newContext({
    javaScriptEnabled: false, viewport: { width: 375, height: 800 }, locale: 'fr-FR',
  });
  const page = await context.newPage();
  await signInPatient(page);
  await page.goto(server.url + '/triage?lang=fr');
  assert.equal(await page.locator('h1').textContent(), 'Évaluer vos symptômes');

  // Words no complaint uses: asked to pick from the list.
  await page.locator('input[name=age]').fill('58');
  await page.locator('input[name=sex][value=male]').check();
  await page.locator('input[name=complaint_text]').fill('zzkq wxyv');
  await page.locator('form.triage-start button[type=submit]:not([name])').click();
  assert.match(await page.locator('#f-complaint_text-error').textContent(), /Nous n'avons pas reconnu/);
  assert.equal(await page.locator('input[name=age]').inputValue(), '58', 'what was typed stays');

  await startCheck(page, { age: 58, sex: 'male', says: 'douleur à la poitrine', title: 'Douleur dans la poitrine' });
  assert.match(await page.locator('.progress').textContent(), /Douleur dans la poitrine · Question 1/);
  await answerAll(page, { heavy_spreading: 'yes' });

  const outcome = page.locator('section.outcome');
  assert.match(await outcome.getAttribute('class'), /level-emergency/);
  assert.match(await page.locator('h1').textContent(), /^Urgence/);
  const call = page.locator('a.button.call');
  assert.equal((await call.textContent()).trim(), 'Appelez le 15 (ou le 112) maintenant.');
  assert.equal(await call.getAttribute('href'), 'tel:15');
  assert.ok(await page.locator('section.while-waiting li').count() >= 1, 'what to do while waiting');
  assert.match(await page.locator('section.while-waiting h2').textContent(), /En attendant les secours/);
  // No booking of any kind from an emergency.
  assert.equal(await page.locator('section.offered').count(), 0);
  assert.equal(await page.locator('main a[href^="/book"]').count(), 0, 'no link to book');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no horizontal scrolling on a phone');
  await screenshot(page, 'triage-outcome-emergency-phone-fr');
  const text = await page.locator('body').textContent();
  assert.doesNotMatch(text, /\b(triage|modality|nav)\.[a-z_.-]+/, 'every string is translated');
  await context.close();
});

test('a clinician finds the urgent check in the triage queue and re-triages it with a reason', async () => {
  assert.ok(urgent, 'the urgent check of the first test');
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 }, locale: 'en-US' });
  await signIn(page, server, PRACTITIONER, DEMO_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/account/totp');
  const secret = await page.getAttribute('#totp-secret', 'data-secret');
  await page.getByLabel('Six-digit code').fill(totp(secret));
  await page.getByRole('button', { name: 'Turn on and continue' }).click();
  await page.getByRole('link', { name: 'Triage queue' }).first().click();
  assert.equal(new URL(page.url()).pathname, '/triage/queue');

  // Most urgent first: no row after a less urgent one is more urgent.
  const order = ['emergency', 'urgent', 'routine', 'self-care'];
  const levels = await page.locator('table.queue tbody tr').evaluateAll(
    (rows) => rows.map((r) => r.className.replace('level-row-', '')));
  assert.deepEqual([...levels].sort((a, b) => order.indexOf(a) - order.indexOf(b)), levels, levels.join(', '));
  const row = page.locator('table.queue tbody tr').filter({ has: page.locator(`a[href="/triage/${urgent}"]`) });
  assert.equal(await row.count(), 1, 'the urgent check waits in the queue');
  assert.match(await row.textContent(), /Urgent[\s\S]*Urinary symptoms[\s\S]*Video call[\s\S]*\d+ min/);
  await screenshot(page, 'triage-queue');

  // The clinician reads the answers, then lowers the urgency and says why.
  await row.locator(`a[href="/triage/${urgent}"]`).click();
  assert.match(await page.locator('dl.answers').textContent(), /Less than 2 days/);
  assert.match(await page.locator('dl.about').textContent(), /70 years/);
  await page.getByLabel('Reason').fill('');
  await page.getByRole('button', { name: 'Change the urgency' }).click();
  assert.match(await page.locator('#f-reason-error').textContent(), /Say why/);
  await page.getByLabel('Urgency', { exact: true }).selectOption('routine');
  await page.getByLabel('Kind of visit').selectOption('video');
  await page.getByLabel('Reason').fill('Spoke to her: no fever, eating and drinking; a video visit this week is enough.');
  await page.getByRole('button', { name: 'Change the urgency' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /urgency is changed/);
  assert.match(await page.locator('section.outcome').getAttribute('class'), /level-routine/);
  assert.match(await page.locator('ul.notes').textContent(), /Urgency changed from urgent to routine: Spoke to her/);

  // Reviewed: it leaves the queue.
  await page.getByRole('button', { name: 'Mark reviewed' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /left the queue/);
  assert.equal(await page.locator(`a[href="/triage/${urgent}"]`).count(), 0);
  await page.close();
});
