import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryRoomStore } from '../../src/cluster/memory-room-store.js';
import { RoomEventStream } from '../../src/cluster/room-event-stream.js';
import { AppError } from '../../src/protocol/errors.js';
import type { RoomEvent } from '../../src/room/room-event.js';
import { RoomService } from '../../src/room/room-service.js';
import type { HistoryLimits, RoomEventListener } from '../../src/room/room-store.js';
import type { EncodedEvent } from '../../src/transport/ws/encoded-event.js';
import { RoomFanout } from '../../src/transport/ws/room-fanout.js';
import type { Session } from '../../src/transport/ws/session.js';

const silent = pino({ level: 'silent' });
const HISTORY = { size: 100, maxAgeMs: 60_000 };

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/**
 * A memory store whose subscriptions pass each event through `relay` (which may drop or repeat
 * it), that counts its live subscriptions, and whose reconnect the test triggers.
 */
class RelayStore extends MemoryRoomStore {
  liveSubscriptions = 0;
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(
    history: HistoryLimits,
    private readonly relay: (event: RoomEvent, listener: RoomEventListener) => void = (event, listener) => listener(event),
  ) {
    super(history);
  }

  override async subscribe(name: string, listener: RoomEventListener): Promise<() => void> {
    const unsubscribe = await super.subscribe(name, (event) => this.relay(event, listener));
    this.liveSubscriptions += 1;
    return () => {
      this.liveSubscriptions -= 1;
      unsubscribe();
    };
  }

  override onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  reconnect(): void {
    for (const listener of this.reconnectListeners) listener();
  }
}

/** Drops the event with this seq, as a lost pub/sub message would be. */
const dropping = (seq: number) => (event: RoomEvent, listener: RoomEventListener) => {
  if (event.seq !== seq) listener(event);
};

interface RecordingSession {
  room: string;
  uuid: string;
  conn: string;
  received: RoomEvent[];
}

/** RoomFanout reads a session's room, uuid and conn, and hands it events through deliver. */
function sessionOf(room: string, uuid: string, conn = `conn-${uuid}`): Session & RecordingSession {
  const session = {
    room,
    uuid,
    conn,
    received: [] as RoomEvent[],
    deliver(encoded: EncodedEvent) {
      session.received.push(encoded.event);
      return 'event';
    },
  };
  return session as unknown as Session & RecordingSession;
}

const actions = (session: RecordingSession) => session.received.map((event) => event.message.action);
const seqs = (session: RecordingSession) => session.received.filter((event) => event.seq !== undefined).map((event) => event.seq);

async function node(store = new RelayStore(HISTORY)) {
  const rooms = new RoomService(store, silent);
  const fanout = new RoomFanout(new RoomEventStream(store, silent), silent);
  await rooms.create('class', 'teacher');
  return { store, rooms, fanout };
}

test('an event reaches the sessions of its audience only', async () => {
  const { store, rooms, fanout } = await node();
  const teacher = sessionOf('class', 'teacher');
  const student = sessionOf('class', 'a');
  // a's previous connection, still open while being replaced.
  const studentBefore = sessionOf('class', 'a', 'conn-a-before');
  const other = sessionOf('class', 'b');
  for (const session of [teacher, student, studentBefore, other]) await fanout.add(session);
  for (const session of [teacher, student, other]) await rooms.join('class', session.uuid, session.conn, 'node-1');
  for (const session of [teacher, student, studentBefore, other]) session.received.length = 0;

  // Room-wide: everyone, the one it leaves out too (its Session turns it into an Ack).
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 3 });
  // Room-wide, the sender included.
  await rooms.act('class', 'a', { action: 'OfferCorrection' });
  // To one user: each of their connections (no command of the room logic is addressed so, so it is committed directly).
  const base = (await store.load('class'))!;
  const directed: RoomEvent = { audience: { to: 'user', uuid: 'a' }, message: { action: 'AnswerCorrection', uuid: 'a', result: true } };
  assert.equal((await store.commit({ name: 'class', base, next: undefined, events: [directed] })).status, 'committed');
  // To one connection: Kicked to b's, then UserLeave to the room.
  await rooms.kick('class', 'b');

  assert.deepEqual(actions(teacher), ['MoveSura', 'OfferCorrection', 'UserLeave']);
  assert.deepEqual(actions(student), ['MoveSura', 'OfferCorrection', 'AnswerCorrection', 'UserLeave']);
  assert.deepEqual(actions(studentBefore), ['MoveSura', 'OfferCorrection', 'AnswerCorrection', 'UserLeave']);
  assert.deepEqual(actions(other), ['MoveSura', 'OfferCorrection', 'Kicked', 'UserLeave']);
});

