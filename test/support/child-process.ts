import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { createInterface, type Interface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { killOnExit } from './reaper.js';

/*
 * A supervised child process of a test (redis-server, turnserver): spawned with its output captured line
 * by line into a bounded buffer, killed on the test process's exit (reaper.ts) and, if the test process
 * dies without running exit handlers, by a watchdog shell; plus the loopback port picking they need.
 */

export type Exit = { code: number | null; signal: NodeJS.Signals | null };

/** The process exited at start because its port was taken: pick another port and try again. */
export class PortInUseError extends Error {}

/**
 * Runs `attempt` (which picks a free port and launches on it) up to `attempts` times while it rejects
 * with PortInUseError: a port free when picked may be taken by another process before the child binds it.
 */
export async function retryOnPortInUse<T>(attempts: number, attempt: () => Promise<T>): Promise<T> {
  for (let tried = 1; ; tried++) {
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof PortInUseError) || tried >= attempts) throw error;
    }
  }
}

export interface SuperviseOptions {
  cwd: string;
  /** The buffer the log lines (stdout and stderr) go to: read at each line, so the owner may replace it. */
  output: () => string[];
  /** Older lines are dropped beyond this many. */
  maxLines: number;
  /** Called after each line is recorded. */
  onLine?: (line: string) => void;
  /** The watchdog shell's name ($0), e.g. `redis-watchdog`. */
  watchdogName: string;
  /** The dir the watchdog removes after killing the child. */
  dir: string;
}

export interface Supervised {
  child: ChildProcess;
  /** Resolves on 'exit', or at once if the process never started. */
  exited: Promise<Exit>;
  /** Line readers of stdout and stderr (already recording into the output buffer). */
  stdout: Interface;
  stderr: Interface;
  /** The spawn error ('error' event), if any. */
  spawnError(): Error | undefined;
  /** Resolves once the output pipes are drained ('close'; 'exit' may come before the last lines), or after 1 s. */
  drained(): Promise<void>;
}

/** Spawns `command` with piped output, kill-on-exit, exit tracking, output capture and a watchdog. */
export function supervise(command: string, args: string[], options: SuperviseOptions): Supervised {
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  killOnExit(child);
  const exited = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
    child.once('error', () => {
      if (child.pid === undefined) resolve({ code: null, signal: null }); // never started: no 'exit'
    });
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  if (child.pid !== undefined) startWatchdog(child, options.watchdogName, options.dir, exited);

  const record = (line: string): void => {
    const output = options.output();
    output.push(line);
    if (output.length > options.maxLines) output.shift();
    options.onLine?.(line);
  };
  const stderr = createInterface({ input: child.stderr! });
  stderr.on('line', record);
  const stdout = createInterface({ input: child.stdout! });
  stdout.on('line', record);
  return {
    child,
    exited,
    stdout,
    stderr,
    spawnError: () => spawnError,
    drained: () => Promise.race([closed, delay(1000)]),
  };
}

/**
 * The error for a child that exited (or was killed) before it was ready: it could not be run at all
 * (`spawnError`: not installed), else the first of `reasons` given, else it exited on its own.
 */
export function startFailure(
  command: string,
  debianPackage: string,
  port: number,
  { code, signal }: Exit,
  spawnError: Error | undefined,
  log: string,
  reasons: (Error | false)[],
): Error {
  if (spawnError) {
    return new Error(
      `could not run ${command} (${spawnError.message}); install it with scripts/install-deps.sh (Debian package ${debianPackage})`,
    );
  }
  const reason = reasons.find((candidate): candidate is Error => candidate !== false);
  return reason ?? new Error(`${command} on port ${port} exited (${signal ?? code}) before it was ready:\n${log}`);
}

/** From now on nobody awaits the process: don't let it (or its output pipes) keep the test process alive. */
export function unrefChild(child: ChildProcess): void {
  child.unref();
  (child.stdout as Socket).unref();
  (child.stderr as Socket).unref();
}

/** Resolves to true once `exited` resolves, to false if `timeoutMs` passes first. */
export async function exitsWithin(exited: Promise<Exit>, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const result = await Promise.race([exited, timedOut]);
  clearTimeout(timer);
  return result !== 'timeout';
}

/**
 * A shell that SIGKILLs `child` and removes `dir` once its stdin, a pipe from this process, closes, i.e.
 * when this process is gone however it died. It is killed itself when `child` exits, so it never signals
 * a reused pid.
 */
function startWatchdog(child: ChildProcess, name: string, dir: string, exited: Promise<Exit>): void {
  const script = 'read _; kill -9 "$1" 2>/dev/null; sleep 0.2; rm -rf -- "$2"';
  const watchdog = spawn('/bin/sh', ['-c', script, name, String(child.pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => undefined); // no /bin/sh: the exit handler still covers most cases
  killOnExit(watchdog);
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  void exited.then(() => watchdog.kill('SIGKILL'));
}

/** Listens on TCP 127.0.0.1:`port` (0: any), closes it again, and resolves to the port; null if it was taken. */
export function listenTcpOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const { port: bound } = server.address() as AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/** Binds a UDP socket on 127.0.0.1:`port` (0: any), closes it, and resolves to the port; null if taken. */
export function bindUdpOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind({ port, address: '127.0.0.1', exclusive: true }, () => {
      const bound = socket.address().port;
      socket.close(() => resolve(bound));
    });
  });
}
