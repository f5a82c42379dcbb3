import { EventEmitter } from 'node:events';
import type { Room } from '../room/room.js';
import { isBroadcast } from '../room/room-event.js';
import type { Commit, CommitResult, RoomEventListener, RoomStore } from './room-store.js';

/** The embedded default: one node, every room in this process's memory. */
export class MemoryRoomStore implements RoomStore {
  private readonly rooms = new Map<string, Room>();
  private readonly bus = new EventEmitter().setMaxListeners(0);

  async create(room: Room): Promise<boolean> {
    if (this.rooms.has(room.name)) return false;
    this.rooms.set(room.name, structuredClone(room));
    return true;
  }

  async list(): Promise<string[]> {
    return [...this.rooms.keys()];
  }

  async load(name: string): Promise<Room | null> {
    const room = this.rooms.get(name);
    return room ? structuredClone(room) : null;
  }

  async commit({ name, expectedVersion, next, events }: Commit): Promise<CommitResult> {
    const current = this.rooms.get(name);
    if (!current) return { status: 'not_found' };
    if (current.version !== expectedVersion) return { status: 'conflict' };

    let seq = current.seq;
    const sequenced = events.map((event) => (isBroadcast(event) ? { ...event, seq: ++seq } : event));
    let stored: Room | null = current;
    if (next === null) {
      this.rooms.delete(name);
      stored = null;
    } else {
      stored = { ...(next ?? current), seq, version: current.version + 1 };
      this.rooms.set(name, stored);
    }
    for (const event of sequenced) this.bus.emit(name, event);
    return { status: 'committed', room: stored && structuredClone(stored), events: sequenced };
  }

  subscribe(name: string, listener: RoomEventListener): () => void {
    this.bus.on(name, listener);
    return () => this.bus.off(name, listener);
  }

  async close(): Promise<void> {
    this.bus.removeAllListeners();
  }
}
