import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { pino } from 'pino';
import type { WebSocket } from 'ws';
import { AppError } from '../../src/protocol/errors.js';
import { newRoom, type Room } from '../../src/room/room.js';
import type { Reply, RoomEvent } from '../../src/room/room-event.js';
import { EncodedEvent } from '../../src/transport/ws/encoded-event.js';
import type { Flushable, Outbox } from '../../src/transport/ws/outbox.js';
import { Session, type SessionHandlers } from '../../src/transport/ws/session.js';

const silent = pino({ level: 'silent' });

/** The messages in the unmasked server-to-client text frames written to a stream. */
function messagesOf(chunks: Buffer[]): Record<string, unknown>[] {
  const bytes = Buffer.concat(chunks);
  const messages: Record<string, unknown>[] = [];
  for (let at = 0; at < bytes.length; ) {
    let length = bytes[at + 1]! & 0x7f;
    let start = at + 2;
    if (length === 126) {
      length = bytes.readUInt16BE(at + 2);
      start = at + 4;
    }
    messages.push(JSON.parse(bytes.subarray(start, start + length).toString('utf8')));
    at = start + length;
  }
  return messages;
}

/** A Session over a fake socket: what it writes is read back as messages; `received` hands it a client frame. */
function sessionOf(uuid: string, onMessage: SessionHandlers['onMessage'] = async () => undefined) {
  const written: Buffer[] = [];
  const socket = Object.assign(new EventEmitter(), {
    OPEN: 1,
    CONNECTING: 0,
    readyState: 1,
    close() {},
    terminate() {},
    ping() {},
  });
  const stream = {
    writableLength: 0,
    write(chunk: Buffer) {
      written.push(chunk);
      return true;
    },
    cork() {},
    uncork() {},
  };
  const pending = new Set<Flushable>();
  const outbox = { schedule: (session: Flushable) => pending.add(session) } as unknown as Outbox;
  const session = new Session(
    socket as unknown as WebSocket,
    stream as unknown as Socket,
    'class',
    uuid,
    { audioSlots: 3, rate: { perSecond: 1000, burst: 1000 }, sendBufferLimitBytes: 1 << 20, outbox },
    { onMessage, onClose: () => undefined },
    silent,
  );
  return {
    session,
    /** Everything written so far, as messages (the outbox flushed first). */
    sent(): Record<string, unknown>[] {
      for (const waiting of pending) waiting.flush();
      pending.clear();
      return messagesOf(written);
    },
    received(message: unknown): void {
      socket.emit('message', Buffer.from(JSON.stringify(message)), false);
    },
  };
}

const roomAt = (seq: number): Room => ({ ...newRoom('class', 'teacher'), seq });
const event = (fields: Partial<RoomEvent> & Pick<RoomEvent, 'message'>): EncodedEvent =>
  new EncodedEvent({ audience: { to: 'room' }, ...fields });

test('an event left out for the sender, answering its command, becomes the Ack with the id; others get the bare Ack', () => {
  const { session, sent } = sessionOf('teacher');
  session.start(roomAt(1));
  const reply: Reply = { conn: session.conn, id: 'r1', of: 'ClickAya' };
  session.deliver(event({ audience: { to: 'room', except: 'teacher' }, message: { action: 'ClickAya', aya: 3 }, seq: 2, reply }));
  session.deliver(event({ audience: { to: 'room', except: 'teacher' }, message: { action: 'ClickAya', aya: 4 }, seq: 3 }));
  const other = { ...reply, conn: 'someone-else' };
  session.deliver(event({ audience: { to: 'room', except: 'teacher' }, message: { action: 'ClickAya', aya: 5 }, seq: 4, reply: other }));
  assert.deepEqual(sent().slice(1), [
    { action: 'Ack', of: 'ClickAya', id: 'r1', seq: 2 },
    { action: 'Ack', of: 'ClickAya', seq: 3 },
    { action: 'Ack', of: 'ClickAya', seq: 4 },
  ]);
});

