import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { forgetDir, killOnExit, removeOnExit } from './reaper.js';

/*
 * Throwaway coturn TURN servers for tests: each one its own `turnserver` process (Debian package
 * coturn) listening and relaying on 127.0.0.1 only, on an ephemeral port (UDP and TCP), with relay
 * ports from a small free range, in its own temp dir (pid file, SQLite user db), ignoring every
 * config file (`-n`): never the machine's coturn on 3478.
 *
 * Nothing outlives the test process, as with test/support/redis.ts: the process is SIGKILLed (and its
 * dir removed) on `stop()`, on `process.on('exit')` (reaper.ts), and by a watchdog shell whose stdin is
 * a pipe from the test process if the test process dies without running exit handlers.
 */

const DEFAULT_START_TIMEOUT_MS = 10000;
const KILL_TIMEOUT_MS = 10000;
const PROBE_INTERVAL_MS = 50;
const MAX_OUTPUT_LINES = 5000;
/** Relay ports come from below Linux's ephemeral range (32768+), where the system's own picks don't land. */
const RELAY_RANGE_LOW = 20000;
const RELAY_RANGE_HIGH = 32000;
const RELAY_RANGE_SIZE = 16;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface CoturnOptions {
  /** TURN REST API mode (`--use-auth-secret --static-auth-secret=SECRET`): credentials minted from it. */
  secret?: string;
  /** Long-term credentials with one static user (`--lt-cred-mech --user=NAME:PASSWORD`). */
  user?: [string, string];
  /** `--realm`; default `wigglypuff`. */
  realm?: string;
  /** More `turnserver` arguments; they come last. */
  args?: string[];
  /** How long to wait until it answers a STUN binding request; default 10 s. */
  startTimeoutMs?: number;
}

/** turnserver could not bind its listening port (it then retries forever: it is killed and a new port picked). */
class PortInUseError extends Error {}

export class Coturn {
  /** `turn:127.0.0.1:PORT` (UDP; add `?transport=tcp` for TCP). */
  readonly url: string;
  /** Its log (stdout and stderr, `-v`: one line per session event), the last 5000 lines. */
  readonly output: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private stopped = false;

  private constructor(
    readonly port: number,
    /** The relay ports (`--min-port`/`--max-port`): relay candidates use one of these. */
    readonly relayPorts: { min: number; max: number },
    readonly dir: string,
    private readonly args: string[],
  ) {
    this.url = `turn:127.0.0.1:${port}`;
  }

