import type { ServerResponse } from 'node:http';

/** One Server-Sent Event: its name, its id if any, its data (as one line of JSON). */
export interface SseEvent {
  event: string;
  id?: string;
  data: unknown;
}

export interface SseStreamOptions {
  /** Events held while the client does not drain; beyond this the oldest are dropped (and counted). */
  maxQueued: number;
  /** A comment line this often keeps proxies from closing an idle stream. */
  keepAliveMs: number;
  /** Told how many events were dropped, as they are (metrics). */
  onDropped?(count: number): void;
}

const frameOf = ({ event, id, data }: SseEvent): string =>
  `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;

/**
 * One client's Server-Sent Events stream, in bounded memory whatever the client does. While its
 * socket does not drain (a write returned false), events wait in a queue of at most `maxQueued`,
 * the oldest dropped beyond that; once it drains, `event: dropped` tells how many were, then the
 * queue goes out. Events sent before `start` wait the same way.
 */
export class SseStream {
  private readonly queue: string[] = [];
  private dropped = 0;
  private started = false;
  /** Before the start, and while the socket does not drain. */
  private blocked = true;
  private ended = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly endListeners: (() => void)[] = [];

  constructor(
    private readonly response: ServerResponse,
    private readonly options: SseStreamOptions,
  ) {
    response.on('close', () => this.end());
    response.on('drain', () => this.flush());
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** Sends the head and `first`, then whatever was sent meanwhile. */
  start(first: SseEvent): void {
    if (this.ended || this.started) return;
    this.started = true;
    this.response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      // nginx and its kind would otherwise hold the events back.
      'x-accel-buffering': 'no',
    });
    this.blocked = false;
    this.write(frameOf(first));
    this.flush();
    this.keepAlive = setInterval(() => {
      if (!this.blocked) this.write(': keep-alive\n\n');
    }, this.options.keepAliveMs);
  }

  send(event: SseEvent): void {
    if (this.ended) return;
    const frame = frameOf(event);
    if (this.blocked) this.enqueue(frame);
    else this.write(frame);
  }

  /** Called once the stream ended, by either side. */
  onEnd(listener: () => void): void {
    if (this.ended) listener();
    else this.endListeners.push(listener);
  }

  /** Ends the stream: the response ends if it had started (the client's disconnect ends it too). */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.keepAlive);
    this.queue.length = 0;
    if (this.started && !this.response.writableEnded) this.response.end();
    for (const listener of this.endListeners.splice(0)) listener();
  }

  private write(frame: string): void {
    if (!this.response.write(frame)) this.blocked = true;
  }

  private enqueue(frame: string): void {
    if (this.queue.length >= this.options.maxQueued) {
      this.queue.shift();
      this.dropped += 1;
      this.options.onDropped?.(1);
    }
    this.queue.push(frame);
  }

  /** The socket drained: first how many events were dropped, then the queue, until it blocks again. */
  private flush(): void {
    if (this.ended || !this.started) return;
    this.blocked = false;
    if (this.dropped > 0) {
      const count = this.dropped;
      this.dropped = 0;
      this.write(frameOf({ event: 'dropped', data: { count } }));
    }
    while (!this.blocked && this.queue.length > 0) this.write(this.queue.shift()!);
  }
}
