import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERRORS, type ErrorCode } from '../../protocol/errors.js';

export interface Success<T> {
  success: true;
  data: T;
}

export const ok = <T>(data: T): Success<T> => ({ success: true, data });

export const failure = (code: ErrorCode, message: string) => ({
  success: false as const,
  error: { code, message },
});

/** Fastify's own errors, by their codes, mapped onto ours (the registry's message unless one is given). */
const FASTIFY_ERRORS: Record<string, [ErrorCode, string?]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: ['invalid_json'],
  FST_ERR_CTP_EMPTY_JSON_BODY: ['invalid_json', 'the body is empty; send a JSON object'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: ['unsupported_media_type'],
  FST_ERR_CTP_BODY_TOO_LARGE: ['payload_too_large'],
};

function toAppError(error: FastifyError): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const first = error.validation[0];
    const path = [error.validationContext ?? 'request', ...(first?.instancePath.split('/').filter(Boolean) ?? [])];
    return new AppError('invalid_request', `${path.join('.')} ${first?.message ?? 'is invalid'}`);
  }
  const mapped = error.code ? FASTIFY_ERRORS[error.code] : undefined;
  if (mapped) return new AppError(...mapped);
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('invalid_request', error.message);
  }
  return new AppError('internal_error');
}

/**
 * Errors Fastify raises before routing (a path segment too long, a malformed URL): for its
 * `frameworkErrors` option, so they leave in the same envelope.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (request.headers.upgrade) {
    // A refused WebSocket upgrade owns its socket, and no hook ends it on this path: end it here.
    reply.raw.once('finish', () => request.raw.socket.destroy());
  }
  void reply.code(400).send(failure('invalid_request', `bad URL: ${error.message}`));
}

/**
 * Requests Node's HTTP parser refuses (an unknown method, a broken header, no Host) never reach
 * Fastify: for its `clientErrorHandler` option, so they too get the envelope.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const appError =
    error.code === 'HPE_HEADER_OVERFLOW' ? new AppError('headers_too_large') : new AppError('invalid_request', 'malformed HTTP request');
  const body = JSON.stringify(failure(appError.code, appError.message));
  socket.end(
    `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status]}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Every failure leaves as `{"success": false, "error": {"code", "message"}}`, never as a stack
 * trace, with its code's HTTP status from the one registry (protocol/errors.ts ERRORS).
 */
export function installErrorEnvelope(app: FastifyInstance, onError: (code: ErrorCode) => void = () => undefined): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error);
    onError(appError.code);
    if (appError.code === 'internal_error') request.log.error({ err: error }, 'request failed');
    void reply.code(appError.status).send(failure(appError.code, appError.message));
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(ERRORS.not_found.status).send(failure('not_found', `no route ${request.method} ${request.url.split('?')[0]}`));
  });
}
