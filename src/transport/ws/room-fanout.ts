import type { Logger } from 'pino';
import type { RoomEventStream } from '../../cluster/room-event-stream.js';
import type { Audience, RoomEvent } from '../../room/room-event.js';
import { EncodedEvent } from './encoded-event.js';
import type { Session } from './session.js';

interface LocalRoom {
  sessions: Set<Session>;
  /** Resolves once the room's events reach this node, to the function that stops following them. */
  following: Promise<() => void>;
}

/**
 * This node's sockets, by room. It follows a room's gap-free event stream while it holds at least
 * one of the room's sockets, and hands each event to the sockets it is addressed to, encoded once.
 */
export class RoomFanout {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly byConn = new Map<string, Session>();

  constructor(
    private readonly stream: RoomEventStream,
    private readonly log: Logger,
    /** Told how many messages of an action it sent, once per event (metrics). */
    private readonly sent: (action: string, count: number) => void = () => undefined,
  ) {}

  /** Registers a session; resolves once its room's events are sure to reach it. */
  async add(session: Session): Promise<void> {
    let local = this.rooms.get(session.room);
    if (!local) {
      const sessions = new Set<Session>();
      const following = this.stream.follow(session.room, { event: (event) => this.dispatch(sessions, event) });
      following.catch(() => undefined);
      local = { sessions, following };
      this.rooms.set(session.room, local);
    }
    local.sessions.add(session);
    this.byConn.set(session.conn, session);
    try {
      await local.following;
    } catch (error) {
      this.remove(session);
      throw error;
    }
  }

  /** A session joined at `seq`: the room's events up to it are known to have happened. */
  joinedAt(name: string, seq: number): void {
    this.stream.knownUpTo(name, seq);
  }

  /** The session of a connection id, if it is on this node. */
  session(conn: string): Session | undefined {
    return this.byConn.get(conn);
  }

  remove(session: Session): void {
    if (this.byConn.get(session.conn) === session) this.byConn.delete(session.conn);
    const local = this.rooms.get(session.room);
    if (!local?.sessions.delete(session)) return;
    if (local.sessions.size === 0) {
      this.rooms.delete(session.room);
      local.following.then(
        (stop) => stop(),
        () => undefined,
      );
    }
  }

  get connectionCount(): number {
    return this.byConn.size;
  }

  /** Distinct participants with a socket here (a uuid being replaced counts once). */
  get userCount(): number {
    let count = 0;
    for (const local of this.rooms.values()) count += new Set([...local.sessions].map((session) => session.uuid)).size;
    return count;
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  *sessions(): IterableIterator<Session> {
    for (const local of this.rooms.values()) yield* local.sessions;
  }

  /** Hands an event to the sockets it is addressed to, encoded once for all of them. */
  private dispatch(sessions: Set<Session>, event: RoomEvent): void {
    const encoded = new EncodedEvent(event);
    let events = 0;
    let acks = 0;
    for (const session of [...sessions]) {
      if (!addressedTo(event.audience, session)) continue;
      try {
        const delivery = session.deliver(encoded);
        if (delivery === 'event') events += 1;
        else if (delivery === 'ack') acks += 1;
      } catch (error) {
        this.log.error({ err: error, room: session.room, uuid: session.uuid }, 'delivery failed');
      }
    }
    if (events > 0) this.sent(event.message.action, events);
    if (acks > 0) this.sent('Ack', acks);
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
