import type { Logger } from 'pino';
import type { ConnectionRef } from '../../protocol/connection.js';
import type { MediaMessage } from '../../protocol/server-messages.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** Media signaling between nodes: requests to a room's media node, messages back to a connection's node. */
export type Relayed =
  /** `id`: the client's request id, echoed by a refusal. */
  | { kind: 'offer'; room: string; from: ConnectionRef; sdp: string; id?: string }
  | { kind: 'candidate'; room: string; from: ConnectionRef; candidate: string; mid: string; id?: string }
  | { kind: 'connectionClosed'; room: string; from: ConnectionRef }
  | { kind: 'deliver'; to: ConnectionRef; message: MediaMessage };

/**
 * A channel per node in Redis: what is sent to a node is published on its channel and handled there
 * in order; what a node sends itself is handled at once, without Redis.
 */
export class MediaRelay {
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly node: string,
    private readonly receive: (relayed: Relayed) => Promise<void>,
    private readonly log: Logger,
  ) {}

  /** Subscribes to this node's channel, if not yet (called again at every upkeep until it is). */
  async listen(): Promise<void> {
    if (this.stopListening) return;
    this.stopListening = await this.redis.subscribe(this.keys.relay(this.node), (text) => {
      void this.receive(JSON.parse(text) as Relayed).catch((error: unknown) =>
        this.log.warn({ err: error }, 'relayed media signaling failed'),
      );
    });
  }

  async send(node: string, relayed: Relayed): Promise<void> {
    if (node === this.node) await this.receive(relayed);
    else await this.redis.publish(this.keys.relay(node), JSON.stringify(relayed));
  }

  close(): void {
    this.stopListening?.();
    this.stopListening = undefined;
  }
}
