/*
 * Cluster fan-out benchmark (not a test): `npm run bench:cluster [-- --flags]`.
 *
 * R rooms, each with one master (the teacher) and S students. Every master sends ClickAya at F per
 * second for a warm-up of W seconds and then for D measured seconds; every student must receive every
 * ClickAya. Two scenarios, run alternately, each on fresh processes every run:
 *
 *   cluster  two Wigglypuff nodes (node dist/main.js) on one throwaway redis-server (REDIS_URL).
 *            Room r's master is on node r % 2 and its students on the other node, so every
 *            ClickAya a student receives crossed from one node to the other through Redis.
 *   memory   one Wigglypuff node in its embedded memory mode (no REDIS_URL), every client on it.
 *
 * Figures per run, over the measured window only:
 *   - delivered msg/s: ClickAya frames received by students during the window / window length;
 *   - latency p50/p99/max: from the master's send to each student's receipt (performance.now() of
 *     this process: the clients live here; a map (room, aya) -> send time, aya increments);
 *   - Ack latency p50/p99: master send -> the master's Ack (the commit round trip);
 *   - expected vs received ClickAya (loss must be 0), plus seq gaps, duplicates, Error frames;
 *   - CPU: utime+stime of each server process and of redis-server from /proc/<pid>/stat, before and
 *     after the window, / wall time = % of one core; the same for this (client) process and for the
 *     whole machine (/proc/stat).
 *
 * Medians over the runs are printed last, with a markdown table. Exit code 1 when any message was
 * lost or anything else went wrong (a LOSS or PROBLEM banner says what), 2 on a fatal error.
 *
 * Only 127.0.0.1 is used. Every child process is killed when the benchmark ends, fails, is
 * interrupted, or (through watchdog shells) is killed itself.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { RedisServer } from '../test/support/redis.js';
import { cleanups, installSignalHandlers, isExiting, startDeadline } from './lib/cleanup.js';
import { type CpuSnapshot, cpuBetween, cpuSnapshot, describeMachine, MACHINE_PERCENT, OTHER_LOAD_WARN } from './lib/cpu.js';
import { namesOption, numberOption, parseFlags, pick, runBenchmark } from './lib/options.js';
import {
  assertBuilt,
  createRoom as createRoomAt,
  guardChild,
  MAX_PROBLEMS_KEPT,
  OutputLog,
  pollReady,
  ROOT,
  SERVER_ENTRY,
  STOP_GRACE_MS,
  serverEnv,
} from './lib/processes.js';
import {
  describeCommit,
  type Figure,
  failureLine,
  medians,
  printBanner,
  printMarkdownTable,
  printMedians,
  printRunProblems,
} from './lib/report.js';
import { f1, f2, maximum, percentile } from './lib/stats.js';

/** The server accepts ayas 1..286 (the longest sura); the bench numbers its ClickAyas 1, 2, 3, ... */
const MAX_AYA = 286;

/** The running index of a received ClickAya, from its aya on the wire and the last index seen. */
function indexOfAya(wire: number, last: number): number {
  let index = last - ((((last - 1) % MAX_AYA) + MAX_AYA) % MAX_AYA) + (wire - 1);
  if (index < last) index += MAX_AYA;
  return index;
}

const SERVER_START_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 10_000;
const JOIN_TIMEOUT_MS = 15_000;
const SETTLE_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 2_000;
// ---------------------------------------------------------------------------------------------
// Options: --flag, else BENCH_* environment variable, else the default.

type Scenario = 'cluster' | 'memory';

interface Options {
  rooms: number;
  students: number;
  rate: number;
  duration: number;
  warmup: number;
  runs: number;
  drainTimeout: number;
  scenarios: Scenario[];
  json: string | undefined;
}

const OPTION_HELP = `usage: npm run bench:cluster -- [options]
  (or: npm run build && node --import tsx bench/cluster-fanout.ts [options])

  --rooms N          rooms (R)                                  env BENCH_ROOMS      default 10
  --students N       students per room (S)                      env BENCH_STUDENTS   default 20
  --rate F           ClickAya per second per master (F)         env BENCH_RATE       default 10
  --duration D       measured seconds per run (D)               env BENCH_DURATION   default 10
  --warmup W         warm-up seconds before measuring           env BENCH_WARMUP     default 1
  --runs N           runs per scenario                          env BENCH_RUNS       default 5
  --drain-timeout T  seconds to wait for the last deliveries    env BENCH_DRAIN_TIMEOUT default 10
  --scenarios LIST   cluster,memory (or one of them)            env BENCH_SCENARIOS  default cluster,memory
  --json FILE        also write every run and the medians as JSON  env BENCH_JSON
  --help`;

