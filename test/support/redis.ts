import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { forgetDir, killOnExit, removeOnExit } from './reaper.js';

/*
 * Throwaway Redis servers for tests: each one its own `redis-server` process on an ephemeral loopback
 * port with its own temp dir (never the machine's instance on 6379), so a test can kill or restart it.
 *
 * Nothing outlives the test process: every redis-server is SIGKILLed (and its dir removed) on `stop()`,
 * on `process.on('exit')`, and, if the test process dies without running exit handlers (SIGKILL, a
 * signal's default action), by a small watchdog shell whose stdin is a pipe from the test process: when
 * that pipe closes, it kills redis and removes its dir.
 *
 * The processes are unref'd while nobody awaits them, so a test that forgets `stop()` still ends (and the
 * exit handler then kills the server) instead of hanging the test file.
 */

const READY_LINE = 'Ready to accept connections';
const DEFAULT_START_TIMEOUT_MS = 10000;
const RESTART_BUSY_PORT_MS = 5000;
const KILL_TIMEOUT_MS = 10000;
const CLI_TIMEOUT_MS = 10000;
const CLUSTER_TIMEOUT_MS = 30000;
const MAX_OUTPUT_LINES = 1000;
/** A cluster node also listens on port + 10000 (the cluster bus). */
const CLUSTER_BUS_OFFSET = 10000;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export interface RedisServerOptions {
  /** `--appendonly yes`: with it the data survives `kill()` + `restart()` (once written); default off. */
  appendonly?: boolean;
  /**
   * A cluster-enabled node (`--cluster-enabled yes`, its nodes.conf in its own dir, node timeout 2 s), on a
   * port whose bus port (port + 10000) is free too. It is not part of a cluster yet: see RedisCluster.
   */
  cluster?: boolean;
  /** More `redis-server` arguments, e.g. `['--maxmemory', '10mb']`; they come last, so they win. */
  args?: string[];
  /** How long to wait for "Ready to accept connections"; default 10 s. */
  startTimeoutMs?: number;
}

/** redis-server exited at start because its port (or bus port) was taken. */
class PortInUseError extends Error {}

export class RedisServer {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** The log (stdout and stderr) of the current run, its last 1000 lines. */
  output: string[] = [];
  private child: ChildProcess | undefined;
  private exited: Promise<Exit> = Promise.resolve({ code: null, signal: null });
  private running = false;
  private paused = false;
  private stopped = false;

