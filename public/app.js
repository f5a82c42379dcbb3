// Wigglypuff class page: the room protocol over one WebSocket, and the audio over one
// RTCPeerConnection to the server's SFU (docs/protocol.md). No framework, no build step.

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const FINAL_CLOSES = {
  4001: 'You were removed from the room',
  4004: 'The room was deleted',
  4009: 'You joined this room from another tab or device',
};

const state = {
  room: '',
  uuid: '',
  role: 'student',
  master: '',
  users: [],
  names: {},
  muted: [],
  mutedAll: false,
  sura: null,
  aya: null,
  speaking: [],
  slots: [],
  corrections: [],
  seq: 0,
  audioSlots: 3,
  status: 'idle',
  media: 'new',
};
let ws = null; // the room WebSocket
let pc = null; // the PeerConnection to the SFU
let mic = null; // the microphone stream
let joined = false;
let retries = 0; // WebSocket reconnect attempts since the last success
let mediaRetries = 0; // re-offers after MediaClosed since the last connected PeerConnection
let mediaGen = 0; // bumps whenever the PeerConnection is thrown away
let awaitingAnswer = false; // the current PeerConnection's offer is out
let answersToSkip = 0; // answers still due for offers of PeerConnections thrown away
let remoteReady = false;
let queuedCandidates = [];
// The master's own ClickAya/MoveSura/MuteAll come back as Ack only: apply what was sent.
const pending = { ClickAya: [], MoveSura: [], MuteAll: [] };

window.wigglypuff = {
  get pc() {
    return pc;
  },
  state,
  stats,
};

// ---- the join form --------------------------------------------------------------------

const params = new URLSearchParams(location.search);
const joinToken = params.get('token');
$('room').value = params.get('room') ?? $('room').value;
$('uuid').value = params.get('uuid') ?? `guest-${Math.random().toString(36).slice(2, 8)}`;
if (params.get('role') === 'teacher') $('role').value = 'teacher';

$('join-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  Object.assign(state, { room: $('room').value.trim(), uuid: $('uuid').value.trim(), role: $('role').value, seq: 0 });
  retries = 0;
  mediaRetries = 0;
  $('join').disabled = true;
  try {
    if (state.role === 'teacher') {
      const created = await api('POST', '/api/room/create', { name: state.room, master_uuid: state.uuid });
      if (!created.success && created.error?.code !== 'room_exists') throw new Error(created.error?.message ?? 'could not create the room');
    }
    mic = await navigator.mediaDevices.getUserMedia({ audio: true });
    joined = true;
    $('join-form').classList.add('hidden');
    $('class').classList.remove('hidden');
    await connect();
  } catch (error) {
    note(`Could not join: ${error.message}`, 'error');
    setStatus('idle', `Could not join: ${error.message}`);
  } finally {
    $('join').disabled = false;
  }
});

$('leave').addEventListener('click', () => leave('Not connected'));

function leave(status) {
  joined = false;
  const socket = ws;
  ws = null;
  socket?.close(1000);
  stopMedia();
  for (const track of mic?.getTracks() ?? []) track.stop();
  mic = null;
  $('class').classList.add('hidden');
  $('join-form').classList.remove('hidden');
  setStatus('idle', status);
}

// ---- controls -------------------------------------------------------------------------

$('sura-form').addEventListener('submit', (event) => {
  event.preventDefault();
  command({ action: 'MoveSura', id_quran: Number($('sura-input').value) });
});
$('aya-form').addEventListener('submit', (event) => {
  event.preventDefault();
  // The server checks the aya against the room's sura, so a class without one moves to a sura first.
  if (state.sura === null && pending.MoveSura.length === 0) command({ action: 'MoveSura', id_quran: Number($('sura-input').value) || 1 });
  command({ action: 'ClickAya', aya: Number($('aya-input').value) });
});
$('mute-all').addEventListener('click', () => command({ action: 'MuteAll', result: true }));
$('unmute-all').addEventListener('click', () => command({ action: 'MuteAll', result: false }));
// The correction queue is the room's: asking again while queued withdraws the request.
$('ask-correction').addEventListener('click', () => {
  if (state.corrections.includes(state.uuid)) send({ action: 'WithdrawCorrection' }) && note('You withdrew your correction request');
  else send({ action: 'OfferCorrection' }) && note('You asked the teacher for a correction');
});
$('mute-self').addEventListener('click', () => send({ action: 'MuteUser', uuid: state.uuid, result: !state.muted.includes(state.uuid) }));

function command(message) {
  if (send(message)) pending[message.action].push(message);
}

function send(message) {
  if (ws?.readyState !== WebSocket.OPEN) {
    note('Not connected: try again in a moment', 'error');
    return false;
  }
  ws.send(JSON.stringify(message));
  return true;
}

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  return response.json();
}