function parseOptions(): Options {
  return optionsFrom(parseFlags(parseCommandLine, OPTION_HELP));
}

function parseCommandLine() {
  return parseArgs({
    options: {
      rooms: { type: 'string' },
      students: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      'drain-timeout': { type: 'string' },
      scenarios: { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}

function optionsFrom(values: ReturnType<typeof parseCommandLine>['values']): Options {
  const number = numberOption;
  const scenarios = namesOption<Scenario>(pick(values.scenarios, 'BENCH_SCENARIOS') ?? 'cluster,memory', ['cluster', 'memory'], 'scenario');
  return {
    rooms: number('--rooms', pick(values.rooms, 'BENCH_ROOMS'), 10, true, 1, 1000),
    students: number('--students', pick(values.students, 'BENCH_STUDENTS'), 20, true, 1, 1000),
    rate: number('--rate', pick(values.rate, 'BENCH_RATE'), 10, false, 0.1, 1000),
    duration: number('--duration', pick(values.duration, 'BENCH_DURATION'), 10, false, 1, 600),
    warmup: number('--warmup', pick(values.warmup, 'BENCH_WARMUP'), 1, false, 0, 60),
    runs: number('--runs', pick(values.runs, 'BENCH_RUNS'), 5, true, 1, 100),
    drainTimeout: number('--drain-timeout', pick(values['drain-timeout'], 'BENCH_DRAIN_TIMEOUT'), 10, false, 1, 120),
    scenarios,
    json: pick(values.json, 'BENCH_JSON') || undefined,
  };
}

installSignalHandlers('the servers and redis', 15_000);

// ---------------------------------------------------------------------------------------------
// Processes: Wigglypuff nodes from the built JavaScript, and redis-server.

interface ServerNode {
  name: string;
  pid: number;
  http: string;
  ws: string;
  /** Problems: warn/error/fatal log lines and anything on stderr, after start; recent: any line. */
  log: OutputLog;
  hasExited(): boolean;
  exitDescription(): string | undefined;
  stop(): Promise<void>;
}

/**
 * LOG_LEVEL=info only to read the "wigglypuff listening" line; at info the server logs nothing per
 * message (room created, at setup, is the only info line before the measurement).
 */
const SERVER_SETTINGS: Record<string, string> = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'info',
  MEDIA_PORT: '0',
  STUN_ADDRESS: 'stun:127.0.0.1:3478',
  // The bench is one client address sending fast on purpose: the abuse limits must not measure it.
  WS_RATE_LIMIT_PER_SEC: '1000000',
  WS_RATE_LIMIT_BURST: '1000000',
  HTTP_RATE_LIMIT_PER_MIN: '1000000',
  MAX_CONNECTIONS_PER_ADDRESS: '1000000',
};

function startServer(name: string, extra: Record<string, string>): Promise<ServerNode> {
  const child = spawn(process.execPath, [SERVER_ENTRY], {
    cwd: ROOT,
    env: serverEnv({ ...SERVER_SETTINGS, NODE_ID: name, ...extra }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  guardChild(child);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    }),
  );
  const startLog: string[] = [];
  let listening = false;
  const node: ServerNode = {
    name,
    pid: child.pid ?? -1,
    http: '',
    ws: '',
    log: new OutputLog(),
    hasExited: () => exit !== undefined,
    exitDescription: () => (exit ? `exited (${exit.signal ?? exit.code})` : undefined),
    stop: async () => {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      await exited;
      clearTimeout(timer);
    },
  };
  const remember = (line: string): void => node.log.remember(line);
  const problem = (line: string): void => node.log.problem(line);
  createInterface({ input: child.stderr! }).on('line', (line) => {
    remember(line);
    if (listening) problem(line);
    else startLog.push(line);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in ${SERVER_START_TIMEOUT_MS} ms:\n${startLog.join('\n')}`));
    }, SERVER_START_TIMEOUT_MS);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      remember(line);
      let entry: { level?: number; msg?: string; address?: string } | undefined;
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        entry = undefined;
      }
      if (!listening) {
        startLog.push(line);
        if (entry?.msg === 'wigglypuff listening' && entry.address) {
          listening = true;
          clearTimeout(timer);
          node.http = entry.address;
          node.ws = entry.address.replace(/^http/, 'ws');
          if (!/^http:\/\/127\.0\.0\.1:\d+$/.test(node.http)) {
            child.kill('SIGKILL');
            reject(new Error(`${name} listens on ${node.http}, not on 127.0.0.1`));
            return;
          }
          resolve(node);
        }
      } else if (!entry || (entry.level ?? 0) >= 40) {
        problem(line);
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      if (!listening) reject(new Error(`${name} ${node.exitDescription()} before listening:\n${startLog.join('\n')}`));
    });
  });
}

async function waitReady(node: ServerNode): Promise<void> {
  const { ready, last } = await pollReady(node.http, Date.now() + READY_TIMEOUT_MS, () => {
    if (node.hasExited()) throw new Error(`${node.name} ${node.exitDescription()}`);
  });
  if (!ready) throw new Error(`${node.name} not ready after ${READY_TIMEOUT_MS} ms: ${last}`);
}

function createRoom(node: ServerNode, name: string, master: string): Promise<void> {
  return createRoomAt(node.http, name, master, ` on ${node.name}`);
}

// ---------------------------------------------------------------------------------------------
// Clients.

interface RoomLoad {
  index: number;
  name: string;
  /** sendTimes[aya] = performance.now() at the master's send; NaN until sent. */
  sendTimes: Float64Array;
  /** measured[aya] = 1 when that ClickAya was sent in the measured window. */
  measured: Uint8Array;
  master: Client;
  students: Client[];
  masterNode: ServerNode;
  studentNode: ServerNode;
}

interface Tally {
  /** Measured-window latencies (ms), students. */
  latencies: number[];
  ackLatencies: number[];
  /** Receipts (any aya) whose receipt time fell in the window. */
  receivedInWindow: number;
  receivedMeasured: number;
  receivedAll: number;
  acksAll: number;
  duplicates: number;
  outOfOrder: number;
  unknownAya: number;
  seqGaps: number;
  seqRepeats: number;
  errorFrames: number;
  unexpectedCloses: number;
  problems: string[];
  window: { start: number; end: number } | undefined;
}

function newTally(): Tally {
  return {
    latencies: [],
    ackLatencies: [],
    receivedInWindow: 0,
    receivedMeasured: 0,
    receivedAll: 0,
    acksAll: 0,
    duplicates: 0,
    outOfOrder: 0,
    unknownAya: 0,
    seqGaps: 0,
    seqRepeats: 0,
    errorFrames: 0,
    unexpectedCloses: 0,
    problems: [],
    window: undefined,
  };
}

function noteProblem(tally: Tally, text: string): void {
  if (tally.problems.length < MAX_PROBLEMS_KEPT) tally.problems.push(text);
}

class Client {
  private ws: WebSocket | undefined;
  private lastSeq = 0;
  private lastAya = 0;
  private closing = false;
  /** Send times of ClickAyas not yet acknowledged (masters). */
  readonly unacked: number[] = [];
  newUsersSeen = 0;
  room!: RoomLoad;

  constructor(
    readonly uuid: string,
    readonly isMaster: boolean,
    private readonly tally: Tally,
  ) {}

  /** Opens the socket; resolves on RoomState. */
  join(base: string, roomName: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${base}/api/room/join/${roomName}/${this.uuid}`, { perMessageDeflate: false });
      this.ws = ws;
      let joined = false;
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error(`${this.uuid} got no RoomState from ${base} in ${JOIN_TIMEOUT_MS} ms`));
      }, JOIN_TIMEOUT_MS);
      ws.on('message', (data) => {
        const now = performance.now();
        let message: { action?: string; seq?: number; aya?: number; of?: string; code?: string; message?: string };
        try {
          message = JSON.parse(data.toString()) as typeof message;
        } catch {
          noteProblem(this.tally, `${this.uuid}: non-JSON frame`);
          return;
        }
        if (!joined) {
          if (message.action !== 'RoomState' || typeof message.seq !== 'number') {
            clearTimeout(timer);
            ws.terminate();
            reject(new Error(`${this.uuid}: expected RoomState first, got ${data.toString()}`));
            return;
          }
          joined = true;
          this.lastSeq = message.seq;
          clearTimeout(timer);
          resolve();
          return;
        }
        this.receive(message, now);
      });
      ws.on('error', (error) => {
        if (!joined) {
          clearTimeout(timer);
          reject(new Error(`${this.uuid}: ${error.message}`));
        } else {
          noteProblem(this.tally, `${this.uuid}: socket error ${error.message}`);
        }
      });
      ws.on('close', (code) => {
        if (!joined) {
          clearTimeout(timer);
          reject(new Error(`${this.uuid}: closed ${code} before RoomState`));
        } else if (!this.closing) {
          this.tally.unexpectedCloses++;
          noteProblem(this.tally, `${this.uuid}: closed by the server (${code})`);
        }
      });
    });
  }

  private receive(
    message: { action?: string; seq?: number; aya?: number; of?: string; code?: string; message?: string },
    now: number,
  ): void {
    const tally = this.tally;
    if (typeof message.seq === 'number') {
      if (message.seq === this.lastSeq + 1) {
        this.lastSeq = message.seq;
      } else if (message.seq <= this.lastSeq) {
        tally.seqRepeats++;
        noteProblem(tally, `${this.uuid}: seq ${message.seq} after ${this.lastSeq}`);
      } else {
        tally.seqGaps += message.seq - this.lastSeq - 1;
        noteProblem(tally, `${this.uuid}: seq jumped from ${this.lastSeq} to ${message.seq}`);
        this.lastSeq = message.seq;
      }
    }
    switch (message.action) {
      case 'ClickAya': {
        const room = this.room;
        const aya = typeof message.aya === 'number' ? indexOfAya(message.aya, this.lastAya) : undefined;
        if (this.isMaster || aya === undefined || !(aya >= 1 && aya < room.sendTimes.length) || Number.isNaN(room.sendTimes[aya]!)) {
          tally.unknownAya++;
          noteProblem(tally, `${this.uuid}: unexpected ClickAya ${JSON.stringify(message)}`);
          return;
        }
        if (aya === this.lastAya) {
          tally.duplicates++;
          return;
        }
        if (aya < this.lastAya) {
          tally.outOfOrder++;
          noteProblem(tally, `${this.uuid}: aya ${aya} after ${this.lastAya}`);
          return;
        }
        this.lastAya = aya;
        tally.receivedAll++;
        const window = tally.window;
        if (window && now >= window.start && now < window.end) tally.receivedInWindow++;
        if (room.measured[aya]) {
          tally.receivedMeasured++;
          tally.latencies.push(now - room.sendTimes[aya]!);
        }
        return;
      }
      case 'Ack': {
        const sentAt = this.unacked.shift();
        if (!this.isMaster || message.of !== 'ClickAya' || sentAt === undefined) {
          noteProblem(this.tally, `${this.uuid}: unexpected Ack ${JSON.stringify(message)}`);
          return;
        }
        tally.acksAll++;
        if (sentAt >= 0) tally.ackLatencies.push(now - sentAt);
        return;
      }
      case 'NewUser':
        this.newUsersSeen++;
        return;
      case 'Error':
        tally.errorFrames++;
        noteProblem(tally, `${this.uuid}: Error ${message.code}: ${message.message}`);
        return;
      default:
        noteProblem(tally, `${this.uuid}: unexpected ${JSON.stringify(message)}`);
    }
  }

  /** Masters: sends the `aya`-th ClickAya (on the wire, ayas cycle through 1..286); `measured`: its Ack latency counts. */
  sendClickAya(aya: number, measured: boolean): void {
    const now = performance.now();
    this.room.sendTimes[aya] = now;
    if (measured) this.room.measured[aya] = 1;
    this.unacked.push(measured ? now : -1);
    this.ws!.send(JSON.stringify({ action: 'ClickAya', aya: ((aya - 1) % MAX_AYA) + 1 }));
  }

  close(): Promise<void> {
    const ws = this.ws;
    this.closing = true;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, CLOSE_TIMEOUT_MS);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// One run.

