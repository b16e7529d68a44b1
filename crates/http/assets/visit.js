// The video visit page (templates/visit.html): pre-call check, waiting room, call, end.
//
// Media goes peer to peer (WebRTC); the server only relays signalling, presence and chat over
// the room's WebSocket (/visits/<id>/ws, protocol in crates/http/src/visits/protocol.rs). One
// RTCPeerConnection per other person, negotiated with the "perfect negotiation" pattern so
// that two offers crossing (glare) settle by themselves: the clinician is impolite (keeps
// their offer), patients and guests are polite (roll theirs back).
//
// Tests reach the state through window.carefrontVisit (its `pc` is the first connection).

const root = document.getElementById('visit');
const S = JSON.parse(document.getElementById('visit-strings')?.textContent || '{}');
const $ = (id) => document.getElementById(id);

const appointment = root?.dataset.appointment;
const role = root?.dataset.role;
const rejoinKey = `carefront-visit-rejoin:${appointment}`;

const state = {
  ws: null,
  me: null,
  admitted: false,
  ended: false,
  leaving: false,
  welcomed: 0,
  retry: 0,
  iceServers: [],
  local: new MediaStream(),
  screen: null,
  peers: new Map(), // peer id → { name, role, state, pc, polite, makingOffer, ignoreOffer, tile }
  lastPong: 0,
  timers: [],
};

window.carefrontVisit = {
  state,
  get pc() {
    for (const p of state.peers.values()) if (p.pc) return p.pc;
    return null;
  },
};

const show = (id, on) => { $(id).hidden = !on; };
const text = (key, vars = {}) =>
  Object.entries(vars).reduce((s, [k, v]) => s.replace(`{${k}}`, v), S[key] ?? key);

function alertBox(message) {
  const box = $('visit-alert');
  box.querySelector('p').textContent = message;
  box.hidden = !message;
  if (message) box.focus();
}

// ---- Pre-call: devices, preview, microphone level, connection test ----

async function openMedia() {
  const camera = $('f-camera').value;
  const microphone = $('f-microphone').value;
  const want = {
    video: camera ? { deviceId: { exact: camera } } : true,
    audio: microphone ? { deviceId: { exact: microphone } } : true,
  };
  // Fall back to what works: both, audio only, video only.
  for (const c of [want, { audio: want.audio }, { video: want.video }]) {
    try {
      return await navigator.mediaDevices.getUserMedia(c);
    } catch { /* try the next */ }
  }
  return null;
}

async function listDevices() {
  const devices = await navigator.mediaDevices.enumerateDevices();
  for (const select of [$('f-camera'), $('f-microphone')]) {
    const current = select.value || currentDevice(select.dataset.kind);
    select.replaceChildren(...devices
      .filter((d) => d.kind === select.dataset.kind)
      .map((d, i) => new Option(d.label || `${select.labels[0]?.textContent} ${i + 1}`, d.deviceId)));
    if (current) select.value = current;
  }
}

function currentDevice(kind) {
  const track = state.local.getTracks().find((t) => `${t.kind}input` === kind);
  return track?.getSettings().deviceId;
}

// Replace our camera and microphone tracks (in the preview and in every call) with `stream`'s.
function useStream(stream) {
  for (const track of stream.getTracks()) {
    const old = state.local.getTracks().find((t) => t.kind === track.kind);
    if (old) { state.local.removeTrack(old); old.stop(); }
    state.local.addTrack(track);
    for (const p of state.peers.values()) {
      const sender = p.pc?.getSenders().find((s) => s.track?.kind === track.kind);
      // While the screen is shared, the camera waits for the share to end.
      if (sender && !(track.kind === 'video' && state.screen)) sender.replaceTrack(track);
      else if (!sender && p.pc) p.pc.addTrack(track, state.local);
    }
  }
  $('preview').srcObject = state.local;
  $('local').srcObject = state.screen ?? state.local;
  watchLevel();
}

