import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { RawData, WebSocket } from 'ws';
import {
  type ClientMessage,
  ClientMessageSchemas,
  isClientAction,
  isMediaCommand,
  isRequestId,
  type MediaCommand,
  type RoomCommand,
} from '../../protocol/client-messages.js';
import { AppError, CloseCode, type ErrorCode, isAppError } from '../../protocol/errors.js';
import { errorFrame, type MediaMessage, type RequestRef, type ServerFrame } from '../../protocol/server-messages.js';
import { describeErrors, validatorFor } from '../../protocol/validator.js';
import { type Room, viewOf } from '../../room/room.js';
import type { Reply, RoomEvent } from '../../room/room-event.js';
import { SeqCursor } from '../../room/room-event.js';
import { EncodedEvent } from './encoded-event.js';
import { textFrame } from './frames.js';
import type { Flushable, Outbox } from './outbox.js';
import { TokenBucket } from './token-bucket.js';

export interface SessionOptions {
  /** Receive slots offered in RoomState. */
  audioSlots: number;
  /** Messages a client may send: `burst` at once, `perSecond` sustained. */
  rate: { perSecond: number; burst: number };
  /** Unsent data beyond which a client that stopped reading is dropped. */
  sendBufferLimitBytes: number;
  /** Where the session's frames wait for the end of the turn. */
  outbox: Outbox;
  observer?: SessionObserver;
}

/** Counts what passes through a session (metrics). */
export interface SessionObserver {
  received(action: string): void;
  /** `count` messages of `action` sent (a room event fanned out counts once for all its sockets). */
  sent(action: string, count?: number): void;
  error(code: ErrorCode): void;
  rateLimited(): void;
  slowConsumer(): void;
}

/** Refused messages within this window beyond the burst close the connection (1008). */
const ABUSE_WINDOW_MS = 10_000;
/** A slow consumer gets this long to take its close frame before the socket is cut. */
const SLOW_CONSUMER_CLOSE_MS = 1000;

export interface SessionHandlers {
  /**
   * A room command (with `reply` when its sender gave a request id) or signaling. A room command
   * resolves to whether one of its commit's events carries the reply (the session then answers
   * when it delivers that event); otherwise the session answers at once.
   */
  onMessage(session: Session, message: RoomCommand | MediaCommand, reply?: Reply): Promise<{ replied: boolean } | undefined>;
  /** `dropped`: the connection was lost (no close frame), as opposed to closed on purpose. */
  onClose(session: Session, dropped: boolean): void;
}

/** How a room event reached a session: as the event, as the Ack of its sender, or not at all. */
export type Delivery = 'event' | 'ack' | undefined;

/**
 * One participant's WebSocket connection to one room. It turns frames into validated client
 * messages and room events into frames; it holds no room rules. `ws` reads the connection; the
 * session writes its frames on the TCP socket itself, queued for the end of the turn (Outbox), so
 * that a room event is encoded once and several frames in a turn leave in one write.
 */
export class Session implements Flushable {
  /** Names this connection in the room's membership, so a replaced connection cannot leave for its successor. */
  readonly conn = randomUUID();
  private started = false;
  /** Room events that arrived before the joiner's snapshot was sent. */
  private readonly pending: EncodedEvent[] = [];
  /** Frames to write at the end of this turn. */
  private queued: Buffer[] = [];
  private readonly cursor = new SeqCursor(0);
  private missedPongs = 0;
  private readonly bucket: TokenBucket;
  private refused = { count: 0, since: 0 };
  private slow = false;

  constructor(
    private readonly socket: WebSocket,
    /** The TCP socket under `socket`, where the frames are written. */
    private readonly stream: Socket,
    readonly room: string,
    readonly uuid: string,
    private readonly options: SessionOptions,
    private readonly handlers: SessionHandlers,
    private readonly log: Logger,
  ) {
    this.bucket = new TokenBucket(options.rate.perSecond, options.rate.burst);
    socket.on('message', (data, isBinary) => this.receive(data, isBinary));
    socket.on('pong', () => {
      this.missedPongs = 0;
    });
    // 1006: no close frame came, the network or the heartbeat ended it. A dropped slow consumer
    // counts as lost too: it gets the grace period to resume.
    socket.once('close', (code) => handlers.onClose(this, code === 1006 || this.slow));
  }

