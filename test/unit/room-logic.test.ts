import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src/protocol/errors.js';
import { AYAT_PER_SURA, ayatIn } from '../../src/protocol/quran.js';
import { isAyaInSura, isMuted, newRoom, type Room, viewOf } from '../../src/room/room.js';
import * as logic from '../../src/room/room-logic.js';

const MASTER = 'teacher';

function roomWith(...students: string[]): Room {
  let room = newRoom('class', MASTER);
  for (const uuid of [MASTER, ...students]) room = logic.join(room, uuid, `conn-${uuid}`, 'node-1').room!;
  return room;
}

function rejects(code: string, fn: () => unknown, message?: string): void {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === code, message);
}

test('join adds a member and tells everyone else', () => {
  const room = roomWith('a');
  const { room: after, events } = logic.join(room, 'b', 'conn-b', 'node-1');
  assert.deepEqual(viewOf(after!).users, [MASTER, 'a', 'b']);
  assert.deepEqual(events, [{ audience: { to: 'room', except: 'b' }, message: { action: 'NewUser', uuid: 'b' } }]);
  assert.deepEqual(viewOf(room).users, [MASTER, 'a'], 'the input room is not mutated');
});

test('joining again replaces the old connection without NewUser', () => {
  const { room, events } = logic.join(roomWith('a'), 'a', 'conn-a2', 'node-2');
  assert.deepEqual(
    room!.members.find((m) => m.uuid === 'a'),
    { uuid: 'a', conn: 'conn-a2', node: 'node-2' },
  );
  assert.deepEqual(events, [{ audience: { to: 'connection', conn: 'conn-a' }, message: { action: 'Replaced' }, close: 4009 }]);
});

test('leave only counts for the connection that holds the membership', () => {
  const room = roomWith('a');
  const stale = logic.leave(room, 'a', 'some-old-conn');
  assert.equal(stale.room, room);
  assert.deepEqual(stale.events, []);
  const { room: after, events } = logic.leave(room, 'a', 'conn-a');
  assert.deepEqual(viewOf(after!).users, [MASTER]);
  assert.deepEqual(events, [{ audience: { to: 'room', except: 'a' }, message: { action: 'UserLeave', uuid: 'a' } }]);
});

test('kick closes the member with 4001 and tells the others', () => {
  const { room, events } = logic.kick(roomWith('a', 'b'), 'a');
  assert.deepEqual(viewOf(room!).users, [MASTER, 'b']);
  assert.deepEqual(events, [
    { audience: { to: 'connection', conn: 'conn-a' }, message: { action: 'Kicked' }, close: 4001 },
    { audience: { to: 'room', except: 'a' }, message: { action: 'UserLeave', uuid: 'a' } },
  ]);
  rejects('user_not_found', () => logic.kick(roomWith(), 'ghost'));
});

test('remove deletes the room and closes everyone with 4004', () => {
  const { room, events } = logic.remove(roomWith('a'));
  assert.equal(room, null);
  assert.deepEqual(events, [{ audience: { to: 'room' }, message: { action: 'RoomDeleted' }, close: 4004 }]);
});

test('ClickAya: master only, sets aya inside the sura, tells everyone else', () => {
  const room = logic.act(roomWith('a'), MASTER, { action: 'MoveSura', id_quran: 1 }).room!;
  const { room: after, events } = logic.act(room, MASTER, { action: 'ClickAya', aya: 7 });
  assert.equal(after!.aya, 7);
  assert.deepEqual(events, [{ audience: { to: 'room', except: MASTER }, message: { action: 'ClickAya', aya: 7 } }]);
  rejects('forbidden', () => logic.act(room, 'a', { action: 'ClickAya', aya: 1 }));
});

