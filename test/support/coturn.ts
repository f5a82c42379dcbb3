import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
  bindUdpOnce,
  type Exit,
  exitsWithin,
  listenTcpOnce,
  PortInUseError,
  retryOnPortInUse,
  startFailure,
  supervise,
  unrefChild,
} from './child-process.js';
import { removeDir, withTempDir } from './reaper.js';

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
    return withTempDir('wigglypuff-coturn-', (dir) =>
      retryOnPortInUse(5, async () => {
        const port = await freeUdpTcpPort();
        const relayPorts = await freeUdpRange();
        const server = new Coturn(port, relayPorts, dir, serverArgs(port, relayPorts, dir, options));
        // turnserver retries a busy listening port forever: launch() kills it and rejects with PortInUseError.
        await server.launch(options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
        return server;
      }),
    );
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
      const exitedInTime = await exitsWithin(this.exited, KILL_TIMEOUT_MS);
      child.unref();
      if (!exitedInTime) throw new Error(`turnserver on port ${this.port} did not exit on SIGKILL in ${KILL_TIMEOUT_MS} ms`);
    }
    await removeDir(this.dir);
  }

  private launch(startTimeoutMs: number): Promise<void> {
    this.output.length = 0;
    let bindFailed = false;
    const supervised = supervise('turnserver', this.args, {
      cwd: this.dir,
      output: () => this.output,
      maxLines: MAX_OUTPUT_LINES,
      // coturn retries a busy listening port forever ("Cannot bind ... listener socket to addr ...").
      onLine: (line) => {
        if (/Cannot bind .*listener socket to addr/.test(line) && !bindFailed) {
          bindFailed = true;
          child.kill('SIGKILL');
        }
      },
      watchdogName: 'coturn-watchdog',
      dir: this.dir,
    });
    const child = supervised.child;
    this.child = child;
    this.exited = supervised.exited;

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
            unrefChild(child);
            resolve();
            return;
          }
          await delay(PROBE_INTERVAL_MS);
        }
      })();
      void this.exited.then(async (exit) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        await supervised.drained();
        const log = this.output.join('\n');
        reject(
          startFailure('turnserver', 'coturn', this.port, exit, supervised.spawnError(), log, [
            bindFailed && new PortInUseError(`turnserver could not bind port ${this.port}:\n${log}`),
            timedOut && new Error(`turnserver on port ${this.port} did not answer STUN in ${startTimeoutMs} ms:\n${log}`),
          ]),
        );
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
    const port = await bindUdpOnce(0);
    if (port !== null && (await listenTcpOnce(port)) !== null) return port;
  }
  throw new Error('found no loopback port free for both UDP and TCP');
}

/** RELAY_RANGE_SIZE consecutive loopback ports, each free for UDP, below the ephemeral range. */
async function freeUdpRange(): Promise<{ min: number; max: number }> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const min = RELAY_RANGE_LOW + Math.floor(Math.random() * (RELAY_RANGE_HIGH - RELAY_RANGE_LOW - RELAY_RANGE_SIZE));
    const max = min + RELAY_RANGE_SIZE - 1;
    let free = true;
    for (let port = min; port <= max && free; port++) free = (await bindUdpOnce(port)) !== null;
    if (free) return { min, max };
  }
  throw new Error('found no free range of relay ports');
}
