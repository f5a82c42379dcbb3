import type { Room } from '../../src/room/room.js';
import type { RoomEvent } from '../../src/room/room-event.js';
import type { Commit, CommitResult, RoomEventListener, RoomStore } from '../../src/room/room-store.js';

/**
 * A RoomStore in front of a real one whose subscriptions can lose events, as pub/sub does when
 * Redis goes away, and which the test can say came back (its reconnect listeners are told).
 * Everything else is the real store's.
 */
export class LossyStore implements RoomStore {
  /** Events for which this is true never reach the subscribers. */
  lose: (event: RoomEvent) => boolean = () => false;
  lost = 0;
  private readonly reconnectListeners: (() => void)[] = [];

  constructor(private readonly inner: RoomStore) {}

  create(room: Room): Promise<boolean> {
    return this.inner.create(room);
  }
  list(): Promise<string[]> {
    return this.inner.list();
  }
  count(): Promise<number> {
    return this.inner.count();
  }
  load(name: string): Promise<Room | null> {
    return this.inner.load(name);
  }
  copyOf(name: string): Room | undefined {
    return this.inner.copyOf(name);
  }
  commit(commit: Commit): Promise<CommitResult> {
    return this.inner.commit(commit);
  }
  eventsAfter(name: string, seq: number): Promise<RoomEvent[] | null> {
    return this.inner.eventsAfter(name, seq);
  }
  subscribe(name: string, listener: RoomEventListener): Promise<() => void> {
    return this.inner.subscribe(name, (event) => {
      if (this.lose(event)) this.lost += 1;
      else listener(event);
    });
  }
  isReady(): boolean {
    return this.inner.isReady();
  }
  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
    this.inner.onReconnect(listener);
  }

  /** Tells the reconnect listeners the backend is back. */
  reconnected(): void {
    for (const listener of this.reconnectListeners) listener();
  }
}
