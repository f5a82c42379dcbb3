import type { Logger } from 'pino';

/** A connection with frames waiting to be written. */
export interface Flushable {
  flush(): void;
}

/**
 * Writes once per turn of the event loop: a session queues the frames it sends during a turn, and
 * all of them leave in one write when the turn's I/O is done (setImmediate). One write costs about
 * as much as a frame's whole journey otherwise, so a client that receives several frames in a turn
 * costs the server one write instead of several; a frame waits at most until the end of the turn.
 */
export class Outbox {
  private readonly waiting = new Set<Flushable>();
  private scheduled = false;

  constructor(private readonly log: Logger) {}

  /** `session` has queued a frame: it is flushed at the end of this turn. */
  schedule(session: Flushable): void {
    this.waiting.add(session);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flushAll());
  }

  private flushAll(): void {
    this.scheduled = false;
    const sessions = [...this.waiting];
    this.waiting.clear();
    for (const session of sessions) {
      try {
        session.flush();
      } catch (error) {
        this.log.error({ err: error }, "writing a connection's frames failed");
      }
    }
  }
}