interface RunResult {
  scenario: Scenario;
  run: number;
  deliveredPerSec: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  ackP50: number;
  ackP99: number;
  expected: number;
  received: number;
  lost: number;
  /** All phases (warm-up included), after the drain. */
  expectedAll: number;
  receivedAll: number;
  acksExpected: number;
  acks: number;
  duplicates: number;
  outOfOrder: number;
  seqGaps: number;
  seqRepeats: number;
  errorFrames: number;
  unexpectedCloses: number;
  serverLogProblems: number;
  /** % of one core, per process name (node-0, node-1, redis), plus their sum. */
  cpu: Record<string, number>;
  serverCpuTotal: number;
  clientCpu: number;
  machineBusy: number;
  machineSteal: number;
  /** Machine busy time not spent by the servers, redis or this process: other load (% of one core). */
  otherLoad: number;
  /** Server-side CPU (nodes + redis) per delivered message, microseconds. */
  cpuMicrosPerMessage: number;
  /** Sends that left later than scheduled: p99 and max lateness (ms), client-side overload. */
  sendLagP99: number;
  sendLagMax: number;
  drainMs: number;
  problems: string[];
}

async function runScenario(scenario: Scenario, run: number, options: Options): Promise<RunResult> {
  const { rooms: R, students: S, rate: F, duration: D, warmup: W } = options;
  const tally = newTally();
  const nodes: ServerNode[] = [];
  let redis: RedisServer | undefined;
  const clients: Client[] = [];
  let stopping: Promise<void> | undefined;
  // Once only, whoever asks first (the end of the run, or a signal): clients, then nodes, then redis.
  const teardown = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.allSettled(clients.map((client) => client.close()));
      await Promise.allSettled(nodes.map((node) => node.stop()));
      await redis?.stop().catch(() => undefined);
    })());
  cleanups.add(teardown);
  try {
    // Processes.
    const pids = new Map<string, number>();
    if (scenario === 'cluster') {
      redis = await RedisServer.start();
      const env = { REDIS_URL: redis.url };
      const started = await Promise.allSettled([startServer('node-0', env), startServer('node-1', env)]);
      for (const result of started) if (result.status === 'fulfilled') nodes.push(result.value);
      for (const result of started) if (result.status === 'rejected') throw result.reason;
    } else {
      nodes.push(await startServer('node-0', {}));
    }
    await Promise.all(nodes.map(waitReady));
    for (const node of nodes) pids.set(node.name, node.pid);
    if (redis) pids.set('redis', redis.pid!);

    // Rooms and clients: room r's master on node r % N, its students on the next node.
    const rooms: RoomLoad[] = [];
    const perRoom = Math.round((W + D) * F);
    for (let r = 0; r < R; r++) {
      const masterNode = nodes[r % nodes.length]!;
      const studentNode = nodes[(r + 1) % nodes.length]!;
      const name = `bench-${r}`;
      const master = new Client(`teacher-${r}`, true, tally);
      const students = Array.from({ length: S }, (_, i) => new Client(`student-${r}-${i}`, false, tally));
      const room: RoomLoad = {
        index: r,
        name,
        sendTimes: new Float64Array(perRoom + 1).fill(NaN),
        measured: new Uint8Array(perRoom + 1),
        master,
        students,
        masterNode,
        studentNode,
      };
      master.room = room;
      for (const student of students) student.room = room;
      clients.push(master, ...students);
      rooms.push(room);
    }
    await Promise.all(
      rooms.map(async (room) => {
        await createRoom(room.masterNode, room.name, room.master.uuid);
        await room.master.join(room.masterNode.ws, room.name);
        await Promise.all(room.students.map((student) => student.join(room.studentNode.ws, room.name)));
      }),
    );
    // Settle: every master has seen every student join, so no join traffic overlaps the load.
    const settleDeadline = performance.now() + SETTLE_TIMEOUT_MS;
    while (rooms.some((room) => room.master.newUsersSeen < S)) {
      if (performance.now() > settleDeadline) {
        const behind = rooms.filter((room) => room.master.newUsersSeen < S).map((room) => `${room.name}: ${room.master.newUsersSeen}/${S}`);
        throw new Error(`masters did not see every NewUser in ${SETTLE_TIMEOUT_MS} ms: ${behind.join(', ')}`);
      }
      await delay(20);
    }
    await delay(200);

    // Schedule: room r sends its k-th ClickAya (aya k + 1) at t0 + (k + r / R) / F seconds.
    const warmupSends = Math.round(W * F);
    const t0 = performance.now() + 50;
    const sends: { due: number; room: RoomLoad; aya: number; measured: boolean }[] = [];
    for (const room of rooms) {
      for (let k = 0; k < perRoom; k++) {
        sends.push({ due: t0 + ((k + room.index / R) / F) * 1000, room, aya: k + 1, measured: k >= warmupSends });
      }
    }
    sends.sort((a, b) => a.due - b.due);
    const windowStart = t0 + (warmupSends / F) * 1000;
    const windowEnd = t0 + (perRoom / F) * 1000;
    tally.window = { start: windowStart, end: windowEnd };

    const lags: number[] = [];
    let before: CpuSnapshot | undefined;
    for (const send of sends) {
      // Timers are ms-grained and no spinning (it would steal CPU from the servers): the actual send
      // time is what latency is measured from; how late it left is reported as send lag.
      const wait = send.due - performance.now();
      if (wait > 0) await delay(wait);
      if (send.measured && !before) before = cpuSnapshot(pids);
      for (const node of nodes) {
        if (node.hasExited()) {
          throw new Error(
            `${node.name} (pid ${node.pid}) ${node.exitDescription()} during the load; its last output:\n${node.log.recent.join('\n')}`,
          );
        }
      }
      if (redis && !redis.isRunning) {
        throw new Error(`redis-server died during the load; its last output:\n${redis.output.slice(-MAX_PROBLEMS_KEPT).join('\n')}`);
      }
      lags.push(performance.now() - send.due);
      send.room.master.sendClickAya(send.aya, send.measured);
    }
    const tail = windowEnd - performance.now();
    if (tail > 0) await delay(tail);
    before ??= cpuSnapshot(pids);
    const after = cpuSnapshot(pids);

    // Drain: wait for the last deliveries and Acks (bounded).
    const sentAll = sends.length;
    const expectedAll = sentAll * S;
    const drainStart = performance.now();
    const drainDeadline = drainStart + options.drainTimeout * 1000;
    while ((tally.receivedAll < expectedAll || tally.acksAll < sentAll) && performance.now() < drainDeadline) {
      await delay(20);
    }
    const drainMs = performance.now() - drainStart;

    // Figures.
    const window = cpuBetween(before, after);
    const wall = window.seconds;
    const cpu: Record<string, number> = {};
    let serverCpuSeconds = 0;
    for (const [name, used] of window.used) {
      serverCpuSeconds += used;
      cpu[name] = (used / wall) * 100;
    }
    const clientUsed = window.self;
    const latencies = Float64Array.from(tally.latencies).sort();
    const acks = Float64Array.from(tally.ackLatencies).sort();
    const lagSorted = Float64Array.from(lags).sort();
    const measuredSends = sends.filter((send) => send.measured).length;
    const expected = measuredSends * S;
    const windowSeconds = (windowEnd - windowStart) / 1000;
    const problems = [...tally.problems];
    let serverLogProblems = 0;
    for (const node of nodes) {
      serverLogProblems += node.log.problemCount;
      for (const line of node.log.problems) problems.push(`${node.name} log: ${line}`);
      if (node.hasExited()) problems.push(`${node.name} ${node.exitDescription()}`);
    }
    return {
      scenario,
      run,
      deliveredPerSec: tally.receivedInWindow / windowSeconds,
      latencyP50: percentile(latencies, 0.5),
      latencyP99: percentile(latencies, 0.99),
      latencyMax: maximum(latencies),
      ackP50: percentile(acks, 0.5),
      ackP99: percentile(acks, 0.99),
      expected,
      received: tally.receivedMeasured,
      lost: expected - tally.receivedMeasured,
      expectedAll,
      receivedAll: tally.receivedAll,
      acksExpected: sentAll,
      acks: tally.acksAll,
      duplicates: tally.duplicates,
      outOfOrder: tally.outOfOrder,
      seqGaps: tally.seqGaps,
      seqRepeats: tally.seqRepeats,
      errorFrames: tally.errorFrames,
      unexpectedCloses: tally.unexpectedCloses,
      serverLogProblems,
      cpu,
      serverCpuTotal: (serverCpuSeconds / wall) * 100,
      clientCpu: (clientUsed / wall) * 100,
      machineBusy: (window.machineBusy / wall) * 100,
      machineSteal: (window.machineSteal / wall) * 100,
      // Tick-grained counters of different sources: a small negative difference means none; clamp at 0.
      otherLoad: Math.max(0, ((window.machineBusy - serverCpuSeconds - clientUsed) / wall) * 100),
      cpuMicrosPerMessage: tally.receivedInWindow > 0 ? (serverCpuSeconds * 1e6) / tally.receivedInWindow : NaN,
      sendLagP99: percentile(lagSorted, 0.99),
      sendLagMax: maximum(lagSorted),
      drainMs,
      problems,
    };
  } finally {
    cleanups.delete(teardown);
    await teardown();
  }
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function irregularities(result: RunResult): string[] {
  const found: string[] = [];
  if (result.lost !== 0) found.push(`LOST ${result.lost} of ${result.expected} measured ClickAya deliveries`);
  if (result.receivedAll !== result.expectedAll) found.push(`all phases: received ${result.receivedAll} of ${result.expectedAll}`);
  if (result.acks !== result.acksExpected) found.push(`Acks: ${result.acks} of ${result.acksExpected}`);
  if (result.duplicates) found.push(`${result.duplicates} duplicate ClickAya`);
  if (result.outOfOrder) found.push(`${result.outOfOrder} out-of-order ClickAya`);
  if (result.seqGaps) found.push(`${result.seqGaps} seq missing (gaps)`);
  if (result.seqRepeats) found.push(`${result.seqRepeats} seq repeated`);
  if (result.errorFrames) found.push(`${result.errorFrames} Error frames`);
  if (result.unexpectedCloses) found.push(`${result.unexpectedCloses} sockets closed by the server`);
  if (result.serverLogProblems) found.push(`${result.serverLogProblems} warn/error server log lines`);
  return found;
}

