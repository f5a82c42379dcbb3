/**
 * The Wigglypuff class app: a teacher or a student in one room, reading the Quran's text together.
 * Built on the client SDK (sdk/src): the class's state is the room client's, kept as the server has
 * it (own commands applied on their Ack, a refused one never), and the audio is its RoomAudio; the
 * page speaks no protocol of its own. What the page keeps itself is the UI's: the Quran's text it
 * loaded, the join form, focus. One module per view; every word in strings.ts. Bundled by esbuild
 * (scripts/build-web.mjs) into dist/public/app.js.
 */
import {
  AdminClient,
  type ConnectionStatus,
  isMaster,
  isSdkError,
  type RoomAudio,
  RoomClient,
  type RoomSnapshot,
  type StateChange,
} from '../../sdk/src/index.js';
import { byId } from '../shared/dom.js';
import { audioStats, classAudio } from './audio.js';
import { renderMediaStatus, renderPlayback, renderQuality, renderVoices, setUpAudioControls, slotAudio } from './audio-controls.js';
import { showConnection, showStatus } from './connection-status.js';
import { noteCorrectionEvent, renderCorrectionQueue } from './correction-queue.js';
import { hideEnded, setUpEndNotice, showEnded } from './end-notice.js';
import { browserUuid } from './identity.js';
import { focusJoinForm, prefillJoinForm, setJoining, setUpJoinForm, showJoinError } from './join-form.js';
import { type Role, readPrefill, readTokenLink } from './join-link.js';
import { buildLayout } from './layout.js';
import { note, noteFailure } from './messages.js';
import { renderPassage, resetPassage, setUpPassage } from './passage.js';
import { suraIndex } from './quran-text.js';
import { displayName, renderRoster } from './roster.js';
import { forgetSession, loadSession, saveSession } from './saved-session.js';
import { closeSideSheet, renderSideToggle, setUpSideSheet } from './side-sheet.js';
import { t } from './strings.js';
import { renderStudentBar, setUpStudentBar } from './student-bar.js';
import { renderTeacherNav, resetTeacherNav, setSuraIndex, setUpTeacherNav } from './teacher-nav.js';

interface JoinRequest {
  room: string;
  uuid: string;
  name: string | undefined;
  /** The role asked for: a teacher opens the room. The view follows the room (its master is the teacher). */
  role: Role;
  listenOnly: boolean;
  /** A join token from the link (closed server). */
  token: string | undefined;
}

/** The class the page is in, if any. */
interface Session {
  request: JoinRequest;
  client: RoomClient;
  audio: RoomAudio;
}

type View = 'join' | 'class' | 'ended';

let session: Session | null = null;
/** The last class joined, for "Join again". */
let lastRequest: JoinRequest | null = null;
const currentClient = (): RoomClient | null => session?.client ?? null;

buildLayout();
setUpJoinForm((choice) => join({ ...choice, uuid: browserUuid(), token: undefined }));
setUpPassage(currentClient);
setUpTeacherNav(currentClient);
setUpStudentBar(currentClient);
setUpAudioControls(() => session?.audio ?? null);
setUpSideSheet();
setUpEndNotice({
  joinAgain: () => lastRequest && join(lastRequest),
  backToForm: () => showView('join'),
});
byId('leave').addEventListener('click', () => {
  forgetSession();
  leave();
  showView('join');
});
start();

function start(): void {
  const link = readTokenLink();
  const saved = loadSession();
  if (link === 'unreadable') {
    showView('join');
    showJoinError(t.badLink);
  } else if (link) {
    // A join link joins straight away, as the member its token names.
    join({
      room: link.room,
      uuid: link.uuid,
      name: link.name,
      role: 'student',
      listenOnly: saved?.room === link.room && saved.listenOnly,
      token: link.token,
    });
  } else if (saved) {
    prefillJoinForm(saved);
    join({ ...saved, uuid: browserUuid(), token: undefined });
  } else {
    prefillJoinForm(readPrefill());
    showView('join');
  }
  // The index of the suras is small; each sura's text is fetched when it is shown.
  suraIndex().then(
    (index) => {
      setSuraIndex(index);
      if (session) render(session);
    },
    (error: unknown) => noteFailure(error),
  );
}

function showView(view: View): void {
  document.body.dataset.view = view;
  byId('join-view').hidden = view !== 'join';
  byId('class-view').hidden = view !== 'class';
  if (view !== 'ended') hideEnded();
  if (view !== 'class') closeSideSheet();
  byId('leave').hidden = view !== 'class';
  if (view === 'join') {
    byId('room-name').textContent = '';
    document.title = t.documentTitle(null);
    focusJoinForm();
  }
}

