import type { Logger } from 'pino';
import type { MediaEngine } from '../../media/media-engine.js';
import type { MediaMessage } from '../../media/media-messages.js';
import type { MediaAddress } from '../../media/room-media.js';
import type { RoomService } from '../../room/room-service.js';
import { RedisMediaRouter } from './redis-media-router.js';
import { RedisNodeRegistry } from './redis-node-registry.js';
import type { RedisRoomStore } from './redis-room-store.js';

export interface ClusterNodeOptions {
  node: string;
  nodeTimeoutMs: number;
  graceMs: number;
  /** How long a room's media claim outlives its node's last renewal. */
  mediaLeaseMs: number;
  rooms: RoomService;
  media: MediaEngine;
  deliverLocal(to: MediaAddress, message: MediaMessage): void;
}

const REDIS_START_TIMEOUT_MS = 10_000;

/** What makes a node one of a cluster: its heartbeat, and media signaling routed to each room's media node. */
export class RedisClusterNode {
  readonly router: RedisMediaRouter;
  private readonly registry: RedisNodeRegistry;

  constructor(
    private readonly store: RedisRoomStore,
    options: ClusterNodeOptions,
    private readonly log: Logger,
  ) {
    this.registry = new RedisNodeRegistry(
      store.redis,
      {
        node: options.node,
        timeoutMs: options.nodeTimeoutMs,
        graceMs: options.graceMs,
        evict: (dead) => options.rooms.evictNode(dead),
        load: () => options.media.load,
      },
      log,
    );
    this.router = new RedisMediaRouter(
      store.redis,
      { node: options.node, engine: options.media, deliverLocal: options.deliverLocal, leaseMs: options.mediaLeaseMs },
      log,
    );
  }

  /** Joins once Redis answers (or goes on not ready, serving 503, until it does). */
  async start(): Promise<void> {
    try {
      await this.store.redis.waitReady(REDIS_START_TIMEOUT_MS);
    } catch {
      this.log.warn('redis is not reachable yet; serving 503 until it is');
    }
    this.registry.start();
    await this.router.start().catch((error: unknown) => {
      this.log.warn({ err: error }, 'media relay not subscribed yet; retrying');
    });
  }

  async stop(): Promise<void> {
    this.registry.stop();
    await this.router.stop();
  }
}
