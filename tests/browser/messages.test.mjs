// Secure messaging end to end on the demo network: the demo patient writes to their care team
// with a picture, the demo GP finds it in the team inbox and answers, and the answer appears
// on the patient's open thread without a reload (server-sent events); the mail only says a
// message is waiting; another patient cannot open the thread.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { signIn, signUpPatient, DEMO_PASSWORD, enrolDemoStaff } from './staff.mjs';

const PATIENT = 'patient@demo.carefront.example';
const PRACTITIONER = 'practitioner@demo.carefront.example';
// A 1×1 PNG: a picture of the rash.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const TOPIC = 'Itchy rash on my forearm';

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

async function newPage(viewport = { width: 1100, height: 900 }) {
  const context = await browser.newContext({ viewport });
  return context.newPage();
}

test('a patient writes to the care team, a clinician answers, the answer arrives live', async () => {
  const patient = await newPage({ width: 375, height: 800 });
  await signIn(patient, server, PATIENT, DEMO_PASSWORD);
  assert.equal(new URL(patient.url()).pathname, '/home');

  // A new thread with a picture.
  await patient.goto(server.url + '/messages/new?lang=en');
  await patient.getByLabel('Topic').fill(TOPIC);
  await patient.getByLabel('Message').fill('It started two days ago, no fever. Photo attached.');
  await patient.getByLabel('Attachments (optional)').setInputFiles({ name: 'rash.png', mimeType: 'image/png', buffer: PNG });
  await patient.getByRole('button', { name: 'Send' }).click();
  const threadPath = new URL(patient.url()).pathname;
  assert.match(threadPath, /^\/messages\/[^/]+$/);
  await patient.getByRole('heading', { name: TOPIC }).waitFor();
  // The picture is shown from the access-checked file route.
  const img = patient.locator('#thread-messages img.preview');
  await img.waitFor();
  assert.ok(await img.evaluate((el) => el.complete && el.naturalWidth === 1), 'the picture loads');

  // The clinician finds it in the team inbox and answers.
  const clinician = await newPage();
  await enrolDemoStaff(clinician, server, PRACTITIONER);
  await clinician.goto(server.url + '/messages/inbox?lang=en');
  await clinician.getByRole('link', { name: TOPIC }).click();
  assert.equal(new URL(clinician.url()).pathname, threadPath);
  await clinician.getByLabel('Message').fill('Thank you. Please book a video visit today so we can look at it together.');
  await clinician.getByRole('button', { name: 'Send' }).click();
  await clinician.locator('#thread-messages', { hasText: 'book a video visit' }).waitFor();
  await screenshot(clinician, 'messages-thread-clinician');

  // The patient's open page shows the answer without a reload.
  await patient.locator('#thread-messages', { hasText: 'book a video visit' }).waitFor({ timeout: 15_000 });
  assert.equal(new URL(patient.url()).pathname, threadPath, 'no navigation happened');
  await screenshot(patient, 'messages-thread-patient-375');

  // The mail says a message is waiting, never what it is about.
  const mailbox = await newPage();
  await mailbox.goto(server.url + '/mailbox');
  const mails = await mailbox.locator('article.mail').allTextContents();
  const notices = mails.filter((m) => /new message/i.test(m));
  assert.ok(notices.length >= 1, `a notification mail: ${mails.length} mails`);
  for (const mail of notices) {
    assert.ok(!mail.includes('rash') && !mail.includes('video visit'), `no clinical content in mail: ${mail}`);
  }
});

test('another patient cannot open the thread', async () => {
  const patient = await newPage();
  await signIn(patient, server, PATIENT, DEMO_PASSWORD);
  await patient.goto(server.url + '/messages?lang=en');
  const href = await patient.getByRole('link', { name: TOPIC }).getAttribute('href');

  const other = await newPage();
  await signUpPatient(other, server, { email: 'ada@example.com', given: 'Ada', family: 'Lovelace', birthDate: '1985-12-10' });
  const response = await other.goto(server.url + href);
  assert.equal(response.status(), 404);
  assert.ok(!(await other.content()).includes(TOPIC));
});