test('ClickAya: refused before any MoveSura and outside the sura, naming the sura and its count', () => {
  const fresh = roomWith('a');
  assert.throws(
    () => logic.act(fresh, MASTER, { action: 'ClickAya', aya: 1 }),
    (error: unknown) => error instanceof AppError && error.code === 'aya_out_of_range' && /MoveSura/.test(error.message),
  );
  rejects('forbidden', () => logic.act(fresh, 'a', { action: 'ClickAya', aya: 1 }), 'the role is checked first');
  const fatiha = logic.act(fresh, MASTER, { action: 'MoveSura', id_quran: 1 }).room!;
  assert.throws(
    () => logic.act(fatiha, MASTER, { action: 'ClickAya', aya: 8 }),
    (error: unknown) => error instanceof AppError && error.code === 'aya_out_of_range' && /sura 1 has 7 ayat/.test(error.message),
  );
  const nas = logic.act(fatiha, MASTER, { action: 'MoveSura', id_quran: 114 }).room!;
  assert.equal(logic.act(nas, MASTER, { action: 'ClickAya', aya: 6 }).room!.aya, 6);
  rejects('aya_out_of_range', () => logic.act(nas, MASTER, { action: 'ClickAya', aya: 7 }));
  const baqara = logic.act(nas, MASTER, { action: 'MoveSura', id_quran: 2 }).room!;
  assert.equal(logic.act(baqara, MASTER, { action: 'ClickAya', aya: 286 }).room!.aya, 286, 'the longest sura takes the schema bound');
  for (let sura = 1; sura <= 114; sura++) {
    const at = logic.act(fresh, MASTER, { action: 'MoveSura', id_quran: sura }).room!;
    assert.ok(isAyaInSura(at, ayatIn(sura)) && isAyaInSura(at, 1), `sura ${sura}: its first and last aya`);
    assert.ok(!isAyaInSura(at, ayatIn(sura) + 1) && !isAyaInSura(at, 0), `sura ${sura}: nothing beyond`);
  }
});

test('the Hafs ayat counts: 114 suwar, 6,236 ayat, al-Fatiha 7, al-Baqara 286, an-Nas 6', () => {
  assert.equal(AYAT_PER_SURA.length, 114);
  assert.equal(
    AYAT_PER_SURA.reduce((sum, count) => sum + count, 0),
    6236,
  );
  assert.deepEqual(
    [ayatIn(1), ayatIn(2), ayatIn(3), ayatIn(9), ayatIn(36), ayatIn(103), ayatIn(108), ayatIn(114)],
    [7, 286, 200, 129, 83, 3, 3, 6],
  );
  assert.equal(Math.max(...AYAT_PER_SURA), 286, 'the schema bound of ClickAya is the longest sura');
  assert.deepEqual([ayatIn(0), ayatIn(115), ayatIn(1.5)], [0, 0, 0]);
});

test('MoveSura: master only, sets id_quran and resets aya', () => {
  let room = logic.act(roomWith('a'), MASTER, { action: 'MoveSura', id_quran: 2 }).room!;
  room = logic.act(room, MASTER, { action: 'ClickAya', aya: 3 }).room!;
  const { room: after, events } = logic.act(room, MASTER, { action: 'MoveSura', id_quran: 36 });
  assert.equal(after!.idQuran, 36);
  assert.equal(after!.aya, null);
  assert.deepEqual(events[0]!.message, { action: 'MoveSura', id_quran: 36 });
  rejects('forbidden', () => logic.act(room, 'a', { action: 'MoveSura', id_quran: 2 }));
});

test('OfferCorrection queues the student, tells the whole room, and needs the master online', () => {
  const room = roomWith('a', 'b');
  const { room: after, events } = logic.act(room, 'a', { action: 'OfferCorrection' });
  assert.deepEqual(after!.corrections, ['a']);
  assert.deepEqual(events, [{ audience: { to: 'room' }, message: { action: 'OfferCorrection', uuid: 'a' } }]);
  assert.deepEqual(room.corrections, [], 'the input room is not mutated');
  const both = logic.act(after!, 'b', { action: 'OfferCorrection' }).room!;
  assert.deepEqual(both.corrections, ['a', 'b'], 'in the order they asked');
  const again = logic.act(both, 'a', { action: 'OfferCorrection' });
  assert.equal(again.room, both, 'already queued: a no-op');
  assert.deepEqual(again.events, []);
  assert.deepEqual(viewOf(both).corrections, ['a', 'b']);
  rejects('forbidden', () => logic.act(room, MASTER, { action: 'OfferCorrection' }));
  const masterGone = logic.leave(room, MASTER, `conn-${MASTER}`).room!;
  rejects('master_offline', () => logic.act(masterGone, 'a', { action: 'OfferCorrection' }));
});

test('WithdrawCorrection: a student leaves the queue, the room is told; not queued is a no-op', () => {
  let room = logic.act(roomWith('a', 'b'), 'a', { action: 'OfferCorrection' }).room!;
  room = logic.act(room, 'b', { action: 'OfferCorrection' }).room!;
  const { room: after, events } = logic.act(room, 'a', { action: 'WithdrawCorrection' });
  assert.deepEqual(after!.corrections, ['b']);
  assert.deepEqual(events, [{ audience: { to: 'room' }, message: { action: 'WithdrawCorrection', uuid: 'a' } }]);
  const again = logic.act(after!, 'a', { action: 'WithdrawCorrection' });
  assert.equal(again.room, after, 'not queued: a no-op');
  assert.deepEqual(again.events, []);
  rejects('forbidden', () => logic.act(room, MASTER, { action: 'WithdrawCorrection' }));
  // Withdrawing needs no master: the queue is the student's own place.
  const masterGone = logic.leave(room, MASTER, `conn-${MASTER}`).room!;
  assert.deepEqual(logic.act(masterGone, 'b', { action: 'WithdrawCorrection' }).room!.corrections, ['a']);
});