  /**
   * Sends the joiner's snapshot, then every event that arrived meanwhile and is newer than it.
   * `missed`: the client asked to resume from a seq that is no longer kept.
   */
  start(room: Room, missed = false): void {
    const state = {
      action: 'RoomState' as const,
      room: room.name,
      seq: room.seq,
      ...omitName(viewOf(room)),
      audio_slots: this.options.audioSlots,
    };
    this.send(missed ? { ...state, missed: true } : state);
    this.begin(room.seq);
  }

  /** Resumes a client at `lastSeq`: the events it missed, then everything live. */
  resume(lastSeq: number, missed: RoomEvent[]): void {
    this.send({ action: 'Resumed', last_seq: lastSeq });
    this.pending.unshift(...missed.map((event) => new EncodedEvent(event, true)));
    this.begin(lastSeq);
  }

  private begin(seq: number): void {
    this.cursor.last = seq;
    this.started = true;
    for (const event of this.pending.splice(0)) this.deliver(event);
  }

  /** A room event for this connection: sent, unless it is one the client already has. */
  deliver(event: EncodedEvent): Delivery {
    if (!this.started) {
      this.pending.push(event);
      return undefined;
    }
    let delivery: Delivery = 'event';
    if (event.seq === undefined) {
      this.queue(event.forReceiver());
    } else {
      if (this.cursor.place(event.seq) === 'stale') {
        // Already had (a command sent before the snapshot, which includes it): its answer is still owed.
        const reply = event.replyFor(this.conn);
        if (reply) this.send(reply);
        return undefined;
      }
      this.cursor.last = event.seq;
      delivery = event.leavesOut(this.uuid) ? 'ack' : 'event';
      // The command this event answers was this connection's: its Ack, with its id, comes after the event (or instead of it).
      const reply = event.replyFor(this.conn);
      if (reply && delivery === 'ack') {
        this.queue(textFrame(reply));
      } else {
        this.queue(delivery === 'ack' ? event.forSender() : event.forReceiver());
        if (reply) this.send(reply);
      }
    }
    if (event.event.close !== undefined) this.close(event.event.close);
    return delivery;
  }

  /** From the SFU (answers, candidates, speakers, its refusals): not room events, so never sequenced. */
  notify(message: MediaMessage): void {
    this.send(message);
  }

  /** The server is going down: tell the client to reconnect (to another node) with last_seq. */
  reconnectElsewhere(): void {
    this.send({ action: 'Reconnect' });
    this.close(CloseCode.serviceRestart);
  }

  /** `about`: the command refused, when the error answers one. */
  sendError(error: AppError, about?: Partial<RequestRef>): void {
    this.send(errorFrame(error, about));
  }

  /** Closes the connection with `code`, after the frames queued for it. */
  close(code: number): void {
    this.flush();
    if (this.socket.readyState === this.socket.OPEN || this.socket.readyState === this.socket.CONNECTING) {
      this.socket.close(code);
    }
  }

  /** Called once per heartbeat interval: a connection that left two pings unanswered is dropped. */
  heartbeat(): void {
    if (this.missedPongs >= 2) {
      this.log.info({ room: this.room, uuid: this.uuid }, 'heartbeat lost, dropping connection');
      this.socket.terminate();
      return;
    }
    this.missedPongs += 1;
    this.socket.ping();
  }

