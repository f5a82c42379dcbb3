import type { Logger } from 'pino';
import type { NodeRegistry } from '../node-registry.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

export interface MediaPlacementOptions {
  node: string;
  /** A media node that stops renewing its claim loses it after this long. */
  leaseMs: number;
  /** This node's media load (when the registry has not heard it yet). */
  load(): number;
}

/** How long a media node found dead is kept out of new claims. */
const AVOID_DEAD_MS = 30_000;

/**
 * Which node hosts each room's media: a claim in Redis, with a lease. The first offer in a room
 * claims it (SET NX) for the least loaded live node; its media node renews the claim while it hosts
 * the room and gives it up when the room empties; a claim not renewed lapses within the lease.
 */
export class MediaPlacement {
  /** Rooms whose claim this node holds. */
  private readonly owned = new Set<string>();
  private readonly avoid = new Map<string, number>();

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly nodes: NodeRegistry,
    private readonly options: MediaPlacementOptions,
    private readonly log: Logger,
  ) {}

  /** The room's media node: the claim's holder, or the least loaded live node, claimed now. */
  async ownerOf(room: string): Promise<string> {
    const key = this.keys.mediaClaim(room);
    const current = await this.redis.commands.get(key);
    if (current) return current;
    const chosen = await this.leastLoaded();
    const claimed = await this.redis.commands.set(key, chosen, 'PX', this.options.leaseMs, 'NX');
    if (claimed === 'OK') {
      this.log.info({ room, node: chosen }, 'media claimed');
      // Renewed from the next upkeep on, while its room opens here.
      if (chosen === this.options.node) this.owned.add(room);
      return chosen;
    }
    return (await this.redis.commands.get(key)) ?? chosen;
  }

  /** The claim's holder now, or null when it lapsed. */
  currentOwner(room: string): Promise<string | null> {
    return this.redis.commands.get(this.keys.mediaClaim(room));
  }

  /** A media node was found dead: no new room goes to it for a while. */
  avoidNode(node: string): void {
    this.avoid.set(node, Date.now() + AVOID_DEAD_MS);
  }

  /**
   * Brings the claims in line with the rooms this node hosts (or opens): renews those, gives up
   * the others. Resolves to the hosted rooms whose claim another node holds now (this node must
   * hand them over); a claim that lapsed with nobody else holding it is taken again.
   */
  async renew(hosted: readonly string[]): Promise<string[]> {
    const { node, leaseMs } = this.options;
    const lost: string[] = [];
    const hostedSet = new Set(hosted);
    for (const room of hosted) this.owned.add(room);
    for (const room of [...this.owned]) {
      if (!hostedSet.has(room)) {
        this.owned.delete(room);
        await this.redis.scripts.wpReleaseClaim(this.keys.mediaClaim(room), node);
      } else if ((await this.redis.scripts.wpRenewClaim(this.keys.mediaClaim(room), node, leaseMs)) === 0) {
        // Lapsed but nobody else claimed it (Redis stalled past the lease): claim it again and keep it.
        const reclaimed = await this.redis.commands.set(this.keys.mediaClaim(room), node, 'PX', leaseMs, 'NX');
        if (reclaimed === 'OK') continue;
        this.owned.delete(room);
        lost.push(room);
      }
    }
    return lost;
  }

  /** Gives up every claim at once, so the rooms move without waiting for the leases to lapse. */
  async releaseAll(): Promise<void> {
    const { node } = this.options;
    await Promise.allSettled([...this.owned].map((room) => this.redis.scripts.wpReleaseClaim(this.keys.mediaClaim(room), node)));
    this.owned.clear();
  }

  private async leastLoaded(): Promise<string> {
    const now = Date.now();
    for (const [node, until] of this.avoid) if (until < now) this.avoid.delete(node);
    let best = { node: this.options.node, load: this.options.load() };
    for (const { node, load } of await this.nodes.liveNodes()) {
      if (!this.avoid.has(node) && load < best.load) best = { node, load };
    }
    return best.node;
  }
}
