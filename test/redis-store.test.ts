import { randomBytes } from 'node:crypto';
import { after, before, describe } from 'node:test';
import { pino } from 'pino';
import { RedisRoomStore } from '../src/cluster/redis/redis-room-store.js';
import { RedisCluster, RedisServer } from './support/redis.js';
import { CONTRACT_HISTORY, roomServiceContract } from './support/room-service-contract.js';

const silent = pino({ level: 'silent' });

/** Two stores (two "nodes") over one Redis, with a key prefix of their own so tests never share state. */
async function openStores(urls: string[], cluster: boolean) {
  const config = {
    kind: 'redis' as const,
    urls,
    cluster,
    keyPrefix: `t${randomBytes(4).toString('hex')}:`,
    nodeTimeoutMs: 10_000,
    mediaLeaseMs: 3000,
  };
  const stores = [new RedisRoomStore(config, CONTRACT_HISTORY, silent), new RedisRoomStore(config, CONTRACT_HISTORY, silent)];
  await Promise.all(stores.map((store) => store.redis.waitReady(10_000)));
  return { stores, close: async () => void (await Promise.all(stores.map((store) => store.close()))) };
}

describe('room service over one Redis', () => {
  let redis: RedisServer;
  before(async () => {
    redis = await RedisServer.start();
  });
  after(() => redis.stop());
  roomServiceContract('redis store', () => openStores([redis.url], false));
});

describe('room service over a three-master Redis Cluster', () => {
  let cluster: RedisCluster;
  before(async () => {
    cluster = await RedisCluster.start(3);
  });
  after(() => cluster.stop());
  roomServiceContract('redis cluster store', () => openStores(cluster.url.split(','), true));
});