// ---- the room WebSocket ---------------------------------------------------------------

async function connect() {
  setStatus(retries ? 'reconnecting' : 'connecting', retries ? 'Reconnecting…' : 'Connecting…');
  const room = await api('GET', `/api/room/${enc(state.room)}`).catch(() => null);
  if (!joined) return;
  if (room?.error?.code === 'room_not_found') {
    leave(`Room ${state.room} does not exist${state.role === 'student' ? ': ask your teacher to open it' : ''}`);
    return;
  }
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  // On a closed server the page is opened with ?token=<join token> minted by the app's backend.
  const query = new URLSearchParams();
  if (state.seq) query.set('last_seq', String(state.seq));
  if (joinToken) query.set('token', joinToken);
  const suffix = query.toString() ? `?${query}` : '';
  answersToSkip = 0; // a new connection: the old one's answers never come
  const socket = new WebSocket(`${scheme}//${location.host}/api/room/join/${enc(state.room)}/${enc(state.uuid)}${suffix}`);
  ws = socket;
  socket.onmessage = (event) => ws === socket && receive(JSON.parse(event.data));
  socket.onclose = (event) => ws === socket && dropped(event.code);
}

function dropped(code) {
  ws = null;
  stopMedia();
  if (!joined) return;
  if (FINAL_CLOSES[code]) {
    setStatus('closed', FINAL_CLOSES[code]);
    return;
  }
  retries += 1;
  setStatus('reconnecting', `Connection lost (${code}); reconnecting…`);
  setTimeout(() => joined && !ws && connect(), Math.min(5000, 250 * 2 ** retries));
}

function receive(message) {
  if (typeof message.seq === 'number') state.seq = message.seq;
  switch (message.action) {
    case 'RoomState':
      reset(message);
      retries = 0;
      setStatus('connected', message.missed ? 'Reconnected (missed events: view refreshed)' : 'Connected');
      if (state.role === 'teacher' && state.master !== state.uuid) note(`This room's teacher is ${state.master}; you joined as a student`);
      void startMedia();
      break;
    case 'Resumed':
      retries = 0;
      setStatus('connected', 'Reconnected');
      void startMedia();
      break;
    case 'NewUser':
      if (!state.users.includes(message.uuid)) state.users.push(message.uuid);
      if (message.name !== undefined) state.names[message.uuid] = message.name;
      // The server says whether the newcomer joins muted (a mute kept from before, or MuteAll).
      setMuted(message.uuid, message.muted === true);
      break;
    case 'UserLeave':
      state.users = state.users.filter((uuid) => uuid !== message.uuid);
      delete state.names[message.uuid];
      state.corrections = state.corrections.filter((uuid) => uuid !== message.uuid);
      break;
    case 'MoveSura':
      state.sura = message.id_quran;
      state.aya = null;
      break;
    case 'ClickAya':
      state.aya = message.aya;
      break;
    case 'MuteUser':
      setMuted(message.uuid, message.result !== false);
      break;
    case 'MuteAll':
      state.mutedAll = message.result !== false;
      state.muted = state.mutedAll ? state.users.filter((uuid) => uuid !== state.master) : [];
      break;
    case 'Ack': {
      const sent = pending[message.of]?.shift();
      if (sent) receive({ ...sent, seq: message.seq });
      else void refresh(); // acked after a reconnect: read the outcome from the server
      return;
    }
    // The correction queue is the room's: every member sees it change.
    case 'OfferCorrection':
      if (!state.corrections.includes(message.uuid)) state.corrections.push(message.uuid);
      if (state.master === state.uuid) note(`${nameOf(message.uuid)} asks for a correction`);
      break;
    case 'WithdrawCorrection':
      state.corrections = state.corrections.filter((uuid) => uuid !== message.uuid);
      break;
    case 'AnswerCorrection':
      state.corrections = state.corrections.filter((uuid) => uuid !== message.uuid);
      if (message.uuid === state.uuid) note(`The teacher ${message.result ? 'accepted' : 'declined'} your correction request`);
      break;
    case 'Kicked':
      note('You were removed from the room', 'error');
      break;
    case 'Replaced':
      note('You joined this room from another tab or device', 'error');
      break;
    case 'RoomDeleted':
      note('The teacher closed the room', 'error');
      break;
    case 'Error':
      // A refused command of ours is never acked: it leaves the queue of those waiting for their Ack.
      pending[message.of]?.shift();
      note(`${message.code}: ${message.message}`, 'error');
      break;
    case 'SessionDescription':
      void applyAnswer(message.sdp);
      break;
    case 'ICECandidate':
      addCandidate(message);
      break;
    case 'ActiveSpeakers':
      state.speaking = message.uuids;
      state.slots = message.slots;
      break;
    case 'MediaClosed':
      stopMedia();
      if (ws && mediaRetries < 3) {
        mediaRetries += 1;
        note('Audio was closed; reconnecting audio', 'error');
        setTimeout(() => ws && !pc && startMedia(), 1000 * mediaRetries);
      }
      break;
    case 'MediaReconnect':
      void startMedia();
      break;
  }
  render();
}