test('an event that reaches the sender comes first, then its Ack with the same seq; the encoded frame is shared', () => {
  const teacher = sessionOf('teacher');
  const student = sessionOf('a');
  teacher.session.start(roomAt(1));
  student.session.start(roomAt(1));
  const encoded = event({
    message: { action: 'MuteUser', uuid: 'a', result: true },
    seq: 2,
    reply: { conn: teacher.session.conn, id: 'm', of: 'MuteUser' },
  });
  assert.equal(teacher.session.deliver(encoded), 'event');
  assert.equal(student.session.deliver(encoded), 'event');
  assert.deepEqual(teacher.sent().slice(1), [
    { action: 'MuteUser', uuid: 'a', result: true, seq: 2 },
    { action: 'Ack', of: 'MuteUser', id: 'm', seq: 2 },
  ]);
  assert.deepEqual(student.sent().slice(1), [{ action: 'MuteUser', uuid: 'a', result: true, seq: 2 }], 'the reply is never sent to others');
  assert.equal(encoded.forReceiver(), encoded.forReceiver(), 'one frame for every receiver');
});

test('a command the snapshot already holds is still answered, after the RoomState', () => {
  const { session, sent } = sessionOf('teacher');
  // Committed before the join: it arrives while the session waits for its snapshot, and is older than it.
  session.deliver(
    event({
      audience: { to: 'room', except: 'teacher' },
      message: { action: 'MoveSura', id_quran: 3 },
      seq: 1,
      reply: { conn: session.conn, id: 'early', of: 'MoveSura' },
    }),
  );
  assert.deepEqual(sent(), []);
  session.start({ ...roomAt(2), idQuran: 3 });
  const [state, ...rest] = sent();
  assert.equal(state!.action, 'RoomState');
  assert.deepEqual(rest, [{ action: 'Ack', of: 'MoveSura', id: 'early', seq: 1 }]);
});

test('RoomState carries the names and the correction queue', () => {
  const { session, sent } = sessionOf('a');
  const room: Room = {
    ...roomAt(3),
    members: [
      { uuid: 'teacher', conn: 'c1', node: 'n' },
      { uuid: 'a', conn: session.conn, node: 'n', name: 'عائشة' },
    ],
    corrections: ['a'],
  };
  session.start(room);
  const [state] = sent();
  assert.deepEqual([state!.names, state!.corrections, state!.users], [{ a: 'عائشة' }, ['a'], ['teacher', 'a']]);
});

test('a command with an id is answered at once when nothing carries its answer; its refusal names it', async () => {
  const answers: (Reply | undefined)[] = [];
  let outcome: Promise<{ replied: boolean } | undefined> = Promise.resolve({ replied: false });
  const { session, sent, received } = sessionOf('a', async (_session, _message, reply) => {
    answers.push(reply);
    return outcome;
  });
  session.start(roomAt(1));
  received({ action: 'WithdrawCorrection', id: 'w' });
  received({ action: 'WithdrawCorrection' });
  await new Promise((resolve) => setImmediate(resolve));
  outcome = Promise.resolve({ replied: true });
  received({ action: 'OfferCorrection', id: 'o' });
  await new Promise((resolve) => setImmediate(resolve));
  outcome = Promise.reject(new AppError('master_offline', 'the room master is not connected'));
  received({ action: 'OfferCorrection', id: 'o2' });
  await new Promise((resolve) => setImmediate(resolve));
  outcome = Promise.resolve(undefined);
  received({ action: 'ICECandidate', candidate: '', id: 'ice' });
  received({ action: 'Ping', id: 'p' });
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(answers, [
    { conn: session.conn, id: 'w', of: 'WithdrawCorrection' },
    undefined,
    { conn: session.conn, id: 'o', of: 'OfferCorrection' },
    { conn: session.conn, id: 'o2', of: 'OfferCorrection' },
    { conn: session.conn, id: 'ice', of: 'ICECandidate' },
  ]);
  assert.deepEqual(sent().slice(1), [
    { action: 'Ack', of: 'WithdrawCorrection', id: 'w' },
    { action: 'Error', of: 'OfferCorrection', id: 'o2', code: 'master_offline', message: 'the room master is not connected' },
    { action: 'Pong', id: 'p' },
  ]);
});
