import type { Logger } from 'pino';
import type { ConnectionRef } from '../../protocol/connection.js';

interface Watch {
  owner: string;
  conns: Map<string, ConnectionRef>;
}

/**
 * On the node that holds a connection: which media node its offer went to, so that when that node
 * dies or gives the room up, the connection is told MediaReconnect and its new offer claims the
 * room on a live node.
 */
export class MediaFailover {
  private readonly watched = new Map<string, Watch>();

  constructor(
    private readonly tell: (to: ConnectionRef) => void,
    private readonly log: Logger,
  ) {}

  /**
   * A connection's offer went to `owner`. If the room's other connections here had theirs on
   * another node, that node is no longer the room's: they are told MediaReconnect at once.
   */
  watch(room: string, owner: string, from: ConnectionRef): void {
    const watch = this.watched.get(room);
    if (watch && watch.owner !== owner) {
      watch.conns.delete(from.conn);
      this.moved(room, watch, owner);
    }
    const current = this.watched.get(room) ?? { owner, conns: new Map<string, ConnectionRef>() };
    this.watched.set(room, current);
    current.conns.set(from.conn, from);
  }

  /** Where a connection's offer went, if it made one here. */
  ownerFor(room: string, from: ConnectionRef): string | undefined {
    const watch = this.watched.get(room);
    return watch?.conns.has(from.conn) ? watch.owner : undefined;
  }

  /** The connection ended: no longer watched. Resolves to where its offer had gone. */
  unwatch(room: string, from: ConnectionRef): string | undefined {
    const watch = this.watched.get(room);
    if (!watch?.conns.delete(from.conn)) return undefined;
    if (watch.conns.size === 0) this.watched.delete(room);
    return watch.owner;
  }

  /**
   * Compares each watched room's media node with the claim's holder now; where it changed, tells
   * the room's connections here MediaReconnect. `lapsed` is told of a media node whose claim lapsed (it died).
   */
  async check(currentOwner: (room: string) => Promise<string | null>, lapsed: (node: string) => void): Promise<void> {
    for (const [room, watch] of [...this.watched]) {
      const owner = await currentOwner(room);
      // Looked up meanwhile by an offer that found the new owner: watch() has told them already.
      if (this.watched.get(room) !== watch || owner === watch.owner) continue;
      if (owner === null) lapsed(watch.owner);
      this.moved(room, watch, owner);
    }
  }

  private moved(room: string, watch: Watch, owner: string | null): void {
    this.log.warn({ room, was: watch.owner, now: owner }, 'media node changed; clients reconnect their audio');
    if (this.watched.get(room) === watch) this.watched.delete(room);
    for (const address of watch.conns.values()) this.tell(address);
  }
}