let levelContext;
function watchLevel() {
  const track = state.local.getAudioTracks()[0];
  if (!track) return;
  levelContext?.close();
  levelContext = new AudioContext();
  const analyser = levelContext.createAnalyser();
  levelContext.createMediaStreamSource(new MediaStream([track])).connect(analyser);
  const samples = new Float32Array(analyser.fftSize);
  const tick = () => {
    if (levelContext?.state === 'closed') return;
    analyser.getFloatTimeDomainData(samples);
    const rms = Math.sqrt(samples.reduce((s, x) => s + x * x, 0) / samples.length);
    $('mic-level').value = Math.min(1, rms * 4);
    requestAnimationFrame(tick);
  };
  tick();
}

async function testConnection() {
  const out = $('net-check');
  const started = performance.now();
  try {
    const r = await fetch('/healthz', { cache: 'no-store' });
    if (!r.ok) throw new Error(r.status);
    out.textContent = `${text('test_ok')} (${Math.round(performance.now() - started)} ms)`;
    out.dataset.ok = 'true';
  } catch {
    out.textContent = text('test_failed');
    out.dataset.ok = 'false';
  }
  if (role !== 'guest') {
    // Participants get fresh ICE servers (with TURN credentials) before joining.
    const r = await fetch(`/visits/${appointment}/ice`, { cache: 'no-store' }).catch(() => null);
    if (r?.ok) state.iceServers = (await r.json()).iceServers;
  }
}

async function precall() {
  const stream = await openMedia();
  if (stream) useStream(stream); else alertBox(text('no_devices'));
  await listDevices().catch(() => {});
  for (const select of [$('f-camera'), $('f-microphone')]) {
    select.addEventListener('change', async () => {
      const s = await openMedia();
      if (s) useStream(s);
    });
  }
  await testConnection();
}

// ---- The room's WebSocket ----

function send(message) {
  if (state.ws?.readyState === WebSocket.OPEN) state.ws.send(JSON.stringify(message));
}

function currentInvite() {
  return sessionStorage.getItem(rejoinKey) || root.dataset.invite || '';
}

function connect() {
  const url = new URL(`/visits/${appointment}/ws`, location.href);
  url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
  if (role === 'guest') {
    url.searchParams.set('invite', currentInvite());
    url.searchParams.set('name', $('f-guest-name')?.value ?? '');
  }
  setConn(state.welcomed ? 'reconnecting' : 'connecting');
  const ws = new WebSocket(url);
  state.ws = ws;
  let opened = false;
  ws.onopen = () => { opened = true; state.retry = 0; state.lastPong = Date.now(); };
  ws.onmessage = (e) => {
    let m;
    try { m = JSON.parse(e.data); } catch { return; }
    handle(m);
  };
  ws.onclose = () => {
    if (state.ws !== ws || state.ended || state.leaving) return;
    if (!opened && !state.welcomed) {
      // Turned away before the upgrade (not a participant, a spent invitation).
      setConn('failed');
      alertBox(text('refused'));
      return;
    }
    reconnectSoon();
  };
}

function reconnectSoon() {
  setConn('reconnecting');
  const wait = Math.min(10_000, 1000 * 2 ** state.retry++);
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(connect, wait);
}

// A dead network shows as missing pongs long before TCP notices.
function keepAlive() {
  state.timers.push(setInterval(() => {
    if (state.ws?.readyState !== WebSocket.OPEN) return;
    if (Date.now() - state.lastPong > 25_000) { state.ws.close(); reconnectSoon(); return; }
    send({ type: 'ping' });
  }, 10_000));
  addEventListener('online', () => {
    if (state.ws?.readyState !== WebSocket.OPEN && !state.ended) { state.retry = 0; connect(); }
  });
}

function handle(m) {
  switch (m.type) {
    case 'welcome': return welcome(m);
    case 'presence': return presence(m);
    case 'admitted': return admitted();
    case 'signal': return signal(m.from, m.data);
    case 'chat': return chat(m);
    case 'ended': return ended();
    case 'pong': state.lastPong = Date.now(); return undefined;
    case 'error': return alertBox(m.message);
    default: return undefined;
  }
}

function welcome(m) {
  // A new connection is a new peer for the others: calls of the old one are over.
  for (const id of [...state.peers.keys()]) dropPeer(id);
  state.welcomed++;
  state.me = m.peer;
  if (m.iceServers?.length || !state.iceServers.length) state.iceServers = m.iceServers ?? [];
  if (m.rejoin) sessionStorage.setItem(rejoinKey, m.rejoin);
  state.admitted = m.admitted;
  stage();
  setConn(m.admitted ? 'connected' : 'waiting');
}

