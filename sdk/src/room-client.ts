import { type IceServers, networkTraversal } from './admin-client.js';
import { type Clock, systemClock } from './clock.js';
import { type CommandResult, CommandTracker } from './commands.js';
import { Emitter } from './emitter.js';
import { type CloseReason, SdkError, SERVICE_RESTART_CLOSE } from './errors.js';
import { type FetchLike, globalFetch, toHttpUrl, toWsUrl } from './http.js';
import {
  type BackoffOptions,
  backoffDelay,
  closeVerdict,
  DEFAULT_BACKOFF,
  defaultEnvironment,
  type Environment,
  RetryTimer,
} from './reconnect.js';
import { applyEvent, eventOfBareAck, eventOfCommand, fromRoomState, placeSeq, type RoomSnapshot } from './room-state.js';
import { globalWebSocket, messageText, OPEN, type WebSocketConstructor, type WebSocketLike } from './socket.js';
import { diagnoseRefusal, type TokenProvider, TokenSource, type UpgradeRefusal } from './tokens.js';
import {
  type AckFrame,
  type ErrorFrame,
  isMediaMessage,
  isRoomEvent,
  type MediaMessage,
  type MediaSignal,
  type RoomCommandInput,
  type RoomEvent,
  type ServerFrame,
} from './wire.js';

export interface RoomClientOptions {
  /**
   * The server: `ws://host:6030`, `wss://host` (an `http(s)://` URL works too), or a list of the
   * nodes of a cluster; a reconnect after a node's shutdown (close 1012), a refused attempt or a
   * keep-alive failure moves on to the next one. The client joins `{url}/api/room/join/{room}/{uuid}`.
   */
  url: string | readonly string[];
  room: string;
  uuid: string;
  /** The display name shown to the others (1..64 characters; a join token's `name` claim wins over it). */
  name?: string;
  /** A join token, or the function that gets one (see TokenProvider). Omit it on an open server. */
  token?: TokenProvider | string;
  /** The WebSocket class; default the global one (browsers, Node 22+). In Node 20, pass `ws`'s. */
  WebSocket?: WebSocketConstructor;
  /** `fetch`; default the global one. Used to find out why a join was refused, and for iceServers(). */
  fetch?: FetchLike;
  /** The RTCPeerConnection class the audio module should use; default the global one. The core never calls it. */
  RTCPeerConnection?: unknown;
  /** A command with no answer after this long rejects with `timeout`. Default 10 s. */
  commandTimeoutMs?: number;
  /** A connection attempt that has not opened and received its state after this long is given up and retried. Default 10 s. */
  connectTimeoutMs?: number;
  /**
   * An application-level `Ping` every `intervalMs`; no `Pong` within `timeoutMs` counts as a lost
   * connection (a dead TCP connection can take minutes to show otherwise). Default 20 s / 10 s; `false` turns it off.
   */
  keepAlive?: { intervalMs: number; timeoutMs: number } | false;
  /** The reconnect backoff (see BackoffOptions); default 250 ms doubling to 10 s (60 s while hidden), half of it jittered. */
  reconnect?: Partial<BackoffOptions>;
  /** Where `online` and visibility come from; default the browser's window and document, when there are. */
  environment?: Environment;
  /** Time and timers; default the real ones (tests pass a manual clock). */
  clock?: Clock;
  /** The random numbers of the jitter, in [0, 1); default Math.random. */
  random?: () => number;
  /** Told what happens inside (a listener that threw, an unreadable frame, each decision of the reconnect policy). */
  debug?: (entry: DebugEntry) => void;
}

/** How the client stands with the server. */
export type ConnectionStatus =
  | { status: 'idle' }
  /** The first connection attempt is under way. */
  | { status: 'connecting'; url: string }
  /**
   * In the room, live. `via`: `join`, the first snapshot; `resumed`, a gap-free resume (every
   * event missed was replayed, `Resumed`); `missed`, a fresh snapshot replaced the state (the server
   * no longer had every missed event: `RoomState` with `missed: true`, or the client had to rejoin).
   */
  | { status: 'connected'; via: 'join' | 'resumed' | 'missed'; url: string }
  /** Not connected and trying again: attempt `attempt` runs in `delayMs`. Commands reject with `not_connected` meanwhile. */
  | { status: 'reconnecting'; attempt: number; delayMs: number; cause: DropCause }
  /** Stopped for good: no reconnect follows. */
  | { status: 'closed'; reason: CloseReason; message: string };

