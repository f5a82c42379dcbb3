/**
 * The live events of a set of rooms (`GET /api/events?rooms=…` through the AdminClient), kept open:
 * a new set aborts the old stream and opens another; a stream that ends or fails is opened again
 * after a backoff (1 s, doubling up to 10 s, back to 1 s once a stream is ready).
 */
import { isSdkError } from '../../sdk/src/index.js';
import type { DashboardApi, OperatorEvent } from './api.js';

const FIRST_DELAY_MS = 1000;
const MAX_DELAY_MS = 10_000;

export type StreamState =
  | { kind: 'idle' }
  | { kind: 'connecting' }
  | { kind: 'ready'; rooms: number }
  | { kind: 'waiting'; delayMs: number };

export interface StreamHandlers {
  item(item: OperatorEvent): void;
  state(state: StreamState): void;
  /** A failure that retrying cannot mend (the key refused): the stream stops. */
  fatal(error: unknown): void;
  /** The server refused the set (a room of it is gone): the stream retries after its backoff. */
  refused(error: unknown): void;
}

export class EventStream {
  private key = '';
  private controller: AbortController | null = null;

  constructor(
    private readonly api: DashboardApi,
    private readonly handlers: StreamHandlers,
  ) {}

  /** Streams the events of `rooms` from now on; the same set again changes nothing. */
  watch(rooms: Iterable<string>): void {
    const set = [...new Set(rooms)].sort();
    const key = set.join(',');
    if (key === this.key && this.controller) return;
    this.stop();
    this.key = key;
    if (set.length === 0) {
      this.handlers.state({ kind: 'idle' });
      return;
    }
    const controller = new AbortController();
    this.controller = controller;
    void this.run(set, controller.signal);
  }

  stop(): void {
    this.controller?.abort();
    this.controller = null;
    this.key = '';
  }

  private async run(rooms: string[], signal: AbortSignal): Promise<void> {
    let delayMs = FIRST_DELAY_MS;
    while (!signal.aborted) {
      this.handlers.state({ kind: 'connecting' });
      try {
        for await (const item of this.api.events(rooms, { signal })) {
          if (signal.aborted) return;
          if (item.type === 'ready') {
            delayMs = FIRST_DELAY_MS;
            this.handlers.state({ kind: 'ready', rooms: item.rooms.length });
          }
          this.handlers.item(item);
        }
      } catch (error) {
        if (signal.aborted) return;
        if (isSdkError(error) && error.code === 'unauthorized') {
          this.handlers.fatal(error);
          return;
        }
        if (isSdkError(error) && error.status !== undefined) this.handlers.refused(error);
      }
      if (signal.aborted) return;
      this.handlers.state({ kind: 'waiting', delayMs });
      await sleep(delayMs, signal);
      delayMs = Math.min(delayMs * 2, MAX_DELAY_MS);
    }
  }
}

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
