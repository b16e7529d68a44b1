// Booking end to end on the demo network (`carefront demo` seeds a bookable schedule for each
// clinician from their available hours): a patient searches, books a time, finds it under their
// appointments, moves it and cancels it; a clinician sees a patient's booking appear in their
// agenda; reception books for a patient and blocks a time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { signIn, DEMO_PASSWORD, enrolDemoStaff as enrolStaffOfDemo } from './staff.mjs';

// The demo's published sign-ins.
const PATIENT = 'patient@demo.carefront.example';
const PRACTITIONER = 'practitioner@demo.carefront.example';
const DISPATCHER = 'dispatcher@demo.carefront.example';
const ADMIN = 'admin@demo.carefront.example';
const GENERAL_PRACTICE = '394814009';

let server;
let browser;
before(async () => {
  server = await startServer('demo');
  browser = await launch();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// `YYYY-MM-DD`, `days` from today: far enough ahead that the visit may still be moved and
// cancelled online (the demo's clinics allow it until 24 hours before).
function dayAhead(days) {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

// The first Monday-to-Friday at least `days` ahead (clinics are open on weekdays).
function weekdayAhead(days) {
  let d = days;
  while ([0, 6].includes(new Date(Date.now() + d * 86_400_000).getUTCDay())) d++;
  return dayAhead(d);
}

async function signInPatient(page) {
  await signIn(page, server, PATIENT, DEMO_PASSWORD);
  assert.equal(new URL(page.url()).pathname, '/home');
}

// Demo staff enrol their authenticator at the first sign-in (see staff.mjs).
const enrolDemoStaff = (page, email) => enrolStaffOfDemo(page, server, email);

// The demo must offer something to book: say so plainly rather than fail further on.
async function requireSchedules(page) {
  const options = await page.locator('#f-specialty option').count();
  assert.ok(options > 1, 'the demo network has no bookable schedule: /book offers no specialty');
}

// Search general practice from `date` (with htmx the results replace themselves in place).
async function searchGeneralPractice(page, date, extra = async () => {}) {
  await page.getByLabel('Specialty', { exact: true }).selectOption(GENERAL_PRACTICE);
  await page.getByLabel('From').fill(date);
  await extra();
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('date') === date);
  await page.waitForSelector('#results h2');
}

// The start of the visit shown on an appointment's page (the clinic's local time, ISO).
async function visitStart(page) {
  return page.locator('dl.visit time').getAttribute('datetime');
}

test('a patient searches, books, sees, reschedules and cancels an appointment', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await signInPatient(page);
  await page.getByRole('link', { name: 'Book', exact: true }).click();
  assert.equal(await page.locator('h1').textContent(), 'Book an appointment');
  await requireSchedules(page);

  // Search, then pick the first free time of the first clinician. With JavaScript, htmx
  // swaps the results in without leaving the page.
  await page.evaluate(() => { window.stayed = true; });
  await searchGeneralPractice(page, dayAhead(3));
  assert.equal(await page.evaluate(() => window.stayed), true, 'the results came in place');
  const offers = page.locator('#results li.offer');
  assert.ok(await offers.count() >= 1, 'general practice has free times');
  assert.match(page.url(), new RegExp(`specialty=${GENERAL_PRACTICE}`), 'the search is in the address');
  const first = offers.first();
  const clinician = (await first.locator('h3').textContent()).trim();
  const slot = first.locator('ul.slots a').first();
  const label = (await slot.textContent()).trim();
  assert.match(label, /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d\d:\d\d$/, label);
  await screenshot(page, 'booking-search-results');

  // Opening a time holds it; confirming books it.
  await slot.click();
  assert.equal(await page.locator('h1').textContent(), 'Confirm your appointment');
  assert.match(await page.locator('.notice.hold').textContent(), /We keep this time for you until \d\d:\d\d/);
  assert.match(await page.locator('dl.visit').textContent(), new RegExp(clinician));
  await page.getByLabel('Reason for the visit').fill('Browser test: sore throat');
  await page.getByRole('button', { name: 'Confirm the appointment' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is booked/);
  const booked = await visitStart(page);
  assert.ok(booked.startsWith(dayAhead(3)) || booked > dayAhead(3), booked);
  assert.match(await page.locator('dl.visit').textContent(), /Browser test: sore throat/);
  const detail = new URL(page.url()).pathname;

  // It is listed under the upcoming appointments.
  await page.getByRole('link', { name: 'My appointments', exact: true }).click();
  const upcoming = page.locator('section[aria-labelledby=upcoming-title]');
  assert.equal(await upcoming.locator(`a[href="${detail}"]`).count(), 1);
  assert.match(await upcoming.textContent(), new RegExp(clinician));

  // Move it: another time, found with the same search, taken in one step.
  await upcoming.locator(`a[href="${detail}"]`).click();
  await page.getByRole('link', { name: 'Choose another time' }).click();
  assert.equal(await page.locator('h1').textContent(), 'Choose a new time');
  await page.getByLabel('From').fill(dayAhead(4));
  await page.getByRole('button', { name: 'Search' }).click();
  await page.waitForURL((u) => u.searchParams.get('date') === dayAhead(4));
  await page.waitForSelector('#results li.offer');
  await page.locator('#results ul.slots button').first().click();
  assert.match(await page.locator('[role=status]').textContent(), /moved to the new time/);
  const moved = await visitStart(page);
  assert.notEqual(moved, booked, 'the visit has a new time');
  assert.equal(new URL(page.url()).pathname, detail, 'the same appointment, moved');

  // Cancel it.
  await page.getByLabel('Why are you cancelling?').fill('Feeling better');
  await page.getByRole('button', { name: 'Cancel this appointment' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is cancelled/);
  assert.match(await page.locator('.status-line').textContent(), /Cancelled/);
  await page.getByRole('link', { name: 'My appointments', exact: true }).click();
  assert.equal(await upcoming.locator(`a[href="${detail}"]`).count(), 0, 'no longer upcoming');
  const past = page.locator('section[aria-labelledby=past-title]');
  assert.equal(await past.locator(`a[href="${detail}"]`).count(), 1, 'listed as cancelled');
  await page.close();
});

test('without JavaScript the search still works, in French, and fits a phone', async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 375, height: 800 } });
  const page = await context.newPage();
  await signInPatient(page);
  await page.goto(server.url + '/book?lang=fr');
  assert.equal(await page.locator('h1').textContent(), 'Prendre rendez-vous');
  await page.getByRole('link', { name: 'Premier créneau disponible, partout' }).click();
  assert.match(page.url(), /anywhere=1/);
  assert.ok(await page.locator('#results li.offer').count() >= 1, 'first available anywhere');
  assert.match(await page.locator('#results ul.slots a').first().textContent(), /^(lun|mar|mer|jeu|ven|sam|dim)\. \d{1,2} /);
  // A wrong position is named next to its field.
  await page.getByLabel('Ou près d\'une position').fill('Paris');
  await page.getByRole('button', { name: 'Rechercher' }).click();
  assert.match(await page.locator('#f-near_text-error').textContent(), /latitude/);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'no horizontal scrolling on a phone');
  await screenshot(page, 'booking-search-phone-fr');
  // Every string is translated (a missing one would show its key).
  for (const path of ['/book?anywhere=1', '/appointments']) {
    await page.goto(server.url + path);
    const text = await page.locator('body').textContent();
    assert.doesNotMatch(text, /\b(book|booking|appt|appts|confirm|visit|modality|cal|lang_name)\.[a-z_.-]+/, path);
  }
  assert.equal(await page.locator('h1').textContent(), 'Mes rendez-vous');
  await context.close();
});