function printRun(result: RunResult, options: Options): void {
  const cpu = Object.entries(result.cpu)
    .map(([name, value]) => `${name} ${f1(value)}%`)
    .join(', ');
  console.log(
    `${result.scenario.padEnd(7)} run ${result.run}/${options.runs}: ` +
      `delivered ${f1(result.deliveredPerSec)} msg/s | latency p50 ${f2(result.latencyP50)} ms, p99 ${f2(result.latencyP99)} ms, max ${f2(result.latencyMax)} ms | ` +
      `Ack p50 ${f2(result.ackP50)} ms | received ${result.received}/${result.expected} (lost ${result.lost}) | ` +
      `CPU ${cpu} (servers ${f1(result.serverCpuTotal)}%, ${f1(result.cpuMicrosPerMessage)} µs/msg), client ${f1(result.clientCpu)}%, ` +
      `machine ${f1(result.machineBusy)}% of ${MACHINE_PERCENT}% (other load ${f1(result.otherLoad)}%, steal ${f1(result.machineSteal)}%) | send lag p99 ${f2(result.sendLagP99)} ms`,
  );
  const found = irregularities(result);
  if (result.otherLoad > OTHER_LOAD_WARN) {
    console.log(`  note: other processes used ${f1(result.otherLoad)}% of a core during this run: its figures are noisier`);
  }
  printRunProblems(`${result.scenario} run ${result.run}`, found, result.problems);
}

