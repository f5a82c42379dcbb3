import type { Logger } from 'pino';
import type { ConnectionRef } from '../protocol/connection.js';
import type { MediaMessage } from '../protocol/server-messages.js';
import type { MediaNetwork } from './media-peer.js';
import type { MediaPorts } from './media-ports.js';
import { type MediaRoles, RoomMedia } from './room-media.js';

export interface MediaEngineOptions {
  slots: number;
  /** Answer microphones with Opus DTX (see planAnswer). */
  dtx: boolean;
  network: MediaNetwork;
  /** The UDP ports every peer shares, held for the engine's life. */
  ports: MediaPorts;
  log: Logger;
}

/**
 * The SFU of one node: the rooms whose media it hosts. The layer above opens a room's media here
 * with the room's roles and where its messages go, and keeps it told of changes; the engine itself
 * knows no store and no cluster.
 */
export class MediaEngine {
  private readonly rooms = new Map<string, RoomMedia>();

  constructor(private readonly options: MediaEngineOptions) {}

  /** Number of media participants on this node: its load, for choosing media nodes. */
  get load(): number {
    let total = 0;
    for (const room of this.rooms.values()) total += room.size;
    return total;
  }

  /** The rooms whose media this node hosts. */
  hostedRooms(): string[] {
    return [...this.rooms.keys()];
  }

  room(name: string): RoomMedia | undefined {
    return this.rooms.get(name);
  }

  /**
   * Opens a room's media here. `closed` is told when it closes (deleted, emptied or handed over);
   * the engine forgets it then.
   */
  open(
    name: string,
    roles: MediaRoles,
    send: (to: ConnectionRef, message: MediaMessage) => void,
    closed: () => void = () => undefined,
  ): RoomMedia {
    if (this.rooms.has(name)) throw new Error(`the media of room ${name} is already open`);
    const media: RoomMedia = new RoomMedia({
      room: name,
      slots: this.options.slots,
      dtx: this.options.dtx,
      network: this.options.network,
      ports: this.options.ports,
      roles,
      send,
      closed: () => {
        if (this.rooms.get(name) === media) this.rooms.delete(name);
        closed();
      },
      log: this.options.log,
    });
    this.rooms.set(name, media);
    return media;
  }

  /** The node stops: every room's media is handed over (untold), then the media ports are let go. */
  close(): void {
    for (const media of [...this.rooms.values()]) media.handOver();
    this.options.ports.close();
  }
}
