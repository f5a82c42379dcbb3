import type { Logger } from 'pino';
import { CloseCode } from '../../protocol/errors.js';
import { type Audience, type RoomEvent, SeqCursor } from '../../room/room-event.js';
import type { RoomStore } from '../../room/room-store.js';
import { EncodedEvent } from './encoded-event.js';
import type { Session } from './session.js';

const CATCH_UP_RETRY_MS = 1000;

interface LocalRoom {
  name: string;
  sessions: Set<Session>;
  /** Resolves once the room's events reach this node. */
  subscription: Promise<() => void>;
  /** The last room-wide seq this node received. */
  cursor: SeqCursor;
  /** While missed events are being fetched, later ones wait here, in order. */
  backlog?: RoomEvent[];
}

/**
 * This node's sockets, by room. It listens to a room's events while it holds at least one of the
 * room's sockets, hands each event to the sockets it is addressed to, and fills from the room's
 * history any room-wide events the subscription lost (a gap in seq, or Redis coming back).
 */
export class RoomFanout {
  private readonly rooms = new Map<string, LocalRoom>();
  private readonly byConn = new Map<string, Session>();

  constructor(
    private readonly store: RoomStore,
    private readonly log: Logger,
    /** Told how many messages of an action it sent, once per event (metrics). */
    private readonly sent: (action: string, count: number) => void = () => undefined,
  ) {
    store.onReconnect(() => {
      for (const local of this.rooms.values()) void this.catchUp(local);
    });
  }

  /** Registers a session; resolves once its room's events are sure to reach it. */
  async add(session: Session): Promise<void> {
    let local = this.rooms.get(session.room);
    if (!local) {
      const room: LocalRoom = { name: session.room, sessions: new Set(), subscription: Promise.resolve(() => {}), cursor: new SeqCursor() };
      room.subscription = this.store.subscribe(session.room, (event) => this.receive(room, event));
      room.subscription.catch(() => undefined);
      this.rooms.set(session.room, room);
      local = room;
    }
    local.sessions.add(session);
    this.byConn.set(session.conn, session);
    try {
      await local.subscription;
    } catch (error) {
      this.remove(session);
      throw error;
    }
  }

  /** A session joined at `seq`: the room's events up to it are known to have happened. */
  joinedAt(name: string, seq: number): void {
    const local = this.rooms.get(name);
    if (local && local.cursor.last === undefined) local.cursor.last = seq;
  }

  /** The session of a connection id, if it is on this node. */
  session(conn: string): Session | undefined {
    return this.byConn.get(conn);
  }

  remove(session: Session): void {
    this.byConn.delete(session.conn);
    const local = this.rooms.get(session.room);
    if (!local?.sessions.delete(session)) return;
    if (local.sessions.size === 0) {
      this.rooms.delete(session.room);
      local.subscription.then(
        (unsubscribe) => unsubscribe(),
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

  private receive(local: LocalRoom, event: RoomEvent): void {
    if (local.backlog) {
      local.backlog.push(event);
      return;
    }
    if (event.seq !== undefined && local.cursor.place(event.seq) === 'gap') {
      local.backlog = [event];
      void this.catchUp(local);
      return;
    }
    this.dispatch(local, event);
  }

  /** Fetches what the room published after the last seq this node saw, then releases the backlog. */
  private async catchUp(local: LocalRoom): Promise<void> {
    const fromBacklog = local.backlog !== undefined;
    if (!fromBacklog) {
      if (local.cursor.last === undefined) return;
      local.backlog = [];
    }
    try {
      const missed = await this.store.eventsAfter(local.name, local.cursor.last!);
      if (missed) {
        for (const event of missed) this.dispatch(local, event);
      } else if (!(await this.store.load(local.name))) {
        // The room is gone: nothing held back matters any more (its own RoomDeleted included).
        local.backlog = [];
        this.dispatch(local, {
          audience: { to: 'room' },
          message: { action: 'RoomDeleted' },
          close: CloseCode.roomDeleted,
        });
      } else {
        this.log.warn({ room: local.name, after: local.cursor.last }, 'room events lost beyond the kept history');
      }
    } catch (error) {
      this.log.warn({ err: error, room: local.name }, 'could not fetch missed room events');
      // While the store is down, its reconnect starts the next catch-up; otherwise try again soon.
      if (this.store.isReady()) {
        setTimeout(() => {
          if (this.rooms.get(local.name) === local) void this.catchUp(local);
        }, CATCH_UP_RETRY_MS).unref();
      }
    }
    const backlog = local.backlog ?? [];
    local.backlog = undefined;
    for (const event of backlog) this.dispatch(local, event);
  }

  /** Hands an event to the sockets it is addressed to, encoded once for all of them. */
  private dispatch(local: LocalRoom, event: RoomEvent): void {
    if (event.seq !== undefined) {
      if (local.cursor.place(event.seq) === 'stale') return;
      local.cursor.last = event.seq;
    }
    const encoded = new EncodedEvent(event);
    let events = 0;
    let acks = 0;
    for (const session of [...local.sessions]) {
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