/** Joins a class. From the join form, inside its submit: the audio starts within that gesture, before anything is awaited (autoplay). */
function join(request: JoinRequest): void {
  if (session) return;
  lastRequest = request;
  resetClassViews();
  showJoinError('');
  let slots = 0;
  const client = new RoomClient({
    url: location.origin,
    room: request.room,
    uuid: request.uuid,
    ...(request.name === undefined ? {} : { name: request.name }),
    ...(request.token === undefined ? {} : { token: request.token }),
  });
  const audio = classAudio(client, request.listenOnly, () => slotAudio(slots++), {
    status: (state, text) => session?.audio === audio && renderMediaStatus(state, text),
    changed: () => current === session && render(current),
    playback: (canPlay) => session?.audio === audio && renderPlayback(canPlay),
    quality: (level) => session?.audio === audio && renderQuality(level),
    note,
  });
  const current: Session = { request, client, audio };
  session = current;
  audio.start().catch(() => undefined); // its failures come as `error` events
  client.on('state', (state, change) => onState(current, state, change));
  client.on('connection', (status) => onConnection(current, status));
  client.on('error', (error) => noteFailure(error));
  void enter(current);
}

async function enter(current: Session): Promise<void> {
  const { request } = current;
  setJoining(true);
  try {
    if (request.role === 'teacher' && request.token === undefined) await createRoom(request);
  } catch (error) {
    if (session !== current) return;
    leave();
    showView('join');
    showJoinError(t.couldNotJoin(isSdkError(error) ? (t.errors[error.code] ?? error.message) : String(error)));
    return;
  } finally {
    setJoining(false);
  }
  if (session !== current) return;
  saveSession({ room: request.room, role: request.role, name: request.name, listenOnly: request.listenOnly });
  byId('room-name').textContent = t.roomHeading(request.room);
  document.title = t.documentTitle(request.room);
  showView('class');
  current.client.connect().catch(() => undefined); // a join that stops for good is told by the `connection` event
}

/** The teacher's room is created if it does not exist yet (an open server; a closed one's backend creates rooms). */
async function createRoom(request: JoinRequest): Promise<void> {
  try {
    await new AdminClient({ url: location.origin }).createRoom(request.room, request.uuid);
  } catch (error) {
    if (isSdkError(error) && error.code === 'room_exists') return;
    throw error;
  }
}

function onState(current: Session, state: RoomSnapshot, change: StateChange): void {
  if (session !== current) return;
  if (change.kind === 'snapshot' && change.via === 'join' && current.request.role === 'teacher' && !isMaster(state)) {
    note(t.notTeacher(displayName(state, state.master)));
  }
  if (change.kind === 'event') noteCorrectionEvent(state, change.event);
  render(current);
}

function onConnection(current: Session, status: ConnectionStatus): void {
  if (session !== current) return;
  showConnection(status);
  if (status.status === 'closed' && status.reason !== 'closed') {
    // The class is over for this page: kicked, the room deleted, joined elsewhere, or no such room.
    forgetSession();
    leave();
    showView('ended');
    showEnded(status.reason, current.request.room, status.message);
  }
}

function leave(): void {
  const current = session;
  session = null;
  if (current) {
    current.audio.close();
    current.client.close();
  }
  renderMediaStatus('idle', t.audioIdle);
  renderPlayback(true);
  renderQuality(null);
  showStatus('idle', t.notConnected);
}

function resetClassViews(): void {
  resetPassage();
  resetTeacherNav();
  for (const id of ['slots', 'members', 'corrections', 'messages']) byId(id).replaceChildren();
  byId('teacher-nav').hidden = true;
  byId('student-bar').hidden = true;
}

function render(current: Session): void {
  const state = current.client.state;
  if (session !== current || !state) return;
  document.body.dataset.role = isMaster(state) ? 'teacher' : 'student';
  renderPassage(state);
  renderTeacherNav(state);
  renderStudentBar(state, current.audio, current.request.listenOnly);
  renderRoster(state, current.audio.speakers.speaking, currentClient, current.audio.memberQuality);
  renderCorrectionQueue(state, currentClient);
  renderVoices(state, current.audio.speakers.slots);
  renderSideToggle(state);
}

/** For the browser tests and the console: the room client, its state, the audio. */
const exposed = {
  get client(): RoomClient | null {
    return currentClient();
  },
  get audio(): RoomAudio | null {
    return session?.audio ?? null;
  },
  get pc(): RTCPeerConnection | null {
    return (session?.audio.peerConnection as RTCPeerConnection | null | undefined) ?? null;
  },
  /** The room client's state, with the member uuids (`users`) and the audio's speakers and slots. */
  get state() {
    const state = session?.client.state;
    const speakers = session?.audio.speakers;
    return {
      ...(state ?? { seq: 0, members: [], muted: [], corrections: [], sura: null, aya: null }),
      users: (state?.members ?? []).map((member) => member.uuid),
      speaking: speakers?.speaking ?? [],
      slots: speakers?.slots ?? [],
      status: session?.client.status.status ?? 'idle',
      media: session?.audio.status.status ?? 'idle',
    };
  },
  stats: () => audioStats(session?.audio),
};
(window as unknown as { wigglypuff: typeof exposed }).wigglypuff = exposed;
