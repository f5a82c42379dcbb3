import type { Logger } from 'pino';
import { isAppError } from '../../protocol/errors.js';
import type { RoomService } from '../../room/room-service.js';
import type { Session } from './session.js';

const RETRY_MS = 1000;
const MAX_RETRIES = 600;

/**
 * Decides when a closed connection leaves its room. A clean close leaves at once; a dropped one
 * keeps its place for the grace period, so a client that comes back in time (on any node) is not
 * seen to leave and join again. A leave that cannot reach the store is retried until it can.
 */
export class Departures {
  private readonly timers = new Set<NodeJS.Timeout>();
  private stopped = false;

  constructor(
    private readonly rooms: RoomService,
    private readonly graceMs: number,
    private readonly log: Logger,
  ) {}

  /** The connection was closed on purpose (a close frame): it leaves at once. */
  closed(session: Session): void {
    this.leave(session, 0);
  }

  /** The connection was lost (no close frame, or dropped as a slow consumer): it keeps its place for the grace period. */
  lost(session: Session): void {
    if (this.graceMs > 0) this.later(this.graceMs, () => this.leave(session, 0));
    else this.leave(session, 0);
  }

  /**
   * Stops deciding: on shutdown, this node's members are left to the grace period that the
   * surviving nodes give a dead node's members.
   */
  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private leave(session: Session, attempt: number): void {
    if (this.stopped) return;
    this.rooms.leave(session.room, session.uuid, session.conn).catch((error: unknown) => {
      if (isAppError(error) && error.code === 'unavailable' && attempt < MAX_RETRIES) {
        this.later(RETRY_MS, () => this.leave(session, attempt + 1));
        return;
      }
      this.log.error({ err: error, room: session.room, uuid: session.uuid }, 'leave failed');
    });
  }

  private later(ms: number, task: () => void): void {
    if (this.stopped) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      task();
    }, ms);
    this.timers.add(timer);
  }
}
