import WebSocket, { type ClientOptions } from 'ws';

export type Message = Record<string, any>;
type Predicate = (message: Message) => boolean;

const DEFAULT_TIMEOUT_MS = 5000;

export class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly body: any,
  ) {
    super(`handshake refused with HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

/**
 * A real WebSocket client that records every message, so a test can wait for the one it expects
 * (with a timeout) instead of sleeping.
 */
export class WsClient {
  readonly received: Message[] = [];
  private unread: Message[] = [];
  private waiters: { predicate: Predicate; resolve: (message: Message) => void }[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(
    readonly socket: WebSocket,
    private readonly sender?: (message: unknown) => void,
  ) {
    socket.on('message', (data, isBinary) => {
      const message = isBinary ? { binary: data } : (JSON.parse(data.toString()) as Message);
      this.received.push(message);
      const index = this.waiters.findIndex((waiter) => waiter.predicate(message));
      if (index >= 0) {
        const [waiter] = this.waiters.splice(index, 1);
        waiter!.resolve(message);
      } else {
        this.unread.push(message);
      }
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
  }

  /** Opens a connection; rejects with HandshakeRefused when the server answers with an HTTP error. */
  static connect(url: string, options: ClientOptions = {}): Promise<WsClient> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(url, options);
      const client = new WsClient(socket);
      socket.once('open', () => resolve(client));
      socket.once('error', reject);
      socket.once('unexpected-response', (_request, response) => {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += chunk.toString()));
        response.on('end', () => {
          reject(new HandshakeRefused(response.statusCode ?? 0, text ? JSON.parse(text) : undefined));
          socket.terminate();
        });
      });
    });
  }

  /**
   * A WsClient over a socket someone else opened and drives (the SDK's, in AudioParticipant): it
   * records what arrives from now on; `send`, when given, replaces how send() sends.
   */
  static over(socket: WebSocket, send?: (message: unknown) => void): WsClient {
    return new WsClient(socket, send);
  }

  /** Joins a room and waits for its RoomState snapshot. */
  static async join(base: string, room: string, uuid: string, query = ''): Promise<{ client: WsClient; state: Message }> {
    const client = await WsClient.connect(`${base}/api/room/join/${room}/${uuid}${query}`);
    const state = await client.next('RoomState');
    return { client, state };
  }

  send(message: unknown): void {
    if (this.sender) {
      this.sender(message);
      return;
    }
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** The next unread message matching `match` (an action name or a predicate); earlier non-matching ones stay unread. */
  next(match?: string | Predicate, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<Message> {
    const predicate: Predicate = match === undefined ? () => true : typeof match === 'string' ? (m) => m.action === match : match;
    const index = this.unread.findIndex(predicate);
    if (index >= 0) return Promise.resolve(this.unread.splice(index, 1)[0]!);
    return new Promise((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (message: Message) => {
          clearTimeout(timer);
          resolve(message);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${String(match)}; unread: ${JSON.stringify(this.unread)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /**
   * Everything the server sent before this call has arrived once this resolves: the server answers a
   * Ping on the same connection, after whatever it already queued there.
   */
  async barrier(): Promise<void> {
    this.send({ action: 'Ping' });
    await this.next('Pong');
  }

  /** Unread messages of one action (after a barrier, this is everything the server sent of it). */
  unreadOf(action: string): Message[] {
    return this.unread.filter((message) => message.action === action);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === WebSocket.CLOSED) return;
    this.socket.close();
    await this.closed;
  }
}
