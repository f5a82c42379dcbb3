import type { Clock } from '../../sdk/src/clock.js';
import type { WebSocketConstructor, WebSocketLike } from '../../sdk/src/socket.js';

/**
 * A clock the test moves by hand: timers run only inside advance(), in due order, so no test
 * sleeps and every delay the SDK chooses can be read (pendingDelays).
 */
export class ManualClock implements Clock {
  time = 1_000_000;
  private readonly timers = new Map<number, { at: number; callback: () => void; delay: number }>();
  private nextId = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + Math.max(0, ms), callback, delay: ms });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** The delays of the timers waiting now, in the order they were set. */
  pendingDelays(): number[] {
    return [...this.timers.values()].map((timer) => timer.delay);
  }

  /** Moves time on by `ms`, running each timer that falls due (and the promise jobs it starts) in order. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      let next: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!next || entry[1].at < next[1].at)) next = entry;
      if (!next) break;
      this.timers.delete(next[0]);
      this.time = Math.max(this.time, next[1].at);
      next[1].callback();
    }
    this.time = end;
    await settle();
  }
}

/** Lets every pending promise job (and the ones they start) run. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

type Listener = (event: any) => void;

/**
 * A scripted peer: the socket the SDK talks to, driven by the test (open, receive, close). This is
 * the one place a scripted server is right: what it sends is the input of the unit under test.
 */
export class FakeSocket implements WebSocketLike {
  readyState = 0;
  readonly sent: Record<string, any>[] = [];
  /** The code the client closed with (a clean close), if it did. */
  closedWith: number | undefined;
  terminated = false;
  private readonly listeners = new Map<string, Listener[]>();

  constructor(readonly url: string) {}

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    if (this.readyState !== 1) throw new Error('not open');
    this.sent.push(JSON.parse(data));
  }

  close(code?: number): void {
    if (this.readyState === 3) return;
    this.closedWith = code ?? 1005;
    this.readyState = 3;
    this.emit('close', { code: code ?? 1005, reason: '' });
  }

  terminate(): void {
    if (this.readyState === 3) return;
    this.terminated = true;
    this.readyState = 3;
    this.emit('close', { code: 1006, reason: '' });
  }

  // The server's side.

  /** The upgrade succeeded. */
  open(): void {
    this.readyState = 1;
    this.emit('open', {});
  }

  /** The server sends a frame. */
  receive(frame: Record<string, unknown>): void {
    this.emit('message', { data: JSON.stringify(frame) });
  }

  /** The server closes (or the network loses: 1006). */
  serverClose(code: number, reason = ''): void {
    this.readyState = 3;
    this.emit('close', { code, reason });
  }

  /** The upgrade is refused: an error, then close 1006, before any open (what a browser shows). */
  refuse(message?: string): void {
    this.readyState = 3;
    this.emit('error', message === undefined ? {} : { message });
    this.emit('close', { code: 1006, reason: '' });
  }

  /** The last frame the client sent of `action`. */
  lastSent(action: string): Record<string, any> | undefined {
    return this.sent.filter((frame) => frame.action === action).at(-1);
  }

  get query(): URLSearchParams {
    return new URL(this.url).searchParams;
  }

  private emit(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

/** A WebSocket class whose instances the test can reach. */
export function fakeWebSocket(): { WebSocket: WebSocketConstructor; sockets: FakeSocket[]; last(): FakeSocket } {
  const sockets: FakeSocket[] = [];
  class Socket extends FakeSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return {
    WebSocket: Socket,
    sockets,
    last: () => {
      const socket = sockets.at(-1);
      if (!socket) throw new Error('no socket was opened');
      return socket;
    },
  };
}

/** A RoomState frame: a room with a master and students, nothing else set, unless overridden. */
export function roomState(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    action: 'RoomState',
    room: 'halaqa',
    seq: 2,
    master_uuid: 'teacher',
    users: ['teacher', 'ali'],
    names: {},
    id_quran: null,
    aya: null,
    muted: [],
    muted_all: false,
    corrections: [],
    audio_slots: 3,
    ...overrides,
  };
}

/** A fetch answering every request with `status` and an envelope for `code`, recording the URLs. */
export function fakeFetch(answer: (url: string) => { status: number; body: unknown }) {
  const urls: string[] = [];
  const fetch = async (url: string) => {
    urls.push(url);
    const { status, body } = answer(url);
    return { status, text: async () => JSON.stringify(body) };
  };
  return { fetch, urls };
}

/** A JWT-shaped token with this expiry (seconds); not signed, the SDK only reads `exp`. */
export function fakeJwt(exp: number, sub = 'ali'): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, exp })}.signature`;
}
