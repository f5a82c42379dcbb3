import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { AppError } from '../../src/errors.js';
import type { RoomStore } from '../../src/cluster/room-store.js';
import type { RoomEvent } from '../../src/room/room-event.js';
import { RoomService } from '../../src/room/room-service.js';

const silent = pino({ level: 'silent' });

async function rejectsWith(code: string, promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (error: unknown) => error instanceof AppError && error.code === code);
}

/** Collects a room's events from a store until `count` have arrived. */
function collect(store: RoomStore, room: string) {
  const events: RoomEvent[] = [];
  let wake: (() => void) | undefined;
  const stop = store.subscribe(room, (event) => {
    events.push(event);
    wake?.();
  });
  return {
    events,
    stop,
    async until(count: number, timeoutMs = 5000): Promise<RoomEvent[]> {
      const deadline = Date.now() + timeoutMs;
      while (events.length < count) {
        if (Date.now() > deadline) throw new Error(`only ${events.length} of ${count} events arrived`);
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events;
    },
  };
}

/**
 * The room service's behaviour over a RoomStore. Every store implementation runs these:
 * `open` gives stores that share one backing state (like nodes of one cluster).
 */
export function roomServiceContract(kind: string, open: () => Promise<{ stores: RoomStore[]; close(): Promise<void> }>) {
  const withServices = async (fn: (services: RoomService[], stores: RoomStore[]) => Promise<void>) => {
    const backing = await open();
    try {
      await fn(backing.stores.map((store) => new RoomService(store, silent)), backing.stores);
    } finally {
      await backing.close();
    }
  };

  test(`${kind}: create, list, get, delete`, () =>
    withServices(async ([rooms]) => {
      await rooms!.create('class', 'teacher');
      await rejectsWith('room_exists', rooms!.create('class', 'other'));
      await rejectsWith('invalid_request', rooms!.create('all', 'teacher'));
      assert.deepEqual(await rooms!.list(), ['class']);
      assert.deepEqual(await rooms!.get('class'), {
        name: 'class',
        master_uuid: 'teacher',
        users: [],
        id_quran: null,
        aya: null,
        muted: [],
        muted_all: false,
      });
      await rooms!.delete('class');
      assert.deepEqual(await rooms!.list(), []);
      await rejectsWith('room_not_found', rooms!.get('class'));
      await rejectsWith('room_not_found', rooms!.delete('class'));
    }));

  test(`${kind}: room events carry gap-free seq and the joiner's room reflects its position`, () =>
    withServices(async ([rooms], [store]) => {
      await rooms!.create('class', 'teacher');
      const seen = collect(store!, 'class');
      const joined = await rooms!.join('class', 'teacher', 'c1');
      assert.equal(joined.seq, 1);
      await rooms!.join('class', 'a', 'c2');
      await rooms!.act('class', 'teacher', { action: 'ClickAya', aya: 4 });
      await rooms!.act('class', 'a', { action: 'OfferCorrection' });
      const events = await seen.until(4);
      assert.deepEqual(
        events.map((event) => [event.message.action, event.seq]),
        [['NewUser', 1], ['NewUser', 2], ['ClickAya', 3], ['OfferCorrection', undefined]],
      );
      assert.equal((await rooms!.get('class')).aya, 4);
      seen.stop();
    }));

  test(`${kind}: concurrent writers through different services keep one order`, () =>
    withServices(async (services, stores) => {
      const [first, second] = [services[0]!, services[1] ?? services[0]!];
      await first.create('class', 'teacher');
      const seen = collect(stores[0]!, 'class');
      const writes: Promise<unknown>[] = [];
      for (let i = 0; i < 20; i++) {
        writes.push(first.join('class', `a${i}`, `ca${i}`));
        writes.push(second.join('class', `b${i}`, `cb${i}`));
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
      await rooms!.join('class', 'a', 'c1');
      await rejectsWith('user_not_found', rooms!.kick('class', 'ghost'));
      await rooms!.kick('class', 'a');
      assert.deepEqual((await rooms!.get('class')).users, []);
      await rooms!.delete('class');
      await rooms!.leave('class', 'a', 'c1');
      await rejectsWith('room_not_found', rooms!.act('class', 'teacher', { action: 'ClickAya', aya: 1 }));
      await rejectsWith('room_not_found', rooms!.join('class', 'a', 'c3'));
    }));
}