function stage() {
  show('stage-precall', false);
  show('stage-waiting', !state.admitted && !state.ended);
  show('stage-call', state.admitted && !state.ended);
  show('stage-ended', state.ended);
  $('join').hidden = true;
  if (!state.admitted) updateWait();
}

function presence(m) {
  if (m.peer === state.me) return;
  if (m.state === 'left') { dropPeer(m.peer); renderLobby(); return; }
  const p = state.peers.get(m.peer) ?? { tile: null, pc: null };
  Object.assign(p, { name: m.name, role: m.role, state: m.state });
  state.peers.set(m.peer, p);
  if (state.admitted && m.state === 'in-call') ensurePeer(m.peer);
  renderLobby();
  if (m.role === 'clinician' && !state.admitted) {
    $('waiting-known').textContent = `${text('clinician_here')} ${$('waiting-known').dataset.lead}`;
  }
}

function admitted() {
  state.admitted = true;
  stage();
  for (const [id, p] of state.peers) if (p.state === 'in-call') ensurePeer(id);
  updateConnState();
}

function renderLobby() {
  const lobby = $('lobby');
  if (!lobby) return;
  const waiting = [...state.peers].filter(([, p]) => p.state === 'waiting');
  if (!waiting.length) {
    lobby.replaceChildren(Object.assign(document.createElement('li'), { textContent: text('no_one_waiting') }));
    return;
  }
  lobby.replaceChildren(...waiting.map(([id, p]) => {
    const li = document.createElement('li');
    const who = document.createElement('span');
    who.textContent = `${p.name} (${text(`role_${p.role}`)})`;
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = text('admit');
    button.dataset.peer = id;
    button.setAttribute('aria-label', `${text('admit')}: ${p.name}`);
    button.addEventListener('click', () => { send({ type: 'admit', peer: id }); button.disabled = true; });
    li.append(who, ' ', button);
    return li;
  }));
}

function updateWait() {
  const out = $('wait-estimate');
  const start = Date.parse(root.dataset.start);
  if (!out || Number.isNaN(start)) return;
  const minutes = Math.floor((Date.now() - start) / 60_000);
  out.textContent = minutes >= 1
    ? text('waited', { n: minutes })
    : text('starts_at', { time: new Date(start).toLocaleString(document.documentElement.lang, { dateStyle: 'medium', timeStyle: 'short' }) });
}

// ---- Peer connections (perfect negotiation) ----

// The clinician keeps their offer on a collision; between equals, the smaller peer id yields.
function politeWith(id, p) {
  if (role === 'clinician' && p.role !== 'clinician') return false;
  if (role !== 'clinician' && p.role === 'clinician') return true;
  return state.me < id;
}

function ensurePeer(id) {
  const p = state.peers.get(id);
  if (!p || p.pc) return p;
  const pc = new RTCPeerConnection({ iceServers: state.iceServers });
  Object.assign(p, { pc, polite: politeWith(id, p), makingOffer: false, ignoreOffer: false });
  const tracks = state.local.getTracks();
  for (const track of tracks) {
    pc.addTrack(track.kind === 'video' && state.screen ? state.screen.getVideoTracks()[0] : track, state.local);
  }
  // Without devices we still receive.
  if (!tracks.some((t) => t.kind === 'audio')) pc.addTransceiver('audio', { direction: 'recvonly' });
  if (!tracks.some((t) => t.kind === 'video')) pc.addTransceiver('video', { direction: 'recvonly' });
  pc.onnegotiationneeded = async () => {
    try {
      p.makingOffer = true;
      await pc.setLocalDescription();
      send({ type: 'signal', to: id, data: { description: pc.localDescription } });
    } catch (e) {
      console.warn('negotiation', e);
    } finally {
      p.makingOffer = false;
    }
  };
  pc.onicecandidate = ({ candidate }) => send({ type: 'signal', to: id, data: { candidate } });
  pc.ontrack = ({ track, streams }) => {
    const video = tile(id, p);
    video.srcObject = streams[0] ?? new MediaStream([track]);
  };
  pc.onconnectionstatechange = updateConnState;
  // A signal lost on the way (a dropped socket, a message over the room's rate limit) would
  // leave the call stuck half-negotiated: the impolite side offers again until it connects.
  const watchdog = setInterval(() => {
    if (p.pc !== pc || pc.connectionState === 'closed') { clearInterval(watchdog); return; }
    if (pc.connectionState === 'connected') return;
    if (!p.polite && pc.signalingState === 'stable') pc.restartIce();
  }, 8000);
  // A changed network (Wi-Fi to 4G, a drop): new candidates on the same connection.
  pc.oniceconnectionstatechange = () => {
    if (pc.iceConnectionState === 'failed') pc.restartIce();
    updateConnState();
  };
  tile(id, p);
  return p;
}

