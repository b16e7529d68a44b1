// On-demand care and the visit note end to end on the demo network. The demo patient's symptom
// check ends "urgent, by video"; they join the queue to see the next available clinician, and
// their open status page shows their place and an estimated wait; the demo practitioner takes
// them from the on-demand queue and lands on the video visit, while the patient's page says,
// without reloading, that the clinician is ready. The practitioner then writes the visit note
// (a vital out of range is refused with everything typed kept), the patient reads the summary
// in plain words on a phone, and another patient gets 404 for it.
//
// The answers follow crates/triage/protocols/urinary-symptoms (see triage.test.mjs): a woman
// of 70 with no warning sign, for less than 2 days, is "urgent, by video".
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { signIn, signUpPatient, DEMO_PASSWORD, enrolDemoStaff } from './staff.mjs';

const PATIENT = 'patient@demo.carefront.example';
const PRACTITIONER = 'practitioner@demo.carefront.example';
const UUID = '[0-9a-f-]{36}';

let server;
let browser;
// Shared by the two tests: the clinician's page (signed in) and the on-demand visit.
let clinician;
let appointment;
let practitionerName;
before(async () => {
  server = await startServer('demo');
  // The clinician lands on the video visit page: fake devices, no permission prompt.
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// A page of its own (its own cookies), in English.
async function newPage(viewport = { width: 1100, height: 900 }) {
  const context = await browser.newContext({ viewport, locale: 'en-US' });
  await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  return context.newPage();
}

async function signInPatient(page) {
  await signIn(page, server, PATIENT, DEMO_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/home');
}

// The symptom check of triage.test.mjs, up to its outcome.
async function urgentVideoCheck(page) {
  await page.goto(server.url + '/triage?lang=en');
  await page.locator('input[name=age]').fill('70');
  await page.locator('input[name=sex][value=female]').check();
  await page.locator('input[name=complaint_text]').fill('burning when I pee');
  await page.locator('form.triage-start button[type=submit]:not([name])').click();
  if (await page.locator('.did-you-mean').count()) {
    await page.locator('.did-you-mean button', { hasText: 'Urinary symptoms' }).click();
  }
  assert.match(new URL(page.url()).pathname, new RegExp(`^/triage/${UUID}$`));
  const asked = [];
  for (let n = 0; n < 40 && !(await page.locator('section.outcome').count()); n++) {
    const question = await page.locator('form.question input[name=question]').inputValue();
    asked.push(question);
    const answer = question === 'duration' ? 'short' : 'no';
    if (await page.locator('form.question .answers').count()) {
      await page.locator(`form.question button[name=answer][value=${answer}]`).click();
    } else {
      await page.locator(`form.question input[name=answer][value="${answer}"]`).check();
      await page.locator('form.question button[type=submit]:not([name])').click();
    }
  }
  assert.equal(await page.locator('section.outcome').count(), 1, `the check ended: ${asked.join(', ')}`);
  assert.match(await page.locator('section.outcome').getAttribute('class'), /level-urgent/);
  assert.match(await page.locator('section.outcome').textContent(), /Kind of visit: Video call/);
}

test('an urgent video check joins the on-demand queue; a clinician takes the patient, who is told live', async () => {
  const patient = await newPage();
  await signInPatient(patient);
  await urgentVideoCheck(patient);

  // "See a clinician now", beside the booking offers; the status page opens its live stream.
  const join = patient.locator('section.ondemand');
  assert.equal(await join.locator('h2').textContent(), 'See a clinician now');
  const live = patient.waitForResponse((r) => new URL(r.url()).pathname === '/api/live');
  await join.getByRole('button', { name: 'See the next available clinician now' }).click();
  const path = new URL(patient.url()).pathname;
  assert.match(path, new RegExp(`^/ondemand/${UUID}$`), path);
  assert.equal((await live).status(), 200, 'the status page listens for live updates');
  assert.equal(await patient.locator('h1').textContent(), 'Waiting for a clinician');
  const status = patient.locator('#ondemand-status');
  assert.match(await status.textContent(), /Your place in the queue:\s*1\b/);
  assert.match(await status.textContent(), /Estimated wait:\s*10 min/);
  assert.equal(await status.getByRole('button', { name: 'Leave the queue' }).count(), 1);
  await screenshot(patient, 'ondemand-status-waiting');
  // Joining again from the same outcome is the same place in the queue, not a second one.
  await patient.goBack();
  await patient.locator('section.ondemand button').click();
  assert.equal(new URL(patient.url()).pathname, path, 'joining twice answers the same entry');
  // From here the page must change by itself: a reload would lose this mark.
  await patient.evaluate(() => { window.stillTheSamePage = true; });

  // The clinician's queue: the patient, their urgency and their complaint.
  clinician = await newPage();
  await enrolDemoStaff(clinician, server, PRACTITIONER);
  await clinician.goto(server.url + '/ondemand?lang=en');
  assert.equal(await clinician.locator('h1').textContent(), 'On-demand queue');
  const rows = clinician.locator('ol.queue-list > li');
  assert.equal(await rows.count(), 1, 'one patient waits');
  const row = rows.first();
  assert.match(await row.getAttribute('class'), /level-row-urgent/);
  assert.match(await row.textContent(), /Urgent/);
  assert.match(await row.textContent(), /Urinary symptoms/);
  assert.match(await row.textContent(), /Waiting for \d+ min/);
  assert.ok((await row.locator('strong').textContent()).trim().length > 0, 'the patient is named');
  await screenshot(clinician, 'ondemand-queue');

  // "Take the next patient": straight to the video visit made for it.
  await clinician.getByRole('button', { name: 'Take the next patient' }).click();
  const visit = new URL(clinician.url()).pathname;
  assert.match(visit, new RegExp(`^/visits/${UUID}$`), visit);
  appointment = visit.split('/').pop();

  // The patient's open page says so, with the link to the visit, without reloading.
  const ready = status.getByRole('status');
  await ready.waitFor({ timeout: 20_000 });
  assert.match(await ready.textContent(), /Your clinician is ready/);
  const link = patient.locator('#ondemand-status').getByRole('link', { name: 'Join the video visit' });
  assert.equal(await link.getAttribute('href'), visit);
  assert.equal(await patient.evaluate(() => window.stillTheSamePage), true, 'the page was not reloaded');
  assert.equal(await patient.locator('#ondemand-status').getByRole('button', { name: 'Leave the queue' }).count(), 0);
  await screenshot(patient, 'ondemand-status-ready');

  // The queue is empty again (and says so); the visit is the patient's, by video, now.
  await clinician.goto(server.url + '/ondemand?lang=en');
  assert.match(await clinician.locator('#ondemand-queue').textContent(), /Nobody is waiting/);
  const list = await (await patient.request.get(server.url + '/api/booking/appointments')).json();
  const booked = list.appointments.find((a) => a.appointment_id === appointment);
  assert.ok(booked, `the visit is among the patient's appointments: ${JSON.stringify(list)}`);
  assert.equal(booked.modality, 'video');
  assert.equal(booked.status, 'booked');
  await link.click();
  assert.equal(new URL(patient.url()).pathname, visit);
  await patient.context().close();
});

test('the clinician writes the visit note; the patient reads its summary, others get 404', async () => {
  assert.ok(appointment, 'the first test made the on-demand visit');
  const notes = `/visits/${appointment}/notes`;
  await clinician.goto(server.url + notes + '?lang=en');
  assert.equal(await clinician.locator('h1').textContent(), 'Visit note');

  // Everything filled in, but a temperature of 60 °C: refused, saying what to fix.
  await clinician.getByLabel('Reason for the visit').fill('Burning when passing urine since yesterday');
  await clinician.getByLabel('History', { exact: true }).fill('No fever at home, no loin pain.\nNo blood in the urine.');
  await clinician.getByLabel('Findings and examination').fill('Looks well on video.');
  await clinician.getByLabel('Assessment', { exact: true }).fill('Uncomplicated lower urinary tract infection');
  await clinician.getByLabel('Plan', { exact: true }).fill('Antibiotics for 3 days.\nDrink plenty of water.');
  await clinician.locator('#f-dx0_pick').selectOption({ label: 'Urinary tract infection' });
  await clinician.locator('#f-vitals_source').selectOption('reported');
  await clinician.locator('#f-temperature').fill('60');
  await clinician.locator('#f-heart_rate').fill('88');
  await clinician.locator('#f-systolic').fill('135');
  await clinician.locator('#f-diastolic').fill('85');
  await clinician.locator('input[name=follow_up][value=book]').check();
  await clinician.locator('#f-follow_up_days').fill('7');
  const refused = clinician.waitForResponse((r) => new URL(r.url()).pathname === notes && r.request().method() === 'POST');
  await clinician.getByRole('button', { name: 'Sign and save the note' }).click();
  assert.equal((await refused).status(), 422);
  assert.equal(new URL(clinician.url()).pathname, notes, 'still on the form');
  const summary = clinician.locator('.error-summary');
  assert.match(await summary.textContent(), /Please fix the following before saving/);
  assert.equal(await summary.locator('li').count(), 1, await summary.textContent());
  assert.equal(await summary.locator('li a').getAttribute('href'), '#f-temperature');
  assert.equal(await clinician.locator('#f-temperature-error').textContent(), 'Enter a number from 30 to 45 °C.');
  assert.equal(await clinician.getAttribute('#f-temperature', 'aria-invalid'), 'true');
  // What was typed is kept.
  assert.equal(await clinician.locator('#f-temperature').inputValue(), '60');
  assert.equal(await clinician.locator('#f-heart_rate').inputValue(), '88');
  assert.equal(await clinician.locator('#f-systolic').inputValue(), '135');
  assert.equal(await clinician.locator('#f-diastolic').inputValue(), '85');
  assert.equal(await clinician.locator('#f-reason').inputValue(), 'Burning when passing urine since yesterday');
  assert.equal(await clinician.locator('#f-history').inputValue(), 'No fever at home, no loin pain.\nNo blood in the urine.');
  assert.equal(await clinician.locator('#f-plan').inputValue(), 'Antibiotics for 3 days.\nDrink plenty of water.');
  assert.equal(await clinician.locator('#f-dx0_pick option:checked').textContent(), 'Urinary tract infection');
  assert.equal(await clinician.locator('input[name=follow_up][value=book]').isChecked(), true);
  assert.equal(await clinician.locator('#f-follow_up_days').inputValue(), '7');
  await screenshot(clinician, 'visit-note-form');

  // Fixed and saved: the visit summary, the visit closed.
  await clinician.locator('#f-temperature').fill('38.2');
  await clinician.getByRole('button', { name: 'Sign and save the note' }).click();
  const saved = new URL(clinician.url());
  assert.match(saved.pathname, new RegExp(`^/record/visits/${UUID}$`), saved.pathname);
  const encounter = saved.pathname.split('/').pop();
  assert.match(await clinician.locator('[role=status]').textContent(), /The visit note is saved/);
  assert.equal(await clinician.locator('h1').textContent(), 'Visit summary');
  const written = await clinician.locator('main').textContent();
  for (const part of ['No loin pain'.toLowerCase(), 'looks well on video', 'urinary tract infection']) {
    assert.ok(written.toLowerCase().includes(part), `the clinician's summary has "${part}"`);
  }

  // The patient, on a phone: the visit among theirs, its summary in plain words.
  const patient = await newPage({ width: 375, height: 800 });
  await signInPatient(patient);
  await patient.goto(server.url + '/record/visits?lang=en');
  assert.equal(await patient.locator('h1').textContent(), 'My visits');
  const item = patient.locator('li.visit-card').filter({ has: patient.locator(`a[href="/record/visits/${encounter}"]`) });
  assert.equal(await item.count(), 1, 'the visit is listed');
  practitionerName = (await clinician.locator('p.lead').textContent()).split('·')[1]?.trim();
  assert.ok(practitionerName, 'the summary names the clinician');
  assert.match(await item.textContent(), new RegExp(practitionerName));
  await item.locator('a').click();
  assert.equal(new URL(patient.url()).pathname, `/record/visits/${encounter}`);
  const main = patient.locator('main');
  assert.match(await patient.locator('p.lead').textContent(), new RegExp(practitionerName));
  const section = (title) => main.locator('section.card').filter({ has: patient.locator('h2', { hasText: title }) });
  assert.match(await section('Reason for the visit').textContent(), /Burning when passing urine since yesterday/);
  assert.match(await section('What we found').textContent(), /Urinary tract infection/);
  assert.doesNotMatch(await section('What we found').textContent(), /68566005/, 'no codes, plain words');
  assert.match(await section('Plan').textContent(), /Antibiotics for 3 days\.\s*Drink plenty of water\./);
  const vitals = await section('Vital signs').locator('dl.vitals').textContent();
  assert.match(vitals, /Temperature\s*38\.2 °C/);
  assert.match(vitals, /Heart rate\s*88 \/min/);
  assert.match(vitals, /Blood pressure\s*135\/85 mmHg/);
  assert.match(await section('Follow-up').textContent(), /Please book a follow-up visit by \d{4}-\d{2}-\d{2}/);
  assert.equal(await section('Follow-up').getByRole('link', { name: 'Book the follow-up' }).count(), 1);
  // The clinician's working notes stay with the clinicians.
  assert.doesNotMatch(await main.textContent(), /loin pain|Looks well on video/);
  await screenshot(patient, 'visit-summary-375');

  // Someone else: not found, nothing shown.
  const other = await newPage();
  await signUpPatient(other, server, { email: 'ada@example.com', given: 'Ada', family: 'Lovelace', birthDate: '1985-12-10' });
  const response = await other.goto(`${server.url}/record/visits/${encounter}?lang=en`);
  assert.equal(response.status(), 404);
  assert.doesNotMatch(await other.locator('main').textContent(), /Urinary tract infection|Antibiotics/);
  await other.goto(server.url + '/record/visits?lang=en');
  assert.equal(await other.locator(`a[href="/record/visits/${encounter}"]`).count(), 0);
});