test("an event of another room does not reach this room's sessions", async () => {
  const { rooms, fanout } = await node();
  await rooms.create('other', 'teacher');
  const inClass = sessionOf('class', 'teacher');
  const inOther = sessionOf('other', 'teacher', 'conn-other');
  await fanout.add(inClass);
  await fanout.add(inOther);
  await rooms.join('class', 'teacher', inClass.conn, 'node-1');
  await rooms.join('class', 'a', 'conn-a', 'node-1');
  await rooms.join('other', 'b', 'conn-b', 'node-1');
  assert.deepEqual(
    inClass.received.map((event) => event.message),
    [
      { action: 'NewUser', uuid: 'teacher' },
      { action: 'NewUser', uuid: 'a' },
    ],
  );
  assert.deepEqual(
    inOther.received.map((event) => event.message),
    [{ action: 'NewUser', uuid: 'b' }],
  );
});

test('a seq gap is filled from the history before later events are delivered', async () => {
  const store = new RelayStore(HISTORY, dropping(3));
  const { rooms, fanout } = await node(store);
  const teacher = sessionOf('class', 'teacher');
  const student = sessionOf('class', 'a');
  await fanout.add(teacher);
  await fanout.add(student);
  await rooms.join('class', 'teacher', teacher.conn, 'node-1'); // seq 1
  await rooms.join('class', 'a', student.conn, 'node-1'); // seq 2
  // Queued together, so that later events arrive while the missed one is being fetched.
  await Promise.all([
    rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 }), // seq 3, dropped
    rooms.act('class', 'teacher', { action: 'ClickAya', aya: 2 }),
    rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 }),
    rooms.act('class', 'teacher', { action: 'ClickAya', aya: 3 }),
  ]);
  await until('every seq', () => seqs(teacher).length >= 6 && seqs(student).length >= 6);
  for (const session of [teacher, student]) {
    assert.deepEqual(seqs(session), [1, 2, 3, 4, 5, 6], session.uuid);
    assert.deepEqual(session.received[2]!.message, { action: 'MoveSura', id_quran: 1 }, 'the dropped event, from the history');
    assert.deepEqual(session.received[3]!.message, { action: 'ClickAya', aya: 2 }, 'then the later ones, in order');
  }
});

test('an already delivered seq is not delivered twice', async () => {
  const store = new RelayStore(HISTORY, (event, listener) => {
    listener(event);
    listener(event);
  });
  const { rooms, fanout } = await node(store);
  const teacher = sessionOf('class', 'teacher');
  await fanout.add(teacher);
  await rooms.join('class', 'teacher', teacher.conn, 'node-1');
  await rooms.join('class', 'a', 'conn-a', 'node-1');
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 });
  assert.deepEqual(seqs(teacher), [1, 2, 3]);
});

test('when the history no longer reaches back and the room is gone, the sessions get RoomDeleted', async () => {
  // The subscription lost the room's deletion, as if Redis had been down; it comes back afterwards.
  const store = new RelayStore(HISTORY, (event, listener) => {
    if (event.message.action !== 'RoomDeleted') listener(event);
  });
  const { rooms, fanout } = await node(store);
  const teacher = sessionOf('class', 'teacher');
  const student = sessionOf('class', 'a');
  await fanout.add(teacher);
  await fanout.add(student);
  await rooms.join('class', 'teacher', teacher.conn, 'node-1');
  await rooms.join('class', 'a', student.conn, 'node-1');
  await rooms.delete('class');
  assert.deepEqual(actions(teacher), ['NewUser', 'NewUser']);
  store.reconnect();
  const roomDeleted = { audience: { to: 'room' }, message: { action: 'RoomDeleted' }, close: 4004 };
  await until('RoomDeleted', () => teacher.received.length === 3 && student.received.length === 3);
  assert.deepEqual(teacher.received[2], roomDeleted);
  assert.deepEqual(student.received[2], roomDeleted);
});

test('after a reconnect, events missed meanwhile are fetched from the history', async () => {
  let connected = true;
  const store = new RelayStore(HISTORY, (event, listener) => {
    if (connected) listener(event);
  });
  const { rooms, fanout } = await node(store);
  const teacher = sessionOf('class', 'teacher');
  await fanout.add(teacher);
  await rooms.join('class', 'teacher', teacher.conn, 'node-1');
  connected = false;
  await rooms.join('class', 'a', 'conn-a', 'node-1');
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
  connected = true;
  store.reconnect();
  await until('the missed events', () => teacher.received.length === 3);
  assert.deepEqual(seqs(teacher), [1, 2, 3]);
});

test('joinedAt tells the fanout where a session joined, so a gap right after is noticed', async () => {
  const store = new RelayStore(HISTORY, dropping(4));
  const { rooms, fanout } = await node(store);
  await rooms.join('class', 'teacher', 'conn-teacher', 'node-1'); // seq 1
  await rooms.join('class', 'b', 'conn-b', 'node-1'); // seq 2
  const student = sessionOf('class', 'a');
  const joined = await rooms.join('class', 'a', student.conn, 'node-1'); // seq 3
  // The room's first session here: the fanout has seen none of its events, its own join's included.
  await fanout.add(student);
  fanout.joinedAt('class', joined.seq);
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 }); // seq 4, dropped
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 }); // seq 5
  await until('seq 5', () => seqs(student).includes(5));
  assert.deepEqual(seqs(student), [4, 5]);
});

