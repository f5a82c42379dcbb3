import type { Logger } from 'pino';
import type { NodeInfo, NodeRegistry, NodeReport, NodeStatusFields } from '../node-registry.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

export interface RedisNodeRegistryOptions {
  node: string;
  /** A node silent for this long is dead. */
  timeoutMs: number;
  /** How long a dead node's members keep their place, so they can resume on another node. */
  graceMs: number;
  /** What this node publishes with each heartbeat: its media load, and its status under a key of its own. */
  report: NodeReport;
}

/**
 * Node liveness through Redis. Each node refreshes a key that expires unless refreshed; every node
 * checks the others' keys. When one has expired, a single survivor (by lock) waits out the grace
 * period and, if the node is still silent, hands it to the dead-node handler. Detection takes at most
 * `timeoutMs`.
 */
export class RedisNodeRegistry implements NodeRegistry {
  readonly node: string;
  private timer: NodeJS.Timeout | undefined;
  private readonly reaping = new Set<string>();
  private deadNodeHandler: (node: string) => Promise<unknown> = async () => undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly options: RedisNodeRegistryOptions,
    private readonly log: Logger,
  ) {
    this.node = options.node;
  }

  private get tickMs(): number {
    return Math.max(50, Math.floor(this.options.timeoutMs / 4));
  }

  async liveNodes(): Promise<NodeInfo[]> {
    const { commands } = this.redis;
    const nodes = await commands.smembers(this.keys.nodes);
    const [loads, statuses] = await Promise.all([
      Promise.all(nodes.map((node) => commands.get(this.keys.node(node)))),
      Promise.all(nodes.map((node) => commands.get(this.keys.nodeStatus(node)))),
    ]);
    return nodes.flatMap((node, i) => {
      if (loads[i] === null) return [];
      const status = parseStatus(statuses[i] ?? null);
      return [{ node, load: Number(loads[i]), ...(status && { status }) }];
    });
  }

  onDeadNode(handler: (node: string) => Promise<unknown>): void {
    this.deadNodeHandler = handler;
  }

  async start(): Promise<void> {
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
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async tick(): Promise<void> {
    const { commands } = this.redis;
    const { node, timeoutMs } = this.options;
    // The key outlives one missed tick but not a dead node: checks every tick make detection <= timeoutMs.
    const ttl = timeoutMs - this.tickMs;
    const { report } = this.options;
    // The status first: a node is alive by its load key, and a live node has its status beside it.
    await commands.set(this.keys.nodeStatus(node), JSON.stringify(report.status()), 'PX', ttl);
    await commands.set(this.keys.node(node), String(report.load()), 'PX', ttl);
    await commands.sadd(this.keys.nodes, node);
    const others = (await commands.smembers(this.keys.nodes)).filter((other) => other !== node);
    const alive = await Promise.all(others.map((other) => commands.exists(this.keys.node(other))));
    others.forEach((other, i) => {
      if (alive[i] === 0 && !this.reaping.has(other)) void this.reap(other);
    });
  }

  private async reap(dead: string): Promise<void> {
    const { commands } = this.redis;
    const lock = this.keys.reapLock(dead);
    this.reaping.add(dead);
    try {
      const claimed = await commands.set(lock, this.node, 'PX', this.options.graceMs + 60_000, 'NX');
      if (claimed !== 'OK') return;
      this.log.warn({ node: dead, graceMs: this.options.graceMs }, 'node is silent; evicting its members after the grace period');
      await new Promise((resolve) => setTimeout(resolve, this.options.graceMs));
      // A node that only stalled (a long pause, a slow Redis) and heartbeats again still holds its
      // members' sockets: evicting them would drop live students from their rooms.
      if ((await commands.exists(this.keys.node(dead))) === 1) {
        this.log.warn({ node: dead }, 'node is back within the grace period; its members stay');
      } else {
        await this.deadNodeHandler(dead);
        await commands.srem(this.keys.nodes, dead);
      }
      await commands.del(lock);
    } catch (error) {
      this.log.warn({ err: error, node: dead }, 'evicting a dead node failed; will retry');
    } finally {
      this.reaping.delete(dead);
    }
  }
}

function parseStatus(text: string | null): NodeStatusFields | undefined {
  if (text === null) return undefined;
  try {
    return JSON.parse(text) as NodeStatusFields;
  } catch {
    return undefined;
  }
}
