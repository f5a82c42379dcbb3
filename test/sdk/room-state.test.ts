import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  applyEvent,
  eventOfBareAck,
  eventOfCommand,
  fromRoomState,
  isMasterOnline,
  nameOf,
  placeSeq,
  predictRefusal,
  type RoomSnapshot,
} from '../../sdk/src/room-state.js';
import type { RoomCommand, RoomEvent, RoomStateFrame } from '../../sdk/src/wire.js';
import { AppError } from '../../src/protocol/errors.js';
import { newRoom, type Room, viewOf } from '../../src/room/room.js';
import { sequence } from '../../src/room/room-event.js';
import * as logic from '../../src/room/room-logic.js';
import { roomState } from './support.js';

const state = (overrides: Record<string, unknown> = {}, self = 'teacher'): RoomSnapshot =>
  fromRoomState(roomState(overrides) as RoomStateFrame, self);

/** Applies events numbered on from the state's seq. */
function play(start: RoomSnapshot, ...events: Record<string, unknown>[]): RoomSnapshot {
  return events.reduce<RoomSnapshot>((current, event) => applyEvent(current, { ...event, seq: current.seq + 1 } as RoomEvent), start);
}

describe('room state: the reducers', () => {
  test('a RoomState builds the snapshot, names by uuid, muted in member order', () => {
    const snapshot = state({ users: ['teacher', 'ali', 'bilal'], names: { bilal: 'بلال' }, muted: ['bilal', 'ali'], audio_slots: 5 });
    assert.deepEqual(snapshot.members, [{ uuid: 'teacher' }, { uuid: 'ali' }, { uuid: 'bilal', name: 'بلال' }]);
    assert.deepEqual(snapshot.muted, ['ali', 'bilal']);
    assert.equal(snapshot.audioSlots, 5);
    assert.equal(nameOf(snapshot, 'bilal'), 'بلال');
    assert.equal(nameOf(snapshot, 'ali'), undefined);
  });

  test('a name uuid like __proto__ is read as an own property', () => {
    const names = JSON.parse('{"__proto__": "P"}');
    const snapshot = state({ users: ['teacher', '__proto__', 'constructor'], names });
    assert.equal(nameOf(snapshot, '__proto__'), 'P');
    assert.equal(nameOf(snapshot, 'constructor'), undefined);
  });

  test('every event moves seq by one and the reducers never mutate', () => {
    const before = state();
    const frozen = JSON.stringify(before);
    const after = play(before, { action: 'MoveSura', id_quran: 2 });
    assert.equal(after.seq, 3);
    assert.equal(JSON.stringify(before), frozen);
  });

  test('MoveSura resets the aya; ClickAya sets it', () => {
    const after = play(state({ id_quran: 1, aya: 3 }), { action: 'MoveSura', id_quran: 2 });
    assert.equal(after.aya, null);
    assert.equal(play(after, { action: 'ClickAya', aya: 255 }).aya, 255);
  });

  test('NewUser adds the member with their name and the mute the server says; UserLeave drops them everywhere', () => {
    let s = play(state(), { action: 'NewUser', uuid: 'bilal', name: 'Bilal', muted: true });
    assert.deepEqual(s.members.at(-1), { uuid: 'bilal', name: 'Bilal' });
    assert.deepEqual(s.muted, ['bilal']);
    s = play(s, { action: 'OfferCorrection', uuid: 'bilal' }, { action: 'UserLeave', uuid: 'bilal' });
    assert.deepEqual(
      s.members.map((m) => m.uuid),
      ['teacher', 'ali'],
    );
    assert.deepEqual(s.muted, []);
    assert.deepEqual(s.corrections, []);
    assert.equal(nameOf(s, 'bilal'), undefined);
  });

  test('MuteAll mutes every student but not the master; one-by-one unmutes; MuteAll again drops them; false lifts everything', () => {
    let s = state({ users: ['teacher', 'ali', 'bilal'] });
    s = play(s, { action: 'MuteAll', result: true });
    assert.deepEqual(s.muted, ['ali', 'bilal']);
    assert.equal(s.mutedAll, true);
    s = play(s, { action: 'MuteUser', uuid: 'ali', result: false });
    assert.deepEqual(s.muted, ['bilal'], 'ali unmuted one by one under MuteAll');
    s = play(s, { action: 'NewUser', uuid: 'chadi', muted: true });
    assert.deepEqual(s.muted, ['bilal', 'chadi'], 'a latecomer under MuteAll is muted (the server says so)');
    s = play(s, { action: 'MuteAll', result: true });
    assert.deepEqual(s.muted, ['ali', 'bilal', 'chadi'], 'MuteAll again drops the individual unmutes');
    s = play(s, { action: 'MuteUser', uuid: 'teacher', result: true });
    assert.deepEqual(s.muted, ['teacher', 'ali', 'bilal', 'chadi'], 'the master may mute themself');
    s = play(s, { action: 'MuteAll', result: false });
    assert.deepEqual(s.muted, []);
    assert.equal(s.mutedAll, false);
  });

  test('a master who muted themself stays muted under MuteAll (which holds students only), until MuteAll false', () => {
    let s = play(state(), { action: 'MuteUser', uuid: 'teacher', result: true }, { action: 'MuteAll', result: true });
    assert.deepEqual(s.muted, ['teacher', 'ali']);
    s = play(s, { action: 'MuteAll', result: false });
    assert.deepEqual(s.muted, []);
  });

  test('the correction queue: offered in order, once; withdrawn; answered', () => {
    let s = state({ users: ['teacher', 'ali', 'bilal'] });
    s = play(
      s,
      { action: 'OfferCorrection', uuid: 'bilal' },
      { action: 'OfferCorrection', uuid: 'ali' },
      { action: 'OfferCorrection', uuid: 'bilal' },
    );
    assert.deepEqual(s.corrections, ['bilal', 'ali']);
    s = play(s, { action: 'AnswerCorrection', uuid: 'bilal', result: true });
    assert.deepEqual(s.corrections, ['ali']);
    s = play(s, { action: 'WithdrawCorrection', uuid: 'ali' });
    assert.deepEqual(s.corrections, []);
  });

  test('RoomDeleted marks the room deleted', () => {
    assert.equal(play(state(), { action: 'RoomDeleted' }).deleted, true);
  });

  test('placeSeq: next, stale, gap', () => {
    const s = state({ seq: 10 });
    assert.equal(placeSeq(s, 11), 'next');
    assert.equal(placeSeq(s, 10), 'stale');
    assert.equal(placeSeq(s, 3), 'stale');
    assert.equal(placeSeq(s, 12), 'gap');
  });

  test('an Ack stands for the event its command became', () => {
    const cases: [RoomCommand, Record<string, unknown>][] = [
      [
        { action: 'ClickAya', aya: 4 },
        { action: 'ClickAya', aya: 4 },
      ],
      [
        { action: 'MoveSura', id_quran: 9 },
        { action: 'MoveSura', id_quran: 9 },
      ],
      [{ action: 'MuteAll' }, { action: 'MuteAll', result: true }],
      [
        { action: 'MuteAll', result: false },
        { action: 'MuteAll', result: false },
      ],
      [
        { action: 'MuteUser', uuid: 'ali' },
        { action: 'MuteUser', uuid: 'ali', result: true },
      ],
      [{ action: 'OfferCorrection' }, { action: 'OfferCorrection', uuid: 'me' }],
      [{ action: 'WithdrawCorrection' }, { action: 'WithdrawCorrection', uuid: 'me' }],
      [
        { action: 'AnswerCorrection', uuid: 'ali', result: false },
        { action: 'AnswerCorrection', uuid: 'ali', result: false },
      ],
    ];
    for (const [command, event] of cases) assert.deepEqual(eventOfCommand(command, 'me', 7), { ...event, seq: 7 });
  });

  test('a bare Ack can be rebuilt only for an own UserLeave', () => {
    const s = state({}, 'ali');
    assert.deepEqual(eventOfBareAck(s, { action: 'Ack', of: 'UserLeave' as never, seq: 3 }), { action: 'UserLeave', uuid: 'ali', seq: 3 });
    for (const of of ['ClickAya', 'MoveSura', 'MuteAll', 'NewUser'] as const) {
      assert.equal(eventOfBareAck(s, { action: 'Ack', of: of as never, seq: 3 }), undefined);
    }
  });
});

