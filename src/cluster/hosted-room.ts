import type { Logger } from 'pino';
import type { MediaEngine } from '../media/media-engine.js';
import type { MediaRoles, RoomMedia } from '../media/room-media.js';
import type { ConnectionRef } from '../protocol/connection.js';
import { AppError } from '../protocol/errors.js';
import type { MediaMessage } from '../protocol/server-messages.js';
import { mutedMembers, type Room } from '../room/room.js';
import type { RoomEvent } from '../room/room-event.js';
import type { RoomStore } from '../room/room-store.js';
import type { RoomEventStream } from './room-event-stream.js';

export interface HostedRoomDeps {
  engine: MediaEngine;
  /** Where the room is read. */
  store: RoomStore;
  /** Where its events come from, in order. */
  stream: RoomEventStream;
  send(to: ConnectionRef, message: MediaMessage): void;
  /** Told once when the room's media here has closed. */
  closed(): void;
  log: Logger;
}

const rolesOf = (room: Room): MediaRoles => ({ master: room.masterUuid, muted: mutedMembers(room) });

/**
 * A room whose media this node hosts: its SFU room, kept told of what the room layer decided, by
 * the room's events: whose mute started or ended (RoomEvent.mutes), who left (UserLeave), the room's
 * end (RoomDeleted). It reads the room itself only to start, and again if events were lost beyond
 * the kept history.
 */
export class HostedRoom {
  readonly media: RoomMedia;
  /** The seq of the room as last read: events up to it are in what was read. */
  private readSeq: number;
  /** Events that arrive while the room is being read again, applied after it. */
  private backlog: RoomEvent[] | undefined;
  private stopFollowing: () => void = () => undefined;
  private open = true;

  private constructor(
    readonly name: string,
    room: Room,
    private readonly deps: HostedRoomDeps,
  ) {
    this.readSeq = room.seq;
    this.media = deps.engine.open(name, rolesOf(room), deps.send, () => this.mediaClosed());
  }

  /** Opens the room's media here: follows its events first, so no change between the read and the following is lost. */
  static async open(name: string, deps: HostedRoomDeps): Promise<HostedRoom> {
    const early: RoomEvent[] = [];
    let hosted: HostedRoom | undefined;
    const stop = await deps.stream.follow(name, {
      event: (event) => (hosted ? hosted.receive(event) : early.push(event)),
      lost: () => void hosted?.reread(),
    });
    let room: Room | null;
    try {
      room = await deps.store.load(name);
    } catch (error) {
      stop();
      throw error;
    }
    if (!room) {
      stop();
      throw new AppError('room_not_found', `room ${name} does not exist`);
    }
    deps.stream.knownUpTo(name, room.seq);
    hosted = new HostedRoom(name, room, deps);
    hosted.stopFollowing = stop;
    for (const event of early) hosted.receive(event);
    return hosted;
  }

  /** Whether this room's media is still hosted here. */
  get isOpen(): boolean {
    return this.open;
  }

  /** Reads the room again (events were lost): its roles, and the departures missed; then the events that came meanwhile. */
  private async reread(): Promise<void> {
    if (this.backlog) return;
    this.backlog = [];
    try {
      const room = await this.deps.store.load(this.name);
      if (!room) {
        this.media.close();
        return;
      }
      this.readSeq = room.seq;
      this.media.setRoles(rolesOf(room));
      const members = new Set(room.members.map((member) => member.uuid));
      for (const uuid of this.media.uuids()) if (!members.has(uuid)) this.media.memberLeft(uuid);
    } catch (error) {
      this.deps.log.warn({ err: error, room: this.name }, 'could not read the room for its media; going on from its events');
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
    if (event.seq <= this.readSeq) return; // already in what was read
    if (event.mutes) this.media.mute(event.mutes);
    if (event.message.action === 'UserLeave') this.media.memberLeft(event.message.uuid);
    else if (event.message.action === 'RoomDeleted') this.media.close();
  }

  private mediaClosed(): void {
    if (!this.open) return;
    this.open = false;
    this.stopFollowing();
    this.deps.closed();
  }
}