/** Why the client is reconnecting. */
export interface DropCause {
  kind: /** The connection closed or was lost (close `code`; 1006: no close frame). */
    | 'lost'
    /** The node is shutting down (`Reconnect`, close 1012): at once, to the next URL. */
    | 'service_restart'
    /** The upgrade was refused (HTTP `status`, the server's `errorCode` when known), or it failed before opening. */
    | 'refused'
    /** No open connection, or no state on it, within `connectTimeoutMs`. */
    | 'timeout'
    /** No `Pong` for the keep-alive `Ping`: resumed on the next URL. */
    | 'keepalive'
    /** A seq was skipped: resume from the last one applied. */
    | 'gap'
    /** The state cannot be moved on from what arrived (an own event replayed without its content): rejoin for a fresh snapshot. */
    | 'resync'
    /** The token provider failed. */
    | 'token'
    /** simulateDrop() */
    | 'simulated';
  code?: number;
  status?: number;
  errorCode?: string;
  message?: string;
}

/** What moved the state. */
export type StateChange =
  /** A snapshot (`RoomState`) replaced it: the first, or one after a resume that could not be gap-free. */
  | { kind: 'snapshot'; via: 'join' | 'missed' }
  /** One room-wide event; `own`: this client's command, applied when its Ack came. */
  | { kind: 'event'; event: RoomEvent; own: boolean };

export interface DebugEntry {
  message: string;
  error?: unknown;
  data?: unknown;
}

export type RoomClientEvents = {
  /** The state changed (after every room-wide event, and every snapshot). */
  state: [state: RoomSnapshot, change: StateChange];
  /** Every frame the server sent, once handled (the state already includes it). */
  event: [frame: ServerFrame];
  connection: [status: ConnectionStatus];
  /** An Ack of one of this client's commands (after its command's promise has the state it changed). */
  ack: [ack: AckFrame];
  /** A refusal no pending command was waiting for (e.g. `rate_limited` of a frame that was no command), or a failure of the token provider. */
  error: [error: SdkError];
  /** For the audio module: SDP answers, ICE candidates, ActiveSpeakers, MediaClosed, MediaReconnect, refused signaling. */
  media: [message: MediaMessage];
  debug: [entry: DebugEntry];
};

/** One connection attempt: its socket, and how far it got. */
interface Attempt {
  readonly socket: WebSocketLike;
  /** The join URL, with its query. */
  readonly url: string;
  /** The node it went to. */
  readonly base: string;
  readonly resuming: boolean;
  phase: 'opening' | 'syncing' | 'live';
  timer: unknown;
  lastError: string | undefined;
  /** The server said it is shutting down (`Reconnect`). */
  restart: boolean;
  /** A frame said the connection ends for good (Kicked, RoomDeleted, Replaced). */
  terminal: CloseReason | undefined;
  /** The Error the server sent when the join failed after the upgrade. */
  joinError: ErrorFrame | undefined;
  syncedAt: number;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEPALIVE = { intervalMs: 20_000, timeoutMs: 10_000 };

/** `{url}/api/room/join/{room}/{uuid}` with its query (`last_seq`, `token`, `name`). */
export function joinUrl(base: string, room: string, uuid: string, query: { lastSeq?: number; token?: string; name?: string }): string {
  const params: string[] = [];
  if (query.lastSeq !== undefined) params.push(`last_seq=${query.lastSeq}`);
  if (query.token !== undefined) params.push(`token=${encodeURIComponent(query.token)}`);
  if (query.name !== undefined) params.push(`name=${encodeURIComponent(query.name)}`);
  const root = toWsUrl(base).replace(/\/+$/, '');
  return `${root}/api/room/join/${encodeURIComponent(room)}/${encodeURIComponent(uuid)}${params.length ? `?${params.join('&')}` : ''}`;
}

/**
 * A participant's connection to one room: the room's state, kept exactly as the server has it, the
 * commands, and the reconnect policy (see docs/sdk.md).
 */
export class RoomClient {
  readonly room: string;
  readonly uuid: string;
  private readonly urls: readonly string[];
  private readonly emitter: Emitter<RoomClientEvents>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly environment: Environment;
  private readonly WebSocketClass: WebSocketConstructor | undefined;
  private readonly fetchImpl: FetchLike | undefined;
  private readonly commands: CommandTracker;
  private readonly tokens: TokenSource;
  private readonly retry: RetryTimer;
  private readonly connectTimeoutMs: number;
  private readonly keepAlive: { intervalMs: number; timeoutMs: number } | false;

