import type { Room } from '../../room/room.js';

/** Rooms kept at most: the least recently used go first. */
const MAX_COPIES = 10_000;

/**
 * A node's last copy of rooms it read or committed, by name. A copy may be stale (another node
 * committed since); the commit script's version check catches that, and the store forgets the copy.
 */
export class RoomCopies {
  private readonly rooms = new Map<string, Room>();

  get(name: string): Room | undefined {
    const room = this.rooms.get(name);
    if (room) {
      this.rooms.delete(name);
      this.rooms.set(name, room);
    }
    return room;
  }

  keep(room: Room): Room {
    this.rooms.delete(room.name);
    this.rooms.set(room.name, room);
    if (this.rooms.size > MAX_COPIES) this.rooms.delete(this.rooms.keys().next().value!);
    return room;
  }

  forget(name: string): void {
    this.rooms.delete(name);
  }
}
