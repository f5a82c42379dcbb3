import type { Room } from '../room/room.js';
import type { RoomEvent } from '../room/room-event.js';

/**
 * The cluster seam: where room state lives and how room events travel to every node that has
 * members of the room. The embedded single node keeps both in memory; a cluster keeps them in Redis.
 */
export interface RoomStore {
  /** Adds the room if no room has its name. Resolves false if the name is taken. */
  create(room: Room): Promise<boolean>;
  list(): Promise<string[]>;
  load(name: string): Promise<Room | null>;
  /**
   * Atomically: if the room is still at `expectedVersion`, replace it by `next` (`null` deletes it,
   * `undefined` leaves it as it is), give every room-wide event the room's next sequence number, and
   * publish the events to the room's subscribers in that order.
   */
  commit(commit: Commit): Promise<CommitResult>;
  /** Listens to every event published in a room, in order. Returns the function that stops it. */
  subscribe(name: string, listener: RoomEventListener): () => void;
  close(): Promise<void>;
}

export interface Commit {
  name: string;
  expectedVersion: number;
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
