import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pino } from 'pino';
import { RoomEventStream } from '../../src/cluster/room-event-stream.js';
import type { RoomEvent } from '../../src/room/room-event.js';
import { RoomService } from '../../src/room/room-service.js';
import type { RoomStore } from '../../src/room/room-store.js';
import { LossyStore } from './lossy-store.js';

const silent = pino({ level: 'silent' });

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A follower that keeps what it is told. */
function recorder() {
  const events: RoomEvent[] = [];
  let lost = 0;
  return {
    events,
    get lost() {
      return lost;
    },
    follower: {
      event: (event: RoomEvent) => events.push(event),
      lost: () => {
        lost += 1;
      },
    },
    seqs: () => events.filter((event) => event.seq !== undefined).map((event) => event.seq),
  };
}

/**
 * The gap-free event stream (RoomEventStream) over a RoomStore, whatever the store: every store
 * runs these. `open` gives one store, opened with a history of 5 events per room (CONTRACT_HISTORY).
 */
export function eventStreamContract(kind: string, open: () => Promise<{ store: RoomStore; close(): Promise<void> }>) {
  const withStream = async (fn: (rooms: RoomService, store: LossyStore, stream: RoomEventStream) => Promise<void>) => {
    const backing = await open();
    try {
      const store = new LossyStore(backing.store);
      await fn(new RoomService(store, silent), store, new RoomEventStream(store, silent));
    } finally {
      await backing.close();
    }
  };

  test(`${kind}: every follower of a room gets each event once, room-wide ones in seq order`, () =>
    withStream(async (rooms, _store, stream) => {
      await rooms.create('class', 'teacher');
      const [a, b] = [recorder(), recorder()];
      await stream.follow('class', a.follower);
      const stopB = await stream.follow('class', b.follower);
      await rooms.join('class', 'teacher', 'c1', 'n1');
      await rooms.join('class', 's', 'c2', 'n1');
      await rooms.kick('class', 's');
      await until('four events', () => a.events.length === 4 && b.events.length === 4);
      assert.deepEqual(a.seqs(), [1, 2, 3]);
      assert.deepEqual(
        b.events.map((event) => event.message.action),
        ['NewUser', 'NewUser', 'Kicked', 'UserLeave'],
      );
      stopB();
      await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 7 });
      await until('the MoveSura', () => a.seqs().length === 4);
      assert.equal(b.events.length, 4, 'no event after stopping');
      assert.equal(stream.size, 1);
    }));

  test(`${kind}: an event the subscription lost is fetched from the history before the later ones`, () =>
    withStream(async (rooms, store, stream) => {
      await rooms.create('class', 'teacher');
      const seen = recorder();
      await stream.follow('class', seen.follower);
      await rooms.join('class', 'teacher', 'c1', 'n1');
      await until('the join', () => seen.seqs().length === 1);
      store.lose = (event) => event.seq === 3;
      for (let sura = 1; sura <= 3; sura++) await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: sura });
      await until('seq 4', () => seen.seqs().includes(4));
      assert.equal(store.lost, 1);
      assert.deepEqual(seen.seqs(), [1, 2, 3, 4]);
      assert.deepEqual(
        seen.events.slice(1).map((event) => (event.message as { id_quran: number }).id_quran),
        [1, 2, 3],
      );
    }));

  test(`${kind}: a gap right after a joiner's snapshot is noticed from the snapshot's seq`, () =>
    withStream(async (rooms, store, stream) => {
      await rooms.create('class', 'teacher');
      const seen = recorder();
      const joined = await rooms.join('class', 'teacher', 'c1', 'n1');
      await stream.follow('class', seen.follower);
      stream.knownUpTo('class', joined.seq);
      store.lose = (event) => event.seq === 2;
      await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 1 });
      await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
      await until('seq 3', () => seen.seqs().includes(3));
      assert.deepEqual(seen.seqs(), [2, 3]);
    }));

  test(`${kind}: when the store comes back, what it published meanwhile is fetched`, () =>
    withStream(async (rooms, store, stream) => {
      await rooms.create('class', 'teacher');
      const seen = recorder();
      await stream.follow('class', seen.follower);
      await rooms.join('class', 'teacher', 'c1', 'n1');
      await until('the join', () => seen.seqs().length === 1);
      store.lose = () => true;
      await rooms.act('class', 'teacher', { action: 'MuteAll' });
      await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 2 });
      store.lose = () => false;
      store.reconnected();
      await until('both events', () => seen.seqs().length === 3);
      assert.deepEqual(seen.seqs(), [1, 2, 3]);
      assert.deepEqual(
        seen.events.map((event) => event.message.action),
        ['NewUser', 'MuteAll', 'MoveSura'],
      );
    }));

  test(`${kind}: a room deleted while its events were lost ends with RoomDeleted`, () =>
    withStream(async (rooms, store, stream) => {
      await rooms.create('class', 'teacher');
      const seen = recorder();
      await stream.follow('class', seen.follower);
      await rooms.join('class', 'teacher', 'c1', 'n1');
      await until('the join', () => seen.seqs().length === 1);
      store.lose = () => true;
      await rooms.delete('class');
      store.lose = () => false;
      store.reconnected();
      await until('RoomDeleted', () => seen.events.some((event) => event.message.action === 'RoomDeleted'));
      assert.deepEqual(
        seen.events.map((event) => event.message.action),
        ['NewUser', 'RoomDeleted'],
      );
    }));

  test(`${kind}: events lost beyond the kept history are said to be lost, and the stream goes on`, () =>
    withStream(async (rooms, store, stream) => {
      await rooms.create('class', 'teacher');
      const seen = recorder();
      await stream.follow('class', seen.follower);
      await rooms.join('class', 'teacher', 'c1', 'n1');
      await until('the join', () => seen.seqs().length === 1);
      store.lose = () => true;
      for (let sura = 1; sura <= 7; sura++) await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: sura });
      store.lose = () => false;
      store.reconnected();
      await until('told lost', () => seen.lost === 1);
      await rooms.act('class', 'teacher', { action: 'MoveSura', id_quran: 8 });
      await until('the next event', () => seen.seqs().includes(9));
      assert.deepEqual(seen.seqs(), [1, 9]);
      assert.equal(seen.lost, 1, 'told once: the stream went on from the room as it is');
    }));
}