  /** Starts a turnserver on a free loopback port and resolves once it answers STUN on UDP. */
  static async start(options: CoturnOptions = {}): Promise<Coturn> {
    if (options.secret !== undefined && options.user !== undefined) {
      throw new Error('coturn: give either secret (TURN REST API) or user (static long-term credentials), not both');
    }
    const dir = await mkdtemp(join(tmpdir(), 'wigglypuff-coturn-'));
    removeOnExit(dir);
    try {
      for (let attempt = 1; ; attempt++) {
        const port = await freeUdpTcpPort();
        const relayPorts = await freeUdpRange();
        const server = new Coturn(port, relayPorts, dir, serverArgs(port, relayPorts, dir, options));
        try {
          await server.launch(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
          return server;
        } catch (error) {
          if (!(error instanceof PortInUseError) || attempt >= 5) throw error;
        }
      }
    } catch (error) {
      forgetDir(dir);
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  /** The log lines of the sessions of `username` (coturn logs `user <NAME>` on each session event). */
  linesOf(username: string): string[] {
    return this.output.filter((line) => line.includes(`user <${username}>`) || line.includes(`username=<${username}>`));
  }

  /**
   * Resolves to the first log line (from the start) matching `pattern`, waiting for it up to `timeoutMs`;
   * rejects with the log's tail if none came.
   */
  async waitForLog(pattern: RegExp, timeoutMs = 5000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const line = this.output.find((candidate) => pattern.test(candidate));
      if (line !== undefined) return line;
      if (Date.now() > deadline) {
        throw new Error(`coturn logged nothing matching ${pattern} in ${timeoutMs} ms:\n${this.output.slice(-40).join('\n')}`);
      }
      await delay(20);
    }
  }

  /** SIGKILLs the server, waits for its exit and removes its dir. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      child.ref();
      child.kill('SIGKILL');
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), KILL_TIMEOUT_MS)));
      const result = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      child.unref();
      if (result === 'timeout') throw new Error(`turnserver on port ${this.port} did not exit on SIGKILL in ${KILL_TIMEOUT_MS} ms`);
    }
    forgetDir(this.dir);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  private launch(startTimeoutMs: number): Promise<void> {
    const child = spawn('turnserver', this.args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output.length = 0;
    killOnExit(child);
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => {
        if (child.pid === undefined) resolve({ code: null, signal: null }); // never started: no 'exit'
      });
    });
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    if (child.pid !== undefined) startWatchdog(child, this.dir, this.exited);

    let bindFailed = false;
    const record = (line: string): void => {
      this.output.push(line);
      if (this.output.length > MAX_OUTPUT_LINES) this.output.shift();
      // coturn retries a busy listening port forever ("Cannot bind ... listener socket to addr ...").
      if (/Cannot bind .*listener socket to addr/.test(line) && !bindFailed) {
        bindFailed = true;
        child.kill('SIGKILL');
      }
    };
    createInterface({ input: child.stdout! }).on('line', record);
    createInterface({ input: child.stderr! }).on('line', record);

    return new Promise((resolve, reject) => {
      let settled = false;
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL'); // the rejection follows from the exit
      }, startTimeoutMs);
      void (async () => {
        while (!settled && !timedOut && !bindFailed && this.pid !== undefined) {
          if (await stunBindingAnswered(this.port, PROBE_INTERVAL_MS * 4)) {
            if (settled || timedOut || bindFailed) return;
            settled = true;
            clearTimeout(timer);
            // From now on nobody awaits the process: don't let it keep the test process alive.
            child.unref();
            (child.stdout as Socket).unref();
            (child.stderr as Socket).unref();
            resolve();
            return;
          }
          await delay(PROBE_INTERVAL_MS);
        }
      })();
      void this.exited.then(async ({ code, signal }) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        await Promise.race([closed, delay(1000)]);
        const log = this.output.join('\n');
        if (spawnError) {
          reject(
            new Error(
              `could not run turnserver (${spawnError.message}); install it with scripts/install-deps.sh (Debian package coturn)`,
            ),
          );
        } else if (bindFailed) {
          reject(new PortInUseError(`turnserver could not bind port ${this.port}:\n${log}`));
        } else if (timedOut) {
          reject(new Error(`turnserver on port ${this.port} did not answer STUN in ${startTimeoutMs} ms:\n${log}`));
        } else {
          reject(new Error(`turnserver on port ${this.port} exited (${signal ?? code}) before it was ready:\n${log}`));
        }
      });
    });
  }
}

function serverArgs(port: number, relay: { min: number; max: number }, dir: string, options: CoturnOptions): string[] {
  const args = [
    '-n', // no config file (/etc/turnserver.conf is not read)
    '--listening-ip=127.0.0.1',
    `--listening-port=${port}`,
    '--relay-ip=127.0.0.1',
    `--min-port=${relay.min}`,
    `--max-port=${relay.max}`,
    `--realm=${options.realm ?? 'wigglypuff'}`,
    '--fingerprint',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-rfc5780', // one listening address: no NAT discovery, and no alternative port (port + 1) to bind
    '--relay-threads=1',
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`, // not /var/lib/turn/turndb
    '--log-file=stdout',
    '--simple-log',
    '--verbose', // one line per session event: allocations, 401s, the user names
  ];
  if (options.secret !== undefined) {
    args.push('--use-auth-secret', `--static-auth-secret=${options.secret}`);
  } else if (options.user !== undefined) {
    args.push('--lt-cred-mech', `--user=${options.user[0]}:${options.user[1]}`);
  } else {
    args.push('--no-auth');
  }
  return [...args, ...(options.args ?? [])];
}

/** Sends one STUN Binding request to 127.0.0.1:port over UDP; true if a Binding success answer came in time. */
function stunBindingAnswered(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const transaction = randomBytes(12);
    const request = Buffer.alloc(20);
    request.writeUInt16BE(0x0001, 0); // Binding request
    request.writeUInt16BE(0, 2); // no attributes
    request.writeUInt32BE(0x2112a442, 4); // magic cookie
    transaction.copy(request, 8);
    const finish = (answered: boolean): void => {
      clearTimeout(timer);
      socket.close();
      resolve(answered);
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('error', () => finish(false));
    socket.on('message', (message) => {
      if (message.length >= 20 && message.readUInt16BE(0) === 0x0101 && message.subarray(8, 20).equals(transaction)) {
        finish(true);
      }
    });
    socket.bind(0, '127.0.0.1', () => socket.send(request, port, '127.0.0.1'));
  });
}

/** A loopback port free for both UDP and TCP. */
async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await bindUdp(0);
    if (port !== null && (await listenTcp(port))) return port;
  }
  throw new Error('found no loopback port free for both UDP and TCP');
}

/** RELAY_RANGE_SIZE consecutive loopback ports, each free for UDP, below the ephemeral range. */
async function freeUdpRange(): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const min = RELAY_RANGE_LOW + Math.floor(Math.random() * (RELAY_RANGE_HIGH - RELAY_RANGE_LOW - RELAY_RANGE_SIZE));
    const max = min + RELAY_RANGE_SIZE - 1;
    let free = true;
    for (let port = min; port <= max && free; port++) free = (await bindUdp(port)) !== null;
    if (free) return { min, max };
  }
  throw new Error('found no free range of relay ports');
}

/** Binds a UDP socket on 127.0.0.1:`port` (0: any), closes it, and resolves to the port; null if taken. */
function bindUdp(port: number): Promise<number | null> {
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

/** Whether TCP 127.0.0.1:`port` can be listened on (it is closed again). */
function listenTcp(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A shell that SIGKILLs `child` and removes `dir` once its stdin, a pipe from this process, closes, i.e.
 * when this process is gone however it died. It is killed itself when `child` exits, so it never signals
 * a reused pid.
 */
function startWatchdog(child: ChildProcess, dir: string, exited: Promise<Exit>): void {
  const script = 'read _; kill -9 "$1" 2>/dev/null; sleep 0.2; rm -rf -- "$2"';
  const watchdog = spawn('/bin/sh', ['-c', script, 'coturn-watchdog', String(child.pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => undefined); // no /bin/sh: the exit handler still covers most cases
  killOnExit(watchdog);
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  void exited.then(() => watchdog.kill('SIGKILL'));
}