async function signal(from, data) {
  const p = ensurePeer(from);
  if (!p?.pc || !data) return;
  const { pc } = p;
  try {
    if (data.description) {
      const collision = data.description.type === 'offer'
        && (p.makingOffer || pc.signalingState !== 'stable');
      p.ignoreOffer = !p.polite && collision;
      if (p.ignoreOffer) return;
      await pc.setRemoteDescription(data.description);
      if (data.description.type === 'offer') {
        await pc.setLocalDescription();
        send({ type: 'signal', to: from, data: { description: pc.localDescription } });
      }
    } else if ('candidate' in data) {
      try {
        await pc.addIceCandidate(data.candidate ?? undefined);
      } catch (e) {
        if (!p.ignoreOffer) throw e;
      }
    }
  } catch (e) {
    console.warn('signal', e);
  }
}

function tile(id, p) {
  if (p.tile) return p.tile.querySelector('video');
  const figure = document.createElement('figure');
  figure.className = 'visit-remote';
  figure.dataset.peer = id;
  const video = Object.assign(document.createElement('video'), { autoplay: true, playsInline: true });
  video.setAttribute('aria-label', p.name);
  const caption = document.createElement('figcaption');
  caption.textContent = `${p.name} (${text(`role_${p.role}`)})`;
  figure.append(video, caption);
  $('remotes').append(figure);
  p.tile = figure;
  return video;
}

function dropPeer(id) {
  const p = state.peers.get(id);
  if (!p) return;
  p.pc?.close();
  p.tile?.remove();
  state.peers.delete(id);
  updateConnState();
}

function setConn(key) {
  const out = $('conn-state');
  out.dataset.state = key;
  out.textContent = key === 'waiting' || key === 'idle' ? '' : text(key);
}

function updateConnState() {
  if (state.ended || state.ws?.readyState !== WebSocket.OPEN) return;
  const pcs = [...state.peers.values()].map((p) => p.pc).filter(Boolean);
  if (!state.admitted) setConn('waiting');
  else if (pcs.some((pc) => pc.connectionState === 'connected')) setConn('connected');
  else if (pcs.some((pc) => pc.connectionState === 'failed')) setConn('failed');
  else setConn('connecting');
}

// ---- Controls ----

function toggleTrack(kind, button, onKey, offKey) {
  const track = state.local.getTracks().find((t) => t.kind === kind);
  if (!track) return;
  track.enabled = !track.enabled;
  button.setAttribute('aria-pressed', String(!track.enabled));
  button.textContent = text(track.enabled ? onKey : offKey);
}

async function toggleShare() {
  const button = $('btn-share');
  if (state.screen) return stopShare();
  let screen;
  try {
    screen = await navigator.mediaDevices.getDisplayMedia({ video: true });
  } catch {
    return undefined;
  }
  state.screen = screen;
  const track = screen.getVideoTracks()[0];
  track.addEventListener('ended', stopShare);
  replaceVideo(track);
  $('local').srcObject = screen;
  button.setAttribute('aria-pressed', 'true');
  button.textContent = text('stop_share');
  return undefined;
}

function stopShare() {
  if (!state.screen) return;
  state.screen.getTracks().forEach((t) => t.stop());
  state.screen = null;
  const camera = state.local.getVideoTracks()[0];
  if (camera) replaceVideo(camera);
  $('local').srcObject = state.local;
  $('btn-share').setAttribute('aria-pressed', 'false');
  $('btn-share').textContent = text('share');
}