test('AnswerCorrection: master only, for a queued student, who leaves the queue; the room is told', () => {
  let room = logic.act(roomWith('a', 'b'), 'a', { action: 'OfferCorrection' }).room!;
  room = logic.act(room, 'b', { action: 'OfferCorrection' }).room!;
  const { room: after, events } = logic.act(room, MASTER, { action: 'AnswerCorrection', uuid: 'b', result: true });
  assert.deepEqual(after!.corrections, ['a']);
  assert.deepEqual(events, [{ audience: { to: 'room' }, message: { action: 'AnswerCorrection', uuid: 'b', result: true } }]);
  rejects('forbidden', () => logic.act(room, 'a', { action: 'AnswerCorrection', uuid: 'a', result: true }));
  rejects('not_queued', () => logic.act(after!, MASTER, { action: 'AnswerCorrection', uuid: 'b', result: false }));
  rejects('not_queued', () => logic.act(room, MASTER, { action: 'AnswerCorrection', uuid: 'zz', result: false }));
});

test('leaving and being kicked remove a student from the queue (told by UserLeave alone)', () => {
  let room = roomWith('a', 'b', 'c');
  for (const uuid of ['a', 'b', 'c']) room = logic.act(room, uuid, { action: 'OfferCorrection' }).room!;
  const left = logic.leave(room, 'b', 'conn-b');
  assert.deepEqual(left.room!.corrections, ['a', 'c']);
  assert.deepEqual(
    left.events.map((event) => event.message.action),
    ['UserLeave'],
  );
  const kicked = logic.kick(left.room!, 'a');
  assert.deepEqual(kicked.room!.corrections, ['c']);
  assert.deepEqual(
    kicked.events.map((event) => event.message.action),
    ['Kicked', 'UserLeave'],
  );
  // A stale leave (a replaced connection) keeps the queue.
  assert.deepEqual(logic.leave(kicked.room!, 'c', 'some-old-conn').room!.corrections, ['c']);
  // Replacing the connection keeps the place in the queue.
  assert.deepEqual(logic.join(kicked.room!, 'c', 'conn-c2', 'node-2').room!.corrections, ['c']);
});

test('display names: NewUser and the view carry them; a replacement keeps the name the member joined with', () => {
  const room = roomWith('a');
  const { room: named, events } = logic.join(room, 'b', 'conn-b', 'node-1', Infinity, 'عبد الرحمن');
  assert.deepEqual(events, [{ audience: { to: 'room', except: 'b' }, message: { action: 'NewUser', uuid: 'b', name: 'عبد الرحمن' } }]);
  assert.deepEqual(viewOf(named!).names, { b: 'عبد الرحمن' }, 'only members that have a name');
  const replaced = logic.join(named!, 'b', 'conn-b2', 'node-2', Infinity, 'another');
  assert.deepEqual(
    replaced.room!.members.find((m) => m.uuid === 'b'),
    { uuid: 'b', conn: 'conn-b2', node: 'node-2', name: 'عبد الرحمن' },
  );
  const left = logic.leave(replaced.room!, 'b', 'conn-b2').room!;
  assert.deepEqual(viewOf(left).names, {}, 'a name leaves with its member');
  const back = logic.join(left, 'b', 'conn-b3', 'node-1', Infinity, 'Bilal');
  assert.deepEqual(back.events[0]!.message, { action: 'NewUser', uuid: 'b', name: 'Bilal' }, 'a new membership, a new name');
  const muted = logic.act(logic.act(back.room!, MASTER, { action: 'MuteAll' }).room!, MASTER, { action: 'MuteAll' }).room!;
  assert.deepEqual(logic.join(muted, 'c', 'conn-c', 'node-1', Infinity, 'C').events[0]!.message, {
    action: 'NewUser',
    uuid: 'c',
    name: 'C',
    muted: true,
  });
  // A uuid that is also an Object.prototype key is a name like any other.
  assert.deepEqual(Object.keys(viewOf(logic.join(room, '__proto__', 'conn-p', 'node-1', Infinity, 'P').room!).names), ['__proto__']);
});