test('a time held but not confirmed can be taken from the appointments page', async () => {
  const page = await browser.newPage();
  await signInPatient(page);
  await page.goto(server.url + '/book?lang=en');
  await searchGeneralPractice(page, dayAhead(5));
  await page.locator('#results ul.slots a').first().click();
  const held = await page.locator('dl.visit time').getAttribute('datetime');
  // The patient wanders off before confirming; the time stays theirs for a few minutes.
  await page.getByRole('link', { name: 'My appointments', exact: true }).click();
  const offers = page.locator('section[aria-labelledby=offers-title]');
  assert.equal(await offers.locator(`time[datetime="${held}"]`).count(), 1);
  await offers.getByRole('button', { name: 'Take this time' }).first().click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is booked/);
  assert.equal(await visitStart(page), held);
  await page.close();
});

test('a patient joins the waitlist and leaves it', async () => {
  const page = await browser.newPage();
  await signInPatient(page);
  await page.goto(server.url + '/book?lang=en');
  await searchGeneralPractice(page, dayAhead(2));
  const waitlist = page.locator('section.waitlist');
  await waitlist.getByLabel('I could come until').fill(dayAhead(10));
  await waitlist.getByRole('button', { name: 'Join the waitlist' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /on the waitlist/);
  const section = page.locator('section[aria-labelledby=waitlist-title]');
  assert.equal(await section.locator('li').count(), 1);
  const until = new Date(dayAhead(10) + 'T12:00:00Z');
  const month = until.toLocaleString('en-GB', { month: 'long', timeZone: 'UTC' });
  assert.match(await section.textContent(), new RegExp(`Waiting for a time until \\w+ ${until.getUTCDate()} ${month}`));
  await section.getByRole('button', { name: 'Leave the waitlist' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /left the waitlist/);
  await page.close();
});

test("a clinician sees a patient's booking appear in their agenda", async () => {
  const clinician = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await enrolDemoStaff(clinician, PRACTITIONER);
  await clinician.getByRole('link', { name: 'Agenda', exact: true }).click();
  assert.equal(new URL(clinician.url()).pathname, '/agenda');
  const name = (await clinician.locator('h1').textContent()).replace(/^Agenda · /, '').trim();
  const clinic = (await clinician.locator('p.hint a[href^="/clinic/"]').first().textContent()).trim();
  assert.ok(name && clinic, 'the clinician has a bookable schedule at a clinic');

  // The patient looks near that clinic, nearest first, and books this clinician.
  const patient = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await signInPatient(patient);
  await patient.goto(server.url + '/book');
  await searchGeneralPractice(patient, dayAhead(3), async () => {
    await patient.getByLabel('Near a clinic').selectOption({ label: clinic });
    await patient.getByLabel('Nearest').check();
  });
  const offer = patient.locator('#results li.offer').filter({ has: patient.locator('h3', { hasText: name }) }).first();
  assert.equal(await offer.count(), 1, `${name} is offered near ${clinic}`);
  assert.match(await offer.locator('.meta').textContent(), /0(\.0)? km/, 'at the clinic searched from');
  await offer.locator('ul.slots a').first().click();
  await patient.getByLabel('Reason for the visit').fill('Browser test: agenda check');
  await patient.getByRole('button', { name: 'Confirm the appointment' }).click();
  assert.match(await patient.locator('[role=status]').textContent(), /appointment is booked/);
  const start = await visitStart(patient);
  await patient.close();

  // The clinician's day (the clinic's local date) shows who comes, when and why.
  await clinician.goto(`${server.url}/agenda?date=${start.slice(0, 10)}&view=day`);
  const row = clinician.locator('li.row-appointment').filter({ hasText: 'Browser test: agenda check' });
  assert.equal(await row.count(), 1, 'the booking is in the agenda');
  assert.equal(await row.locator('time').getAttribute('datetime'), start);
  assert.match(await row.textContent(), /Booked/);
  assert.ok(await clinician.locator('li.row-free').count() >= 1, 'free times are shown too');
  await screenshot(clinician, 'booking-agenda-day');
  await clinician.getByRole('link', { name: 'Week', exact: true }).click();
  assert.equal(await clinician.locator('section.day').count(), 7);
  assert.equal(await clinician.locator('li.row-appointment').filter({ hasText: 'Browser test: agenda check' }).count(), 1);
  await screenshot(clinician, 'booking-agenda-week');
  await clinician.setViewportSize({ width: 375, height: 800 });
  const overflow = await clinician.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
  assert.equal(overflow, false, 'the agenda fits a phone');
  await clinician.close();
});

test('reception books for patients found by name, blocks time and marks arrivals; a patient who lost a time is offered others', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await enrolDemoStaff(page, DISPATCHER);

  // A time the patient is looking at is booked at the desk meanwhile: the patient is told
  // plainly and offered the nearest free times instead.
  const patient = await browser.newPage();
  await signInPatient(patient);
  await patient.goto(server.url + '/book?lang=en');
  const date = weekdayAhead(6);
  await searchGeneralPractice(patient, date);
  const stale = patient.locator('#results ul.slots a').first();
  const slotId = (await stale.getAttribute('href')).split('/').pop();
  await page.goto(`${server.url}/book?specialty=${GENERAL_PRACTICE}&date=${date}`);
  await page.locator(`#results ul.slots a[href*="slot=${slotId}"]`).click();
  assert.equal(new URL(page.url()).searchParams.get('slot'), slotId, 'staff book from the clinic day');
  await page.getByLabel('Find a patient by name').fill('mar');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  await page.getByRole('button', { name: 'Book the appointment' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is booked/);
  const r = await Promise.all([patient.waitForNavigation(), stale.click()]).then(([res]) => res);
  assert.equal(r.status(), 409);
  assert.match(await patient.locator('[role=alert]').textContent(), /just been taken/);
  const alternative = patient.locator('ul.slots a').first();
  assert.ok(await alternative.count() === 1, 'nearest free times are offered');
  await alternative.click();
  assert.equal(await patient.locator('h1').textContent(), 'Confirm your appointment');
  await patient.close();

  await page.getByRole('link', { name: 'Clinic day' }).click();
  assert.equal(new URL(page.url()).pathname, '/clinic');
  await page.locator('ul.clinic-list a').first().click();
  const day = weekdayAhead(2);
  await page.getByLabel('Go to').fill(day);
  await page.getByRole('button', { name: 'Show' }).click();
  assert.match(page.url(), new RegExp(`date=${day}`));

  // Block a free time, then free it again.
  const free = () => page.locator('li.row-free');
  assert.ok(await free().count() >= 2, 'the clinic has free times that day');
  const blockedAt = await free().first().locator('time').getAttribute('datetime');
  await free().first().getByRole('button', { name: /^Block/ }).click();
  assert.match(await page.locator('[role=status]').textContent(), /time is blocked/);
  const blocked = page.locator('li.row-blocked').filter({ has: page.locator(`time[datetime="${blockedAt}"]`) });
  assert.equal(await blocked.count(), 1);
  await blocked.getByRole('button', { name: /^Unblock/ }).click();
  assert.match(await page.locator('[role=status]').textContent(), /free again/);

  // Book a free time for a patient found by name.
  await free().first().getByRole('link', { name: /^Book/ }).click();
  await page.getByLabel('Find a patient by name').fill('mar');
  await page.getByRole('button', { name: 'Find', exact: true }).click();
  const found = page.locator('input[name=patient_pick]');
  assert.ok(await found.count() >= 1, 'patients found by name');
  const patientId = await found.first().getAttribute('value');
  await page.getByLabel('Reason for the visit').fill('Reception booking');
  await page.getByRole('button', { name: 'Book the appointment' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is booked/);
  const visit = page.locator('li.row-appointment').filter({ hasText: 'Reception booking' });
  assert.equal(await visit.count(), 1);

  // Overbooking that time needs a reason, which is recorded.
  await visit.getByRole('link', { name: /^Overbook/ }).click();
  assert.ok(await page.getByLabel('Book even though this time is taken or blocked').isChecked());
  await page.getByLabel("Or the patient's record id").fill(patientId);
  await page.getByLabel('Reason for the visit').fill('Squeezed in by reception');
  await page.getByRole('button', { name: 'Book the appointment' }).click();
  assert.match(await page.locator('#f-overbook_reason-error').textContent(), /why you overbook/);
  await page.getByLabel('Reason for overbooking').fill('Urgent: fever since yesterday');
  await page.getByRole('button', { name: 'Book the appointment' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /appointment is booked/);
  const extra = page.locator('li.row-appointment').filter({ hasText: 'Squeezed in by reception' });
  assert.match(await extra.textContent(), /Overbooked/);

  // The patient arrives.
  await visit.getByRole('button', { name: /^Arrived/ }).click();
  assert.match(await page.locator('[role=status]').textContent(), /Arrival recorded/);
  assert.match(await visit.textContent(), /Arrived/);
  await screenshot(page, 'booking-clinic-day');
  await page.close();
});

test('an administrator changes a schedule and is shown the booked times it leaves out', async () => {
  // A patient books a time; the administrator then closes that weekday in the schedule.
  const patient = await browser.newPage();
  await signInPatient(patient);
  await patient.goto(server.url + '/book?lang=en');
  await searchGeneralPractice(patient, weekdayAhead(8));
  const offer = patient.locator('#results li.offer').first();
  const clinician = (await offer.locator('h3').textContent()).trim();
  const modality = (await offer.locator('.modality').textContent()).trim();
  await offer.locator('ul.slots a').first().click();
  await patient.getByRole('button', { name: 'Confirm the appointment' }).click();
  const start = await visitStart(patient);
  const when = (await patient.locator('dl.visit time').textContent()).trim();
  await patient.close();
  const weekday = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'][new Date(start.slice(0, 10) + 'T12:00:00Z').getUTCDay()];

  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await enrolDemoStaff(page, ADMIN);
  await page.getByRole('link', { name: 'Schedules' }).first().click();
  assert.equal(new URL(page.url()).pathname, '/admin/schedules');
  const row = page.locator('tbody tr').filter({ hasText: clinician }).filter({ hasText: modality });
  assert.equal(await row.count(), 1, `${clinician}, ${modality}`);
  await row.locator('a').click();
  assert.match(await page.locator('main').textContent(), /None: every booked time is within the rules/);

  // A wrong number is named next to its field and nothing is saved.
  const length = await page.getByLabel('Visit length (minutes)').inputValue();
  await page.getByLabel('Visit length (minutes)').fill('2');
  await page.getByRole('button', { name: 'Save the schedule' }).click();
  assert.match(await page.locator('#f-slot_minutes-error').textContent(), /from 5 to 480/);
  await page.getByLabel('Visit length (minutes)').fill(length);

  // Close the weekday of the booked visit.
  const weekly = page.locator('.row-fields').filter({ has: page.locator('select[name^="day_"]') });
  let cleared = 0;
  for (let i = 0; i < await weekly.count(); i++) {
    const r = weekly.nth(i);
    if (await r.locator('select').inputValue() === weekday && await r.locator('input').first().inputValue()) {
      await r.locator('input[type=time]').nth(0).fill('');
      await r.locator('input[type=time]').nth(1).fill('');
      cleared++;
    }
  }
  assert.ok(cleared >= 1, `the schedule has hours on ${weekday}`);
  await page.getByRole('button', { name: 'Save the schedule' }).click();
  assert.match(await page.locator('[role=status]').textContent(), /Saved\. 0 free times added, [1-9]\d* free times removed/);
  const conflicts = page.locator('.alert.conflicts');
  assert.match(await conflicts.textContent(), /outside the schedule/);
  assert.match(await conflicts.textContent(), new RegExp(when.replace(/ – .*/, '')));
  await screenshot(page, 'booking-admin-schedule-conflicts');

  // A new schedule starts from the role's available hours.
  await page.goto(server.url + '/admin/schedules/new');
  const role = await page.locator('#f-role option').evaluateAll(
    (options) => options.find((o) => /Dermatolog/.test(o.textContent))?.value);
  assert.ok(role, 'a dermatologist role');
  await page.getByLabel('Practitioner role').selectOption(role);
  await page.getByLabel('Type of visit').selectOption('video');
  await page.getByRole('button', { name: 'Create the schedule' }).click();
  assert.match(new URL(page.url()).pathname, /^\/admin\/schedules\/sch-.+-video$/);
  assert.match(await page.locator('[role=status]').textContent(), /schedule is created: [1-9]\d* free times added/);
  await page.close();
});