  private current: RoomSnapshot | null = null;
  private connection: ConnectionStatus = { status: 'idle' };
  private attempt: Attempt | null = null;
  /** Bumped by every new attempt, so an attempt still waiting for its token knows it was superseded. */
  private generation = 0;
  /** Failed attempts since the last stable connection: the backoff's exponent. */
  private failures = 0;
  /** Immediate reconnects since the last stable connection: only the first is immediate. */
  private immediate = 0;
  /** 401 refusals in a row: the first is retried at once with a new token. */
  private unauthorized = 0;
  private urlIndex = 0;
  /** How the next attempt joins: resuming from the state's seq, or fresh (a new snapshot). */
  private joinMode: 'resume' | 'fresh' = 'resume';
  private connecting: { promise: Promise<RoomSnapshot>; resolve(state: RoomSnapshot): void; reject(error: SdkError): void } | undefined;
  private keepAliveTimer: unknown;
  private keepAlivePing: { id: string; timer: unknown } | undefined;
  /** Sockets given up without a close frame where `terminate` is missing: the server replaces them; closed on close(). */
  private readonly abandoned = new Set<WebSocketLike>();
  private readonly options: RoomClientOptions;

  constructor(options: RoomClientOptions) {
    this.options = options;
    this.room = options.room;
    this.uuid = options.uuid;
    this.urls = typeof options.url === 'string' ? [options.url] : [...options.url];
    if (this.urls.length === 0) throw new TypeError('RoomClient needs at least one url');
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.reconnect };
    this.environment = options.environment ?? defaultEnvironment();
    this.WebSocketClass = options.WebSocket ?? globalWebSocket();
    this.fetchImpl = options.fetch ?? globalFetch();
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.keepAlive = options.keepAlive === undefined ? DEFAULT_KEEPALIVE : options.keepAlive;
    this.emitter = new Emitter<RoomClientEvents>((error, event) => {
      if (event === 'debug') this.callDebugHook({ message: 'a debug listener threw', error });
      else this.debug(`a listener of "${event}" threw`, error);
    });
    const prefix = `${Math.floor(this.random() * 36 ** 4)
      .toString(36)
      .padStart(4, '0')}-`;
    this.commands = new CommandTracker(this.clock, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS, prefix);
    this.tokens = new TokenSource(options.token, options.room, options.uuid, this.clock);
    this.retry = new RetryTimer(this.clock, this.environment);
  }

  /** The room as the server has it, once the first snapshot arrived (null before). */
  get state(): RoomSnapshot | null {
    return this.current;
  }

  get status(): ConnectionStatus {
    return this.connection;
  }

  /** Whether commands can be sent now. */
  get connected(): boolean {
    return this.attempt?.phase === 'live';
  }

