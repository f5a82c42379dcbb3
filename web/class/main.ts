/**
 * The Wigglypuff class page: a teacher or a student in one room. Built on the client SDK
 * (@wigglypuff/client, sdk/src): the room's state is the room client's, kept as the server has it
 * (own commands applied on their Ack, a refused one never), and the audio is its RoomAudio. The page
 * speaks no protocol of its own. Bundled by esbuild (scripts/build-web.mjs) into dist/public/app.js.
 */
import {
  AdminClient,
  type ConnectionStatus,
  isSdkError,
  type RoomAudio,
  RoomClient,
  type RoomSnapshot,
  type StateChange,
} from '../../sdk/src/index.js';
import { audioStats, classAudio } from './audio.js';
import { renderAudioControls, renderMediaStatus, renderPlayback, setUpAudioControls, slotAudio } from './audio-controls.js';
import { noteCorrectionEvent, renderCorrectionQueue, setUpCorrectionQueue } from './correction-queue.js';
import { byId } from './dom.js';
import { type JoinRequest, setJoining, setUpJoinForm, showJoinForm } from './join-form.js';
import { note, noteFailure } from './messages.js';
import { renderPassage } from './passage.js';
import { renderRoster } from './roster.js';
import { showConnection, showStatus } from './status.js';
import { renderTeacherControls, setUpTeacherControls } from './teacher-controls.js';

/** The class the page is in, if any. */
interface Session {
  request: JoinRequest;
  client: RoomClient;
  audio: RoomAudio;
}

let session: Session | null = null;
const currentClient = (): RoomClient | null => session?.client ?? null;

setUpJoinForm(join);
setUpTeacherControls(currentClient);
setUpCorrectionQueue(currentClient);
setUpAudioControls(currentClient, () => session?.audio ?? null);
byId('leave').addEventListener('click', () => leave('Not connected'));

/** From the join form's submit: the audio starts inside that gesture, before anything is awaited (autoplay). */
function join(request: JoinRequest): void {
  if (session) return;
  byId('slots').replaceChildren();
  byId('members').replaceChildren();
  let slots = 0;
  const client = new RoomClient({
    url: location.origin,
    room: request.room,
    uuid: request.uuid,
    ...(request.name === undefined ? {} : { name: request.name }),
    // On a closed server the page is opened with ?token=<join token> minted by the app's backend.
    ...(request.token === undefined ? {} : { token: request.token }),
  });
  const audio = classAudio(client, () => slotAudio(slots++), {
    status: (state, text) => session?.audio === audio && renderMediaStatus(state, text),
    speakers: () => current === session && render(current),
    playback: (canPlay) => session?.audio === audio && renderPlayback(canPlay),
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
  setJoining(true);
  try {
    if (current.request.role === 'teacher') await createRoom(current.request);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    leave(`Could not join: ${message}`);
    note(`Could not join: ${message}`, 'error');
    return;
  } finally {
    setJoining(false);
  }
  if (session !== current) return;
  showJoinForm(false);
  current.client.connect().catch(() => undefined); // a join that stops for good is told by the `connection` event
}

/** The teacher's room is created if it does not exist yet (an open server; a closed one's backend creates rooms). */
async function createRoom(request: JoinRequest): Promise<void> {
  try {
    await new AdminClient({ url: location.origin }).createRoom(request.room, request.uuid);
  } catch (error) {
    if (isSdkError(error) && (error.code === 'room_exists' || (error.code === 'unauthorized' && request.token !== undefined))) return;
    throw error;
  }
}

function onState(current: Session, state: RoomSnapshot, change: StateChange): void {
  if (session !== current) return;
  if (change.kind === 'snapshot' && change.via === 'join' && current.request.role === 'teacher' && state.master !== state.self) {
    note(`This room's teacher is ${state.master}; you joined as a student`);
  }
  if (change.kind === 'event') noteCorrectionEvent(state, change.event);
  render(current);
}

function onConnection(current: Session, status: ConnectionStatus): void {
  if (session !== current) return;
  if (status.status === 'closed' && status.reason === 'room_not_found') {
    const { room, role } = current.request;
    leave(`Room ${room} does not exist${role === 'student' ? ': ask your teacher to open it' : ''}`);
    return;
  }
  showConnection(status);
  if (status.status === 'closed' && status.reason !== 'closed') note(status.message, 'error');
}

function leave(status: string): void {
  const current = session;
  session = null;
  if (current) {
    current.audio.close();
    current.client.close();
  }
  renderMediaStatus('idle', 'not started');
  renderPlayback(true);
  showJoinForm(true);
  showStatus('idle', status);
}

function render(current: Session): void {
  const state = current.client.state;
  if (session !== current || !state) return;
  renderPassage(state);
  renderTeacherControls(state);
  renderAudioControls(state, current.audio.speakers.slots);
  renderCorrectionQueue(state);
  renderRoster(state, current.audio.speakers.speaking, currentClient);
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
