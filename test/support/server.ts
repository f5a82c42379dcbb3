import type { Logger } from 'pino';
import { type Config, loadConfig } from '../../src/config.js';
import { createServer, type Wigglypuff } from '../../src/server.js';

/**
 * Every server a test starts listens on loopback only, on ports the system picks, and never asks a
 * STUN server outside this machine.
 */
export const TEST_ENV: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: '0',
  MEDIA_PORT: '0',
  MEDIA_BIND_ADDRESS: '127.0.0.1',
  STUN_ADDRESS: 'stun:127.0.0.1:3478',
};

export interface TestServer {
  server: Wigglypuff;
  /** `http://127.0.0.1:PORT` */
  http: string;
  /** `ws://127.0.0.1:PORT` */
  ws: string;
  close(): Promise<void>;
}

/** A real server on an ephemeral loopback port. `env` is read like the process environment. */
export async function startServer(env: Record<string, string> = {}, options: { logger?: Logger } = {}): Promise<TestServer> {
  const config: Config = loadConfig({ ...TEST_ENV, LOG_LEVEL: 'silent', ...env });
  const server = await createServer(config, options);
  const http = await server.listen();
  return {
    server,
    http,
    ws: http.replace(/^http/, 'ws'),
    close: () => server.close(),
  };
}

export interface JsonResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One HTTP request; a body object is sent as JSON, a string as it is. */
export async function request<T = any>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    if (typeof body !== 'string') (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const response = await fetch(base + path, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
}

export async function createRoom(base: string, name: string, master: string): Promise<void> {
  const response = await request(base, 'POST', '/api/room/create', { name, master_uuid: master });
  if (response.status !== 200) throw new Error(`create ${name}: ${response.status} ${JSON.stringify(response.body)}`);
}