interface Summary {
  scenario: Scenario;
  figures: Record<string, number>;
}

const FIGURES: Figure<RunResult>[] = [
  { key: 'deliveredPerSec', label: 'delivered ClickAya/s (all students)', format: f1, get: (r) => r.deliveredPerSec },
  { key: 'latencyP50', label: 'latency p50 (ms)', format: f2, get: (r) => r.latencyP50 },
  { key: 'latencyP99', label: 'latency p99 (ms)', format: f2, get: (r) => r.latencyP99 },
  { key: 'latencyMax', label: 'latency max (ms)', format: f2, get: (r) => r.latencyMax },
  { key: 'ackP50', label: 'master Ack p50 (ms)', format: f2, get: (r) => r.ackP50 },
  { key: 'ackP99', label: 'master Ack p99 (ms)', format: f2, get: (r) => r.ackP99 },
  { key: 'expected', label: 'expected deliveries (measured)', format: (v) => String(v), get: (r) => r.expected },
  { key: 'received', label: 'received deliveries (measured)', format: (v) => String(v), get: (r) => r.received },
  { key: 'lost', label: 'lost', format: (v) => String(v), get: (r) => r.lost },
  { key: 'cpu.node-0', label: 'CPU node-0 (% of a core)', format: f1, get: (r) => r.cpu['node-0'] ?? NaN },
  { key: 'cpu.node-1', label: 'CPU node-1 (% of a core)', format: f1, get: (r) => r.cpu['node-1'] ?? NaN },
  { key: 'cpu.redis', label: 'CPU redis-server (% of a core)', format: f1, get: (r) => r.cpu.redis ?? NaN },
  { key: 'serverCpuTotal', label: 'CPU all server processes (% of a core)', format: f1, get: (r) => r.serverCpuTotal },
  { key: 'cpuMicrosPerMessage', label: 'server CPU per delivered message (µs)', format: f1, get: (r) => r.cpuMicrosPerMessage },
  { key: 'clientCpu', label: 'CPU bench client process (% of a core)', format: f1, get: (r) => r.clientCpu },
  { key: 'machineBusy', label: `machine busy (% of ${MACHINE_PERCENT}%)`, format: f1, get: (r) => r.machineBusy },
  { key: 'otherLoad', label: 'other load on the machine (% of a core)', format: f1, get: (r) => r.otherLoad },
  { key: 'sendLagP99', label: 'send lag p99 (ms, client-side)', format: f2, get: (r) => r.sendLagP99 },
];

