import type { Logger } from 'pino';
import type { ConnectionRef } from '../../protocol/connection.js';
import type { MediaMessage } from '../../protocol/server-messages.js';
import type { LocalMediaRouter } from '../local-media-router.js';
import { type MediaMessageListener, MediaMessageListeners, type MediaRouter, noOffer, refusalOf } from '../media-router.js';
import type { NodeRegistry } from '../node-registry.js';
import { MediaFailover } from './media-failover.js';
import { MediaPlacement } from './media-placement.js';
import { MediaRelay, type Relayed } from './media-relay.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

export interface RedisMediaRouterOptions {
  node: string;
  /** A media node that stops renewing its claim loses it after this long. */
  leaseMs: number;
}

/**
 * One media node per room across the cluster. A session always talks to its own node; the offer
 * goes to the room's media node (MediaPlacement), over the relay (MediaRelay) unless that is this
 * node, where the LocalMediaRouter answers it; everything for the connection comes back the same
 * way. If the media node dies, the connection's node tells it MediaReconnect (MediaFailover).
 */
export class RedisMediaRouter implements MediaRouter {
  private readonly placement: MediaPlacement;
  private readonly relay: MediaRelay;
  private readonly failover: MediaFailover;
  private readonly listeners: MediaMessageListeners;
  /** Offers on their way to their media node, by connection: their candidates go after them. */
  private readonly offers = new Map<string, Promise<string>>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    redis: RedisConnection,
    keys: RedisKeys,
    nodes: NodeRegistry,
    private readonly local: LocalMediaRouter,
    private readonly options: RedisMediaRouterOptions,
    private readonly log: Logger,
  ) {
    this.listeners = new MediaMessageListeners(log);
    this.placement = new MediaPlacement(redis, keys, nodes, { ...options, load: () => local.load }, log);
    this.relay = new MediaRelay(redis, keys, options.node, (relayed) => this.received(relayed), log);
    this.failover = new MediaFailover((to) => this.listeners.emit(to, { action: 'MediaReconnect' }), log);
    // What the media here says to a connection goes to the connection's node.
    local.onMessage((to, message) => this.deliver(to, message));
  }

  /** The placement's claim: the node that hosts the room's media, or is opening it. */
  hostOf(room: string): Promise<string | null> {
    return this.placement.currentOwner(room);
  }

  onMessage(listener: MediaMessageListener): void {
    this.listeners.add(listener);
  }

  async offer(room: string, from: ConnectionRef, sdp: string, id?: string): Promise<void> {
    const sending = this.sendOffer(room, from, sdp, id);
    this.offers.set(from.conn, sending);
    try {
      await sending;
    } catch (error) {
      this.listeners.emit(from, refusalOf(error, this.log, { room, uuid: from.uuid }, { of: 'SessionDescription', id }));
    } finally {
      if (this.offers.get(from.conn) === sending) this.offers.delete(from.conn);
    }
  }

  /** Resolves to the media node once the offer is on its way there. */
  private async sendOffer(room: string, from: ConnectionRef, sdp: string, id: string | undefined): Promise<string> {
    const owner = await this.placement.ownerOf(room);
    this.failover.watch(room, owner, from);
    await this.relay.send(owner, { kind: 'offer', room, from, sdp, ...(id !== undefined && { id }) });
    return owner;
  }

  async candidate(room: string, from: ConnectionRef, candidate: string, mid: string, id?: string): Promise<void> {
    try {
      // A candidate right behind its offer follows it to its media node, after it (which keeps it until the answer).
      const sending = this.offers.get(from.conn)?.catch(() => undefined);
      const owner = (await sending) ?? this.failover.ownerFor(room, from);
      if (owner === undefined) throw noOffer();
      await this.relay.send(owner, { kind: 'candidate', room, from, candidate, mid, ...(id !== undefined && { id }) });
    } catch (error) {
      this.listeners.emit(from, refusalOf(error, this.log, { room, uuid: from.uuid }, { of: 'ICECandidate', id }));
    }
  }

  async connectionClosed(room: string, from: ConnectionRef): Promise<void> {
    const owner = this.failover.unwatch(room, from);
    if (owner === undefined) return;
    await this.relay.send(owner, { kind: 'connectionClosed', room, from }).catch((error: unknown) => {
      this.log.warn({ err: error, room, uuid: from.uuid }, 'closing media on its node failed');
    });
  }

  async start(): Promise<void> {
    const tick = () => {
      void this.upkeep()
        .catch((error: unknown) => this.log.debug({ err: error }, 'media claim upkeep failed'))
        .finally(() => {
          if (this.timer) this.timer = setTimeout(tick, this.tickMs);
        });
    };
    this.timer = setTimeout(tick, this.tickMs);
    await this.relay.listen().catch((error: unknown) => {
      this.log.warn({ err: error }, 'media relay not subscribed yet; retrying');
    });
  }

  /** Gives every claim up at once and hands the rooms over, so they move without waiting for the leases. */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.relay.close();
    await this.placement.releaseAll();
    await this.local.close();
  }

  private get tickMs(): number {
    return Math.max(100, Math.floor(this.options.leaseMs / 3));
  }

  /** Keeps the claims of the rooms hosted here, and notices media nodes that vanished. */
  private async upkeep(): Promise<void> {
    await this.relay.listen();
    for (const room of await this.placement.renew(this.local.hostedRooms())) {
      this.log.warn({ room }, 'lost the media claim; handing the room media over');
      this.local.handOver(room);
    }
    await this.failover.check(
      (room) => this.placement.currentOwner(room),
      (node) => this.placement.avoidNode(node),
    );
  }

  /** To a connection: on this node directly, elsewhere over the relay. */
  private deliver(to: ConnectionRef, message: MediaMessage): void {
    if (to.node === this.options.node) {
      this.listeners.emit(to, message);
      return;
    }
    this.relay.send(to.node, { kind: 'deliver', to, message }).catch((error: unknown) => {
      this.log.debug({ err: error, to: to.node }, 'relaying to a node failed');
    });
  }

  private async received(relayed: Relayed): Promise<void> {
    switch (relayed.kind) {
      case 'offer':
        return this.local.offer(relayed.room, relayed.from, relayed.sdp, relayed.id);
      case 'candidate':
        return this.local.candidate(relayed.room, relayed.from, relayed.candidate, relayed.mid, relayed.id);
      case 'connectionClosed':
        return this.local.connectionClosed(relayed.room, relayed.from);
      case 'deliver':
        this.listeners.emit(relayed.to, relayed.message);
        return;
    }
  }
}
