/* Child processes: the Wigglypuff server from its build, watchdogs, their output. */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { killOnExit } from '../../test/support/reaper.js';

/** The repository's root: the child processes' working directory. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** The server's built entry point, relative to ROOT. */
export const SERVER_ENTRY = 'dist/main.js';
/** SIGTERM, then SIGKILL after this long. */
export const STOP_GRACE_MS = 5_000;
/** Problem lines and recent output lines kept per process. */
export const MAX_PROBLEMS_KEPT = 20;

/** Throws when the server's entry point (absolute or relative to ROOT) is not built. */
export function assertBuilt(entry: string, npmScript: string): void {
  try {
    readFileSync(resolvePath(ROOT, entry));
  } catch {
    throw new Error(`${entry} is missing: run \`npm run build\` first (npm run ${npmScript} does)`);
  }
}

/**
 * A shell that SIGKILLs `pid` once its stdin (a pipe from this process) closes, i.e. once this
 * process is gone however it died; it is killed itself when the child exits, so it never signals a
 * reused pid.
 */
export function startWatchdog(child: ChildProcess): void {
  if (child.pid === undefined) return;
  const watchdog = spawn('/bin/sh', ['-c', 'read _; kill -9 "$1" 2>/dev/null', 'bench-watchdog', String(child.pid)], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => undefined);
  killOnExit(watchdog);
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  child.once('exit', () => watchdog.kill('SIGKILL'));
}

/** Kills `child` when this process exits, and (through a watchdog) when this process is killed. */
export function guardChild(child: ChildProcess): void {
  killOnExit(child);
  startWatchdog(child);
}

/** Environment variables the server reads (src/config.ts): none is inherited from this shell. */
export const SERVER_ENV_KEYS = [
  'HOST',
  'PORT',
  'LOG_LEVEL',
  'STUN_ADDRESS',
  'TURN_SERVERS',
  'TURN_USERNAME',
  'TURN_CREDENTIAL',
  'TURN_SECRET',
  'TURN_TTL',
  'FCM_SERVER_TOKEN',
  'HEARTBEAT_INTERVAL_MS',
  'WS_MAX_FRAME_BYTES',
  'HTTP_BODY_LIMIT_BYTES',
  'REDIS_URL',
  'REDIS_CLUSTER',
  'REDIS_KEY_PREFIX',
  'NODE_ID',
  'NODE_TIMEOUT_MS',
  'MEDIA_LEASE_MS',
  'RECONNECT_GRACE_MS',
  'HISTORY_SIZE',
  'HISTORY_MAX_AGE_MS',
  'AUDIO_SLOTS',
  'MEDIA_PORT',
  'MEDIA_PORT_RANGE',
  'MEDIA_BIND_ADDRESS',
  'MEDIA_ANNOUNCE_ADDRESS',
  'API_KEY',
  'JOIN_TOKEN_SECRET',
  'WS_RATE_LIMIT_PER_SEC',
  'WS_RATE_LIMIT_BURST',
  'HTTP_RATE_LIMIT_PER_MIN',
  'MAX_ROOMS',
  'MAX_USERS_PER_ROOM',
  'MAX_CONNECTIONS_PER_ADDRESS',
  'WS_SEND_BUFFER_LIMIT_BYTES',
  'SHUTDOWN_TIMEOUT_MS',
  'TRUST_PROXY',
];

/** This process's environment without any of the server's variables, plus `settings`. */
export function serverEnv(settings: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of SERVER_ENV_KEYS) delete env[key];
  return { ...env, ...settings };
}

/** A child's output lines: the last few (any kind, for a post-mortem) and its problem lines (the first few). */
export class OutputLog {
  readonly problems: string[] = [];
  problemCount = 0;
  readonly recent: string[] = [];

  remember(line: string): void {
    this.recent.push(line);
    if (this.recent.length > MAX_PROBLEMS_KEPT) this.recent.shift();
  }

  problem(line: string): void {
    this.problemCount++;
    if (this.problems.length < MAX_PROBLEMS_KEPT) this.problems.push(line);
  }
}

/**
 * Polls `${http}/readyz` every 50 ms until it answers 2xx (true) or `deadline` (Date.now() ms)
 * passes (false, `last` says what it answered); `checkAlive` throws when the server died meanwhile.
 */
export async function pollReady(http: string, deadline: number, checkAlive: () => void): Promise<{ ready: boolean; last: string }> {
  let last = '';
  while (Date.now() < deadline) {
    checkAlive();
    try {
      const response = await fetch(`${http}/readyz`, { signal: AbortSignal.timeout(2000) });
      last = `${response.status} ${await response.text()}`;
      if (response.ok) return { ready: true, last };
    } catch (error) {
      last = (error as Error).message;
    }
    await delay(50);
  }
  return { ready: false, last };
}

/** Creates room `name` with master `master` over the HTTP API; `where` (" on node-0") goes in the error. */
export async function createRoom(http: string, name: string, master: string, where = ''): Promise<void> {
  const response = await fetch(`${http}/api/room/create`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name, master_uuid: master }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = await response.text();
  if (!response.ok) throw new Error(`create room ${name}${where}: ${response.status} ${body}`);
}