function summarize(results: RunResult[], scenarios: Scenario[]): Summary[] {
  return scenarios.map((scenario) => {
    const runs = results.filter((r) => r.scenario === scenario);
    return { scenario, figures: medians(FIGURES, runs) };
  });
}

const SCENARIO_TITLE: Record<Scenario, string> = {
  cluster: 'cluster (2 nodes + Redis)',
  memory: 'baseline (1 node, memory)',
};

function printSummary(summaries: Summary[], results: RunResult[], options: Options): void {
  console.log('');
  for (const summary of summaries) {
    const runs = results.filter((r) => r.scenario === summary.scenario);
    console.log(`median of ${runs.length} ${SCENARIO_TITLE[summary.scenario]} runs:`);
    printMedians(FIGURES, summary.figures, 42);
    const lost = runs.reduce((sum, r) => sum + r.lost, 0);
    const expected = runs.reduce((sum, r) => sum + r.expected, 0);
    console.log(`  ${'total lost over all runs'.padEnd(42)} ${lost} of ${expected}`);
  }
  console.log('');
  const cluster = summaries.find((s) => s.scenario === 'cluster');
  const memory = summaries.find((s) => s.scenario === 'memory');
  console.log(
    `markdown (R=${options.rooms} rooms x S=${options.students} students, F=${options.rate}/s per master, ` +
      `D=${options.duration} s measured after ${options.warmup} s warm-up, median of ${options.runs} runs):`,
  );
  console.log('');
  const columns = summaries.map((s) => SCENARIO_TITLE[s.scenario]);
  const ratio = cluster && memory;
  const rows: string[][] = [];
  for (const figure of FIGURES) {
    const values = summaries.map((s) => s.figures[figure.key]!);
    if (values.every((v) => !Number.isFinite(v))) continue;
    const row = [figure.label, ...values.map((v) => (Number.isFinite(v) ? figure.format(v) : '–'))];
    if (ratio) {
      const c = cluster.figures[figure.key]!;
      const m = memory.figures[figure.key]!;
      const show = Number.isFinite(c) && Number.isFinite(m) && m > 0 && c >= 0 && !['expected', 'received', 'lost'].includes(figure.key);
      row.push(show ? `${(c / m).toFixed(2)}x` : '');
    }
    rows.push(row);
  }
  printMarkdownTable(
    ['figure', ...columns, ...(ratio ? ['cluster / baseline'] : [])],
    ['l', ...columns.map(() => 'r' as const), ...(ratio ? ['r' as const] : [])],
    rows,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions();
  assertBuilt(SERVER_ENTRY, 'bench:cluster');
  const perRun = options.warmup + options.duration + options.drainTimeout + 60;
  const budgetMs = perRun * options.runs * options.scenarios.length * 1000;
  startDeadline(budgetMs);

  console.log(
    `cluster fan-out bench: R=${options.rooms} rooms, S=${options.students} students each, F=${options.rate} ClickAya/s per master, ` +
      `W=${options.warmup} s warm-up, D=${options.duration} s measured, ${options.runs} runs of ${options.scenarios.join(' and ')}`,
  );
  console.log(`code: ${describeCommit()}`);
  console.log(`machine: ${describeMachine()}; ` + `offered load ${options.rooms * options.students * options.rate} ClickAya deliveries/s`);
  const results: RunResult[] = [];
  const failures: { scenario: Scenario; run: number; error: string }[] = [];
  for (let run = 1; run <= options.runs; run++) {
    // Alternate which scenario goes first, so slow drift of the machine hits both alike.
    const order = run % 2 === 1 ? options.scenarios : [...options.scenarios].reverse();
    for (const scenario of order) {
      let result: RunResult;
      try {
        result = await runScenario(scenario, run, options);
      } catch (error) {
        if (isExiting()) return 130; // interrupted: the signal handler is stopping everything
        // A run that broke (a server died, a join failed) is reported and left out of the medians.
        const text = error instanceof Error ? error.message : String(error);
        failures.push({ scenario, run, error: text });
        console.log(failureLine(`${scenario.padEnd(7)} run ${run}/${options.runs}`, text));
        continue;
      }
      results.push(result);
      printRun(result, options);
    }
  }
  const summaries = summarize(results, options.scenarios);
  printSummary(summaries, results, options);
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ options, results, failures, medians: summaries }, null, 2)}\n`);
    console.log(`\nwrote ${options.json}`);
  }
  const bad = results.filter((r) => irregularities(r).length > 0);
  if (bad.length || failures.length) {
    const lost = results.reduce((sum, r) => sum + r.lost, 0);
    printBanner(
      `${lost > 0 ? `LOSS: ${lost} ClickAya deliveries lost` : 'PROBLEM'} in ${bad.length + failures.length} of ` +
        `${results.length + failures.length} runs:`,
      [
        ...bad.map((r) => `${r.scenario} run ${r.run}: ${irregularities(r).join('; ')}`),
        ...failures.map((f) => `${f.scenario} run ${f.run} FAILED: ${f.error.split('\n')[0]}`),
      ],
    );
    return 1;
  }
  return 0;
}

runBenchmark(main, OPTION_HELP);
