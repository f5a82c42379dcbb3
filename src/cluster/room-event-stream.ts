import type { Logger } from 'pino';
import { CloseCode } from '../protocol/errors.js';
import { type RoomEvent, SeqCursor } from '../room/room-event.js';
import type { RoomStore } from '../room/room-store.js';

const CATCH_UP_RETRY_MS = 1000;

/** One who follows a room's events on this node (its sockets, the media it hosts). */
export interface RoomEventFollower {
  /** Each event of the room, once, room-wide ones in seq order without a gap. */
  event(event: RoomEvent): void;
  /** Events were lost beyond the kept history while the room still exists: what is known of it may be stale. */
  lost?(): void;
}

interface FollowedRoom {
  name: string;
  followers: Set<RoomEventFollower>;
  /** Resolves once the room's events reach this node. */
  subscription: Promise<() => void>;
  /** The last room-wide seq handed to the followers. */
  cursor: SeqCursor;
  /** While missed events are being fetched, later ones wait here, in order. */
  backlog?: RoomEvent[];
}

/**
 * This node's gap-free view of each room's events, on any RoomStore: one subscription per room
 * however many follow it, room-wide events in seq order, each once. A gap (pub/sub lost a message,
 * or the store came back after an outage) is filled from the room's history before later events
 * go on; a room that vanished meanwhile ends with RoomDeleted.
 */
export class RoomEventStream {
  private readonly rooms = new Map<string, FollowedRoom>();

  constructor(
    private readonly store: RoomStore,
    private readonly log: Logger,
  ) {
    store.onReconnect(() => {
      for (const room of this.rooms.values()) void this.catchUp(room);
    });
  }

  /**
   * Follows a room; resolves once its events are sure to reach `follower`, to the function that
   * stops following. Rejects (AppError `unavailable`) when the store cannot subscribe.
   */
  async follow(name: string, follower: RoomEventFollower): Promise<() => void> {
    let room = this.rooms.get(name);
    if (!room) {
      const opened: FollowedRoom = { name, followers: new Set(), subscription: Promise.resolve(() => {}), cursor: new SeqCursor() };
      opened.subscription = this.store.subscribe(name, (event) => this.receive(opened, event));
      opened.subscription.catch(() => undefined);
      this.rooms.set(name, opened);
      room = opened;
    }
    room.followers.add(follower);
    const stop = () => this.unfollow(room, follower);
    try {
      await room.subscription;
    } catch (error) {
      stop();
      throw error;
    }
    return stop;
  }

  /** The room's events up to `seq` are known to have happened (a joiner's snapshot): a later gap is noticed from there. */
  knownUpTo(name: string, seq: number): void {
    const room = this.rooms.get(name);
    if (room && room.cursor.last === undefined) room.cursor.last = seq;
  }

  /** Rooms followed on this node. */
  get size(): number {
    return this.rooms.size;
  }

  private unfollow(room: FollowedRoom, follower: RoomEventFollower): void {
    if (!room.followers.delete(follower) || room.followers.size > 0 || this.rooms.get(room.name) !== room) return;
    this.rooms.delete(room.name);
    room.subscription.then(
      (unsubscribe) => unsubscribe(),
      () => undefined,
    );
  }

  private receive(room: FollowedRoom, event: RoomEvent): void {
    if (room.backlog) {
      room.backlog.push(event);
      return;
    }
    if (event.seq !== undefined && room.cursor.place(event.seq) === 'gap') {
      room.backlog = [event];
      void this.catchUp(room);
      return;
    }
    this.hand(room, event);
  }

  /** Fetches what the room published after the last seq handed on, then releases the backlog. */
  private async catchUp(room: FollowedRoom): Promise<void> {
    if (!room.backlog) {
      if (room.cursor.last === undefined) return;
      room.backlog = [];
    }
    try {
      const missed = await this.store.eventsAfter(room.name, room.cursor.last!);
      const current = missed ? undefined : await this.store.load(room.name);
      if (missed) {
        for (const event of missed) this.hand(room, event);
      } else if (!current) {
        // The room is gone: nothing held back matters any more (its own RoomDeleted included).
        room.backlog = [];
        this.hand(room, { audience: { to: 'room' }, message: { action: 'RoomDeleted' }, close: CloseCode.roomDeleted });
      } else {
        this.log.warn({ room: room.name, after: room.cursor.last }, 'room events lost beyond the kept history');
        // Go on from the room as it is now: what came before it is lost, what comes after is not.
        room.cursor.last = current.seq;
        for (const follower of [...room.followers]) this.tell(room, () => follower.lost?.());
      }
    } catch (error) {
      this.log.warn({ err: error, room: room.name }, 'could not fetch missed room events');
      // Later events keep waiting behind the gap. While the store is down, its reconnect starts the
      // next catch-up; otherwise try again soon.
      if (this.store.isReady()) {
        setTimeout(() => {
          if (this.rooms.get(room.name) === room) void this.catchUp(room);
        }, CATCH_UP_RETRY_MS).unref();
      }
      return;
    }
    const backlog = room.backlog ?? [];
    room.backlog = undefined;
    for (const event of backlog) this.hand(room, event);
  }

  private hand(room: FollowedRoom, event: RoomEvent): void {
    if (event.seq !== undefined) {
      if (room.cursor.place(event.seq) === 'stale') return;
      room.cursor.last = event.seq;
    }
    for (const follower of [...room.followers]) this.tell(room, () => follower.event(event));
  }

  /** A follower that throws is logged; the others still get the event. */
  private tell(room: FollowedRoom, call: () => void): void {
    try {
      call();
    } catch (error) {
      this.log.error({ err: error, room: room.name }, 'room event follower failed');
    }
  }
}
