import type { Room } from './room.js';
import type { RoomEvent } from './room-event.js';

/**
 * What the room layer needs from where rooms live, implemented in cluster/: where room state lives
 * and how room events travel to every node that has members of the room. The embedded single node
 * keeps both in memory; a cluster keeps them in Redis.
 * A store that cannot reach its backend rejects with AppError `unavailable`.
 */
export interface RoomStore {
  /** Adds the room if no room has its name. Resolves false if the name is taken. */
  create(room: Room): Promise<boolean>;
  list(): Promise<string[]>;
  /** How many rooms there are (cheaper than list). */
  count(): Promise<number>;
  load(name: string): Promise<Room | null>;
  /**
   * This node's last copy of the room (from its last read or commit here), or undefined: possibly
   * stale, so only for deciding a change, whose commit fails with `conflict` if it was.
   */
  copyOf(name: string): Room | undefined;
  /**
   * Atomically: if the room is still at `base.version`, replace it by `next` (`null` deletes it,
   * `undefined` leaves it as it is), give every room-wide event the room's next sequence number,
   * keep those in the room's history, and publish all events to the room's subscribers in order.
   */
  commit(commit: Commit): Promise<CommitResult>;
  /**
   * The room-wide events after `seq`, oldest first, or null when the kept history no longer
   * reaches back that far (or the room is gone).
   */
  eventsAfter(name: string, seq: number): Promise<RoomEvent[] | null>;
  /**
   * Listens to every event published in a room, in order. Resolves once the subscription is live,
   * so a commit made afterwards is sure to reach the listener.
   */
  subscribe(name: string, listener: RoomEventListener): Promise<() => void>;
  /** False while the backend is unreachable. */
  isReady(): boolean;
  /** Called after the backend was lost and is back: published events may have been missed meanwhile. */
  onReconnect(listener: () => void): void;
}

export interface Commit {
  name: string;
  /** The room as loaded, that the change was decided on. */
  base: Room;
  next: Room | null | undefined;
  events: RoomEvent[];
}

export type CommitResult =
  /** `room` is the stored room (seq and version updated), or null when it was deleted. */
  | { status: 'committed'; room: Room | null; events: RoomEvent[] }
  /** Another writer changed the room first: load it again and retry. */
  | { status: 'conflict' }
  | { status: 'not_found' };

export type RoomEventListener = (event: RoomEvent) => void;

/** Room events kept for clients resuming with last_seq: at most `size` per room, none older than `maxAgeMs`. */
export interface HistoryLimits {
  size: number;
  maxAgeMs: number;
}

/**
 * The history-age rule: kept events can be replayed only while the oldest one wanted is recent
 * enough; beyond that the client gets a fresh RoomState instead.
 */
export const isReplayable = (oldestCommittedAt: number | undefined, limits: HistoryLimits, now = Date.now()): boolean =>
  oldestCommittedAt === undefined || oldestCommittedAt >= now - limits.maxAgeMs;
