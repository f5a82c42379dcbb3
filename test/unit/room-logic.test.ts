import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../../src/protocol/errors.js';
import { isMuted, newRoom, type Room, viewOf } from '../../src/room/room.js';
import * as logic from '../../src/room/room-logic.js';

const MASTER = 'teacher';

function roomWith(...students: string[]): Room {
  let room = newRoom('class', MASTER);
  for (const uuid of [MASTER, ...students]) room = logic.join(room, uuid, `conn-${uuid}`, 'node-1').room!;
  return room;
}

function rejects(code: string, fn: () => unknown): void {
  assert.throws(fn, (error: unknown) => error instanceof AppError && error.code === code);
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

test('ClickAya: master only, sets aya, tells everyone else', () => {
  const room = roomWith('a');
  const { room: after, events } = logic.act(room, MASTER, { action: 'ClickAya', aya: 7 });
  assert.equal(after!.aya, 7);
  assert.deepEqual(events, [{ audience: { to: 'room', except: MASTER }, message: { action: 'ClickAya', aya: 7 } }]);
  rejects('forbidden', () => logic.act(room, 'a', { action: 'ClickAya', aya: 1 }));
});

test('MoveSura: master only, sets id_quran and resets aya', () => {
  const room = logic.act(roomWith('a'), MASTER, { action: 'ClickAya', aya: 3 }).room!;
  const { room: after, events } = logic.act(room, MASTER, { action: 'MoveSura', id_quran: 36 });
  assert.equal(after!.idQuran, 36);
  assert.equal(after!.aya, null);
  assert.deepEqual(events[0]!.message, { action: 'MoveSura', id_quran: 36 });
  rejects('forbidden', () => logic.act(room, 'a', { action: 'MoveSura', id_quran: 2 }));
});

test('OfferCorrection goes to the master only, and needs the master online', () => {
  const room = roomWith('a');
  const { room: after, events } = logic.act(room, 'a', { action: 'OfferCorrection' });
  assert.equal(after, room, 'no state change');
  assert.deepEqual(events, [{ audience: { to: 'user', uuid: MASTER }, message: { action: 'OfferCorrection', uuid: 'a' } }]);
  rejects('forbidden', () => logic.act(room, MASTER, { action: 'OfferCorrection' }));
  const masterGone = logic.leave(room, MASTER, `conn-${MASTER}`).room!;
  rejects('master_offline', () => logic.act(masterGone, 'a', { action: 'OfferCorrection' }));
});

test('AnswerCorrection: master only, to the named member', () => {
  const room = roomWith('a');
  const { events } = logic.act(room, MASTER, { action: 'AnswerCorrection', uuid: 'a', result: true });
  assert.deepEqual(events, [{ audience: { to: 'user', uuid: 'a' }, message: { action: 'AnswerCorrection', uuid: 'a', result: true } }]);
  rejects('forbidden', () => logic.act(room, 'a', { action: 'AnswerCorrection', uuid: 'a', result: true }));
  rejects('user_not_found', () => logic.act(room, MASTER, { action: 'AnswerCorrection', uuid: 'zz', result: false }));
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
