import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import type { StoreConfig } from '../../config.js';

export type RedisConfig = Extract<StoreConfig, { kind: 'redis' }>;
export type RedisClient = Redis | Cluster;

/**
 * Commands fail at once while Redis is unreachable (no offline queue), so a client action gets
 * `unavailable` instead of hanging; ioredis keeps reconnecting in the background.
 */
const COMMANDS: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false };
const SUBSCRIBER: RedisOptions = { enableOfflineQueue: false, autoResubscribe: true, lazyConnect: false };

function connect(config: RedisConfig, options: RedisOptions, name: string): RedisClient {
  if (!config.cluster) return new Redis(config.urls[0]!, { ...options, connectionName: name });
  const nodes = config.urls.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
  const first = new URL(config.urls[0]!);
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue: options.enableOfflineQueue ?? false,
    shardedSubscribers: true,
    redisOptions: {
      ...options,
      connectionName: name,
      username: first.username || undefined,
      password: first.password || undefined,
      tls: first.protocol === 'rediss:' ? {} : undefined,
    },
  };
  return new Cluster(nodes, clusterOptions);
}

/** The two connections a node keeps: one for commands and scripts, one for pub/sub. */
export class RedisConnection {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a Redis Cluster of version 7 or later. */
  private sharded: Promise<boolean> | undefined;

  constructor(
    readonly config: RedisConfig,
    private readonly log: Logger,
  ) {
    this.commands = connect(config, COMMANDS, 'wigglypuff');
    this.subscriber = connect(config, SUBSCRIBER, 'wigglypuff-sub');
    for (const [client, role] of [
      [this.commands, 'commands'],
      [this.subscriber, 'subscriber'],
    ] as const) {
      client.on('error', (error: Error) => log.warn({ err: error.message, role }, 'redis error'));
      client.on('ready', () => log.info({ role }, 'redis ready'));
      client.on('close', () => log.debug({ role }, 'redis connection closed'));
    }
  }

  get ready(): boolean {
    return this.commands.status === 'ready' && this.subscriber.status === 'ready';
  }

  /** Resolves once both connections are ready (or rejects after `timeoutMs`). */
  async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (Date.now() > deadline) throw new Error(`redis not ready after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  usesShardedPubSub(): Promise<boolean> {
    if (!this.config.cluster) return Promise.resolve(false);
    this.sharded ??= this.commands.info('server').then(
      (info) => Number(/redis_version:(\d+)/.exec(info)?.[1] ?? 0) >= 7,
      (error: unknown) => {
        this.sharded = undefined;
        throw error;
      },
    );
    return this.sharded;
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }
}