test("MuteUser: the master mutes anyone, a student only themself, and cannot lift the master's mute", () => {
  let room = roomWith('a', 'b');
  const muted = logic.act(room, MASTER, { action: 'MuteUser', uuid: 'a' });
  assert.deepEqual(muted.events, [{ audience: { to: 'room' }, message: { action: 'MuteUser', uuid: 'a', result: true } }]);
  room = muted.room!;
  assert.ok(isMuted(room, 'a'));
  rejects('forbidden', () => logic.act(room, 'a', { action: 'MuteUser', uuid: 'a', result: false }));
  rejects('forbidden', () => logic.act(room, 'b', { action: 'MuteUser', uuid: 'a', result: false }));
  rejects('forbidden', () => logic.act(room, 'b', { action: 'MuteUser', uuid: 'a' }));
  rejects('user_not_found', () => logic.act(room, MASTER, { action: 'MuteUser', uuid: 'ghost' }));

  room = logic.act(room, 'b', { action: 'MuteUser', uuid: 'b' }).room!;
  assert.ok(isMuted(room, 'b'));
  room = logic.act(room, 'b', { action: 'MuteUser', uuid: 'b', result: false }).room!;
  assert.ok(!isMuted(room, 'b'), 'a student may lift their own mute');

  room = logic.act(room, MASTER, { action: 'MuteUser', uuid: 'a', result: false }).room!;
  assert.deepEqual(viewOf(room).muted, []);
});

test('a mute outlives leaving and rejoining', () => {
  let room = logic.act(roomWith('a'), MASTER, { action: 'MuteUser', uuid: 'a' }).room!;
  room = logic.leave(room, 'a', 'conn-a').room!;
  room = logic.join(room, 'a', 'conn-a-again', 'node-1').room!;
  assert.deepEqual(viewOf(room).muted, ['a']);
});

test('MuteAll mutes every student including latecomers until undone', () => {
  let room = roomWith('a');
  const all = logic.act(room, MASTER, { action: 'MuteAll' });
  assert.deepEqual(all.events, [{ audience: { to: 'room', except: MASTER }, message: { action: 'MuteAll', result: true } }]);
  room = logic.join(all.room!, 'late', 'conn-late', 'node-1').room!;
  assert.deepEqual(viewOf(room).muted, ['a', 'late']);
  assert.equal(viewOf(room).muted_all, true);
  rejects('forbidden', () => logic.act(room, 'late', { action: 'MuteUser', uuid: 'late', result: false }));
  rejects('forbidden', () => logic.act(room, 'a', { action: 'MuteAll', result: false }));

  room = logic.act(room, MASTER, { action: 'MuteUser', uuid: 'a', result: false }).room!;
  assert.deepEqual(viewOf(room).muted, ['late'], 'the master unmutes one by one');
  room = logic.leave(room, 'a', 'conn-a').room!;
  room = logic.join(room, 'a', 'conn-a2', 'node-1').room!;
  assert.deepEqual(viewOf(room).muted, ['late', 'a'], 'a student who leaves and comes back under MuteAll is muted again');

  room = logic.act(room, MASTER, { action: 'MuteAll', result: false }).room!;
  assert.deepEqual(viewOf(room).muted, []);
  assert.equal(viewOf(room).muted_all, false);
});

test('MuteAll false also lifts individual mutes', () => {
  let room = logic.act(roomWith('a'), MASTER, { action: 'MuteUser', uuid: 'a' }).room!;
  room = logic.act(room, MASTER, { action: 'MuteAll', result: false }).room!;
  assert.deepEqual(viewOf(room).muted, []);
});

test('the master is never muted by MuteAll but may mute themself', () => {
  let room = logic.act(roomWith('a'), MASTER, { action: 'MuteAll' }).room!;
  assert.ok(!isMuted(room, MASTER));
  room = logic.act(room, MASTER, { action: 'MuteUser', uuid: MASTER }).room!;
  assert.ok(isMuted(room, MASTER));
});

test('under MuteAll, a student the master unmuted may mute and unmute themself again', () => {
  let room = logic.act(roomWith('a'), MASTER, { action: 'MuteAll' }).room!;
  room = logic.act(room, MASTER, { action: 'MuteUser', uuid: 'a', result: false }).room!;
  room = logic.act(room, 'a', { action: 'MuteUser', uuid: 'a' }).room!;
  assert.ok(isMuted(room, 'a'));
  room = logic.act(room, 'a', { action: 'MuteUser', uuid: 'a', result: false }).room!;
  assert.ok(!isMuted(room, 'a'));
});

test("the master's mute replaces a self-mute, which the student then cannot lift", () => {
  let room = logic.act(roomWith('a'), 'a', { action: 'MuteUser', uuid: 'a' }).room!;
  room = logic.act(room, MASTER, { action: 'MuteUser', uuid: 'a' }).room!;
  rejects('forbidden', () => logic.act(room, 'a', { action: 'MuteUser', uuid: 'a', result: false }));
});
