import type { Logger } from 'pino';
import type { ConnectionRef } from '../protocol/connection.js';
import { AppError, isAppError } from '../protocol/errors.js';
import { type ErrorFrame, errorFrame, type MediaMessage, type RequestRef } from '../protocol/server-messages.js';

export type MediaMessageListener = (to: ConnectionRef, message: MediaMessage) => void;

/**
 * Where each room's media is and how signaling reaches it, chosen once (cluster.ts): this node's
 * SFU alone (LocalMediaRouter), or one media node per room across a Redis cluster
 * (RedisMediaRouter). Requests come in from a connection's session; everything for a connection
 * (answers, candidates, speakers, refusals as `Error` frames) goes out through `onMessage`, the
 * same way on every topology. The request methods never reject.
 */
export interface MediaRouter {
  /** `id`: the client's request id, echoed by a refusal (`Error` with `of` and `id`). */
  offer(room: string, from: ConnectionRef, sdp: string, id?: string): Promise<void>;
  /** A trickled candidate; one from a connection that has not offered is answered `no_offer`. */
  candidate(room: string, from: ConnectionRef, candidate: string, mid: string, id?: string): Promise<void>;
  /** The connection ended: its media closes, untold. */
  connectionClosed(room: string, from: ConnectionRef): Promise<void>;
  /** The node hosting the room's media now, or null when none does (nobody in it has offered audio). */
  hostOf(room: string): Promise<string | null>;
  /** Where messages for this node's connections go (the transport listens once). */
  onMessage(listener: MediaMessageListener): void;
  start(): Promise<void>;
  /** Hands every room this node hosts over (untold: clients are told Reconnect or MediaReconnect). */
  close(): Promise<void>;
}

/** The answer to a candidate that comes before any offer of its connection (documented in docs/protocol.md). */
export const noOffer = (): AppError =>
  new AppError(
    'no_offer',
    'ICECandidate before any SessionDescription offer on this connection: send the offer first; the candidate was dropped',
  );

/**
 * The one error path of media signaling: a refusal is the client's, anything else a logged internal
 * error. `about`: the command refused (its action, and its request id when it gave one).
 */
export function refusalOf(error: unknown, log: Logger, context: Record<string, unknown>, about: RequestRef): ErrorFrame {
  if (isAppError(error)) return errorFrame(error, about);
  log.error({ err: error, ...context }, 'media signaling failed');
  return errorFrame(new AppError('internal_error', 'the media server failed; offer again'), about);
}

/** The listeners of a router's messages; a listener that throws is logged and never stops the others. */
export class MediaMessageListeners {
  private readonly listeners: MediaMessageListener[] = [];

  constructor(private readonly log: Logger) {}

  add(listener: MediaMessageListener): void {
    this.listeners.push(listener);
  }

  emit(to: ConnectionRef, message: MediaMessage): void {
    for (const listener of this.listeners) {
      try {
        listener(to, message);
      } catch (error) {
        this.log.error({ err: error, action: message.action }, 'media message listener failed');
      }
    }
  }
}