test('joinedAt does not move back a room whose events already reach this node', async () => {
  const { rooms, fanout } = await node();
  const teacher = sessionOf('class', 'teacher');
  await fanout.add(teacher);
  await rooms.join('class', 'teacher', teacher.conn, 'node-1'); // seq 1
  await rooms.join('class', 'a', 'conn-a', 'node-1'); // seq 2
  fanout.joinedAt('class', 1);
  fanout.joinedAt('elsewhere', 1);
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 }); // seq 3
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 }); // seq 4
  assert.deepEqual(seqs(teacher), [1, 2, 3, 4], 'nothing fetched again from seq 1');
});

test('counts connections, distinct users and rooms', async () => {
  const { rooms, fanout } = await node();
  await rooms.create('other', 'teacher');
  const teacher = sessionOf('class', 'teacher');
  const student = sessionOf('class', 'a');
  const studentReplacing = sessionOf('class', 'a', 'conn-a2');
  const elsewhere = sessionOf('other', 'b');
  for (const session of [teacher, student, studentReplacing, elsewhere]) await fanout.add(session);
  const counts = () => [fanout.connectionCount, fanout.userCount, fanout.roomCount];
  assert.deepEqual(counts(), [4, 3, 2]);
  assert.deepEqual(new Set(fanout.sessions()), new Set([teacher, student, studentReplacing, elsewhere]));
  fanout.remove(student);
  assert.deepEqual(counts(), [3, 3, 2]);
  fanout.remove(student);
  assert.deepEqual(counts(), [3, 3, 2], 'removing twice is harmless');
  fanout.remove(elsewhere);
  assert.deepEqual(counts(), [2, 2, 1]);
  fanout.remove(teacher);
  fanout.remove(studentReplacing);
  assert.deepEqual(counts(), [0, 0, 0]);
});

test('session(conn) finds the session of a connection on this node', async () => {
  const { fanout } = await node();
  const teacher = sessionOf('class', 'teacher');
  await fanout.add(teacher);
  assert.equal(fanout.session('conn-teacher'), teacher);
  assert.equal(fanout.session('conn-nobody'), undefined);
  fanout.remove(teacher);
  assert.equal(fanout.session('conn-teacher'), undefined);
});

test("removing a room's last session unsubscribes from the room", async () => {
  const store = new RelayStore(HISTORY);
  const { rooms, fanout } = await node(store);
  const teacher = sessionOf('class', 'teacher');
  const student = sessionOf('class', 'a');
  await fanout.add(teacher);
  await fanout.add(student);
  assert.equal(store.liveSubscriptions, 1, 'one subscription per room, not per session');
  await rooms.join('class', 'teacher', teacher.conn, 'node-1');
  fanout.remove(student);
  assert.equal(store.liveSubscriptions, 1, 'the room still has a session here');
  fanout.remove(teacher);
  await until('the unsubscription', () => store.liveSubscriptions === 0);
  await rooms.join('class', 'a', student.conn, 'node-1');
  assert.deepEqual(actions(teacher), ['NewUser']);
  assert.deepEqual(actions(student), ['NewUser']);

  const again = sessionOf('class', 'teacher', 'conn-teacher-again');
  await fanout.add(again);
  assert.equal(store.liveSubscriptions, 1, 'a new session subscribes again');
  await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 });
  assert.deepEqual(seqs(again), [3]);
});

test('a session whose room cannot be subscribed to is not kept', async () => {
  const store = new (class extends MemoryRoomStore {
    override async subscribe(): Promise<() => void> {
      throw new AppError('unavailable', 'the store is unreachable');
    }
  })(HISTORY);
  const fanout = new RoomFanout(new RoomEventStream(store, silent), silent);
  const teacher = sessionOf('class', 'teacher');
  await assert.rejects(fanout.add(teacher), (error: unknown) => error instanceof AppError && error.code === 'unavailable');
  assert.deepEqual([fanout.connectionCount, fanout.roomCount], [0, 0]);
  assert.equal(fanout.session(teacher.conn), undefined);
});

test('a session whose delivery throws does not keep the event from the others', async () => {
  const { rooms, fanout } = await node();
  const broken = sessionOf('class', 'teacher');
  broken.deliver = () => {
    throw new Error('socket gone');
  };
  const student = sessionOf('class', 'a');
  await fanout.add(broken);
  await fanout.add(student);
  await rooms.join('class', 'teacher', broken.conn, 'node-1');
  await rooms.join('class', 'a', student.conn, 'node-1');
  assert.deepEqual(seqs(student), [1, 2]);
});