function reset(room) {
  Object.assign(state, {
    master: room.master_uuid,
    users: [...room.users],
    names: { ...(room.names ?? {}) },
    muted: [...room.muted],
    mutedAll: room.muted_all,
    sura: room.id_quran,
    aya: room.aya,
    audioSlots: room.audio_slots ?? 3,
    speaking: [],
    slots: [],
    corrections: [...(room.corrections ?? [])],
  });
  for (const queue of Object.values(pending)) queue.length = 0;
  $('members').replaceChildren();
}

const nameOf = (uuid) => state.names[uuid] ?? uuid;

function setMuted(uuid, muted) {
  state.muted = state.muted.filter((other) => other !== uuid);
  if (muted) state.muted.push(uuid);
}

async function refresh() {
  const room = await api('GET', `/api/room/${enc(state.room)}`).catch(() => null);
  if (!room?.success) return;
  Object.assign(state, { sura: room.data.id_quran, aya: room.data.aya, muted: room.data.muted, mutedAll: room.data.muted_all });
  render();
}

// ---- audio ----------------------------------------------------------------------------

async function startMedia() {
  stopMedia();
  const generation = mediaGen;
  if (!ws || !mic) return;
  try {
    setMedia('connecting');
    const network = await api('GET', `/network_transversal?uuid=${enc(state.uuid)}${joinToken ? `&token=${enc(joinToken)}` : ''}`);
    if (generation !== mediaGen) return;
    const { stun, turn = [] } = network.data ?? {};
    const iceServers = [
      ...(stun?.address ? [{ urls: stun.address }] : []),
      ...turn.map(({ address, username, credential }) => ({ urls: address, username, credential })),
    ];
    const peer = new RTCPeerConnection({ iceServers });
    pc = peer;
    peer.addTransceiver(mic.getAudioTracks()[0], { direction: 'sendonly' });
    for (let i = 0; i < state.audioSlots; i += 1) {
      const { receiver } = peer.addTransceiver('audio', { direction: 'recvonly' });
      slotAudio(i).srcObject = new MediaStream([receiver.track]);
    }
    peer.onicecandidate = ({ candidate }) => {
      if (pc === peer && candidate?.candidate) {
        send({ action: 'ICECandidate', candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex });
      }
    };
    peer.onconnectionstatechange = () => {
      if (pc !== peer) return;
      if (peer.connectionState === 'connected') mediaRetries = 0;
      setMedia(peer.connectionState);
    };
    await peer.setLocalDescription(await peer.createOffer());
    if (pc === peer) awaitingAnswer = send({ action: 'SessionDescription', type: 'offer', sdp: peer.localDescription.sdp });
  } catch (error) {
    note(`Audio failed: ${error.message}`, 'error');
    setMedia('failed');
  }
}

function stopMedia() {
  mediaGen += 1;
  if (awaitingAnswer) answersToSkip += 1;
  awaitingAnswer = false;
  remoteReady = false;
  queuedCandidates = [];
  if (!pc) return;
  pc.close();
  pc = null;
  setMedia('closed');
}

async function applyAnswer(sdp) {
  if (answersToSkip > 0) {
    answersToSkip -= 1; // the answer to an offer of a PeerConnection already thrown away
    return;
  }
  const peer = pc;
  if (!awaitingAnswer || peer?.signalingState !== 'have-local-offer') return;
  awaitingAnswer = false;
  try {
    await peer.setRemoteDescription({ type: 'answer', sdp });
    if (pc !== peer) return;
    remoteReady = true;
    queuedCandidates.splice(0).forEach(addCandidate);
  } catch (error) {
    note(`Audio answer refused: ${error.message}`, 'error');
  }
}

function addCandidate({ candidate, sdpMid, sdpMLineIndex }) {
  if (!pc || !remoteReady) {
    queuedCandidates.push({ candidate, sdpMid, sdpMLineIndex });
    return;
  }
  pc.addIceCandidate({ candidate, sdpMid, sdpMLineIndex }).catch((error) => console.warn('candidate refused', error));
}

async function stats() {
  const totals = { packetsReceived: 0, audioLevel: 0, packetsSent: 0 };
  if (!pc) return totals;
  (await pc.getStats()).forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') {
      totals.packetsReceived += report.packetsReceived ?? 0;
      totals.audioLevel = Math.max(totals.audioLevel, report.audioLevel ?? 0);
    } else if (report.type === 'outbound-rtp' && report.kind === 'audio') {
      totals.packetsSent += report.packetsSent ?? 0;
    }
  });
  return totals;
}