  /** The RTCPeerConnection class for the audio module (the option, or the global one). */
  get RTCPeerConnection(): unknown {
    return this.options.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: unknown }).RTCPeerConnection;
  }

  on<E extends keyof RoomClientEvents & string>(event: E, listener: (...args: RoomClientEvents[E]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  once<E extends keyof RoomClientEvents & string>(event: E, listener: (...args: RoomClientEvents[E]) => void): () => void {
    return this.emitter.once(event, listener);
  }

  off<E extends keyof RoomClientEvents & string>(event: E, listener: (...args: RoomClientEvents[E]) => void): void {
    this.emitter.off(event, listener);
  }

  /**
   * Joins the room. Resolves with the first state; rejects only when the client stops for good
   * before that (the room does not exist, close()); a server that cannot be reached is retried.
   */
  connect(): Promise<RoomSnapshot> {
    if (this.connection.status === 'closed')
      return Promise.reject(new SdkError('closed', `the client is closed (${this.connection.reason})`));
    if (this.current && this.connected) return Promise.resolve(this.current);
    if (!this.connecting) {
      let resolve!: (state: RoomSnapshot) => void;
      let reject!: (error: SdkError) => void;
      const promise = new Promise<RoomSnapshot>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // A page that never awaits connect() must not see an unhandled rejection when the class ends.
      promise.catch(() => undefined);
      this.connecting = { promise, resolve, reject };
      if (this.connection.status === 'idle') {
        this.setStatus({ status: 'connecting', url: this.urls[0]! });
        void this.open();
      }
    }
    return this.connecting.promise;
  }

  /** Leaves the room (a clean close: the others see the user leave at once) and stops for good. */
  close(): void {
    this.finish('closed', 'closed by the app');
  }

  // Commands. Each resolves with its Ack (the state already includes its change) or rejects with an
  // SdkError: the server's code, or `not_connected` / `timeout`. None is applied before its Ack.

  /** Master: point at aya `aya` of the current sura. */
  clickAya(aya: number): Promise<CommandResult> {
    return this.command({ action: 'ClickAya', aya });
  }

  /** Master: move the class to sura `sura` (1..114); resets the aya. */
  moveSura(sura: number): Promise<CommandResult> {
    return this.command({ action: 'MoveSura', id_quran: sura });
  }

  /** Student: ask the master for a correction (joins the queue). */
  offerCorrection(): Promise<CommandResult> {
    return this.command({ action: 'OfferCorrection' });
  }

  /** Student: leave the correction queue. */
  withdrawCorrection(): Promise<CommandResult> {
    return this.command({ action: 'WithdrawCorrection' });
  }

  /** Master: answer a queued student (removes them from the queue). */
  answerCorrection(uuid: string, result: boolean): Promise<CommandResult> {
    return this.command({ action: 'AnswerCorrection', uuid, result });
  }

  /** Mute `uuid` (master: anyone; student: only themself, the default). */
  muteUser(uuid: string = this.uuid): Promise<CommandResult> {
    return this.command({ action: 'MuteUser', uuid, result: true });
  }

  /** Unmute `uuid` (master: anyone; student: only themself, and only from a mute of their own). */
  unmuteUser(uuid: string = this.uuid): Promise<CommandResult> {
    return this.command({ action: 'MuteUser', uuid, result: false });
  }

  /** Master: mute every student, latecomers included. */
  muteAll(): Promise<CommandResult> {
    return this.command({ action: 'MuteAll', result: true });
  }

  /** Master: lift MuteAll and every mute. */
  unmuteAll(): Promise<CommandResult> {
    return this.command({ action: 'MuteAll', result: false });
  }

  /** An application-level Ping: resolves with the round trip in ms. */
  ping(): Promise<number> {
    if (!this.connected) return Promise.reject(new SdkError('not_connected', undefined, { of: 'Ping' }));
    return this.commands.ping((frame) => this.transmit(frame));
  }

  /**
   * The audio module's way out: sends an offer or an ICE candidate, with a request id (returned) so a
   * refusal comes back as a `media` event `Error` naming it. Answers and candidates come as `media`
   * events; signaling is not replayed after a reconnect, so offer again on every `connected`.
   * Throws SdkError `not_connected` when there is no live connection.
   */
  sendSignal(signal: MediaSignal): string {
    const id = signal.id ?? this.commands.nextId();
    this.transmit({ ...signal, id });
    return id;
  }

  /** The STUN and TURN servers for the audio (`GET /network_transversal`, with this client's token and uuid). */
  async iceServers(): Promise<IceServers> {
    const base = toHttpUrl(this.attempt?.base ?? this.urls[this.urlIndex % this.urls.length]!);
    const token = await this.tokens.get();
    return networkTraversal(base, { uuid: this.uuid, ...(token === undefined ? {} : { token }) }, this.fetchImpl);
  }

  /**
   * Test hook: the connection is lost as a network loss would lose it (no close frame, where the
   * WebSocket can be cut), and the client resumes by its policy.
   */
  simulateDrop(): void {
    const attempt = this.attempt;
    if (!attempt || this.connection.status === 'closed') return;
    this.abandon(attempt);
    this.onDrop(attempt, 1006, { kind: 'simulated', code: 1006 });
  }

  private command(command: RoomCommandInput): Promise<CommandResult> {
    if (!this.connected) {
      return Promise.reject(new SdkError('not_connected', `cannot send ${command.action}: not connected`, { of: command.action }));
    }
    return this.commands.send(command, (frame) => this.transmit(frame));
  }

  private transmit(frame: { action: string; [field: string]: unknown }): void {
    const attempt = this.attempt;
    if (attempt?.phase !== 'live' || attempt.socket.readyState !== OPEN) {
      throw new SdkError('not_connected', `cannot send ${frame.action}: not connected`);
    }
    attempt.socket.send(JSON.stringify(frame));
  }

  // The connection's life.

  private async open(): Promise<void> {
    const generation = ++this.generation;
    const base = this.urls[this.urlIndex % this.urls.length]!;
    let token: string | undefined;
    try {
      token = await this.tokens.get();
    } catch (error) {
      if (generation !== this.generation || this.connection.status === 'closed') return;
      this.emitter.emit('error', new SdkError('unauthorized', 'the token provider failed', { cause: error }));
      this.scheduleRetry({ kind: 'token', message: String(error) });
      return;
    }
    if (generation !== this.generation || this.connection.status === 'closed') return;
    const resuming = this.current !== null && this.joinMode === 'resume';
    const url = joinUrl(base, this.room, this.uuid, {
      ...(resuming ? { lastSeq: this.current!.seq } : {}),
      ...(token === undefined ? {} : { token }),
      ...(this.options.name === undefined ? {} : { name: this.options.name }),
    });
    if (!this.WebSocketClass) {
      this.finish('closed', 'no WebSocket implementation: pass the WebSocket option');
      return;
    }
    let socket: WebSocketLike;
    try {
      socket = new this.WebSocketClass(url);
    } catch (error) {
      // A URL the WebSocket refuses (a SyntaxError) stays refused: retrying cannot help.
      this.finish(
        'invalid_request',
        `the WebSocket could not be created for ${redact(url)}: ${error instanceof Error ? error.message : String(error)}`,
      );
      return;
    }
    const attempt: Attempt = {
      socket,
      url,
      base,
      resuming,
      phase: 'opening',
      timer: undefined,
      lastError: undefined,
      restart: false,
      terminal: undefined,
      joinError: undefined,
      syncedAt: 0,
    };
    this.attempt = attempt;
    this.debug('connecting', { url: redact(url), resuming });
    socket.addEventListener('open', () => this.onOpen(attempt));
    socket.addEventListener('message', (event) => this.onMessage(attempt, event.data));
    socket.addEventListener('error', (event) => {
      if (this.attempt === attempt) attempt.lastError = event.message ?? (event.error instanceof Error ? event.error.message : undefined);
    });
    socket.addEventListener('close', (event) => this.onClose(attempt, event.code, event.reason));
    attempt.timer = this.clock.setTimeout(() => this.onTimeout(attempt), this.connectTimeoutMs);
  }

  private onOpen(attempt: Attempt): void {
    if (this.attempt !== attempt) return;
    attempt.phase = 'syncing';
  }

  private onTimeout(attempt: Attempt): void {
    if (this.attempt !== attempt || attempt.phase === 'live') return;
    this.debug(`no ${attempt.phase === 'opening' ? 'connection' : 'state'} within ${this.connectTimeoutMs} ms`);
    this.abandon(attempt);
    this.attempt = null;
    if (attempt.phase === 'opening') this.urlIndex += 1;
    this.scheduleRetry({ kind: 'timeout' });
  }

  private onMessage(attempt: Attempt, data: unknown): void {
    if (this.attempt !== attempt) return;
    const text = messageText(data);
    let frame: ServerFrame;
    try {
      frame = JSON.parse(text ?? '') as ServerFrame;
      if (typeof frame !== 'object' || frame === null || typeof frame.action !== 'string') throw new Error('not an object with an action');
    } catch (error) {
      this.debug('an unreadable frame was ignored', error, text);
      return;
    }
    try {
      this.handle(attempt, frame);
    } catch (error) {
      this.debug(`handling ${frame.action} failed`, error, frame);
    }
    if (this.attempt === attempt) this.emitter.emit('event', frame);
  }

  private handle(attempt: Attempt, frame: ServerFrame): void {
    switch (frame.action) {
      case 'RoomState': {
        // A snapshot after an earlier one replaces what the client had: some events may have been skipped over.
        const via = this.current ? 'missed' : 'join';
        this.current = fromRoomState(frame, this.uuid);
        this.synced(attempt, via);
        this.emitter.emit('state', this.current, { kind: 'snapshot', via });
        return;
      }
      case 'Resumed':
        if (attempt.phase !== 'syncing' || !this.current || frame.last_seq !== this.current.seq) {
          this.debug('a Resumed that does not match the state: rejoining', undefined, frame);
          this.reconnectNow(attempt, { kind: 'resync' }, 'fresh');
          return;
        }
        this.synced(attempt, 'resumed');
        return;
      case 'Ack':
        this.onAck(attempt, frame);
        return;
      case 'Error':
        if (attempt.phase === 'syncing') attempt.joinError = frame;
        if (this.commands.refuse(frame)) return;
        if (isMediaMessage(frame)) this.emitter.emit('media', frame as MediaMessage);
        else this.emitter.emit('error', new SdkError(frame.code, frame.message, { of: frame.of, id: frame.id }));
        return;
      case 'Pong':
        // (A server older than request ids answers without one: it still proves the connection alive.)
        if (this.keepAlivePing && (frame.id === this.keepAlivePing.id || frame.id === undefined)) {
          this.clock.clearTimeout(this.keepAlivePing.timer);
          this.keepAlivePing = undefined;
          this.scheduleKeepAlive(attempt);
          return;
        }
        this.commands.pong(frame.id);
        return;
      case 'Kicked':
        attempt.terminal = 'kicked';
        return;
      case 'Replaced':
        attempt.terminal = 'replaced';
        return;
      case 'Reconnect':
        attempt.restart = true;
        return;
    }
    if (isRoomEvent(frame)) {
      this.onRoomEvent(attempt, frame);
      return;
    }
    if (isMediaMessage(frame)) this.emitter.emit('media', frame as MediaMessage);
  }

  private onRoomEvent(attempt: Attempt, frame: ServerFrame & { action: RoomEvent['action'] }): void {
    if (frame.action === 'RoomDeleted') attempt.terminal = 'room_deleted';
    const state = this.current;
    if (!state || attempt.phase !== 'live') return;
    if (frame.seq === undefined) {
      // An older server's unsequenced correction events: applied, seq unchanged.
      this.apply({ ...frame, seq: state.seq } as RoomEvent, false);
      return;
    }
    const placement = placeSeq(state, frame.seq);
    if (placement === 'stale') return;
    if (placement === 'gap') {
      this.debug(`seq ${frame.seq} after ${state.seq}: resuming`);
      this.reconnectNow(attempt, { kind: 'gap', message: `seq ${frame.seq} after ${state.seq}` }, 'resume');
      return;
    }
    this.apply(frame as RoomEvent, false);
  }

  private onAck(attempt: Attempt, ack: AckFrame): void {
    const pending = this.commands.take(ack.id);
    let next: 'resume' | 'fresh' | undefined;
    const state = this.current;
    if (state && ack.seq !== undefined && attempt.phase === 'live') {
      const placement = placeSeq(state, ack.seq);
      if (placement === 'next') {
        const seq = ack.seq;
        const event = pending ? eventOfCommand(pending.command, this.uuid, seq) : eventOfBareAck(state, { ...ack, seq });
        if (event) this.apply(event, true);
        else next = 'fresh';
      } else if (placement === 'gap') {
        next = 'resume';
      }
    }
    if (pending) CommandTracker.resolve(pending, ack);
    this.emitter.emit('ack', ack);
    if (next === 'fresh') {
      this.debug(`an own ${ack.of} at seq ${ack.seq} without its content: rejoining for a fresh state`);
      this.reconnectNow(attempt, { kind: 'resync', message: `own ${ack.of} at seq ${ack.seq}` }, 'fresh');
    } else if (next === 'resume') {
      this.reconnectNow(attempt, { kind: 'gap', message: `Ack seq ${ack.seq} after ${state?.seq}` }, 'resume');
    }
  }

  private apply(event: RoomEvent, own: boolean): void {
    if (!this.current) return;
    this.current = applyEvent(this.current, event);
    this.emitter.emit('state', this.current, { kind: 'event', event, own });
  }

  private synced(attempt: Attempt, via: 'join' | 'resumed' | 'missed'): void {
    this.clock.clearTimeout(attempt.timer);
    attempt.phase = 'live';
    attempt.syncedAt = this.clock.now();
    this.joinMode = 'resume';
    this.unauthorized = 0;
    this.setStatus({ status: 'connected', via, url: attempt.base });
    this.scheduleKeepAlive(attempt);
    const connecting = this.connecting;
    this.connecting = undefined;
    if (connecting && this.current) connecting.resolve(this.current);
  }

  private onClose(attempt: Attempt, code: number, reason: string): void {
    if (this.attempt !== attempt) {
      this.abandoned.delete(attempt.socket);
      return;
    }
    this.attempt = null;
    this.clock.clearTimeout(attempt.timer);
    if (attempt.phase === 'opening') {
      void this.onRefused(attempt);
      return;
    }
    this.debug(`closed ${code}${reason ? ` (${reason})` : ''}`);
    this.onDrop(attempt, code, { kind: code === SERVICE_RESTART_CLOSE || attempt.restart ? 'service_restart' : 'lost', code });
  }

  /** A connection that had opened ended: stop for good on a terminal close, otherwise resume by the policy. */
  private onDrop(attempt: Attempt, code: number, cause: DropCause): void {
    if (this.attempt === attempt) this.attempt = null;
    this.stopKeepAlive();
    this.commands.failAll('not_connected');
    const verdict = closeVerdict(code);
    const terminal = attempt.terminal ?? (verdict.kind === 'terminal' ? verdict.reason : undefined);
    if (terminal) {
      this.finish(terminal, attempt.joinError?.message ?? terminalMessage(terminal));
      return;
    }
    this.noteStability(attempt);
    if (cause.kind === 'service_restart') {
      this.urlIndex += 1;
      this.retrySoon(cause);
      return;
    }
    this.scheduleRetry(attempt.joinError ? { ...cause, errorCode: attempt.joinError.code, message: attempt.joinError.message } : cause);
  }

  /** The upgrade failed: find out why, then stop for good, get a new token, or retry later. */
  private async onRefused(attempt: Attempt): Promise<void> {
    // A probe that hangs must not stall the policy: after connectTimeoutMs the cause is unknown.
    let timer: unknown;
    const refusal = await Promise.race([
      diagnoseRefusal(attempt.url, attempt.lastError, this.fetchImpl),
      new Promise<UpgradeRefusal>((resolve) => {
        timer = this.clock.setTimeout(() => resolve({}), this.connectTimeoutMs);
      }),
    ]);
    this.clock.clearTimeout(timer);
    if (this.connection.status === 'closed' || this.attempt !== null || this.retry.scheduled) return;
    const cause: DropCause = { kind: 'refused' };
    if (refusal.status !== undefined) cause.status = refusal.status;
    if (refusal.code !== undefined) cause.errorCode = refusal.code;
    if (refusal.message !== undefined) cause.message = refusal.message;
    this.debug('the join was refused', undefined, refusal);
    if (refusal.code === 'room_not_found' || (refusal.status === 404 && refusal.code === undefined)) {
      this.finish('room_not_found', refusal.message ?? `room ${this.room} does not exist`);
      return;
    }
    if (refusal.code === 'invalid_request' || (refusal.status === 400 && refusal.code === undefined)) {
      this.finish('invalid_request', refusal.message ?? 'the join was refused as invalid');
      return;
    }
    if (refusal.status === 401) {
      this.tokens.refused();
      this.unauthorized += 1;
      // A token that expired is expected: retry at once with a new one. A new one refused too is retried with the backoff.
      if (this.unauthorized === 1 && this.tokens.renewable) {
        this.scheduleRetry(cause, 0);
        return;
      }
    }
    this.urlIndex += 1;
    this.scheduleRetry(cause);
  }

  /** Gives up the live connection and joins again at once: resuming from the state's seq, or fresh. */
  private reconnectNow(attempt: Attempt, cause: DropCause, mode: 'resume' | 'fresh'): void {
    if (this.attempt !== attempt) return;
    this.abandon(attempt);
    this.attempt = null;
    this.stopKeepAlive();
    this.commands.failAll('not_connected');
    this.joinMode = mode;
    this.noteStability(attempt);
    this.retrySoon(cause);
  }

  /** A connection that stayed up `stableAfterMs` starts the backoff over. */
  private noteStability(attempt: Attempt): void {
    if (attempt.phase === 'live' && this.clock.now() - attempt.syncedAt >= this.backoff.stableAfterMs) {
      this.failures = 0;
      this.immediate = 0;
    }
  }

  /**
   * At once (a node shutting down, a gap, a resync), the first time since the last stable
   * connection; after that with the backoff, so a server that keeps doing it cannot spin the client.
   */
  private retrySoon(cause: DropCause): void {
    this.immediate += 1;
    if (this.immediate === 1) this.scheduleRetry(cause, 0);
    else this.scheduleRetry(cause);
  }

  /** Attempt the next connection after `delayMs` (default: the backoff's next delay). */
  private scheduleRetry(cause: DropCause, delayMs?: number): void {
    if (this.connection.status === 'closed') return;
    const delay = delayMs ?? backoffDelay(this.failures, this.backoff, this.random, this.environment.isHidden?.() ?? false);
    if (delayMs === undefined) this.failures += 1;
    this.setStatus({ status: 'reconnecting', attempt: this.failures, delayMs: delay, cause });
    this.retry.schedule(delay, () => void this.open());
  }

  /** Drops a socket without a close frame: `terminate` where there is one; otherwise the server replaces it on the next join. */
  private abandon(attempt: Attempt): void {
    this.clock.clearTimeout(attempt.timer);
    const { socket } = attempt;
    if (typeof socket.terminate === 'function') {
      try {
        socket.terminate();
      } catch (error) {
        this.debug('terminate failed', error);
      }
    } else if (attempt.phase === 'opening') {
      safeClose(socket);
    } else {
      this.abandoned.add(socket);
    }
  }

  private finish(reason: CloseReason, message: string): void {
    if (this.connection.status === 'closed') return;
    this.retry.dispose();
    this.stopKeepAlive();
    this.generation += 1;
    this.commands.failAll(reason === 'closed' ? 'closed' : 'not_connected', `the client stopped: ${message}`);
    const attempt = this.attempt;
    this.attempt = null;
    if (attempt) {
      this.clock.clearTimeout(attempt.timer);
      // A clean close: the server lets the user leave at once.
      safeClose(attempt.socket, 1000);
    }
    for (const socket of this.abandoned) safeClose(socket, 1000);
    this.abandoned.clear();
    this.setStatus({ status: 'closed', reason, message });
    const connecting = this.connecting;
    this.connecting = undefined;
    if (connecting) {
      const code =
        reason === 'room_not_found' || reason === 'room_deleted'
          ? 'room_not_found'
          : reason === 'invalid_request'
            ? 'invalid_request'
            : 'closed';
      connecting.reject(new SdkError(code, message));
    }
  }

  private scheduleKeepAlive(attempt: Attempt): void {
    if (!this.keepAlive) return;
    const { intervalMs, timeoutMs } = this.keepAlive;
    this.clock.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = this.clock.setTimeout(() => {
      if (this.attempt !== attempt || attempt.phase !== 'live') return;
      const id = this.commands.nextId();
      const timer = this.clock.setTimeout(() => {
        if (this.attempt !== attempt) return;
        this.debug(`no Pong within ${timeoutMs} ms: the connection is taken as lost`);
        this.keepAlivePing = undefined;
        this.abandon(attempt);
        // A node that stopped answering (hung, or cut off) would hold the next attempt for the whole
        // connect timeout too: try the next node of the list.
        this.urlIndex += 1;
        this.onDrop(attempt, 1006, { kind: 'keepalive', code: 1006 });
      }, timeoutMs);
      this.keepAlivePing = { id, timer };
      try {
        this.transmit({ action: 'Ping', id });
      } catch (error) {
        this.debug('the keep-alive Ping could not be sent', error);
      }
    }, intervalMs);
  }

  private stopKeepAlive(): void {
    this.clock.clearTimeout(this.keepAliveTimer);
    this.keepAliveTimer = undefined;
    if (this.keepAlivePing) this.clock.clearTimeout(this.keepAlivePing.timer);
    this.keepAlivePing = undefined;
  }

  private setStatus(status: ConnectionStatus): void {
    this.connection = status;
    this.emitter.emit('connection', status);
  }

  private debug(message: string, error?: unknown, data?: unknown): void {
    const entry: DebugEntry = { message };
    if (error !== undefined) entry.error = error;
    if (data !== undefined) entry.data = data;
    this.callDebugHook(entry);
    this.emitter.emit('debug', entry);
  }

  private callDebugHook(entry: DebugEntry): void {
    try {
      this.options.debug?.(entry);
    } catch {
      // The app's debug hook failed: never the SDK's problem.
    }
  }
}

function safeClose(socket: WebSocketLike, code?: number): void {
  try {
    socket.close(code);
  } catch {
    // already closed
  }
}

/** A join URL without its token, for logs. */
const redact = (url: string): string => url.replace(/([?&]token=)[^&]*/, '$1…');

function terminalMessage(reason: CloseReason): string {
  switch (reason) {
    case 'kicked':
      return 'you were removed from the room';
    case 'room_deleted':
      return 'the room was deleted';
    case 'replaced':
      return 'you joined this room from another tab or device';
    case 'room_not_found':
      return 'the room does not exist';
    case 'invalid_request':
      return 'the join was refused as invalid';
    case 'closed':
      return 'closed by the app';
  }
}
