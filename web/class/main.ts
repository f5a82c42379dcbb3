/**
 * The Wigglypuff class page: a teacher or a student in one room. Built on the client SDK
 * (@wigglypuff/client, sdk/src): the room's state is the room client's, kept as the server has it
 * (own commands applied on their Ack, a refused one never), and the audio's signaling goes through
 * its audio seam. Bundled by esbuild (scripts/build-web.mjs) into dist/public/app.js.
 */
import { AdminClient, type ConnectionStatus, isSdkError, RoomClient, type RoomSnapshot, type StateChange } from '../../sdk/src/index.js';
import { ClassAudio, type MediaState } from './audio.js';
import { renderAudioControls, renderMediaStatus, setUpAudioControls, slotAudio } from './audio-controls.js';
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
  audio: ClassAudio;
  mic: MediaStream;
  media: MediaState;
}

let session: Session | null = null;
const currentClient = (): RoomClient | null => session?.client ?? null;

setUpJoinForm((request) => void join(request));
setUpTeacherControls(currentClient);
setUpCorrectionQueue(currentClient);
setUpAudioControls(currentClient);
byId('leave').addEventListener('click', () => leave('Not connected'));

async function join(request: JoinRequest): Promise<void> {
  if (session) return;
  setJoining(true);
  let mic: MediaStream | undefined;
  try {
    if (request.role === 'teacher') await createRoom(request);
    mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (error) {
    for (const track of mic?.getTracks() ?? []) track.stop();
    const message = error instanceof Error ? error.message : String(error);
    note(`Could not join: ${message}`, 'error');
    showStatus('idle', `Could not join: ${message}`);
    return;
  } finally {
    setJoining(false);
  }

  const client = new RoomClient({
    url: location.origin,
    room: request.room,
    uuid: request.uuid,
    ...(request.name === undefined ? {} : { name: request.name }),
    // On a closed server the page is opened with ?token=<join token> minted by the app's backend.
    ...(request.token === undefined ? {} : { token: request.token }),
  });
  const current: Session = {
    request,
    client,
    mic,
    media: 'new',
    audio: new ClassAudio(client, mic, {
      status: (state) => {
        current.media = state;
        renderMediaStatus(state);
      },
      speakers: () => render(current),
      slot: (slot, stream) => {
        slotAudio(slot).srcObject = stream;
      },
      note,
    }),
  };
  session = current;
  client.on('state', (state, change) => onState(current, state, change));
  client.on('connection', (status) => onConnection(current, status));
  client.on('media', (message) => current.audio.handle(message));
  client.on('error', (error) => noteFailure(error));
  showJoinForm(false);
  byId('members').replaceChildren();
  renderMediaStatus('new');
  client.connect().catch(() => undefined); // a join that stops for good is told by the `connection` event
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
    const { room } = current.request;
    leave(`Room ${room} does not exist${current.request.role === 'student' ? ': ask your teacher to open it' : ''}`);
    return;
  }
  showConnection(status);
  if (status.status === 'connected') current.audio.connected();
  else current.audio.disconnected();
  if (status.status === 'closed' && status.reason !== 'closed') note(status.message, 'error');
}

function leave(status: string): void {
  const current = session;
  session = null;
  if (current) {
    current.audio.disconnected();
    current.client.close();
    for (const track of current.mic.getTracks()) track.stop();
  }
  showJoinForm(true);
  showStatus('idle', status);
}

function render(current: Session): void {
  const state = current.client.state;
  if (session !== current || !state) return;
  renderPassage(state);
  renderTeacherControls(state);
  renderAudioControls(state, current.audio.slots, current.mic);
  renderCorrectionQueue(state);
  renderRoster(state, current.audio.speaking, currentClient);
}

/** For the browser tests and the console: the room client, its state, the audio. */
const exposed = {
  get client(): RoomClient | null {
    return currentClient();
  },
  get pc(): RTCPeerConnection | null {
    return session?.audio.pc ?? null;
  },
  /** The room client's state, with the member uuids (`users`) and the audio's speakers and slots. */
  get state() {
    const state = session?.client.state;
    return {
      ...(state ?? { seq: 0, members: [], muted: [], corrections: [], sura: null, aya: null }),
      users: (state?.members ?? []).map((member) => member.uuid),
      speaking: session?.audio.speaking ?? [],
      slots: session?.audio.slots ?? [],
      status: session?.client.status.status ?? 'idle',
      media: session?.media ?? 'new',
    };
  },
  stats: () => session?.audio.stats() ?? Promise.resolve({ packetsReceived: 0, audioLevel: 0, packetsSent: 0 }),
};
(window as unknown as { wigglypuff: typeof exposed }).wigglypuff = exposed;
