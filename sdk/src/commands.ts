import type { Clock } from './clock.js';
import { SdkError } from './errors.js';
import type { AckFrame, ClientAction, ErrorFrame, RoomCommand, RoomCommandInput } from './wire.js';

/** What an accepted command resolves with: its Ack. `seq` is absent when the command changed nothing. */
export interface CommandResult {
  of: ClientAction;
  id: string;
  seq?: number;
}

/** A command sent and not yet answered. */
export interface PendingCommand {
  readonly id: string;
  readonly command: RoomCommand;
  /** Whether its promise is already settled (it timed out); its Ack may still come and still counts. */
  settled: boolean;
  resolve(result: CommandResult): void;
  reject(error: SdkError): void;
  timer: unknown;
}

/**
 * The commands in flight on one connection, by request id. Each command gets an id; it resolves with
 * its Ack or rejects with an SdkError carrying the server's code (its Error frame), `timeout` when no
 * answer comes in time, `not_connected` when the connection drops first. A command is never sent
 * again: after a drop the state the server sends says whether it was applied.
 */
export class CommandTracker {
  private readonly pending = new Map<string, PendingCommand>();
  private readonly pongs = new Map<string, { resolve(rtt: number): void; reject(error: SdkError): void; sent: number; timer: unknown }>();
  private counter = 0;

  constructor(
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    /** Prefix of this client's request ids (ids are unique per client; 1..64 characters). */
    private readonly prefix: string,
  ) {}

  nextId(): string {
    this.counter += 1;
    return `${this.prefix}${this.counter.toString(36)}`;
  }

  /**
   * Sends `command` with a new id through `transmit` (which throws when there is no open connection)
   * and returns the promise of its answer.
   */
  send(command: RoomCommandInput, transmit: (frame: RoomCommand) => void): Promise<CommandResult> {
    const id = this.nextId();
    const frame = { ...command, id } as RoomCommand;
    return new Promise<CommandResult>((resolve, reject) => {
      const entry: PendingCommand = {
        id,
        command: frame,
        settled: false,
        resolve: (result) => {
          if (entry.settled) return;
          entry.settled = true;
          resolve(result);
        },
        reject: (error) => {
          if (entry.settled) return;
          entry.settled = true;
          reject(error);
        },
        timer: undefined,
      };
      try {
        transmit(frame);
      } catch (error) {
        entry.reject(error instanceof SdkError ? error : new SdkError('not_connected', undefined, { of: frame.action, id, cause: error }));
        return;
      }
      this.pending.set(id, entry);
      entry.timer = this.clock.setTimeout(() => {
        entry.reject(new SdkError('timeout', `no answer to ${frame.action} within ${this.timeoutMs} ms`, { of: frame.action, id }));
      }, this.timeoutMs);
    });
  }

  /** The command an Ack answers, taken out of the pending ones (undefined: not one of this connection's). */
  take(id: string | undefined): PendingCommand | undefined {
    if (id === undefined) return undefined;
    const entry = this.pending.get(id);
    if (!entry) return undefined;
    this.pending.delete(id);
    this.clock.clearTimeout(entry.timer);
    return entry;
  }

  /** Settles a taken command with its Ack. */
  static resolve(entry: PendingCommand, ack: AckFrame): void {
    entry.resolve(ack.seq === undefined ? { of: ack.of, id: entry.id } : { of: ack.of, id: entry.id, seq: ack.seq });
  }

  /** Rejects the command an Error answers; false when it answers none of the pending ones. */
  refuse(frame: ErrorFrame): boolean {
    const entry = this.take(frame.id);
    if (!entry) return false;
    entry.reject(new SdkError(frame.code, frame.message, { of: frame.of ?? entry.command.action, id: entry.id }));
    return true;
  }

  /** A Ping with an id: resolves with the round trip in ms when its Pong comes back. */
  ping(transmit: (frame: { action: 'Ping'; id: string }) => void): Promise<number> {
    const id = this.nextId();
    return new Promise<number>((resolve, reject) => {
      try {
        transmit({ action: 'Ping', id });
      } catch (error) {
        reject(error instanceof SdkError ? error : new SdkError('not_connected', undefined, { of: 'Ping', id, cause: error }));
        return;
      }
      const timer = this.clock.setTimeout(() => {
        this.pongs.delete(id);
        reject(new SdkError('timeout', `no Pong within ${this.timeoutMs} ms`, { of: 'Ping', id }));
      }, this.timeoutMs);
      this.pongs.set(id, { resolve, reject, sent: this.clock.now(), timer });
    });
  }

  /** A Pong arrived; false when it answers no Ping of this tracker. */
  pong(id: string | undefined): boolean {
    if (id === undefined) return false;
    const entry = this.pongs.get(id);
    if (!entry) return false;
    this.pongs.delete(id);
    this.clock.clearTimeout(entry.timer);
    entry.resolve(this.clock.now() - entry.sent);
    return true;
  }

  get size(): number {
    return this.pending.size + this.pongs.size;
  }

  /** The connection is gone: everything in flight rejects with `code`, and is forgotten. */
  failAll(code: 'not_connected' | 'closed', message?: string): void {
    const entries = [...this.pending.values()];
    const pongs = [...this.pongs.entries()];
    this.pending.clear();
    this.pongs.clear();
    for (const entry of entries) {
      this.clock.clearTimeout(entry.timer);
      entry.reject(
        new SdkError(code, message ?? `the connection ended before the answer to ${entry.command.action}`, {
          of: entry.command.action,
          id: entry.id,
        }),
      );
    }
    for (const [id, entry] of pongs) {
      this.clock.clearTimeout(entry.timer);
      entry.reject(new SdkError(code, message, { of: 'Ping', id }));
    }
  }
}
