import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { AppError } from '../../src/protocol/errors.js';
import type { RoomEvent } from '../../src/room/room-event.js';
import { RoomService } from '../../src/room/room-service.js';
import type { RoomStore } from '../../src/room/room-store.js';

const silent = pino({ level: 'silent' });

/** What every store under test is opened with. */
export const CONTRACT_HISTORY = { size: 5, maxAgeMs: 60_000 };

async function rejectsWith(code: string, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AppError && error.code === code);
}

/** Collects a room's events from a store; `until(n)` waits (with a timeout) for n of them. */
async function collect(store: RoomStore, room: string) {
  const events: RoomEvent[] = [];
  const waiters: (() => void)[] = [];
  const stop = await store.subscribe(room, (event) => {
    events.push(event);
    for (const wake of waiters.splice(0)) wake();
  });
  return {
    events,
    stop,
    async until(count: number, timeoutMs = 5000): Promise<RoomEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`only ${events.length} of ${count} events arrived`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return events;
    },
  };
}

/**
 * The room service's behaviour over a RoomStore. Every store implementation runs these. `open`
 * gives stores that share one backing state (like the nodes of one cluster), each opened with
 * CONTRACT_HISTORY.
 */
export function roomServiceContract(kind: string, open: () => Promise<{ stores: RoomStore[]; close(): Promise<void> }>) {
  const withServices = async (fn: (services: RoomService[], stores: RoomStore[]) => Promise<void>) => {
    const backing = await open();
    try {
      await fn(
        backing.stores.map((store) => new RoomService(store, silent)),
        backing.stores,
      );
    } finally {
      await backing.close();
    }
  };

  test(`${kind}: create, list, get, delete`, () =>
    withServices(async ([rooms]) => {
      await rooms!.create('class', 'teacher');
      await rooms!.create('another', 'teacher');
      await rejectsWith('room_exists', rooms!.create('class', 'other'));
      await rejectsWith('invalid_request', rooms!.create('all', 'teacher'));
      assert.deepEqual(await rooms!.list(), ['another', 'class']);
      assert.deepEqual(await rooms!.get('class'), {
        name: 'class',
        master_uuid: 'teacher',
        users: [],
        names: {},
        id_quran: null,
        aya: null,
        muted: [],
        muted_all: false,
        corrections: [],
      });
      await rooms!.delete('class');
      assert.deepEqual(await rooms!.list(), ['another']);
      await rejectsWith('room_not_found', rooms!.get('class'));
      await rejectsWith('room_not_found', rooms!.delete('class'));
    }));

  test(`${kind}: room events carry gap-free seq and the joiner's room reflects its position`, () =>
    withServices(async ([rooms], [store]) => {
      await rooms!.create('class', 'teacher');
      const seen = await collect(store!, 'class');
      const joined = await rooms!.join('class', 'teacher', 'c1', 'n1');
      assert.equal(joined.seq, 1);
      await rooms!.join('class', 'a', 'c2', 'n1');
      await rooms!.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
      await rooms!.act('class', 'teacher', { action: 'ClickAya', aya: 4 });
      await rooms!.act('class', 'a', { action: 'OfferCorrection' });
      const events = await seen.until(5);
      assert.deepEqual(
        events.map((event) => [event.message.action, event.seq]),
        [
          ['NewUser', 1],
          ['NewUser', 2],
          ['MoveSura', 3],
          ['ClickAya', 4],
          ['OfferCorrection', 5],
        ],
      );
      assert.deepEqual(events[3]!.audience, { to: 'room', except: 'teacher' });
      assert.deepEqual(events[4]!.audience, { to: 'room' });
      const room = await rooms!.get('class');
      assert.equal(room.aya, 4);
      assert.deepEqual(room.users, ['teacher', 'a']);
      seen.stop();
    }));

  test(`${kind}: concurrent writers through different services keep one order`, () =>
    withServices(async (services, stores) => {
      const [first, second] = [services[0]!, services[1] ?? services[0]!];
      await first.create('class', 'teacher');
      const seen = await collect(stores[0]!, 'class');
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        writes.push(first.join('class', `a${i}`, `ca${i}`, 'n1'));
        writes.push(second.join('class', `b${i}`, `cb${i}`, 'n2'));
      }
      await Promise.all(writes);
      const events = await seen.until(40);
      assert.deepEqual(
        events.map((event) => event.seq),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      assert.equal((await first.get('class')).users.length, 40);
      seen.stop();
    }));

  test(`${kind}: kick, leave and acting on a deleted room`, () =>
    withServices(async ([rooms]) => {
      await rooms!.create('class', 'teacher');
      await rooms!.join('class', 'a', 'c1', 'n1');
      await rejectsWith('user_not_found', rooms!.kick('class', 'ghost'));
      await rooms!.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 });
      await rooms!.kick('class', 'a');
      assert.deepEqual((await rooms!.get('class')).users, []);
      await rooms!.delete('class');
      await rooms!.leave('class', 'a', 'c1');
      await rejectsWith('room_not_found', rooms!.act('class', 'teacher', { action: 'ClickAya', aya: 1 }));
      await rejectsWith('room_not_found', rooms!.join('class', 'a', 'c3', 'n1'));
    }));

  test(`${kind}: missed events are kept for resuming, up to the history size`, () =>
    withServices(async ([rooms]) => {
      await rooms!.create('class', 'teacher');
      await rooms!.join('class', 'teacher', 'c1', 'n1');
      await rooms!.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
      for (let aya = 1; aya <= 6; aya++) await rooms!.act('class', 'teacher', { action: 'ClickAya', aya });
      // seq 1 is the join, 2 the MoveSura, 3..8 the ClickAyas; the history keeps the last CONTRACT_HISTORY.size (5).
      const missed = await rooms!.missedEvents('class', 5);
      assert.deepEqual(
        missed!.map((event) => [event.seq, event.message]),
        [
          [6, { action: 'ClickAya', aya: 4 }],
          [7, { action: 'ClickAya', aya: 5 }],
          [8, { action: 'ClickAya', aya: 6 }],
        ],
      );
      assert.deepEqual(await rooms!.missedEvents('class', 8), []);
      assert.equal((await rooms!.missedEvents('class', 3))!.length, 5);
      assert.equal(await rooms!.missedEvents('class', 2), null, 'older than the kept history');
      assert.equal(await rooms!.missedEvents('class', 9), null, 'from the future');
      assert.equal(await rooms!.missedEvents('nowhere', 0), null);
    }));

  test(`${kind}: a node deciding on its own copy of a room never acts on a stale one`, () =>
    withServices(async (services) => {
      const [a, b] = [services[0]!, services[1] ?? services[0]!];
      await a.create('class', 'teacher');
      await a.join('class', 'teacher', 'ct', 'n1');
      await a.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
      await a.act('class', 'teacher', { action: 'ClickAya', aya: 1 }); // a now holds a copy
      await b.join('class', 'late', 'cl', 'n2'); // a's copy is stale from here on
      await a.kick('class', 'late'); // refused on the stale copy (no such user), so decided again
      assert.deepEqual((await a.get('class')).users, ['teacher']);
      await b.act('class', 'teacher', { action: 'MoveSura', id_quran: 3 });
      await a.act('class', 'teacher', { action: 'ClickAya', aya: 2 }); // caught by the version check
      const room = await b.get('class');
      assert.deepEqual([room.id_quran, room.aya], [3, 2]);
      // a's copy says sura 3 (200 ayat); b moves to sura 1 (7): accepted on the stale copy, caught by the version check, refused on a fresh read.
      await b.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 });
      await rejectsWith('aya_out_of_range', a.act('class', 'teacher', { action: 'ClickAya', aya: 100 }));
      await b.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
      await a.act('class', 'teacher', { action: 'ClickAya', aya: 150 }); // a's copy says sura 1: refused there, accepted on a fresh read
      assert.deepEqual([(await b.get('class')).id_quran, (await b.get('class')).aya], [2, 150]);
      // A room deleted and created again elsewhere is a new room to every node.
      await b.delete('class');
      await b.create('class', 'teacher');
      await b.join('class', 'other', 'co', 'n2');
      await a.join('class', 'teacher', 'ct2', 'n1');
      assert.deepEqual((await b.get('class')).users, ['other', 'teacher']);
    }));

  test(`${kind}: the correction queue and display names are stored, so every service sees them`, () =>
    withServices(async (services, stores) => {
      const [a, b] = [services[0]!, services[1] ?? services[0]!];
      await a.create('class', 'teacher');
      const seen = await collect(stores[0]!, 'class');
      await a.join('class', 'teacher', 'ct', 'n1');
      await b.join('class', 'ali', 'ca', 'n2', 'علي بن أبي طالب');
      await a.join('class', 'bilal', 'cb', 'n1');
      assert.deepEqual(await b.act('class', 'ali', { action: 'OfferCorrection' }, { conn: 'ca', id: 'r1', of: 'OfferCorrection' }), {
        replied: true,
      });
      await a.act('class', 'bilal', { action: 'OfferCorrection' });
      // Already queued: nothing changes, so no event carries the reply.
      assert.deepEqual(await a.act('class', 'ali', { action: 'OfferCorrection' }, { conn: 'ca', id: 'r2', of: 'OfferCorrection' }), {
        replied: false,
      });
      let room = await b.get('class');
      assert.deepEqual(room.corrections, ['ali', 'bilal']);
      assert.deepEqual(room.names, { ali: 'علي بن أبي طالب' });
      await a.act('class', 'teacher', { action: 'AnswerCorrection', uuid: 'ali', result: true });
      assert.deepEqual((await b.get('class')).corrections, ['bilal']);
      await rejectsWith('not_queued', b.act('class', 'teacher', { action: 'AnswerCorrection', uuid: 'ali', result: false }));
      await b.act('class', 'bilal', { action: 'WithdrawCorrection' });
      assert.deepEqual((await a.get('class')).corrections, []);
      await b.act('class', 'bilal', { action: 'OfferCorrection' });
      await a.act('class', 'ali', { action: 'OfferCorrection' });
      await a.leave('class', 'bilal', 'cb');
      room = await b.get('class');
      assert.deepEqual(room.corrections, ['ali'], 'leaving leaves the queue');
      await b.kick('class', 'ali');
      room = await a.get('class');
      assert.deepEqual([room.corrections, room.names, room.users], [[], {}, ['teacher']], 'a kick too');

      const events = await seen.until(12);
      assert.deepEqual(
        events.map((event) => [event.message.action, event.seq, event.reply]),
        [
          ['NewUser', 1, undefined],
          ['NewUser', 2, undefined],
          ['NewUser', 3, undefined],
          ['OfferCorrection', 4, { conn: 'ca', id: 'r1', of: 'OfferCorrection' }],
          ['OfferCorrection', 5, undefined],
          ['AnswerCorrection', 6, undefined],
          ['WithdrawCorrection', 7, undefined],
          ['OfferCorrection', 8, undefined],
          ['OfferCorrection', 9, undefined],
          ['UserLeave', 10, undefined],
          ['Kicked', undefined, undefined],
          ['UserLeave', 11, undefined],
        ],
      );
      assert.deepEqual(events[1]!.message, { action: 'NewUser', uuid: 'ali', name: 'علي بن أبي طالب' });
      seen.stop();
    }));

  test(`${kind}: a reply rides the last room-wide event of its commit, and is kept for no one else`, () =>
    withServices(async ([rooms], [store]) => {
      await rooms!.create('class', 'teacher');
      const seen = await collect(store!, 'class');
      await rooms!.join('class', 'teacher', 'ct', 'n1');
      await rooms!.join('class', 'a', 'ca', 'n1');
      const reply = { conn: 'ct', id: 'mute-1', of: 'MuteUser' as const };
      assert.deepEqual(await rooms!.act('class', 'teacher', { action: 'MuteUser', uuid: 'a' }, reply), { replied: true });
      assert.deepEqual(await rooms!.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 }), { replied: false }, 'no id, no reply');
      const events = await seen.until(4);
      assert.deepEqual(events[2]!.reply, reply);
      assert.equal(events[3]!.reply, undefined);
      const missed = await rooms!.missedEvents('class', 2);
      assert.deepEqual(
        missed!.map((event) => event.message.action),
        ['MuteUser', 'MoveSura'],
      );
      seen.stop();
    }));

  test(`${kind}: evicting a dead node ends only the memberships it still holds`, () =>
    withServices(async ([rooms]) => {
      await rooms!.create('one', 'teacher');
      await rooms!.create('two', 'teacher');
      await rooms!.join('one', 'a', 'ca', 'dead');
      await rooms!.join('one', 'b', 'cb', 'alive');
      await rooms!.join('two', 'c', 'cc', 'dead');
      await rooms!.join('two', 'd', 'cd', 'dead');
      await rooms!.join('two', 'd', 'cd2', 'alive'); // d resumed on another node in time
      assert.equal(await rooms!.evictNode('dead'), 2);
      assert.deepEqual((await rooms!.get('one')).users, ['b']);
      assert.deepEqual((await rooms!.get('two')).users, ['d']);
    }));
}
