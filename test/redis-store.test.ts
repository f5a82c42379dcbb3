import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { RedisConnection } from '../src/cluster/redis/redis-connection.js';
import { RedisKeys } from '../src/cluster/redis/redis-keys.js';
import { RedisRoomStore } from '../src/cluster/redis/redis-room-store.js';
import { newRoom } from '../src/room/room.js';
import { RoomService } from '../src/room/room-service.js';
import { eventStreamContract } from './support/event-stream-contract.js';
import { RedisCluster, RedisServer } from './support/redis.js';
import { CONTRACT_HISTORY, roomServiceContract } from './support/room-service-contract.js';

const silent = pino({ level: 'silent' });

/**
 * Two stores (two "nodes") over one Redis, each on its own connection as each node has one, with a
 * key prefix of their own so tests never share state.
 */
async function openStores(urls: string[], cluster: boolean) {
  const keys = new RedisKeys(`t${randomBytes(4).toString('hex')}:`);
  const connections = [new RedisConnection({ urls, cluster }, silent), new RedisConnection({ urls, cluster }, silent)];
  await Promise.all(connections.map((connection) => connection.waitReady(10_000)));
  const stores = connections.map((connection) => new RedisRoomStore(connection, keys, CONTRACT_HISTORY, silent));
  return { stores, close: async () => void (await Promise.all(connections.map((connection) => connection.close()))) };
}

/** One store on its own connection and key prefix. */
async function openStore(urls: string[], cluster: boolean) {
  const { stores, close } = await openStores(urls, cluster);
  return { store: stores[0]!, close };
}

describe('room service over one Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());
  roomServiceContract('redis store', () => openStores([redis.url], false));
  eventStreamContract('redis store', () => openStore([redis.url], false));

  test('a room stored before the correction queue existed loads with an empty queue, and then keeps one', async () => {
    const keys = new RedisKeys(`t${randomBytes(4).toString('hex')}:`);
    const connection = new RedisConnection({ urls: [redis.url], cluster: false }, silent);
    try {
      await connection.waitReady(10_000);
      const store = new RedisRoomStore(connection, keys, CONTRACT_HISTORY, silent);
      assert.ok(await store.create(newRoom('old', 'teacher')));
      // Its settings as an earlier version wrote them: no `corrections`.
      const { corrections: _none, members: _members, seq: _seq, version: _version, ...earlier } = newRoom('old', 'teacher');
      await connection.commands.hset(keys.roomState('old'), 'room', JSON.stringify(earlier));
      const fresh = new RedisRoomStore(connection, keys, CONTRACT_HISTORY, silent);
      assert.deepEqual((await fresh.load('old'))!.corrections, []);
      const rooms = new RoomService(fresh, silent);
      await rooms.join('old', 'teacher', 'ct', 'n1');
      await rooms.join('old', 'a', 'ca', 'n1');
      await rooms.act('old', 'a', { action: 'OfferCorrection' });
      const stored = JSON.parse((await connection.commands.hget(keys.roomState('old'), 'room'))!);
      assert.deepEqual(stored.corrections, ['a'], 'the queue is a settings field');
      assert.deepEqual(
        (await new RoomService(new RedisRoomStore(connection, keys, CONTRACT_HISTORY, silent), silent).get('old')).corrections,
        ['a'],
      );
    } finally {
      await connection.close();
    }
  });
});

describe('room service over a three-master Redis Cluster', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await RedisCluster.start(3);
  });
  after(() => cluster.stop());
  roomServiceContract('redis cluster store', () => openStores(cluster.url.split(','), true));
  eventStreamContract('redis cluster store', () => openStore(cluster.url.split(','), true));
});