describe('room state: predicted refusals', () => {
  test('role rules', () => {
    const asMaster = state({ id_quran: 1 });
    const asStudent = state({ id_quran: 1 }, 'ali');
    assert.equal(predictRefusal(asStudent, { action: 'ClickAya', aya: 1 })?.code, 'forbidden');
    assert.equal(predictRefusal(asStudent, { action: 'MoveSura', id_quran: 1 })?.code, 'forbidden');
    assert.equal(predictRefusal(asStudent, { action: 'MuteAll' })?.code, 'forbidden');
    assert.equal(predictRefusal(asStudent, { action: 'AnswerCorrection', uuid: 'ali', result: true })?.code, 'forbidden');
    assert.equal(predictRefusal(asMaster, { action: 'OfferCorrection' })?.code, 'forbidden');
    assert.equal(predictRefusal(asMaster, { action: 'WithdrawCorrection' })?.code, 'forbidden');
    assert.equal(predictRefusal(asStudent, { action: 'MuteUser', uuid: 'teacher' })?.code, 'forbidden');
    assert.equal(predictRefusal(asStudent, { action: 'MuteUser', uuid: 'ali' }), null);
    assert.equal(predictRefusal(asMaster, { action: 'MuteUser', uuid: 'ghost' })?.code, 'user_not_found');
  });

  test('the aya must lie in the sura, and there must be a sura', () => {
    assert.deepEqual(predictRefusal(state(), { action: 'ClickAya', aya: 1 }), {
      code: 'aya_out_of_range',
      message: 'no sura yet: send MoveSura first',
    });
    assert.deepEqual(predictRefusal(state({ id_quran: 1 }), { action: 'ClickAya', aya: 8 }), {
      code: 'aya_out_of_range',
      message: 'sura 1 has 7 ayat',
    });
    assert.equal(predictRefusal(state({ id_quran: 1 }), { action: 'ClickAya', aya: 7 }), null);
    assert.equal(predictRefusal(state({ id_quran: 2 }), { action: 'ClickAya', aya: 286 }), null);
  });

  test('corrections need the master online, and an answer needs the student queued', () => {
    assert.equal(predictRefusal(state({ users: ['ali'] }, 'ali'), { action: 'OfferCorrection' })?.code, 'master_offline');
    assert.equal(isMasterOnline(state({ users: ['ali'] }, 'ali')), false);
    assert.equal(predictRefusal(state(), { action: 'AnswerCorrection', uuid: 'ali', result: true })?.code, 'not_queued');
    assert.equal(predictRefusal(state({ corrections: ['ali'] }), { action: 'AnswerCorrection', uuid: 'ali', result: true }), null);
  });
});

