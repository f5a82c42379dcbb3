import { CLOSE_REASONS, CloseCode } from '../../src/protocol/errors.js';
import type { ClientAction, SdkErrorCode } from './wire.js';

/** Messages of the codes the SDK raises itself (the server never sends them). */
const CLIENT_MESSAGES: Record<string, string> = {
  not_connected: 'not connected to the room',
  timeout: 'no answer from the server in time',
  closed: 'the client was closed',
};

/**
 * The one error type the SDK rejects and reports with. `code` is the server's stable code (from its
 * `Error` frame or its HTTP envelope) or one of the SDK's own: `not_connected` (no open connection,
 * or it dropped before the answer), `timeout` (no answer in time), `closed` (the client was closed).
 */
export class SdkError extends Error {
  readonly code: SdkErrorCode;
  /** The command it answers, when it answers one. */
  readonly of: ClientAction | undefined;
  /** The request id of that command. */
  readonly id: string | undefined;
  /** The HTTP status, for errors of HTTP calls. */
  readonly status: number | undefined;

  constructor(
    code: SdkErrorCode,
    message: string = CLIENT_MESSAGES[code] ?? code,
    details: { of?: ClientAction | undefined; id?: string | undefined; status?: number | undefined; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'SdkError';
    this.code = code;
    this.of = details.of;
    this.id = details.id;
    this.status = details.status;
  }
}

export const isSdkError = (value: unknown): value is SdkError => value instanceof SdkError;

/** Why a room client stopped for good. */
export type CloseReason =
  /** Kicked by the room's management (close 4001, after `Kicked`). */
  | 'kicked'
  /** The room was deleted (close 4004, after `RoomDeleted`). */
  | 'room_deleted'
  /** Another connection with the same uuid took over (close 4009, after `Replaced`): another tab or device. */
  | 'replaced'
  /** A (re)join was refused with 404 `room_not_found`: the room is gone. */
  | 'room_not_found'
  /** A (re)join was refused with 400 `invalid_request` (a bad room name, uuid or display name): retrying cannot help. */
  | 'invalid_request'
  /** The app called `close()`. */
  | 'closed';

/**
 * The close codes that end a class for good: no reconnect follows them. Every other code (1006,
 * 1011, 1012, 1013, 4008, ...) is resumed with `last_seq`. Read from the server's own registry
 * (CLOSE_REASONS in src/protocol/errors.ts, shipped in the package as it is).
 */
export const TERMINAL_CLOSE_CODES: Readonly<Record<number, CloseReason>> = Object.freeze(
  Object.fromEntries(
    Object.entries(CLOSE_REASONS)
      .filter(([, entry]) => entry.terminal)
      .map(([reason, entry]) => [entry.code, reason as CloseReason]),
  ),
);

/** Close 1012: the node is shutting down; reconnect at once, to another node if there is one. */
export const SERVICE_RESTART_CLOSE: number = CloseCode.serviceRestart;
