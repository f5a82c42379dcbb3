import type { Logger } from 'pino';
import type { RoomStore } from '../../cluster/room-store.js';
import type { Audience, RoomEvent } from '../../room/room-event.js';
import type { Session } from './session.js';

interface LocalRoom {
  sessions: Set<Session>;
  unsubscribe: () => void;
}

/**
 * This node's sockets, by room. It listens to a room's events while it holds at least one of the
 * room's sockets, and hands each event to the sockets it is addressed to.
 */
export class RoomFanout {
  private readonly rooms = new Map<string, LocalRoom>();

  constructor(
    private readonly store: RoomStore,
    private readonly log: Logger,
  ) {}

  add(session: Session): void {
    let local = this.rooms.get(session.room);
    if (!local) {
      const sessions = new Set<Session>();
      const unsubscribe = this.store.subscribe(session.room, (event) => this.dispatch(sessions, event));
      local = { sessions, unsubscribe };
      this.rooms.set(session.room, local);
    }
    local.sessions.add(session);
  }

  remove(session: Session): void {
    const local = this.rooms.get(session.room);
    if (!local?.sessions.delete(session)) return;
    if (local.sessions.size === 0) {
      local.unsubscribe();
      this.rooms.delete(session.room);
    }
  }

  *sessions(): IterableIterator<Session> {
    for (const local of this.rooms.values()) yield* local.sessions;
  }

  get size(): number {
    let count = 0;
    for (const local of this.rooms.values()) count += local.sessions.size;
    return count;
  }

  private dispatch(sessions: Set<Session>, event: RoomEvent): void {
    for (const session of [...sessions]) {
      if (!addressedTo(event.audience, session)) continue;
      try {
        session.deliver(event);
      } catch (error) {
        this.log.error({ err: error, room: session.room, uuid: session.uuid }, 'delivery failed');
      }
    }
  }
}

function addressedTo(audience: Audience, session: Session): boolean {
  switch (audience.to) {
    case 'room':
      return true; // the one it leaves out gets an Ack instead (see Session.deliver)
    case 'user':
      return audience.uuid === session.uuid;
    case 'connection':
      return audience.conn === session.conn;
  }
}
