import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.js';
import type { MediaRoles, RoomMedia } from '../media/room-media.js';
import type { ConnectionRef } from '../protocol/connection.js';
import { AppError } from '../protocol/errors.js';
import type { MediaMessage } from '../protocol/server-messages.js';
import { mutedMembers, type Room } from '../room/room.js';
import { type RoomEvent, SeqCursor } from '../room/room-event.js';
import type { RoomStore } from '../room/room-store.js';

export interface HostedRoomDeps {
  engine: MediaEngine;
  store: RoomStore;
  send(to: ConnectionRef, message: MediaMessage): void;
  /** Told once when the room's media here has closed. */
  closed(): void;
  log: Logger;
}

const rolesOf = (room: Room): MediaRoles => ({ master: room.masterUuid, muted: mutedMembers(room) });

/**
 * A room whose media this node hosts: its SFU room, kept told of what the room layer decided, by
 * the room's events: whose mute started or ended (RoomEvent.mutes), who left (UserLeave), the room's
 * end (RoomDeleted). It reads the room itself only to start, and again when events were lost.
 */
export class HostedRoom {
  readonly media: RoomMedia;
  private readonly cursor: SeqCursor;
  /** Events that arrive while the room is being read, applied after it. */
  private backlog: RoomEvent[] | undefined;
  private unsubscribe: () => void = () => undefined;
  private open = true;

  private constructor(
    readonly name: string,
    room: Room,
    private readonly deps: HostedRoomDeps,
  ) {
    this.cursor = new SeqCursor(room.seq);
    this.media = deps.engine.open(name, rolesOf(room), deps.send, () => this.mediaClosed());
  }

  /** Opens the room's media here: subscribes to its events first, so no change between the read and the subscription is lost. */
  static async open(name: string, deps: HostedRoomDeps): Promise<HostedRoom> {
    const early: RoomEvent[] = [];
    let hosted: HostedRoom | undefined;
    const unsubscribe = await deps.store.subscribe(name, (event) => (hosted ? hosted.receive(event) : early.push(event)));
    let room: Room | null;
    try {
      room = await deps.store.load(name);
    } catch (error) {
      unsubscribe();
      throw error;
    }
    if (!room) {
      unsubscribe();
      throw new AppError('room_not_found', `room ${name} does not exist`);
    }
    hosted = new HostedRoom(name, room, deps);
    hosted.unsubscribe = unsubscribe;
    for (const event of early) hosted.receive(event);
    return hosted;
  }

  /** Whether this room's media is still hosted here. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Reads the room again (the store came back: events may have been lost meanwhile). */
  async resync(): Promise<void> {
    if (this.backlog) return;
    this.backlog = [];
    await this.reread();
  }

  /** Reads the room: its roles, and the departures missed; then the events that came meanwhile. */
  private async reread(): Promise<void> {
    try {
      const room = await this.deps.store.load(this.name);
      if (!room) {
        this.media.close();
        return;
      }
      this.cursor.last = room.seq;
      this.media.setRoles(rolesOf(room));
      const members = new Set(room.members.map((member) => member.uuid));
      for (const uuid of this.media.uuids()) if (!members.has(uuid)) this.media.memberLeft(uuid);
    } catch (error) {
      // Go on from the events at hand; the store's reconnect reads the room again.
      this.deps.log.warn({ err: error, room: this.name }, 'could not read the room for its media');
      const first = this.backlog?.[0]?.seq;
      if (first !== undefined) this.cursor.last = first - 1;
    } finally {
      const backlog = this.backlog ?? [];
      this.backlog = undefined;
      for (const event of backlog) this.receive(event);
    }
  }

  private receive(event: RoomEvent): void {
    if (!this.open || event.seq === undefined) return;
    if (this.backlog) {
      this.backlog.push(event);
      return;
    }
    const place = this.cursor.place(event.seq);
    if (place === 'stale') return;
    if (place === 'gap') {
      this.backlog = [event];
      void this.reread();
      return;
    }
    this.cursor.last = event.seq;
    if (event.mutes) this.media.mute(event.mutes);
    if (event.message.action === 'UserLeave') this.media.memberLeft(event.message.uuid);
    else if (event.message.action === 'RoomDeleted') this.media.close();
  }

  private mediaClosed(): void {
    if (!this.open) return;
    this.open = false;
    this.unsubscribe();
    this.deps.closed();
  }
}
