import { type ChildProcess, execFile } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import {
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
    return withTempDir('wigglypuff-redis-', (dir) =>
      retryOnPortInUse(5, async () => {
        const port = await freePort(options.cluster ?? false);
        const startTimeoutMs = options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
        const server = new RedisServer(port, dir, serverArgs(port, dir, options), startTimeoutMs);
        await server.launch();
        return server;
      }),
    );
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
    if (!(await exitsWithin(this.exited, KILL_TIMEOUT_MS))) {
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
    await removeDir(this.dir);
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
    this.output = [];
    const supervised = supervise('redis-server', this.args, {
      cwd: this.dir,
      output: () => this.output,
      maxLines: MAX_OUTPUT_LINES,
      watchdogName: 'redis-watchdog',
      dir: this.dir,
    });
    const { child, stdout } = supervised;
    this.child = child;
    this.paused = false;
    this.running = true;
    this.exited = supervised.exited;
    void this.exited.then(() => {
      if (this.child === child) this.running = false;
    });

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
        unrefChild(child);
        resolve();
      };
      stdout.on('line', onLine);
      void this.exited.then(async (exit) => {
        clearTimeout(timer);
        stdout.off('line', onLine);
        await supervised.drained();
        const log = this.output.join('\n');
        reject(
          startFailure('redis-server', 'redis-server', this.port, exit, supervised.spawnError(), log, [
            timedOut && new Error(`redis-server on port ${this.port} was not ready in ${this.startTimeoutMs} ms:\n${log}`),
            /Address already in use/.test(log) && new PortInUseError(`redis-server could not bind port ${this.port}:\n${log}`),
          ]),
        );
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
      for (const [index, node] of nodes.entries()) last.set(node.port, answers[index]!);
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
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--protected-mode',
    'no',
    '--daemonize',
    'no',
    '--dir',
    dir,
    '--save',
    '', // no RDB snapshots: without appendonly a restart loses everything
    '--appendonly',
    options.appendonly ? 'yes' : 'no',
    '--logfile',
    '', // log to stdout, where the ready line is read
    '--loglevel',
    'notice',
    '--unixsocket',
    '',
    '--enable-debug-command',
    'local', // DEBUG SLEEP and the like, for tests that need a slow Redis
  ];
  if (options.cluster) {
    args.push(
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-node-timeout',
      '2000',
      '--cluster-announce-ip',
      '127.0.0.1',
    );
  }
  return [...args, ...(options.args ?? [])];
}

/** A loopback port nothing listens on; with `clusterBus`, below 55535 and with port + 10000 free too. */
async function freePort(clusterBus: boolean): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = await listenTcpOnce(0);
    if (port === null) continue;
    if (!clusterBus) return port;
    if (port + CLUSTER_BUS_OFFSET >= 65535) continue;
    if ((await listenTcpOnce(port + CLUSTER_BUS_OFFSET)) !== null) return port;
  }
  throw new Error('found no free loopback port');
}
