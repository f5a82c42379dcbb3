import type { Logger } from 'pino';
import type { RedisConnection } from './redis-connection.js';

export interface NodeRegistryOptions {
  /** This node, as room memberships name it. */
  node: string;
  /** A node silent for this long is dead. */
  timeoutMs: number;
  /** How long a dead node's members keep their place, so they can resume on another node. */
  graceMs: number;
  /** Ends the memberships a dead node still holds. */
  evict(node: string): Promise<unknown>;
  /** This node's load (media participants), published with each heartbeat. */
  load(): number;
}

/**
 * Node liveness through Redis. Each node refreshes a key that expires unless refreshed; every node
 * checks the others' keys. When one has expired, a single survivor (by lock) waits out the grace
 * period and evicts the dead node's members. Detection takes at most `timeoutMs`.
 */
export class RedisNodeRegistry {
  private timer: NodeJS.Timeout | undefined;
  private readonly reaping = new Set<string>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: NodeRegistryOptions,
    private readonly log: Logger,
  ) {}

  private get prefix(): string {
    return this.redis.config.keyPrefix;
  }

  private get tickMs(): number {
    return Math.max(50, Math.floor(this.options.timeoutMs / 4));
  }

  start(): void {
    const tick = () => {
      this.tick()
        .catch((error: unknown) => this.log.debug({ err: error }, 'node heartbeat failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.tickMs);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops heartbeating: the others will find this node dead and clean up after it. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    const { commands } = this.redis;
    const { node, timeoutMs } = this.options;
    // The key outlives one missed tick but not a dead node: checks every tick make detection <= timeoutMs.
    await commands.set(`${this.prefix}node:${node}`, String(this.options.load()), 'PX', timeoutMs - this.tickMs);
    await commands.sadd(`${this.prefix}nodes`, node);
    const others = (await commands.smembers(`${this.prefix}nodes`)).filter((other) => other !== node);
    const alive = await Promise.all(others.map((other) => commands.exists(`${this.prefix}node:${other}`)));
    others.forEach((other, i) => {
      if (alive[i] === 0 && !this.reaping.has(other)) void this.reap(other);
    });
  }

  private async reap(dead: string): Promise<void> {
    const { commands } = this.redis;
    const lock = `${this.prefix}reap:${dead}`;
    this.reaping.add(dead);
    try {
      const claimed = await commands.set(lock, this.options.node, 'PX', this.options.graceMs + 60_000, 'NX');
      if (claimed !== 'OK') return;
      this.log.warn({ node: dead, graceMs: this.options.graceMs }, 'node is dead; evicting its members after the grace period');
      await new Promise((resolve) => setTimeout(resolve, this.options.graceMs));
      await this.options.evict(dead);
      await commands.srem(`${this.prefix}nodes`, dead);
      await commands.del(lock);
    } catch (error) {
      this.log.warn({ err: error, node: dead }, 'evicting a dead node failed; will retry');
    } finally {
      this.reaping.delete(dead);
    }
  }
}
