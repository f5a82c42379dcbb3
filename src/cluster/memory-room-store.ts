import { EventEmitter } from 'node:events';
import type { Room } from '../room/room.js';
import { type RoomEvent, sequence } from '../room/room-event.js';
import {
  type Commit,
  type CommitResult,
  type HistoryLimits,
  isReplayable,
  type RoomEventListener,
  type RoomStore,
} from '../room/room-store.js';

interface StoredRoom {
  room: Room;
  history: { event: RoomEvent; at: number }[];
}

/**
 * The embedded default: one node, every room in this process's memory. Rooms are never changed in
 * place (see Room), so it keeps and hands out the very objects, without copying them.
 */
export class MemoryRoomStore implements RoomStore {
  private readonly rooms = new Map<string, StoredRoom>();
  private readonly bus = new EventEmitter().setMaxListeners(0);

  constructor(private readonly history: HistoryLimits) {}

  async create(room: Room): Promise<boolean> {
    if (this.rooms.has(room.name)) return false;
    this.rooms.set(room.name, { room, history: [] });
    return true;
  }

  async list(): Promise<string[]> {
    return [...this.rooms.keys()];
  }

  async count(): Promise<number> {
    return this.rooms.size;
  }

  async load(name: string): Promise<Room | null> {
    const stored = this.rooms.get(name);
    return stored?.room ?? null;
  }

  /** Memory is the only copy: never stale. */
  copyOf(name: string): Room | undefined {
    return this.rooms.get(name)?.room;
  }

  async commit({ name, base, next, events }: Commit): Promise<CommitResult> {
    const stored = this.rooms.get(name);
    if (!stored) return { status: 'not_found' };
    const current = stored.room;
    if (current.version !== base.version) return { status: 'conflict' };

    const sequenced = sequence(events, current.seq);
    const seq = sequenced.reduce((last, event) => event.seq ?? last, current.seq);
    let room: Room | null = null;
    if (next === null) {
      this.rooms.delete(name);
    } else {
      room = { ...(next ?? current), seq, version: current.version + 1 };
      stored.room = room;
      const at = Date.now();
      for (const event of sequenced) if (event.seq !== undefined) stored.history.push({ event, at });
      if (stored.history.length > this.history.size) stored.history.splice(0, stored.history.length - this.history.size);
    }
    for (const event of sequenced) this.bus.emit(name, event);
    return { status: 'committed', room, events: sequenced };
  }

  async eventsAfter(name: string, seq: number): Promise<RoomEvent[] | null> {
    const stored = this.rooms.get(name);
    if (!stored || seq > stored.room.seq) return null;
    const wanted = stored.history.filter(({ event }) => event.seq! > seq);
    if (wanted.length !== stored.room.seq - seq) return null;
    if (!isReplayable(wanted[0]?.at, this.history)) return null;
    return wanted.map(({ event }) => event);
  }

  async subscribe(name: string, listener: RoomEventListener): Promise<() => void> {
    this.bus.on(name, listener);
    return () => this.bus.off(name, listener);
  }

  isReady(): boolean {
    return true;
  }

  onReconnect(_listener: () => void): void {
    // Memory is never lost while the process lives.
  }

  async close(): Promise<void> {
    this.bus.removeAllListeners();
  }
}
