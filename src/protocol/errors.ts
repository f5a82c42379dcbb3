/**
 * Every failure the server reports has a stable snake_case code. HTTP answers carry it in
 * `{"success": false, "error": {"code", "message"}}`, WebSocket clients in
 * `{"action": "Error", "of"?, "id"?, "code", "message"}`. This module is the one registry of codes
 * and close codes; it imports nothing, so a browser bundle (the SDK) may import it as it is.
 */

/** What one error code means on the wire. */
export interface ErrorSpec {
  /** The HTTP status it is answered with (WebSocket-only codes have one too, for the registry's sake). */
  readonly status: number;
  /** The WebSocket close code that follows it, when the error ends the connection (a join failing after the upgrade). */
  readonly close?: number;
  /** The message used when the code is raised without one of its own. */
  readonly message: string;
}

/** WebSocket close codes the server sends (and 1006, which clients see when no close frame came). */
export const CloseCode = {
  /** No close frame: the network, a killed app, the heartbeat; clients see it, the server never sends it. */
  abnormal: 1006,
  /** Invalid UTF-8 in a text frame. */
  invalidPayload: 1007,
  /** Sustained message-rate abuse. */
  policyViolation: 1008,
  messageTooBig: 1009,
  internalError: 1011,
  /** The server is shutting down: reconnect (to another node) with last_seq. */
  serviceRestart: 1012,
  /** The room store is unreachable: reconnect in a moment. */
  tryAgainLater: 1013,
  kicked: 4001,
  roomDeleted: 4004,
  /** The client stopped reading and its unsent data grew past the limit: resume with last_seq. */
  slowConsumer: 4008,
  replaced: 4009,
} as const;

export const ERRORS = {
  invalid_request: { status: 400, message: 'the request is invalid' },
  invalid_json: { status: 400, message: 'the body is not valid JSON' },
  unauthorized: { status: 401, message: 'not authorized' },
  room_full: { status: 403, close: CloseCode.tryAgainLater, message: 'the room is full' },
  too_many_rooms: { status: 403, message: 'the server holds its maximum of rooms' },
  forbidden: { status: 403, message: 'your role may not do this' },
  not_found: { status: 404, message: 'no such route' },
  room_not_found: { status: 404, close: CloseCode.roomDeleted, message: 'the room does not exist' },
  user_not_found: { status: 404, message: 'the user is not in the room' },
  room_exists: { status: 409, message: 'the room already exists' },
  payload_too_large: { status: 413, message: 'the body is larger than the configured limit' },
  unsupported_media_type: { status: 415, message: 'send a JSON body with Content-Type: application/json' },
  upgrade_required: { status: 426, message: 'this endpoint speaks WebSocket only' },
  rate_limited: { status: 429, message: 'too many requests' },
  too_many_connections: { status: 429, message: 'too many connections from one address' },
  headers_too_large: { status: 431, message: 'the request headers are too large' },
  internal_error: { status: 500, close: CloseCode.internalError, message: 'internal server error' },
  fcm_not_configured: { status: 503, message: 'no FCM server token is configured (FCM_SERVER_TOKEN)' },
  unavailable: { status: 503, close: CloseCode.tryAgainLater, message: 'the room store is unreachable; try again' },
  // WebSocket only: these never reach an HTTP client.
  invalid_message: { status: 400, message: 'the message is invalid' },
  unknown_action: { status: 400, message: 'unknown action' },
  master_offline: { status: 409, message: 'the room master is not connected' },
  /** An ICECandidate from a connection that has no offer being answered nor answered. */
  no_offer: { status: 409, message: 'ICECandidate before any SessionDescription offer on this connection' },
  /** A ClickAya outside the room's sura, or before any MoveSura. */
  aya_out_of_range: { status: 409, message: 'the aya is not in the current sura' },
  /** An AnswerCorrection for a student who is not in the correction queue. */
  not_queued: { status: 409, message: 'the user is not in the correction queue' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

export const isErrorCode = (code: string): code is ErrorCode => Object.hasOwn(ERRORS, code);

/**
 * Codes a client library raises itself, never sent by the server: the socket is not open, no answer
 * came in time, the connection closed before the answer.
 */
export const CLIENT_ERRORS = {
  not_connected: { message: 'not connected to the room' },
  timeout: { message: 'no answer from the server in time' },
  closed: { message: 'the connection closed before the answer' },
} as const satisfies Record<string, { message: string }>;

export type ClientErrorCode = keyof typeof CLIENT_ERRORS;

export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string = ERRORS[code].message) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

export const isAppError = (value: unknown): value is AppError => value instanceof AppError;

/** What a close code means to a client: `terminal` ends the class for good; otherwise reconnect, resuming with last_seq. */
export interface CloseReason {
  readonly code: number;
  readonly terminal: boolean;
  readonly meaning: string;
}

/** Every close code a client of this server may see, by reason. */
export const CLOSE_REASONS = {
  kicked: { code: CloseCode.kicked, terminal: true, meaning: 'kicked from the room (after Kicked)' },
  room_deleted: {
    code: CloseCode.roomDeleted,
    terminal: true,
    meaning: 'the room was deleted (after RoomDeleted), or vanished during the join',
  },
  replaced: {
    code: CloseCode.replaced,
    terminal: true,
    meaning: 'a newer connection of the same uuid took this one over (after Replaced)',
  },
  abnormal: { code: CloseCode.abnormal, terminal: false, meaning: 'the connection was lost without a close frame: resume' },
  invalid_payload: { code: CloseCode.invalidPayload, terminal: false, meaning: 'a text frame was not valid UTF-8: resume' },
  policy_violation: { code: CloseCode.policyViolation, terminal: false, meaning: 'a sustained message flood: the user left; join again' },
  message_too_big: { code: CloseCode.messageTooBig, terminal: false, meaning: 'a frame over WS_MAX_FRAME_BYTES: resume' },
  internal_error: { code: CloseCode.internalError, terminal: false, meaning: 'the join failed unexpectedly: try again' },
  service_restart: {
    code: CloseCode.serviceRestart,
    terminal: false,
    meaning: 'the node is shutting down (after Reconnect): resume on another node',
  },
  try_again_later: {
    code: CloseCode.tryAgainLater,
    terminal: false,
    meaning: 'the store is unreachable or the room filled during the join: try again in a moment',
  },
  slow_consumer: { code: CloseCode.slowConsumer, terminal: false, meaning: 'the client stopped reading: resume' },
} as const satisfies Record<string, CloseReason>;

export type CloseReasonName = keyof typeof CLOSE_REASONS;

/** The reason of a close code, or undefined for a code this server never sends. */
export function closeReasonOf(code: number): (CloseReason & { reason: CloseReasonName }) | undefined {
  for (const [reason, entry] of Object.entries(CLOSE_REASONS) as [CloseReasonName, CloseReason][]) {
    if (entry.code === code) return { reason, ...entry };
  }
  return undefined;
}

/** Whether a close code ends the class for good (kicked, room deleted, replaced): no reconnect. */
export const isTerminalClose = (code: number): boolean => closeReasonOf(code)?.terminal ?? false;
