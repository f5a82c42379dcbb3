import type { Logger } from 'pino';
import type { RoomStore } from '../cluster/room-store.js';
import type { RoomService } from '../room/room-service.js';
import type { MediaMessage } from './media-messages.js';
import type { MediaNetwork } from './media-peer.js';
import type { MediaSignaling } from './media-signaling.js';
import { type MediaAddress, RoomMedia } from './room-media.js';

export interface MediaEngineOptions {
  slots: number;
  /** Answer microphones with Opus DTX (see planAnswer). */
  dtx: boolean;
  network: MediaNetwork;
  rooms: RoomService;
  store: RoomStore;
  /** Hands a message to a participant's connection, wherever it is. */
  deliver(to: MediaAddress, message: MediaMessage): void;
  log: Logger;
}

interface HostedRoom {
  media: RoomMedia;
  unsubscribe: Promise<() => void>;
}

/**
 * The SFU of one node: the rooms whose media this node hosts. It follows each room's events to
 * know who is master and who is muted, and to close the media of those who leave.
 */
/** Candidates a client trickles before its offer is answered, kept per connection until it is. */
const EARLY_CANDIDATES_MAX = 64;

export class MediaEngine implements MediaSignaling {
  private readonly hosted = new Map<string, HostedRoom>();
  private readonly early = new Map<string, [candidate: string, mid: string][]>();

  constructor(private readonly options: MediaEngineOptions) {}

  /** Number of media participants on this node: its load, for choosing media nodes. */
  get load(): number {
    let total = 0;
    for (const room of this.hosted.values()) total += room.media.size;
    return total;
  }

  async offer(room: string, address: MediaAddress, sdp: string): Promise<void> {
    const hosted = await this.host(room);
    await this.refreshRoles(room, hosted.media); // a latecomer under MuteAll is muted from its first packet
    const answer = hosted.media.offer(address, sdp);
    for (const [candidate, mid] of this.early.get(address.conn) ?? []) hosted.media.candidate(address, candidate, mid);
    this.early.delete(address.conn);
    this.options.deliver(address, { action: 'SessionDescription', type: 'answer', sdp: answer });
  }

  async candidate(room: string, address: MediaAddress, candidate: string, mid: string): Promise<void> {
    const media = this.hosted.get(room)?.media;
    if (media?.has(address)) {
      media.candidate(address, candidate, mid);
      return;
    }
    // The offer is still being answered: keep the candidate for it.
    const queued = this.early.get(address.conn) ?? [];
    if (queued.length < EARLY_CANDIDATES_MAX) queued.push([candidate, mid]);
    this.early.set(address.conn, queued);
  }

  async leave(room: string, address: MediaAddress): Promise<void> {
    this.early.delete(address.conn);
    const hosted = this.hosted.get(room);
    if (!hosted) return;
    hosted.media.remove(address.uuid, address.conn, false);
    this.release(room, hosted);
  }

  /** Drops every room this node hosts (shutdown: the clients are told `Reconnect` on their sockets). */
  closeAll(): void {
    for (const room of [...this.hosted.keys()]) this.drop(room, false);
  }

  private async host(room: string): Promise<HostedRoom> {
    let hosted = this.hosted.get(room);
    if (hosted) return hosted;
    const media = new RoomMedia({
      room,
      slots: this.options.slots,
      dtx: this.options.dtx,
      network: this.options.network,
      send: this.options.deliver,
      log: this.options.log,
    });
    hosted = {
      media,
      unsubscribe: this.options.store.subscribe(room, (event) => {
        const action = event.message.action;
        if (action === 'UserLeave') media.remove(event.message.uuid);
        if (action === 'RoomDeleted') this.drop(room);
        else if (action === 'MuteUser' || action === 'MuteAll' || action === 'NewUser') void this.refreshRoles(room, media);
      }),
    };
    this.hosted.set(room, hosted);
    await hosted.unsubscribe;
    await this.refreshRoles(room, media);
    return hosted;
  }

  private async refreshRoles(room: string, media: RoomMedia): Promise<void> {
    try {
      const view = await this.options.rooms.get(room);
      media.setRoles(view.master_uuid, view.muted);
    } catch (error) {
      this.options.log.warn({ err: error, room }, 'could not read the room for its media');
    }
  }

  /** The rooms whose media this node hosts. */
  hostedRooms(): string[] {
    return [...this.hosted.keys()];
  }

  /** Closes a room's media here; `notify` tells its clients MediaClosed. */
  drop(room: string, notify = true): void {
    const hosted = this.hosted.get(room);
    if (!hosted) return;
    hosted.media.close(notify);
    this.release(room, hosted, true);
  }

  private release(room: string, hosted: HostedRoom, force = false): void {
    if (!force && hosted.media.size > 0) return;
    if (this.hosted.get(room) !== hosted) return;
    this.hosted.delete(room);
    hosted.unsubscribe.then(
      (stop) => stop(),
      () => undefined,
    );
  }
}
