/**
 * Every failure the server reports has a stable snake_case code. HTTP answers carry it in
 * `{"success": false, "error": {"code", "message"}}`, WebSocket clients in `{"action": "Error", "code", "message"}`.
 */
export const ERROR_STATUS = {
  invalid_request: 400,
  invalid_json: 400,
  unauthorized: 401,
  room_full: 403,
  too_many_rooms: 403,
  forbidden: 403,
  not_found: 404,
  room_not_found: 404,
  user_not_found: 404,
  room_exists: 409,
  payload_too_large: 413,
  headers_too_large: 431,
  unsupported_media_type: 415,
  rate_limited: 429,
  too_many_connections: 429,
  upgrade_required: 426,
  internal_error: 500,
  fcm_not_configured: 503,
  unavailable: 503,
  // WebSocket only: these never reach an HTTP client.
  invalid_message: 400,
  unknown_action: 400,
  master_offline: 409,
  /** An ICECandidate from a connection that has no offer being answered nor answered. */
  no_offer: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class AppError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
    this.code = code;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export const isAppError = (value: unknown): value is AppError => value instanceof AppError;

/** WebSocket close codes the server sends. */
export const CloseCode = {
  /** Sustained message-rate abuse. */
  policyViolation: 1008,
  /** The server is shutting down: reconnect (to another node) with last_seq. */
  serviceRestart: 1012,
  messageTooBig: 1009,
  internalError: 1011,
  /** The room store is unreachable: reconnect in a moment. */
  tryAgainLater: 1013,
  kicked: 4001,
  roomDeleted: 4004,
  replaced: 4009,
  /** The client stopped reading and its unsent data grew past the limit: resume with last_seq. */
  slowConsumer: 4008,
} as const;
