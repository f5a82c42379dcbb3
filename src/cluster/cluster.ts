import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.js';
import type { HistoryLimits, RoomStore } from '../room/room-store.js';
import { LocalMediaRouter } from './local-media-router.js';
import { LocalNodeRegistry } from './local-node-registry.js';
import type { MediaRouter } from './media-router.js';
import { MemoryRoomStore } from './memory-room-store.js';
import type { NodeRegistry, NodeStatusFields } from './node-registry.js';
import { type RedisConfig, RedisConnection } from './redis/redis-connection.js';
import { RedisKeys } from './redis/redis-keys.js';
import { RedisMediaRouter } from './redis/redis-media-router.js';
import { RedisNodeRegistry } from './redis/redis-node-registry.js';
import { RedisRoomStore } from './redis/redis-room-store.js';
import { RoomEventStream } from './room-event-stream.js';

/** Where rooms live: this process's memory (one node), or Redis (every node on it is one cluster). */
export type StoreConfig =
  | { kind: 'memory' }
  | (RedisConfig & { kind: 'redis'; keyPrefix: string; nodeTimeoutMs: number; mediaLeaseMs: number });

export interface ClusterOptions {
  store: StoreConfig;
  history: HistoryLimits;
  /** How long a dead node's members keep their place. */
  reconnectGraceMs: number;
  /** This process, as room memberships and media claims name it. */
  node: string;
  /** This node's SFU; the cluster decides which rooms' media it hosts. */
  media: MediaEngine;
  /** This node's status, as the node registry tells the others (read at each heartbeat, and on asking). */
  status(): NodeStatusFields;
  log: Logger;
  /** Told the duration of every store operation against Redis, in seconds. */
  onRoundTrip?(seconds: number): void;
}

/**
 * The node's place in the world, chosen once: where room state lives and how events travel
 * (`store`, `events`), which nodes are alive (`nodes`), where each room's media is (`media`). One node alone
 * keeps all of it in memory; with Redis every part shares one connection.
 */
export interface Cluster {
  readonly store: RoomStore;
  /** This node's gap-free view of each room's events, over the store. */
  readonly events: RoomEventStream;
  readonly nodes: NodeRegistry;
  readonly media: MediaRouter;
  /** Joins the cluster (or goes on not ready, serving 503, until Redis answers). */
  start(): Promise<void>;
  /** Leaves it: media handed over, heartbeat stopped, connections closed. */
  close(): Promise<void>;
}

const REDIS_START_TIMEOUT_MS = 10_000;

export function openCluster(options: ClusterOptions): Cluster {
  const { store: config, node, media, log } = options;
  if (config.kind === 'memory') {
    const store = new MemoryRoomStore(options.history);
    const events = new RoomEventStream(store, log);
    const router = new LocalMediaRouter(node, media, store, events, log);
    const nodes = new LocalNodeRegistry(node, { load: () => media.load, status: options.status });
    return {
      store,
      events,
      nodes,
      media: router,
      start: () => router.start(),
      async close() {
        await router.close();
        await store.close();
      },
    };
  }

  const redis = new RedisConnection(config, log);
  const keys = new RedisKeys(config.keyPrefix);
  const store = new RedisRoomStore(redis, keys, options.history, log, options.onRoundTrip);
  const events = new RoomEventStream(store, log);
  const nodes = new RedisNodeRegistry(
    redis,
    keys,
    {
      node,
      timeoutMs: config.nodeTimeoutMs,
      graceMs: options.reconnectGraceMs,
      report: { load: () => media.load, status: options.status },
    },
    log,
  );
  const local = new LocalMediaRouter(node, media, store, events, log);
  const router = new RedisMediaRouter(redis, keys, nodes, local, { node, leaseMs: config.mediaLeaseMs }, log);
  return {
    store,
    events,
    nodes,
    media: router,
    async start() {
      await redis.waitReady(REDIS_START_TIMEOUT_MS).catch(() => log.warn('redis is not reachable yet; serving 503 until it is'));
      await nodes.start();
      await router.start();
    },
    async close() {
      await router.close();
      await nodes.close();
      await redis.close();
    },
  };
}