  /** A message of this connection's own (not a room event shared with others). */
  private send(message: ServerFrame): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.queue(textFrame(message));
    this.options.observer?.sent(message.action);
    // Every error frame passes here, whoever refused (the room, the media node, the parser).
    if (message.action === 'Error') this.options.observer?.error(message.code);
  }

  private queue(frame: Buffer): void {
    if (this.socket.readyState !== this.socket.OPEN) return;
    this.queued.push(frame);
    if (this.queued.length === 1) this.options.outbox.schedule(this);
  }

  /** Writes the queued frames, in one write; a client whose unsent data passed the limit is dropped. */
  flush(): void {
    const frames = this.queued;
    if (frames.length === 0) return;
    this.queued = [];
    if (this.socket.readyState !== this.socket.OPEN) return;
    if (frames.length === 1) {
      this.stream.write(frames[0]!);
    } else {
      this.stream.cork();
      for (const frame of frames) this.stream.write(frame);
      this.stream.uncork();
    }
    if (this.stream.writableLength > this.options.sendBufferLimitBytes) this.dropSlowConsumer();
  }

  /**
   * The client stopped reading: it must not grow this server's memory nor hold anyone else up.
   * It is dropped (4008 if the close frame still gets through) and may resume with last_seq.
   */
  private dropSlowConsumer(): void {
    if (this.slow) return;
    this.slow = true;
    this.log.warn({ room: this.room, uuid: this.uuid, buffered: this.stream.writableLength }, 'slow consumer dropped');
    this.options.observer?.slowConsumer();
    this.socket.close(CloseCode.slowConsumer, 'slow consumer');
    setTimeout(() => this.socket.terminate(), SLOW_CONSUMER_CLOSE_MS).unref();
  }

  /** The token bucket: over it, `rate_limited`; sustained abuse closes the connection with 1008. */
  private admit(data: RawData, isBinary: boolean): boolean {
    if (this.bucket.take()) return true;
    const now = performance.now();
    if (now - this.refused.since > ABUSE_WINDOW_MS) this.refused = { count: 0, since: now };
    this.refused.count += 1;
    this.options.observer?.rateLimited();
    if (this.refused.count > this.options.rate.burst) {
      this.log.warn({ room: this.room, uuid: this.uuid }, 'message flood: closing the connection');
      this.close(CloseCode.policyViolation);
    } else {
      // Read only to say which command is refused (at most `burst` frames per window get this far).
      const parsed = parseClientMessage(data, isBinary);
      const about = parsed.ok ? { of: parsed.message.action, id: parsed.message.id } : parsed.about;
      this.sendError(new AppError('rate_limited', `too many messages: at most ${this.options.rate.perSecond} per second`), about);
    }
    return false;
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (!this.admit(data, isBinary)) return;
    const parsed = parseClientMessage(data, isBinary);
    if (!parsed.ok) {
      this.options.observer?.received('invalid');
      this.sendError(parsed.error, parsed.about);
      return;
    }
    const { message } = parsed;
    this.options.observer?.received(message.action);
    const about: RequestRef = { of: message.action, id: message.id };
    if (message.action === 'Ping') {
      this.send(message.id === undefined ? { action: 'Pong' } : { action: 'Pong', id: message.id });
      return;
    }
    const reply: Reply | undefined = message.id === undefined ? undefined : { conn: this.conn, id: message.id, of: message.action };
    this.handlers.onMessage(this, message, reply).then(
      (answer) => {
        // A room command nothing carried the answer of (it changed nothing): answered now, without a seq.
        if (message.id !== undefined && !isMediaCommand(message) && !answer?.replied) {
          this.send({ action: 'Ack', of: message.action, id: message.id });
        }
      },
      (error: unknown) => {
        if (isAppError(error)) {
          this.sendError(error, about);
        } else {
          this.log.error({ err: error, room: this.room, uuid: this.uuid }, 'message failed');
          this.sendError(new AppError('internal_error', 'internal server error'), about);
        }
      },
    );
  }
}

const omitName = <T extends { name: string }>({ name: _name, ...rest }: T): Omit<T, 'name'> => rest;

/** A frame read: the message, or why it is refused and, as far as it can be trusted, which command it was. */
export type Parsed = { ok: true; message: ClientMessage } | { ok: false; error: AppError; about?: Partial<RequestRef> };

export function parseClientMessage(data: RawData, isBinary: boolean): Parsed {
  const refuse = (error: AppError, about?: Partial<RequestRef>): Parsed => (about ? { ok: false, error, about } : { ok: false, error });
  if (isBinary) return refuse(new AppError('invalid_message', 'binary frames are not accepted; send JSON text'));
  let value: unknown;
  try {
    value = JSON.parse(rawText(data));
  } catch {
    return refuse(new AppError('invalid_message', 'message is not valid JSON'));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return refuse(new AppError('invalid_message', 'message must be a JSON object'));
  }
  const { action, id } = value as { action?: unknown; id?: unknown };
  if (typeof action !== 'string') return refuse(new AppError('invalid_message', 'action must be a string'));
  // An id that is one is echoed from here on; `of` only once the action is one of ours.
  if (!isClientAction(action)) {
    return refuse(new AppError('unknown_action', `unknown action ${JSON.stringify(action)}`), isRequestId(id) ? { id } : undefined);
  }
  // From here the frame names a command: its refusal says which, and echoes its id when that is one.
  const about: Partial<RequestRef> = isRequestId(id) ? { of: action, id } : { of: action };
  const validate = validatorFor(ClientMessageSchemas[action]);
  if (!validate(value)) return refuse(new AppError('invalid_message', `${action}: ${describeErrors(validate)}`), about);
  return { ok: true, message: value as ClientMessage };
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
