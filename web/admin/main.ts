/**
 * The Wigglypuff operator dashboard, served at /admin/: the cluster's nodes, its rooms a page at a
 * time, one room's members (kick, delete), and a live tail of the events of the rooms in view. It
 * speaks to the server only through the SDK's AdminClient. On a closed server it asks for the API
 * key and keeps it in memory only (a reload signs out); on an open one it warns. Bundled by esbuild
 * (scripts/build-web.mjs) into dist/public/admin/app.js.
 */
import { isSdkError } from '../../sdk/src/index.js';
import { connect, type DashboardApi } from './api.js';
import { byId, messageOf } from './dom.js';
import { EventStream } from './event-stream.js';
import { buildLayout } from './layout.js';
import { renderNodes } from './nodes-view.js';
import { clearNotice, notify, showOpenWarning } from './notice.js';
import { every, type Poller } from './poll.js';
import { isReadOnly, setUpReadOnly } from './read-only.js';
import { closeDetail, openDetail, openedRoom, renderDetail, renderGone, setUpRoomDetail } from './room-detail.js';
import { PAGE_SIZE, type RoomsView, setUpRooms } from './rooms-view.js';
import { setUpSignIn, showSignIn } from './sign-in.js';
import { strings } from './strings.js';
import { addToTail, clearTail, renderStreamState, setUpTail } from './tail-view.js';

const REFRESH_MS = 5000;

/** The dashboard signed in: its client (holding the key, if any) and what it keeps running. */
interface Session {
  api: DashboardApi;
  open: boolean;
  nodes: Poller;
  rooms: Poller;
  detail: Poller;
  stream: EventStream;
  /** The names on the rooms page shown. */
  pageRooms: string[];
}

let session: Session | null = null;

buildLayout();
setUpReadOnly();
setUpTail();
setUpSignIn(signIn);
const roomsView: RoomsView = setUpRooms(
  () => session?.rooms.now(),
  (name) => openRoom(name),
);
setUpRoomDetail({
  kick: async (room, uuid) => {
    const current = session;
    if (!current || isReadOnly()) return;
    try {
      await current.api.kick(room, uuid);
      notify(strings.detail.kicked(uuid, room));
    } catch (error) {
      failed(current, error, strings.detail.actionFailed);
    }
    current.detail.now();
    current.rooms.now();
  },
  remove: async (room) => {
    const current = session;
    if (!current || isReadOnly()) return;
    try {
      await current.api.deleteRoom(room);
      notify(strings.detail.deleted(room));
      if (openedRoom() === room) closeDetail();
    } catch (error) {
      failed(current, error, strings.detail.actionFailed);
    }
    current.detail.now();
    current.rooms.now();
  },
  close: () => {
    closeDetail();
    if (session) watchRooms(session);
  },
});
byId('sign-out').addEventListener('click', () => signOut());
void start();

async function start(): Promise<void> {
  let auth: 'open' | 'closed';
  try {
    auth = (await connect().health()).auth;
  } catch (error) {
    notify(strings.healthFailed(messageOf(error)), 'error');
    setTimeout(() => void start(), REFRESH_MS);
    return;
  }
  clearNotice();
  if (auth === 'open') openDashboard(connect(), true);
  else showSignIn(true);
}

/** From the sign-in form: the key is tried on a call that needs it before the dashboard opens. */
async function signIn(key: string): Promise<void> {
  const api = connect(key);
  try {
    await api.roomsPage({ limit: 1 });
  } catch (error) {
    if (isSdkError(error) && error.status !== undefined) throw new Error(strings.signIn.refused(error.message));
    throw new Error(strings.signIn.unreachable(messageOf(error)));
  }
  openDashboard(api, false);
}

function openDashboard(api: DashboardApi, open: boolean): void {
  showSignIn(false);
  showOpenWarning(open);
  byId('sign-out').hidden = open;
  byId('dashboard').hidden = false;
  const current: Session = {
    api,
    open,
    pageRooms: [],
    stream: new EventStream(api, {
      item: (item) => {
        if (session !== current) return;
        addToTail(item);
        // The detail and the page follow the room's events at once, between their refreshes.
        if (item.type === 'room' && item.room === openedRoom()) current.detail.now();
        if (item.type === 'room' && item.message.action === 'RoomDeleted') current.rooms.now();
      },
      state: (state) => session === current && renderStreamState(state),
      fatal: (error) => failed(current, error, strings.tail.failed),
      // A room of the set is gone: the page's refresh gives the stream its next set.
      refused: () => {
        current.rooms.now();
        current.detail.now();
      },
    }),
    nodes: every(REFRESH_MS, async () => {
      try {
        const nodes = await api.nodes();
        if (session === current) renderNodes(nodes);
        clearNoticeOf('nodes');
      } catch (error) {
        failed(current, error, strings.nodes.failed, 'nodes');
      }
    }),
    rooms: every(REFRESH_MS, async () => {
      try {
        const page = await api.roomsPage({ limit: PAGE_SIZE, ...(roomsView.after === undefined ? {} : { after: roomsView.after }) });
        if (session !== current) return;
        roomsView.render(page);
        current.pageRooms = page.rooms.map((room) => room.name);
        watchRooms(current);
        clearNoticeOf('rooms');
      } catch (error) {
        failed(current, error, strings.rooms.failed, 'rooms');
      }
    }),
    detail: every(REFRESH_MS, async () => {
      const name = openedRoom();
      if (name === null) return;
      try {
        const room = await api.getRoom(name);
        if (session === current) renderDetail(room);
      } catch (error) {
        if (isSdkError(error) && error.code === 'room_not_found') renderGone(name);
        else failed(current, error, strings.detail.failed);
      }
    }),
  };
  session = current;
}

function openRoom(name: string): void {
  if (!session) return;
  openDetail(name);
  session.detail.now();
  watchRooms(session);
  byId('detail-title').scrollIntoView({ block: 'nearest' });
}

/** The tail streams the rooms of the page shown and the opened room. */
function watchRooms(current: Session): void {
  const opened = openedRoom();
  current.stream.watch(opened === null ? current.pageRooms : [...current.pageRooms, opened]);
}

/** A call failed: a refused key signs out (it was changed on the server), anything else is told. */
function failed(current: Session, error: unknown, describe: (message: string) => string, source?: string): void {
  if (session !== current) return;
  if (!current.open && isSdkError(error) && error.code === 'unauthorized') {
    signOut(strings.signIn.signedOutExpired);
    return;
  }
  notify(describe(messageOf(error)), 'error', source);
}

function clearNoticeOf(source: string): void {
  if (byId('notice').dataset.source === source) clearNotice();
}

/** Forgets the key (the session holding it) and stops everything; the form comes back. */
function signOut(message?: string): void {
  const current = session;
  session = null;
  if (current) {
    current.nodes.stop();
    current.rooms.stop();
    current.detail.stop();
    current.stream.stop();
  }
  closeDetail();
  clearTail();
  clearNotice();
  byId('dashboard').hidden = true;
  byId('sign-out').hidden = true;
  byId('nodes-body').replaceChildren();
  byId('rooms-body').replaceChildren();
  showSignIn(true, message);
}