function replaceVideo(track) {
  for (const p of state.peers.values()) {
    p.pc?.getSenders().filter((s) => s.track?.kind === 'video').forEach((s) => s.replaceTrack(track));
  }
}

function ended() {
  state.ended = true;
  for (const id of [...state.peers.keys()]) dropPeer(id);
  stopMedia();
  sessionStorage.removeItem(rejoinKey);
  state.ws?.close(1000);
  setConn('idle');
  stage();
  $('stage-ended').querySelector('h2').focus?.();
}

function stopMedia() {
  state.local.getTracks().forEach((t) => t.stop());
  state.screen?.getTracks().forEach((t) => t.stop());
  levelContext?.close();
  state.timers.forEach(clearInterval);
}

function leave() {
  state.leaving = true;
  state.ws?.close(1000);
  for (const id of [...state.peers.keys()]) dropPeer(id);
  stopMedia();
  location.assign(role === 'patient' ? '/appointments' : '/');
}

// ---- Chat ----

const MAX_IMAGE = 2 * 1024 * 1024;
let pendingImage = null;

function chat(m) {
  const li = document.createElement('li');
  const head = document.createElement('p');
  head.className = 'meta';
  const at = new Date(m.at);
  head.textContent = `${m.from} (${text(`role_${m.role}`)}) · ${Number.isNaN(at.getTime()) ? '' : at.toLocaleTimeString(document.documentElement.lang, { timeStyle: 'short' })}`;
  li.append(head);
  if (m.text) li.append(Object.assign(document.createElement('p'), { textContent: m.text }));
  if (m.image?.startsWith('data:image/')) {
    li.append(Object.assign(document.createElement('img'), { src: m.image, alt: m.text || '' }));
  }
  $('chat-log').append(li);
  li.scrollIntoView({ block: 'nearest' });
}

function pickImage() {
  const file = $('f-image').files[0];
  pendingImage = null;
  $('chat-preview').hidden = true;
  if (!file) return;
  if (!['image/png', 'image/jpeg'].includes(file.type)) { alertBox(text('image_type')); $('f-image').value = ''; return; }
  if (file.size > MAX_IMAGE) { alertBox(text('image_too_big')); $('f-image').value = ''; return; }
  const reader = new FileReader();
  reader.onload = () => {
    pendingImage = reader.result;
    $('chat-preview').src = pendingImage;
    $('chat-preview').hidden = false;
  };
  reader.readAsDataURL(file);
}

function sendChat(e) {
  e.preventDefault();
  const message = $('f-chat').value.trim();
  if (!message && !pendingImage) return;
  send({ type: 'chat', text: message, ...(pendingImage ? { image: pendingImage } : {}) });
  $('f-chat').value = '';
  $('f-image').value = '';
  pendingImage = null;
  $('chat-preview').hidden = true;
}

// ---- Start ----

function start() {
  $('waiting-known').dataset.lead = $('waiting-known').textContent;
  $('join').addEventListener('click', () => { alertBox(''); keepAlive(); connect(); });
  $('btn-mute').addEventListener('click', (e) => toggleTrack('audio', e.currentTarget, 'mute', 'unmute'));
  $('btn-camera').addEventListener('click', (e) => toggleTrack('video', e.currentTarget, 'camera_off', 'camera_on'));
  $('btn-share').addEventListener('click', toggleShare);
  $('btn-devices').addEventListener('click', () => { $('stage-precall').hidden = !$('stage-precall').hidden; });
  for (const b of document.querySelectorAll('[data-action="leave"]')) b.addEventListener('click', leave);
  for (const b of document.querySelectorAll('[data-action="end"]')) b.addEventListener('click', () => send({ type: 'end' }));
  $('f-image').addEventListener('change', pickImage);
  $('chat-form').addEventListener('submit', sendChat);
  $('btn-share').hidden = !navigator.mediaDevices?.getDisplayMedia;
  state.timers.push(setInterval(updateWait, 30_000));
  navigator.mediaDevices?.addEventListener?.('devicechange', () => listDevices().catch(() => {}));
  if (!$('stage-ended').hidden) return;
  precall();
}

if (root) start();