/**
 * The SDK's state follows the server's own room logic (src/room): random sequences of joins,
 * leaves, kicks and commands run through the server's pure functions; the master's client gets the
 * events as the server sends them (its own ClickAya/MoveSura/MuteAll as Acks) and its state must be
 * the server's view after every step. Where the SDK predicts a refusal, the server refuses the same way.
 */
describe('room state: the same as the server', () => {
  const MASTER = 'teacher';
  const STUDENTS = ['ali', 'bilal', 'chadi'];
  const anyone = fc.constantFrom(MASTER, ...STUDENTS);
  const student = fc.constantFrom(...STUDENTS);
  const command: fc.Arbitrary<RoomCommand> = fc.oneof(
    fc.record({ action: fc.constant('ClickAya' as const), aya: fc.integer({ min: 1, max: 286 }) }),
    fc.record({ action: fc.constant('MoveSura' as const), id_quran: fc.integer({ min: 1, max: 114 }) }),
    fc.record({ action: fc.constant('OfferCorrection' as const) }),
    fc.record({ action: fc.constant('WithdrawCorrection' as const) }),
    fc.record({ action: fc.constant('AnswerCorrection' as const), uuid: anyone, result: fc.boolean() }),
    fc.record({ action: fc.constant('MuteUser' as const), uuid: anyone, result: fc.option(fc.boolean(), { nil: undefined }) }),
    fc.record({ action: fc.constant('MuteAll' as const), result: fc.option(fc.boolean(), { nil: undefined }) }),
  );
  type Op =
    | { op: 'join'; uuid: string; name: string | undefined }
    | { op: 'leave'; uuid: string }
    | { op: 'kick'; uuid: string }
    | { op: 'act'; sender: string; command: RoomCommand };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('join' as const), uuid: student, name: fc.option(fc.constantFrom('Ali', 'عائشة'), { nil: undefined }) }),
    fc.record({ op: fc.constant('leave' as const), uuid: student }),
    fc.record({ op: fc.constant('kick' as const), uuid: student }),
    fc.record({ op: fc.constant('act' as const), sender: anyone, command }),
    fc.record({ op: fc.constant('act' as const), sender: fc.constant(MASTER), command }),
  );

  const viewOfSnapshot = (s: RoomSnapshot) => ({
    users: s.members.map((member) => member.uuid),
    names: Object.fromEntries(s.members.filter((member) => member.name !== undefined).map((member) => [member.uuid, member.name])),
    id_quran: s.sura,
    aya: s.aya,
    muted: [...s.muted],
    muted_all: s.mutedAll,
    corrections: [...s.corrections],
  });
  const serverView = (room: Room) => {
    const { name: _name, master_uuid: _master, ...view } = viewOf(room);
    return view;
  };

  test('after every step, the master client has the server view', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        let room: Room = logic.join(newRoom('halaqa', MASTER), MASTER, 'conn-teacher', 'node').room!;
        let seq = 1;
        let client = fromRoomState(
          { action: 'RoomState', room: 'halaqa', seq, ...serverView(room), master_uuid: MASTER, audio_slots: 3 } as RoomStateFrame,
          MASTER,
        );
        for (const step of ops) {
          const isMember = room.members.some((member) => member.uuid === (step.op === 'act' ? step.sender : step.uuid));
          let outcome: logic.Outcome;
          let refused: string | undefined;
          if (step.op === 'act' && !isMember) continue; // only connected users send commands
          const predicted = step.op === 'act' ? predictRefusal({ ...client, self: step.sender }, step.command) : null;
          try {
            if (step.op === 'join') outcome = logic.join(room, step.uuid, `conn-${step.uuid}-${seq}`, 'node', Infinity, step.name);
            else if (step.op === 'leave') {
              if (!isMember) continue;
              outcome = logic.leave(room, step.uuid, room.members.find((member) => member.uuid === step.uuid)!.conn);
            } else if (step.op === 'kick') outcome = logic.kick(room, step.uuid);
            else outcome = logic.act(room, step.sender, step.command);
          } catch (error) {
            if (!(error instanceof AppError)) throw error;
            refused = error.code;
            outcome = { room, events: [] };
          }
          if (step.op === 'act') {
            const selfUnmute = step.command.action === 'MuteUser' && step.command.result === false && step.sender !== MASTER;
            if (predicted) assert.equal(refused, predicted.code, `predicted ${predicted.code} for ${JSON.stringify(step)}`);
            else if (!selfUnmute) assert.equal(refused, undefined, `predicted success for ${JSON.stringify(step)}`);
          }
          for (const event of sequence(outcome.events, seq)) {
            if (event.seq === undefined) continue;
            seq = event.seq;
            const toMaster = event.audience.to === 'room' && event.audience.except === MASTER;
            // The master is left out of its own ClickAya/MoveSura/MuteAll: it gets the Ack, and rebuilds the event from its command.
            const delivered = toMaster
              ? eventOfCommand((step as { command: RoomCommand }).command, MASTER, event.seq)
              : ({ ...event.message, seq: event.seq } as RoomEvent);
            assert.equal(placeSeq(client, delivered.seq), 'next');
            client = applyEvent(client, delivered);
          }
          room = outcome.room!;
          assert.deepEqual(viewOfSnapshot(client), serverView(room), `after ${JSON.stringify(step)}`);
          assert.equal(client.seq, seq);
        }
      }),
      { numRuns: 400 },
    );
  });
});
