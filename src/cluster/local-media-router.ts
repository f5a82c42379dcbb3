import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.js';
import type { ConnectionRef } from '../protocol/connection.js';
import type { RoomStore } from '../room/room-store.js';
import { HostedRoom } from './hosted-room.js';
import { type MediaMessageListener, MediaMessageListeners, type MediaRouter, noOffer, refusalOf } from './media-router.js';
import type { RoomEventStream } from './room-event-stream.js';

/** Candidates a client trickles while its offer is being answered, kept per connection until it is. */
const EARLY_CANDIDATES_MAX = 64;

interface PendingOffer {
  candidates: [candidate: string, mid: string, id: string | undefined][];
  /** The connection ended before its offer was answered. */
  connectionClosed: boolean;
}

/**
 * This node's SFU, reached directly: every room's media is here. On one node it is the media
 * router; in a Redis cluster the RedisMediaRouter hands it the rooms this node is the media node of.
 */
export class LocalMediaRouter implements MediaRouter {
  /** The rooms hosted here (or being opened), by name. */
  private readonly rooms = new Map<string, Promise<HostedRoom>>();
  private readonly pending = new Map<string, PendingOffer>();
  private readonly listeners: MediaMessageListeners;

  constructor(
    /** This node, as media claims name it. */
    private readonly node: string,
    private readonly engine: MediaEngine,
    private readonly store: RoomStore,
    private readonly stream: RoomEventStream,
    private readonly log: Logger,
  ) {
    this.listeners = new MediaMessageListeners(log);
  }

  /** Media participants on this node. */
  get load(): number {
    return this.engine.load;
  }

  /** The rooms whose media is here, or being opened here. */
  hostedRooms(): string[] {
    return [...this.rooms.keys()];
  }

  async hostOf(room: string): Promise<string | null> {
    return this.rooms.has(room) ? this.node : null;
  }

  onMessage(listener: MediaMessageListener): void {
    this.listeners.add(listener);
  }

  async offer(room: string, from: ConnectionRef, sdp: string, id?: string): Promise<void> {
    const pending: PendingOffer = { candidates: [], connectionClosed: false };
    this.pending.set(from.conn, pending);
    try {
      const hosted = await this.host(room);
      if (pending.connectionClosed) {
        hosted.media.closeIfEmpty();
        return;
      }
      const answer = hosted.media.offer(from, sdp);
      this.listeners.emit(from, { action: 'SessionDescription', type: 'answer', sdp: answer });
      for (const [candidate, mid, candidateId] of pending.candidates) this.addCandidate(room, from, candidate, mid, candidateId);
    } catch (error) {
      this.listeners.emit(from, refusalOf(error, this.log, { room, uuid: from.uuid }, { of: 'SessionDescription', id }));
    } finally {
      if (this.pending.get(from.conn) === pending) this.pending.delete(from.conn);
    }
  }

  async candidate(room: string, from: ConnectionRef, candidate: string, mid: string, id?: string): Promise<void> {
    const pending = this.pending.get(from.conn);
    if (pending) {
      if (pending.candidates.length < EARLY_CANDIDATES_MAX) pending.candidates.push([candidate, mid, id]);
      return;
    }
    this.addCandidate(room, from, candidate, mid, id);
  }

  private addCandidate(room: string, from: ConnectionRef, candidate: string, mid: string, id: string | undefined): void {
    const media = this.engine.room(room);
    try {
      if (!media?.has(from)) throw noOffer();
      media.candidate(from, candidate, mid);
    } catch (error) {
      this.listeners.emit(from, refusalOf(error, this.log, { room, uuid: from.uuid }, { of: 'ICECandidate', id }));
    }
  }

  async connectionClosed(room: string, from: ConnectionRef): Promise<void> {
    const pending = this.pending.get(from.conn);
    if (pending) {
      pending.connectionClosed = true;
      this.pending.delete(from.conn);
    }
    this.engine.room(room)?.connectionClosed(from);
  }

  /** The room's media goes elsewhere (this node lost its claim): closed here, untold. */
  handOver(room: string): void {
    this.engine.room(room)?.handOver();
  }

  async start(): Promise<void> {}

  /** Hands every room over, those still opening included, once they are open. */
  async close(): Promise<void> {
    await Promise.allSettled(this.rooms.values());
    for (const room of this.engine.hostedRooms()) this.handOver(room);
  }

  /** The room's media here, opened (subscribed and read) on its first offer. */
  private async host(room: string): Promise<HostedRoom> {
    for (;;) {
      let hosting = this.rooms.get(room);
      if (!hosting) {
        const opening = HostedRoom.open(room, {
          engine: this.engine,
          store: this.store,
          stream: this.stream,
          send: (to, message) => this.listeners.emit(to, message),
          closed: () => {
            if (this.rooms.get(room) === opening) this.rooms.delete(room);
          },
          log: this.log,
        });
        hosting = opening;
        this.rooms.set(room, opening);
        opening.catch(() => {
          if (this.rooms.get(room) === opening) this.rooms.delete(room);
        });
      }
      const hosted = await hosting;
      // It may have closed (emptied) while this offer waited: open it again.
      if (hosted.isOpen) return hosted;
    }
  }
}