// ---- the view -------------------------------------------------------------------------

function setStatus(status, text) {
  state.status = status;
  $('status').dataset.state = status;
  $('status').textContent = text;
}

function setMedia(media) {
  state.media = media;
  $('media-status').dataset.state = media;
  $('media-status').textContent = `Audio: ${media}`;
}

function note(text, kind = 'info') {
  const item = element('li', { className: kind, textContent: `${new Date().toLocaleTimeString()} ${text}` });
  if (kind === 'error') item.dataset.testid = 'error';
  $('messages').prepend(item);
  while ($('messages').children.length > 30) $('messages').lastChild.remove();
}

function element(tag, properties = {}, children = []) {
  const node = Object.assign(document.createElement(tag), properties);
  node.append(...children);
  return node;
}

function slotAudio(i) {
  let item = $('slots').children[i];
  if (!item) {
    item = element('li', {}, [element('span', { className: 'owner' }), element('audio', { autoplay: true })]);
    item.dataset.slot = String(i);
    $('slots').append(item);
  }
  return item.querySelector('audio');
}

function render() {
  const iAmMaster = state.master === state.uuid;
  const iAmMuted = state.muted.includes(state.uuid);
  $('room-name').textContent = state.room;
  $('sura').textContent = state.sura ?? '–';
  $('aya').textContent = state.aya ?? '–';
  $('teacher-controls').classList.toggle('hidden', !iAmMaster);
  $('student-controls').classList.toggle('hidden', iAmMaster);
  $('mute-self').textContent = iAmMuted ? 'Unmute myself' : 'Mute myself';
  const iAmQueued = state.corrections.includes(state.uuid);
  $('ask-correction').textContent = iAmQueued ? 'Withdraw my correction request' : 'Ask for correction';
  $('ask-correction').setAttribute('aria-pressed', String(iAmQueued));
  $('mute-self').setAttribute('aria-pressed', String(iAmMuted));
  mic?.getAudioTracks().forEach((track) => {
    track.enabled = !iAmMuted;
  });

  // Members are updated in place, so a button is never replaced under the pointer.
  const list = $('members');
  const existing = new Map([...list.children].map((item) => [item.dataset.uuid, item]));
  const items = state.users.map((uuid) => updateMember(existing.get(uuid) ?? newMember(uuid, iAmMaster)));
  if (items.length !== list.children.length || items.some((item, i) => list.children[i] !== item)) list.replaceChildren(...items);

  for (let i = 0; i < state.audioSlots; i += 1) {
    slotAudio(i);
    const owner = state.slots[i] ?? null;
    $('slots').children[i].querySelector('.owner').textContent = `Voice ${i + 1}: ${owner ?? '—'}`;
  }
}

function newMember(uuid, iAmMaster) {
  const item = element('li', {}, [
    element('span', { className: 'name', textContent: nameOf(uuid) }),
    element('span', { className: 'tags' }),
  ]);
  item.dataset.uuid = uuid;
  if (iAmMaster && uuid !== state.uuid) {
    const mute = element('button', { type: 'button', className: 'mute' });
    mute.dataset.testid = 'mute-user';
    mute.addEventListener('click', () => send({ action: 'MuteUser', uuid, result: !state.muted.includes(uuid) }));
    const answer = (result, label) => {
      const button = element('button', { type: 'button', className: 'answer', textContent: label });
      button.setAttribute('aria-label', `${label} the correction request of ${uuid}`);
      button.addEventListener('click', () => send({ action: 'AnswerCorrection', uuid, result }));
      return button;
    };
    item.append(mute, answer(true, 'Accept'), answer(false, 'Decline'));
  }
  return item;
}

function updateMember(item) {
  const uuid = item.dataset.uuid;
  const muted = state.muted.includes(uuid);
  const speaking = state.speaking.includes(uuid);
  const asking = state.corrections.includes(uuid);
  item.toggleAttribute('data-muted', muted);
  item.toggleAttribute('data-speaking', speaking);
  item.toggleAttribute('data-master', uuid === state.master);
  const tags = [
    uuid === state.master && 'teacher',
    uuid === state.uuid && 'you',
    muted && 'muted',
    speaking && 'speaking',
    asking && 'asks for correction',
  ];
  item.querySelector('.tags').textContent = tags.filter(Boolean).join(' · ');
  const mute = item.querySelector('button.mute');
  if (mute) {
    mute.textContent = muted ? 'Unmute' : 'Mute';
    mute.setAttribute('aria-label', `${muted ? 'Unmute' : 'Mute'} ${uuid}`);
  }
  for (const button of item.querySelectorAll('button.answer')) button.classList.toggle('hidden', !asking);
  return item;
}
