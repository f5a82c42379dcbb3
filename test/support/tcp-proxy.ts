import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';

/** One client connection through the proxy, and its connection to the target. */
interface Pair {
  client: Socket;
  upstream: Socket | undefined;
  /** The first line the client sent (for a WebSocket: `GET /api/room/join/{room}/{uuid}?... HTTP/1.1`). */
  requestLine: string;
  /** Bytes from the client are no longer forwarded (`freeze(..., 'up')`). */
  frozenUp: boolean;
}

/**
 * A TCP proxy on a loopback port in front of one server, so a test can do to a connection what the
 * network does: `cut()` resets it on both sides, the server's first (no close frame: the server sees
 * a lost connection and keeps the user's place for its grace period; the client sees 1006);
 * `freeze()` stops one direction of a connection (a frame sent, its answer lost); and `hold()` keeps
 * new connections waiting (accepted, not forwarded) until `release()`, so a client surely stays away
 * while the others act.
 */
export class TcpProxy {
  /** `ws://127.0.0.1:PORT` */
  readonly ws: string;
  /** `http://127.0.0.1:PORT` */
  readonly http: string;
  private readonly pairs = new Set<Pair>();
  private held: Pair[] | undefined;

  private constructor(
    private readonly server: Server,
    private readonly targetPort: number,
    port: number,
  ) {
    this.http = `http://127.0.0.1:${port}`;
    this.ws = `ws://127.0.0.1:${port}`;
  }

  /** A proxy to `target` (`http://127.0.0.1:PORT` or `ws://...`). */
  static async start(target: string): Promise<TcpProxy> {
    const targetPort = Number(new URL(target).port);
    let proxy: TcpProxy | undefined;
    const server = createServer({ pauseOnConnect: true }, (client) => proxy!.accept(client));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('the proxy has no port');
    proxy = new TcpProxy(server, targetPort, address.port);
    return proxy;
  }

  /** The connections now open (forwarded or held), by their first line. */
  get connections(): string[] {
    return [...this.pairs].map((pair) => pair.requestLine);
  }

  /**
   * Resets every connection whose first line matches `match` (all by default), the server's side
   * first; returns how many were cut.
   */
  cut(match: (requestLine: string) => boolean = () => true): number {
    let count = 0;
    for (const pair of [...this.pairs]) {
      if (!match(pair.requestLine)) continue;
      count += 1;
      this.drop(pair);
    }
    return count;
  }

  /**
   * Stops forwarding one direction of every forwarded connection whose first line matches: `down`,
   * what the server sends no longer reaches the client; `up`, what the client sends no longer reaches
   * the server. The connection stays open (until `cut()`); returns how many were frozen.
   */
  freeze(match: (requestLine: string) => boolean, direction: 'up' | 'down'): number {
    let count = 0;
    for (const pair of this.pairs) {
      if (!pair.upstream || !match(pair.requestLine)) continue;
      count += 1;
      if (direction === 'down') {
        pair.upstream.unpipe(pair.client);
        pair.upstream.pause();
      } else {
        pair.frozenUp = true;
        pair.client.pause();
      }
    }
    return count;
  }

  /** New connections wait (accepted, nothing forwarded) until `release()`. */
  hold(): void {
    this.held ??= [];
  }

  /** Forwards the connections held since `hold()`, and the ones to come. */
  release(): void {
    const held = this.held ?? [];
    this.held = undefined;
    for (const pair of held) if (this.pairs.has(pair)) this.forward(pair);
  }

  /** Stops listening and resets every connection. */
  async close(): Promise<void> {
    this.held = undefined;
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    const pair: Pair = { client, upstream: undefined, requestLine: '', frozenUp: false };
    this.pairs.add(pair);
    client.on('error', () => this.drop(pair));
    client.on('close', () => this.drop(pair, false));
    if (this.held) this.held.push(pair);
    else this.forward(pair);
  }

  private forward(pair: Pair): void {
    const { client } = pair;
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    pair.upstream = upstream;
    upstream.on('error', () => this.drop(pair));
    upstream.on('close', () => this.drop(pair, false));
    client.on('data', (chunk: Buffer) => {
      if (!pair.requestLine) pair.requestLine = chunk.toString('latin1').split('\r\n', 1)[0] ?? '';
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => {
      if (!pair.frozenUp) client.resume();
    });
    upstream.pipe(client);
    client.resume();
  }

  /** Ends a pair: reset (a cut, an error), or, when one side closed, the other one ended after what it still has to send. */
  private drop(pair: Pair, reset = true): void {
    if (!this.pairs.delete(pair)) return;
    if (reset) {
      pair.upstream?.resetAndDestroy();
      pair.client.resetAndDestroy();
    } else {
      pair.upstream?.end();
      pair.client.end();
    }
  }
}
