import type { Logger } from 'pino';
import { AppError, isAppError } from '../../errors.js';
import type { MediaEngine } from '../../media/media-engine.js';
import type { MediaMessage } from '../../media/media-messages.js';
import type { MediaSignaling } from '../../media/media-signaling.js';
import type { MediaAddress } from '../../media/room-media.js';
import type { RedisConnection } from './redis-connection.js';

type Relay =
  | { kind: 'offer'; room: string; from: MediaAddress; sdp: string }
  | { kind: 'candidate'; room: string; from: MediaAddress; candidate: string; mid: string }
  | { kind: 'leave'; room: string; from: MediaAddress }
  | { kind: 'deliver'; to: MediaAddress; message: MediaMessage };

export interface MediaRouterOptions {
  node: string;
  engine: MediaEngine;
  /** Hands a message to a connection on this node. */
  deliverLocal(to: MediaAddress, message: MediaMessage): void;
  /** A media node that stops renewing its claim loses it after this long. */
  leaseMs: number;
}

/** Renews the claim only while it is still this node's. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

type Scripts = {
  wpRenewClaim(key: string, node: string, ms: number): Promise<number>;
  wpReleaseClaim(key: string, node: string): Promise<number>;
};

/**
 * Puts each room's media on exactly one node of the cluster and carries signaling there.
 *
 * The first offer in a room claims it (SET NX with a lease) for the least loaded live node; the
 * claim is renewed while that node hosts the room. Sessions always talk to their own node, which
 * forwards their signaling to the media node over its relay channel, and answers come back the same
 * way. When a media node stops renewing (it died), the nodes holding its participants' sockets tell
 * them `MediaReconnect`; their new offers claim the room again on a live node.
 */
