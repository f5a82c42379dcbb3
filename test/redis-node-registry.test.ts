/*
 * Node liveness on a real Redis: two registries, one of which goes silent. A node that stays silent
 * past the grace period is handed to the survivor's dead-node handler once; a node that only
 * stalled (it heartbeats again within the grace) keeps its members.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { pino } from 'pino';
import type { NodeStatusFields } from '../src/cluster/node-registry.js';
import { RedisConnection } from '../src/cluster/redis/redis-connection.js';
import { RedisKeys } from '../src/cluster/redis/redis-keys.js';
import { RedisNodeRegistry } from '../src/cluster/redis/redis-node-registry.js';
import { RedisServer } from './support/redis.js';

const TIMEOUT_MS = 400;
const GRACE_MS = 1500;
const WAIT_MS = 10_000;
const log = pino({ level: 'silent' });

const STATUS: NodeStatusFields = {
  address: '127.0.0.1:0',
  started_at: new Date(0).toISOString(),
  uptime_s: 0,
  rooms: 0,
  sockets: 0,
  media_peers: 0,
  cpu: 0,
  memory: { rss: 0, heap_used: 0 },
};

/** Polls `check` until it holds; fails naming `what` after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(20);
  }
}

async function withTwoNodes(
  run: (nodes: {
    survivor: RedisNodeRegistry;
    silent: RedisNodeRegistry;
    redis: RedisConnection;
    keys: RedisKeys;
    evicted: string[];
  }) => Promise<void>,
) {
  const server = await RedisServer.start();
  const connections: RedisConnection[] = [];
  const registries: RedisNodeRegistry[] = [];
  try {
    const keys = new RedisKeys('wp:');
    const registry = (node: string) => {
      const redis = new RedisConnection({ urls: [server.url], cluster: false }, log);
      connections.push(redis);
      const made = new RedisNodeRegistry(
        redis,
        keys,
        { node, timeoutMs: TIMEOUT_MS, graceMs: GRACE_MS, report: { load: () => 0, status: () => STATUS } },
        log,
      );
      registries.push(made);
      return made;
    };
    const survivor = registry('survivor');
    const silent = registry('silent');
    const evicted: string[] = [];
    survivor.onDeadNode(async (node) => {
      evicted.push(node);
    });
    silent.onDeadNode(async (node) => {
      evicted.push(`by silent: ${node}`);
    });
    await Promise.all(connections.map((connection) => connection.waitReady(WAIT_MS)));
    await survivor.start();
    await silent.start();
    const redis = connections[0]!;
    await until('both nodes alive', async () => (await survivor.liveNodes()).length === 2);
    await run({ survivor, silent, redis, keys, evicted });
  } finally {
    await Promise.all(registries.map((registry) => registry.close()));
    await Promise.all(connections.map((connection) => connection.close()));
    await server.stop();
  }
}

test('a node silent past the grace period is handed to the dead-node handler once, and forgotten', async () => {
  await withTwoNodes(async ({ silent, redis, keys, evicted }) => {
    await silent.close();
    await until('the silent node evicted', async () => evicted.length > 0, TIMEOUT_MS + GRACE_MS + WAIT_MS);
    await until('the silent node forgotten', async () => !(await redis.commands.smembers(keys.nodes)).includes('silent'));
    assert.deepEqual(evicted, ['silent']);
  });
});

test('a node that stalls longer than the node timeout but heartbeats again within the grace keeps its members', async () => {
  await withTwoNodes(async ({ survivor, silent, redis, keys, evicted }) => {
    await silent.close();
    // The survivor found it silent and waits out the grace (it holds the reap lock meanwhile).
    await until('the survivor to start the grace period', async () => (await redis.commands.exists(keys.reapLock('silent'))) === 1);
    await silent.start();
    await until(
      'the grace period over (the reap lock released)',
      async () => (await redis.commands.exists(keys.reapLock('silent'))) === 0,
      GRACE_MS + WAIT_MS,
    );
    assert.deepEqual(evicted, [], 'nobody was evicted');
    assert.ok((await redis.commands.smembers(keys.nodes)).includes('silent'), 'the stalled node is still a member of the cluster');
    assert.deepEqual((await survivor.liveNodes()).map((node) => node.node).sort(), ['silent', 'survivor']);
  });
});
