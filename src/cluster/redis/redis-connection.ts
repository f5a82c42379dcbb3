import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { defineScripts, type Scripts } from './scripts.js';

/** Where Redis is: one server, or the seed nodes of a Redis Cluster. */
export interface RedisConfig {
  urls: string[];
  cluster: boolean;
}
export type RedisClient = Redis | Cluster;

/**
 * Commands fail at once while Redis is unreachable (no offline queue), so a client action gets
 * `unavailable` instead of hanging; ioredis keeps reconnecting in the background.
 */
const COMMANDS: RedisOptions = { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false };
const SUBSCRIBER: RedisOptions = { enableOfflineQueue: false, autoResubscribe: true, lazyConnect: false };

const CLUSTER_COMMAND_TIMEOUT_MS = 2000;

function connect(config: RedisConfig, options: RedisOptions, name: string): RedisClient {
  if (!config.cluster) return new Redis(config.urls[0]!, { ...options, connectionName: name });
  const nodes = config.urls.map((url) => {
    const parsed = new URL(url);
    return { host: parsed.hostname, port: Number(parsed.port || 6379) };
  });
  const first = new URL(config.urls[0]!);
  const clusterOptions: ClusterOptions = {
    // ioredis opens its connection to each master on first use and refreshes slots on its own: a
    // command must wait for that instead of failing, so a cluster queues (with commandTimeout above).
    enableOfflineQueue: true,
    shardedSubscribers: true,
    redisOptions: {
      ...options,
      // With the queue on (below), a bound on every command keeps "unavailable" prompt when Redis is lost.
      commandTimeout: CLUSTER_COMMAND_TIMEOUT_MS,
      connectionName: name,
      username: first.username || undefined,
      password: first.password || undefined,
      tls: first.protocol === 'rediss:' ? {} : undefined,
    },
  };
  return new Cluster(nodes, clusterOptions);
}

export type ChannelHandler = (message: string) => void;

const SUBSCRIBE_ATTEMPTS = 20;
const SUBSCRIBE_RETRY_MS = 150;

/**
 * The two connections a node keeps, opened once and shared by every part of the cluster (store,
 * node registry, media router): one for commands and scripts, one for pub/sub.
 */
export class RedisConnection {
  readonly commands: RedisClient;
  readonly subscriber: RedisClient;
  readonly scripts: Scripts;
  private readonly channels = new Map<string, Set<ChannelHandler>>();
  /** Sharded pub/sub (SPUBLISH/SSUBSCRIBE) on a Redis Cluster of version 7 or later. */
  private sharded: Promise<boolean> | undefined;
  private readonly reconnectListeners: (() => void)[] = [];
  private wasReady = false;
  private lost = false;

  constructor(
    readonly config: RedisConfig,
    private readonly log: Logger,
  ) {
    this.commands = connect(config, COMMANDS, 'wigglypuff');
    this.subscriber = connect(config, SUBSCRIBER, 'wigglypuff-sub');
    this.scripts = defineScripts(this.commands);
    for (const [client, role] of [
      [this.commands, 'commands'],
      [this.subscriber, 'subscriber'],
    ] as const) {
      client.on('error', (error: Error) => log.warn({ err: error.message, role }, 'redis error'));
      client.on('ready', () => log.info({ role }, 'redis ready'));
      client.on('close', () => log.debug({ role }, 'redis connection closed'));
    }
    const receive = (channel: string | Buffer, message: string | Buffer) => {
      const handlers = this.channels.get(channel.toString());
      if (!handlers) return;
      const text = message.toString();
      for (const handler of handlers) {
        try {
          handler(text);
        } catch (error) {
          log.error({ err: error, channel: channel.toString() }, 'channel handler failed');
        }
      }
    };
    this.subscriber.on('message', receive);
    this.subscriber.on('smessage', receive);
    // After an outage, tell listeners once both connections are back (pub/sub may have lost messages).
    for (const client of [this.commands, this.subscriber]) {
      client.on('close', () => {
        if (this.wasReady) this.lost = true;
      });
      client.on('ready', () => {
        if (!this.ready) return;
        this.wasReady = true;
        if (!this.lost) return;
        this.lost = false;
        for (const listener of this.reconnectListeners) listener();
      });
    }
  }

  /** Called each time Redis was lost and is back: messages published meanwhile may have been missed. */
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  /** Publishes on a channel (sharded on a Redis Cluster 7+). */
  async publish(channel: string, message: string): Promise<void> {
    if (await this.usesShardedPubSub()) await this.commands.spublish(channel, message);
    else await this.commands.publish(channel, message);
  }

  /**
   * Listens to a channel; resolves once the subscription is live. One Redis subscription per channel
   * however many handlers; the returned function removes this handler.
   */
  async subscribe(channel: string, handler: ChannelHandler): Promise<() => void> {
    let handlers = this.channels.get(channel);
    if (!handlers) {
      handlers = new Set();
      this.channels.set(channel, handlers);
      try {
        await this.subscribeOnce(channel);
      } catch (error) {
        if (handlers.size === 0) this.channels.delete(channel);
        throw error;
      }
    }
    handlers.add(handler);
    return () => this.unsubscribe(channel, handler);
  }

  /**
   * A Redis Cluster's sharded subscribers connect to each master lazily, so a subscription right
   * after start can be refused for a moment: try again briefly before calling Redis unreachable.
   */
  private async subscribeOnce(channel: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        if (await this.usesShardedPubSub()) await this.subscriber.ssubscribe(channel);
        else await this.subscriber.subscribe(channel);
        return;
      } catch (error) {
        if (attempt >= SUBSCRIBE_ATTEMPTS) throw error;
        await new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_RETRY_MS));
      }
    }
  }

  private unsubscribe(channel: string, handler: ChannelHandler): void {
    const handlers = this.channels.get(channel);
    if (!handlers?.delete(handler) || handlers.size > 0) return;
    this.channels.delete(channel);
    void this.usesShardedPubSub()
      .then((sharded) => (sharded ? this.subscriber.sunsubscribe(channel) : this.subscriber.unsubscribe(channel)))
      .catch((error: unknown) => this.log.debug({ err: error, channel }, 'unsubscribe failed'));
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
    this.channels.clear();
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }
}