  private constructor(
    readonly port: number,
    /** Its own temp dir (`--dir`): the AOF, and nodes.conf for a cluster node. Removed by `stop()`. */
    readonly dir: string,
    private readonly args: string[],
    private readonly startTimeoutMs: number,
  ) {
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** Starts a redis-server on a free loopback port and resolves once it accepts commands. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const dir = await mkdtemp(join(tmpdir(), 'wigglypuff-redis-'));
    removeOnExit(dir);
    try {
      // The port is free when picked but another process may take it before redis binds it: pick again.
      for (let attempt = 1; ; attempt++) {
        const port = await freePort(options.cluster ?? false);
        const server = new RedisServer(
          port,
          dir,
          serverArgs(port, dir, options),
          options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
        );
        try {
          await server.launch();
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

  /** Whether the process is up (started and not exited; a paused one counts as running). */
  get isRunning(): boolean {
    return this.running;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /**
   * Sends `signal` (SIGKILL unless told) and resolves once the process exited; at once if it is not
   * running. Rejects if it has not exited after 10 s (redis ignores SIGHUP, for one). For SIGSTOP and
   * SIGCONT use `pause()` and `resume()`.
   */
  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (signal === 'SIGSTOP' || signal === 'SIGTSTP' || signal === 'SIGCONT') {
      throw new Error(`kill(${signal}) would not end redis-server: use pause() or resume()`);
    }
    const child = this.child;
    if (!child || !this.running) return;
    child.ref(); // keep the test process alive until the exit arrives
    child.kill(signal);
    if (this.paused && signal !== 'SIGKILL') child.kill('SIGCONT'); // a stopped process handles no signal
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), KILL_TIMEOUT_MS)));
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      child.unref();
      throw new Error(`redis-server on port ${this.port} did not exit on ${signal} in ${KILL_TIMEOUT_MS} ms`);
    }
  }

  /**
   * Starts the server again on the same port and dir (with appendonly, the data written before comes
   * back; without it, it is gone) and resolves once it accepts commands. If it is still running it is
   * SIGKILLed first. Retries for a few seconds while the port is busy.
   */
  async restart(): Promise<void> {
    if (this.stopped) throw new Error(`redis-server on port ${this.port} was stopped; start a new one`);
    await this.kill('SIGKILL');
    const deadline = Date.now() + RESTART_BUSY_PORT_MS;
    for (;;) {
      try {
        await this.launch();
        return;
      } catch (error) {
        if (!(error instanceof PortInUseError) || Date.now() > deadline) throw error;
        await delay(100);
      }
    }
  }

  /** SIGSTOP: the server hangs (connections stay open, nothing is answered) until `resume()`. */
  pause(): void {
    if (!this.child || !this.running) throw new Error(`redis-server on port ${this.port} is not running`);
    this.child.kill('SIGSTOP');
    this.paused = true;
  }

  /** SIGCONT after `pause()`. */
  resume(): void {
    if (!this.child || !this.running) throw new Error(`redis-server on port ${this.port} is not running`);
    this.child.kill('SIGCONT');
    this.paused = false;
  }

  /** Kills the server (SIGKILL) and removes its dir. Safe to call twice. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.kill('SIGKILL');
    forgetDir(this.dir);
    await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  /**
   * Runs `redis-cli -h 127.0.0.1 -p PORT ...args` and resolves to its stdout without the final newline.
   * redis-cli's raw output: `GET` of a missing key gives '', and an error reply is returned as its text
   * (`ERR ...`, redis-cli exits 0); it rejects only when redis-cli fails (not reachable, or 10 s passed).
   * redis-cli options may come first: `command('-c', 'SET', '{a}x', '1')` follows cluster redirects.
   */
  command(...args: string[]): Promise<string> {
    return redisCli(['-h', '127.0.0.1', '-p', String(this.port), ...args]);
  }

  private launch(): Promise<void> {
    const child = spawn('redis-server', this.args, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.output = [];
    this.paused = false;
    this.running = true;
    killOnExit(child);
    this.exited = new Promise<Exit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ code, signal }));
      child.once('error', () => {
        if (child.pid === undefined) resolve({ code: null, signal: null }); // never started: no 'exit'
      });
    });
    // 'close' comes after the output pipes are drained ('exit' may come before the last log lines).
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let spawnError: Error | undefined;
    child.once('error', (error) => (spawnError = error));
    void this.exited.then(() => {
      if (this.child === child) this.running = false;
    });
    if (child.pid !== undefined) startWatchdog(child, this.dir, this.exited);

    const record = (line: string): void => {
      this.output.push(line);
      if (this.output.length > MAX_OUTPUT_LINES) this.output.shift();
    };
    createInterface({ input: child.stderr! }).on('line', record);
    const stdout = createInterface({ input: child.stdout! });
    stdout.on('line', record);

    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill('SIGKILL'); // the rejection follows from the exit, so the port is free by then
      }, this.startTimeoutMs);
      const onLine = (line: string): void => {
        if (!line.includes(READY_LINE)) return;
        clearTimeout(timer);
        stdout.off('line', onLine);
        // From now on nobody awaits the process: don't let it keep the test process alive.
        child.unref();
        (child.stdout as Socket).unref();
        (child.stderr as Socket).unref();
        resolve();
      };
      stdout.on('line', onLine);
      void this.exited.then(async ({ code, signal }) => {
        clearTimeout(timer);
        stdout.off('line', onLine);
        await Promise.race([closed, delay(1000)]);
        const log = this.output.join('\n');
        if (spawnError) {
          reject(
            new Error(
              `could not run redis-server (${spawnError.message}); install it with scripts/install-deps.sh (Debian package redis-server)`,
            ),
          );
        } else if (timedOut) {
          reject(new Error(`redis-server on port ${this.port} was not ready in ${this.startTimeoutMs} ms:\n${log}`));
        } else if (/Address already in use/.test(log)) {
          reject(new PortInUseError(`redis-server could not bind port ${this.port}:\n${log}`));
        } else {
          reject(new Error(`redis-server on port ${this.port} exited (${signal ?? code}) before it was ready:\n${log}`));
        }
      });
    });
  }
}