export class RedisMediaRouter implements MediaSignaling {
  /** Rooms whose media this node hosts and has claimed. */
  private readonly owned = new Set<string>();
  /** Rooms where sockets of this node have media, with the media node they were sent to. */
  private readonly watched = new Map<string, { owner: string; conns: Map<string, MediaAddress> }>();
  /** A media node found dead, kept out of the next claims for a while. */
  private readonly avoid = new Map<string, number>();
  /** Offers whose media node is being looked up, by connection. */
  private readonly finding = new Map<string, Promise<string>>();
  private timer: NodeJS.Timeout | undefined;
  private stopRelay: (() => void) | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly options: MediaRouterOptions,
    private readonly log: Logger,
  ) {
    redis.commands.defineCommand('wpRenewClaim', { numberOfKeys: 1, lua: RENEW });
    redis.commands.defineCommand('wpReleaseClaim', { numberOfKeys: 1, lua: RELEASE });
  }

  private get scripts(): Scripts {
    return this.redis.commands as unknown as Scripts;
  }

  private claimKey(room: string): string {
    return `${this.redis.config.keyPrefix}{${room}}:media`;
  }

  private relayChannel(node: string): string {
    return `${this.redis.config.keyPrefix}{node:${node}}:relay`;
  }

  async start(): Promise<void> {
    const tick = () => {
      void this.maintain()
        .catch((error: unknown) => this.log.debug({ err: error }, 'media claim upkeep failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.tickMs);
        });
    };
    this.timer = setTimeout(tick, this.tickMs);
    await this.listen();
  }

  /** Subscribes to this node's relay channel (again at every upkeep until it succeeds). */
  private async listen(): Promise<void> {
    if (this.stopRelay) return;
    this.stopRelay = await this.redis.subscribe(this.relayChannel(this.options.node), (text) => {
      void this.receive(JSON.parse(text) as Relay).catch((error: unknown) =>
        this.log.warn({ err: error }, 'relayed media signaling failed'),
      );
    });
  }

  /** Gives up every claim at once, so the rooms move without waiting for the lease to run out. */
  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.stopRelay?.();
    this.stopRelay = undefined;
    await Promise.allSettled([...this.owned].map((room) => this.scripts.wpReleaseClaim(this.claimKey(room), this.options.node)));
    this.owned.clear();
  }

  private get tickMs(): number {
    return Math.max(100, Math.floor(this.options.leaseMs / 3));
  }

  async offer(room: string, from: MediaAddress, sdp: string): Promise<void> {
    const finding = this.ownerOf(room);
    this.finding.set(from.conn, finding);
    const owner = await finding.finally(() => this.finding.delete(from.conn));
    let watch = this.watched.get(room);
    if (!watch || watch.owner !== owner) {
      watch = { owner, conns: watch?.conns ?? new Map() };
      this.watched.set(room, watch);
    }
    watch.conns.set(from.conn, from);
    await this.send(owner, { kind: 'offer', room, from, sdp });
  }

  async candidate(room: string, from: MediaAddress, candidate: string, mid: string): Promise<void> {
    // A candidate right behind its offer waits for the offer's media node (the engine queues it there).
    const owner = (await this.finding.get(from.conn)) ?? this.watched.get(room)?.owner;
    if (owner) await this.send(owner, { kind: 'candidate', room, from, candidate, mid });
  }

  async leave(room: string, from: MediaAddress): Promise<void> {
    const watch = this.watched.get(room);
    if (!watch?.conns.delete(from.conn)) return;
    if (watch.conns.size === 0) this.watched.delete(room);
    await this.send(watch.owner, { kind: 'leave', room, from });
  }

  /** The engine's way to reach a participant: on this node directly, elsewhere over its relay. */
  deliver(to: MediaAddress, message: MediaMessage): void {
    if (to.node === this.options.node) {
      this.options.deliverLocal(to, message);
      return;
    }
    this.redis
      .publish(this.relayChannel(to.node), JSON.stringify({ kind: 'deliver', to, message } satisfies Relay))
      .catch((error: unknown) => {
        this.log.debug({ err: error, to: to.node }, 'relaying to a node failed');
      });
  }

  private async send(owner: string, relay: Relay): Promise<void> {
    if (owner === this.options.node) await this.receive(relay);
    else await this.redis.publish(this.relayChannel(owner), JSON.stringify(relay));
  }

  private async receive(relay: Relay): Promise<void> {
    const { engine } = this.options;
    switch (relay.kind) {
      case 'offer':
        this.owned.add(relay.room);
        try {
          await engine.offer(relay.room, relay.from, relay.sdp);
        } catch (error) {
          const refused = isAppError(error) ? error : new AppError('internal_error', 'the media node failed to answer');
          this.deliver(relay.from, { action: 'Error', code: refused.code, message: refused.message });
        }
        return;
      case 'candidate':
        return engine.candidate(relay.room, relay.from, relay.candidate, relay.mid);
      case 'leave':
        return engine.leave(relay.room, relay.from);
      case 'deliver':
        this.options.deliverLocal(relay.to, relay.message);
        return;
    }
  }

  /** The room's media node, claiming the room for the least loaded live node if nobody has it. */
  private async ownerOf(room: string): Promise<string> {
    const key = this.claimKey(room);
    const current = await this.redis.commands.get(key);
    if (current) return current;
    const chosen = await this.leastLoaded();
    const claimed = await this.redis.commands.set(key, chosen, 'PX', this.options.leaseMs, 'NX');
    if (claimed === 'OK') {
      this.log.info({ room, node: chosen }, 'media claimed');
      return chosen;
    }
    return (await this.redis.commands.get(key)) ?? chosen;
  }

  private async leastLoaded(): Promise<string> {
    const { commands, config } = this.redis;
    const now = Date.now();
    for (const [node, until] of this.avoid) if (until < now) this.avoid.delete(node);
    const nodes = (await commands.smembers(`${config.keyPrefix}nodes`)).filter((node) => !this.avoid.has(node));
    const loads = await Promise.all(nodes.map((node) => commands.get(`${config.keyPrefix}node:${node}`)));
    let best = { node: this.options.node, load: this.options.engine.load };
    nodes.forEach((node, i) => {
      const load = loads[i] === null ? undefined : Number(loads[i]);
      if (load !== undefined && load < best.load) best = { node, load };
    });
    return best.node;
  }

  /** Renews this node's claims, releases the empty ones, and notices media nodes that vanished. */
  private async maintain(): Promise<void> {
    const { engine, node, leaseMs } = this.options;
    await this.listen();
    const hosted = new Set(engine.hostedRooms());
    for (const room of hosted) this.owned.add(room);
    for (const room of [...this.owned]) {
      if (!hosted.has(room)) {
        this.owned.delete(room);
        await this.scripts.wpReleaseClaim(this.claimKey(room), node);
      } else if ((await this.scripts.wpRenewClaim(this.claimKey(room), node, leaseMs)) === 0) {
        this.log.warn({ room }, 'lost the media claim; dropping the room media here');
        this.owned.delete(room);
        engine.drop(room, false);
      }
    }
    for (const [room, watch] of this.watched) {
      const owner = await this.redis.commands.get(this.claimKey(room));
      if (owner === watch.owner) continue;
      if (owner === null) this.avoid.set(watch.owner, Date.now() + 30_000);
      this.log.warn({ room, was: watch.owner, now: owner }, 'media node changed; clients reconnect their audio');
      this.watched.delete(room);
      for (const address of watch.conns.values()) this.options.deliverLocal(address, { action: 'MediaReconnect' });
    }
  }
}
