import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { MemoryRoomStore } from '../../src/cluster/memory-room-store.js';
import { AppError } from '../../src/protocol/errors.js';
import { RoomService } from '../../src/room/room-service.js';
import type { Commit, CommitResult } from '../../src/room/room-store.js';
import { Departures } from '../../src/transport/ws/departures.js';
import type { Session } from '../../src/transport/ws/session.js';

const silent = pino({ level: 'silent' });
const HISTORY = { size: 100, maxAgeMs: 60_000 };
const GRACE_MS = 50;

async function until(what: string, check: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Departures reads only these three fields of a session. */
const sessionOf = (uuid: string, conn = `conn-${uuid}`) => ({ room: 'class', uuid, conn }) as unknown as Session;

/** A memory store whose next commits fail with the given errors, one each. */
class FailingStore extends MemoryRoomStore {
  commits = 0;
  readonly failures: Error[] = [];

  override async commit(commit: Commit): Promise<CommitResult> {
    this.commits += 1;
    const failure = this.failures.shift();
    if (failure) throw failure;
    return super.commit(commit);
  }
}

/** Room "class" with teacher, a and b connected as conn-<uuid>; `left` records every UserLeave, in order. */
async function classroom(store = new MemoryRoomStore(HISTORY)) {
  const rooms = new RoomService(store, silent);
  await rooms.create('class', 'teacher');
  for (const uuid of ['teacher', 'a', 'b']) await rooms.join('class', uuid, `conn-${uuid}`, 'node-1');
  const left: string[] = [];
  await store.subscribe('class', (event) => {
    if (event.message.action === 'UserLeave') left.push(event.message.uuid);
  });
  const members = async () => (await store.load('class'))!.members.map((member) => `${member.uuid}@${member.conn}`);
  /** Resolves once every command already queued on the room has run (the room service runs them in order). */
  const settled = () => rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 });
  return { store, rooms, left, members, settled };
}

test('a closed connection leaves at once', async () => {
  const { rooms, left, members } = await classroom();
  const departures = new Departures(rooms, GRACE_MS, silent);
  departures.closed(sessionOf('a'));
  // The leave is under way already, not waiting out the grace: stopping now does not hold it back.
  departures.stop();
  await until('a leaves', () => left.includes('a'));
  assert.deepEqual(left, ['a']);
  assert.deepEqual(await members(), ['teacher@conn-teacher', 'b@conn-b']);
});

test('a lost connection keeps its place for the grace period, then leaves', async () => {
  const { rooms, left, members, settled } = await classroom();
  const departures = new Departures(rooms, GRACE_MS, silent);
  try {
    departures.lost(sessionOf('a'));
    await settled();
    assert.equal(left.length, 0, 'no leave was queued before the grace ran out');
    assert.deepEqual(await members(), ['teacher@conn-teacher', 'a@conn-a', 'b@conn-b']);
    await until('a leaves after the grace', () => left.includes('a'));
    assert.deepEqual(left, ['a']);
    assert.deepEqual(await members(), ['teacher@conn-teacher', 'b@conn-b']);
  } finally {
    departures.stop();
  }
});

test('a member who rejoined on a new connection during the grace keeps the membership', async () => {
  const { rooms, left, members } = await classroom();
  const departures = new Departures(rooms, GRACE_MS, silent);
  try {
    departures.lost(sessionOf('a'));
    await rooms.join('class', 'a', 'conn-a2', 'node-1');
    // b, lost after a, leaves after a's grace has run out and a's leave has been decided.
    departures.lost(sessionOf('b'));
    await until('b leaves', () => left.includes('b'));
    assert.deepEqual(left, ['b']);
    assert.deepEqual(await members(), ['teacher@conn-teacher', 'a@conn-a2']);
  } finally {
    departures.stop();
  }
});

test('with no grace period a lost connection leaves at once', async () => {
  const { rooms, left, members } = await classroom();
  const departures = new Departures(rooms, 0, silent);
  departures.lost(sessionOf('a'));
  departures.stop();
  await until('a leaves', () => left.includes('a'));
  assert.deepEqual(await members(), ['teacher@conn-teacher', 'b@conn-b']);
});

test('stop cancels the pending leaves and ignores later closes', async () => {
  const { rooms, left, members } = await classroom();
  const departures = new Departures(rooms, GRACE_MS, silent);
  const witness = new Departures(rooms, GRACE_MS, silent);
  try {
    departures.lost(sessionOf('a'));
    departures.stop();
    departures.closed(sessionOf('teacher'));
    departures.lost(sessionOf('teacher'));
    // b's grace, started after a's, runs out after it: by b's leave, a's would have been done.
    witness.lost(sessionOf('b'));
    await until('b leaves', () => left.includes('b'));
    assert.deepEqual(left, ['b']);
    assert.deepEqual(await members(), ['teacher@conn-teacher', 'a@conn-a']);
  } finally {
    witness.stop();
  }
});

test('a leave the store cannot take yet (unavailable) is retried', async () => {
  const store = new FailingStore(HISTORY);
  const { rooms, left, members } = await classroom(store);
  const logged: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
  const departures = new Departures(rooms, GRACE_MS, log);
  try {
    const before = store.commits;
    store.failures.push(new AppError('unavailable', 'the store is unreachable'));
    departures.closed(sessionOf('a'));
    await until('a leaves on the retry', () => left.includes('a'), 3000);
    assert.equal(store.commits - before, 2, 'one failed commit, one retried');
    assert.deepEqual(await members(), ['teacher@conn-teacher', 'b@conn-b']);
    assert.deepEqual(logged, []);
  } finally {
    departures.stop();
  }
});

test('a leave that fails otherwise is logged, not retried', async () => {
  const store = new FailingStore(HISTORY);
  const { rooms, members } = await classroom(store);
  const logged: string[] = [];
  const log = pino({ level: 'error' }, { write: (line: string) => logged.push(JSON.parse(line).msg) });
  const departures = new Departures(rooms, GRACE_MS, log);
  try {
    const before = store.commits;
    store.failures.push(new AppError('internal_error', 'the store broke'));
    departures.closed(sessionOf('a'));
    await until('the failure is logged', () => logged.includes('leave failed'));
    assert.equal(store.commits - before, 1);
    assert.deepEqual(await members(), ['teacher@conn-teacher', 'a@conn-a', 'b@conn-b']);
  } finally {
    departures.stop();
  }
});