export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  /**
   * Starts `masters` (at least 3) cluster-enabled redis-servers, joins them with
   * `redis-cli --cluster create ... --cluster-replicas 0` and resolves once every node reports
   * `cluster_state:ok` and knows all the others.
   */
  static async start(masters = 3): Promise<RedisCluster> {
    if (!Number.isInteger(masters) || masters < 3) {
      throw new Error(`a Redis Cluster needs at least 3 masters, not ${masters}`);
    }
    const started = await Promise.allSettled(Array.from({ length: masters }, () => RedisServer.start({ cluster: true })));
    const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const cluster = new RedisCluster(nodes);
    try {
      const failed = started.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed) throw failed.reason;
      await redisCli(
        ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'],
        CLUSTER_TIMEOUT_MS,
      );
      await cluster.waitUntilOk();
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  /** The node URLs, comma-separated: the REDIS_URL for REDIS_CLUSTER=true. */
  get url(): string {
    return this.nodes.map((node) => node.url).join(',');
  }

  /**
   * Polls `cluster info` on every node (or on `nodes`) until each says `cluster_state:ok` and knows all
   * the cluster's nodes; e.g. after restarting a node. Rejects after `timeoutMs` with the last answers.
   */
  async waitUntilOk(timeoutMs = CLUSTER_TIMEOUT_MS, nodes: RedisServer[] = this.nodes): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const last = new Map<number, string>();
    for (;;) {
      const answers = await Promise.all(
        nodes.map((node) => node.command('cluster', 'info').catch((error: Error) => `error: ${error.message}`)),
      );
      nodes.forEach((node, index) => last.set(node.port, answers[index]!));
      const ok = (info: string): boolean =>
        /^cluster_state:ok\r?$/m.test(info) && new RegExp(`^cluster_known_nodes:${this.nodes.length}\\r?$`, 'm').test(info);
      if (answers.every(ok)) return;
      if (Date.now() > deadline) {
        const report = [...last].map(([port, info]) => `127.0.0.1:${port}:\n${info}`).join('\n');
        throw new Error(`the Redis Cluster was not ok after ${timeoutMs} ms:\n${report}`);
      }
      await delay(100);
    }
  }

  /** Stops every node (SIGKILL) and removes their dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.stop()));
  }
}

/** Runs `redis-cli ...args`; resolves to its stdout without the final newline. */
export function redisCli(args: string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) {
        const why = error.killed ? `timed out after ${timeoutMs} ms` : `failed (${error.code ?? error.signal})`;
        reject(new Error(`redis-cli ${args.join(' ')} ${why}:\n${stderr}${stdout}`));
      } else {
        resolve(stdout.replace(/\n$/, ''));
      }
    });
  });
}

function serverArgs(port: number, dir: string, options: RedisServerOptions): string[] {
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--protected-mode', 'no',
    '--daemonize', 'no',
    '--dir', dir,
    '--save', '', // no RDB snapshots: without appendonly a restart loses everything
    '--appendonly', options.appendonly ? 'yes' : 'no',
    '--logfile', '', // log to stdout, where the ready line is read
    '--loglevel', 'notice',
    '--unixsocket', '',
    '--enable-debug-command', 'local', // DEBUG SLEEP and the like, for tests that need a slow Redis
  ];
  if (options.cluster) {
    args.push(
      '--cluster-enabled', 'yes',
      '--cluster-config-file', join(dir, 'nodes.conf'),
      '--cluster-node-timeout', '2000',
      '--cluster-announce-ip', '127.0.0.1',
    );
  }
  return [...args, ...(options.args ?? [])];
}

/** A loopback port nothing listens on; with `clusterBus`, below 55535 and with port + 10000 free too. */
async function freePort(clusterBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await listenOnce(0);
    if (port === null) continue;
    if (!clusterBus) return port;
    if (port + CLUSTER_BUS_OFFSET >= 65535) continue;
    if ((await listenOnce(port + CLUSTER_BUS_OFFSET)) !== null) return port;
  }
  throw new Error('found no free loopback port');
}

/** Binds 127.0.0.1:`port` (0: any), closes it again, and resolves to the port; null if it was taken. */
function listenOnce(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(null));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => {
      const { port: bound } = server.address() as AddressInfo;
      server.close(() => resolve(bound));
    });
  });
}

/**
 * A shell that SIGKILLs `child` and removes `dir` once its stdin, a pipe from this process, closes, i.e.
 * when this process is gone however it died. It is killed itself when `child` exits, so it never signals
 * a reused pid.
 */
function startWatchdog(child: ChildProcess, dir: string, exited: Promise<Exit>): void {
  const script = 'read _; kill -9 "$1" 2>/dev/null; sleep 0.2; rm -rf -- "$2"';
  const watchdog = spawn('/bin/sh', ['-c', script, 'redis-watchdog', String(child.pid), dir], {
    stdio: ['pipe', 'ignore', 'ignore'],
  });
  watchdog.on('error', () => undefined); // no /bin/sh: the exit handler still covers most cases
  killOnExit(watchdog);
  watchdog.unref();
  (watchdog.stdin as Socket | null)?.unref();
  void exited.then(() => watchdog.kill('SIGKILL'));
}
