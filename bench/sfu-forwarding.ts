/*
 * Audio SFU forwarding benchmark (not a test): `npm run bench:sfu [-- --flags]`.
 *
 * What one core of the Wigglypuff SFU forwards (issue 4): a teacher publishes synthetic Opus-like RTP
 * (50 packets/s, 20 ms, ~100-byte payload, RFC 6464 audio level "loud") and every listen-only student
 * of the room must receive every packet. Two shapes, each measured beside a plain UDP relay:
 *
 *   room-L     one room: 1 teacher publishing, L listen-only students (default L = 100, 200, 400);
 *   rooms-RxN  R rooms, each 1 teacher publishing + N listen-only students (default 20 x 10).
 *
 * With --student-mics every student also publishes silence (--student-mic-rate packets/s: 5, what a
 * browser sends with Opus DTX, which the server asks for; 50 without) and the teacher's MuteAll mutes them all: the SFU receives every microphone and forwards only the teachers (+mics scenarios).
 *
 * Kinds, run alternately, each on fresh processes every run:
 *
 *   sfu    the server as its own process (node dist/main.js, ICE UDP mux on MEDIA_PORT); clients are
 *          node-datachannel PeerConnections signaling over the room WebSocket, in two client
 *          processes (publishers; listeners), never in the server process.
 *   relay  bench/sfu/relay.ts: one Node dgram socket receives the publishers' packets and sends each
 *          to the room's listener sockets, unchanged (no SRTP, no rewriting): the floor of forwarding
 *          a packet in Node here. Same packet rate, same listeners, same two client processes.
 *
 * Figures per run, over the measured window only (after the warm-up):
 *   - forwarded streams (listeners x publishers heard) and forwarded packets/s (received measured
 *     packets / window);
 *   - server (or relay) CPU: utime+stime from /proc/<pid>/stat over the window -> % of one core,
 *     µs of CPU per forwarded packet, and the projected streams per core at the packet rate; the
 *     same split by thread (/proc/<pid>/task/*: the main JS thread, libjuice's ICE thread,
 *     libdatachannel's workers, the rest); the SFU's CPU while idle (everyone connected, nobody
 *     sending) just before the load;
 *   - loss: expected (listeners x measured packets) vs distinct packets received, overall and for
 *     the worst listener; duplicates, stray packets, RTP rewriting errors (sequence/timestamp must
 *     step with the publisher's counter), reordering;
 *   - added latency p50/p99/max: the publisher writes process.hrtime.bigint() (CLOCK_MONOTONIC,
 *     shared by every process of the machine) into the payload just before sending; the listener
 *     subtracts it from its own clock on receipt;
 *   - client processes' CPU, machine busy and other load (from /proc/stat), publisher send lag.
 *
 * Medians over the runs are printed last, with a markdown table and the verdict against the bar
 * (<= 20 µs CPU per forwarded packet including the control logic, i.e. >= 1000 streams of 50
 * packets/s per core, with < 0.5 % loss). Exit code 1 when loss exceeds --max-loss or anything else
 * went wrong (a LOSS / PROBLEM banner says what), 2 on a fatal error.
 *
 * Only 127.0.0.1 is used. Every child process is killed when the benchmark ends, fails, is
 * interrupted, or (through watchdog shells) is killed itself.
 *
 * Debugging aids: BENCH_SFU_VERBOSE=1 echoes everything the child processes print;
 * BENCH_SFU_LIBDATACHANNEL_LOG=Warning (or Info, Debug, Verbose) turns on libdatachannel's log in the
 * client processes (their stderr lines then count as problems).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { resolve as resolvePath } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { ManagedChild, type ProblemRule } from './lib/child.js';
import { cleanups, installSignalHandlers, isExiting, startDeadline } from './lib/cleanup.js';
import {
  describeMachine,
  MACHINE_PERCENT,
  OTHER_LOAD_WARN,
  type CpuSnapshot as ProcessCpuSnapshot,
  type CpuWindow as ProcessCpuWindow,
  cpuBetween as processCpuBetween,
  cpuSnapshot as processCpuSnapshot,
  statCpuSeconds,
  statName,
} from './lib/cpu.js';
import { namesOption, numberOption, parseFlags, pick, runBenchmark, UsageError } from './lib/options.js';
import { assertBuilt, createRoom as createRoomAt, pollReady, ROOT, SERVER_ENTRY, STOP_GRACE_MS, serverEnv } from './lib/processes.js';
import { describeCommit, type Figure, failureLine, medians, printBanner, printMedians, printRunProblems } from './lib/report.js';
import { f0, f1, f2, f3, maximum, percentile } from './lib/stats.js';
import type { ClientSpec, FromRelay, FromWorker, ListenerReport, PublisherReport, ToRelay, ToWorker } from './sfu/wire.js';

const WORKER_ENTRY = 'bench/sfu/worker.ts';
const RELAY_ENTRY = 'bench/sfu/relay.ts';
const START_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 15_000;
/** Connecting the clients: this, plus CONNECT_PER_CLIENT_MS per client. */
const CONNECT_TIMEOUT_MS = 20_000;
const CONNECT_PER_CLIENT_MS = 60;
/** One client's join + offer/answer + ICE + DTLS. */
const CLIENT_TIMEOUT_MS = 15_000;
const REPORT_TIMEOUT_MS = 10_000;
const STOP_GRACE_PROFILING_MS = 20_000;
/** BENCH_SFU_VERBOSE=1: echo every line the child processes print. */
const VERBOSE = Boolean(process.env.BENCH_SFU_VERBOSE);
/** The bar of issue 4. */
const BAR_MICROS_PER_PACKET = 20;
const BAR_STREAMS_PER_CORE = 1000;

// ---------------------------------------------------------------------------------------------
// Options: --flag, else BENCH_* environment variable, else the default.

type Kind = 'sfu' | 'relay';

interface Options {
  listeners: number[];
  rooms: number;
  students: number;
  slots: number;
  rate: number;
  payload: number;
  duration: number;
  warmup: number;
  idle: number;
  drain: number;
  runs: number;
  kinds: Kind[];
  maxLoss: number;
  concurrency: number;
  studentMics: boolean;
  studentMicRate: number;
  cpuProf: string | undefined;
  serverEntry: string;
  json: string | undefined;
}

const OPTION_HELP = `usage: npm run bench:sfu -- [options]
  (or: npm run build && node --import tsx bench/sfu-forwarding.ts [options])

  --listeners LIST   one-room sizes: listen-only students of one teacher   env BENCH_LISTENERS   default 100,200,400 ("" or 0: none)
  --rooms R          many-rooms scenario: rooms (0: skip it)              env BENCH_ROOMS       default 20
  --students N       many-rooms scenario: listen-only students per room   env BENCH_STUDENTS    default 10
  --slots K          receive slots per client (the server's AUDIO_SLOTS)   env BENCH_SLOTS       default 3
  --rate P           packets per second per publisher                     env BENCH_RATE        default 50
  --payload B        RTP payload bytes (>= 16)                            env BENCH_PAYLOAD     default 100
  --duration D       measured seconds per run                             env BENCH_DURATION    default 3
  --warmup W         seconds of sending before the window                 env BENCH_WARMUP      default 1
  --idle I           seconds of the SFU's idle CPU measured before sending (0: skip)  env BENCH_IDLE default 1
  --drain T          seconds to wait for stragglers after the last send   env BENCH_DRAIN       default 0.5
  --runs N           runs of every scenario                               env BENCH_RUNS        default 3
  --kinds LIST       sfu,relay (or one of them)                           env BENCH_KINDS       default sfu,relay
  --max-loss PCT     loss above this (%) fails the run                    env BENCH_MAX_LOSS    default 0.5
  --concurrency C    clients connecting at once (per client process)      env BENCH_CONCURRENCY default 16
  --student-mics     students also publish silence while the teacher's MuteAll mutes them:
                     the SFU receives and drops their packets              env BENCH_STUDENT_MICS=1
  --student-mic-rate M  packets/s of each such microphone: 5 is what a browser sends for a silent
                     microphone when the answer asks for Opus DTX (the server's AUDIO_DTX default),
                     50 without DTX                                        env BENCH_STUDENT_MIC_RATE default 5
  --cpu-prof DIR     run the SFU server with node --cpu-prof into DIR     env BENCH_CPU_PROF
  --server-entry F   the server's entry point (another build of it)       env BENCH_SERVER_ENTRY default dist/main.js
  --json FILE        also write every run and the medians as JSON         env BENCH_JSON
  --help`;

function parseCommandLine() {
  return parseArgs({
    options: {
      listeners: { type: 'string' },
      rooms: { type: 'string' },
      students: { type: 'string' },
      slots: { type: 'string' },
      rate: { type: 'string' },
      payload: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      idle: { type: 'string' },
      drain: { type: 'string' },
      runs: { type: 'string' },
      kinds: { type: 'string' },
      'max-loss': { type: 'string' },
      concurrency: { type: 'string' },
      'student-mics': { type: 'boolean' },
      'student-mic-rate': { type: 'string' },
      'cpu-prof': { type: 'string' },
      'server-entry': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}

function parseOptions(): Options {
  const values = parseFlags(parseCommandLine, OPTION_HELP);
  const number = numberOption;
  const listenersRaw = pick(values.listeners, 'BENCH_LISTENERS') ?? '100,200,400';
  const listeners = listenersRaw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== '0')
    .map((s) => number('--listeners', s, 0, true, 1, 5000));
  const kinds = namesOption<Kind>(pick(values.kinds, 'BENCH_KINDS') ?? 'sfu,relay', ['sfu', 'relay'], 'kind');
  const options: Options = {
    listeners: [...new Set(listeners)],
    rooms: number('--rooms', pick(values.rooms, 'BENCH_ROOMS'), 20, true, 0, 1000),
    students: number('--students', pick(values.students, 'BENCH_STUDENTS'), 10, true, 1, 1000),
    slots: number('--slots', pick(values.slots, 'BENCH_SLOTS'), 3, true, 1, 16),
    rate: number('--rate', pick(values.rate, 'BENCH_RATE'), 50, false, 1, 1000),
    payload: number('--payload', pick(values.payload, 'BENCH_PAYLOAD'), 100, true, 16, 1200),
    duration: number('--duration', pick(values.duration, 'BENCH_DURATION'), 3, false, 1, 600),
    warmup: number('--warmup', pick(values.warmup, 'BENCH_WARMUP'), 1, false, 0.2, 60),
    idle: number('--idle', pick(values.idle, 'BENCH_IDLE'), 1, false, 0, 60),
    drain: number('--drain', pick(values.drain, 'BENCH_DRAIN'), 0.5, false, 0.1, 30),
    runs: number('--runs', pick(values.runs, 'BENCH_RUNS'), 3, true, 1, 100),
    kinds,
    maxLoss: number('--max-loss', pick(values['max-loss'], 'BENCH_MAX_LOSS'), 0.5, false, 0, 100),
    concurrency: number('--concurrency', pick(values.concurrency, 'BENCH_CONCURRENCY'), 16, true, 1, 1000),
    studentMics: values['student-mics'] ?? ['1', 'true', 'yes'].includes((process.env.BENCH_STUDENT_MICS ?? '').toLowerCase()),
    studentMicRate: number('--student-mic-rate', pick(values['student-mic-rate'], 'BENCH_STUDENT_MIC_RATE'), 5, false, 0.5, 1000),
    cpuProf: pick(values['cpu-prof'], 'BENCH_CPU_PROF') || undefined,
    serverEntry: resolvePath(ROOT, pick(values['server-entry'], 'BENCH_SERVER_ENTRY') || SERVER_ENTRY),
    json: pick(values.json, 'BENCH_JSON') || undefined,
  };
  if (options.listeners.length === 0 && options.rooms === 0) throw new UsageError('no scenario: give --listeners and/or --rooms');
  return options;
}

interface Scenario {
  key: string;
  title: string;
  rooms: number;
  /** Students (listeners) per room. */
  perRoom: number;
  /** The students publish too, muted (--student-mics). */
  mics: boolean;
}

function scenariosOf(options: Options): Scenario[] {
  const mics = options.studentMics;
  const suffix = mics ? { key: '+mics', title: ', muted student mics' } : { key: '', title: '' };
  const list: Scenario[] = options.listeners.map((l) => ({
    key: `room-${l}${suffix.key}`,
    title: `1 room, ${l} listeners${suffix.title}`,
    rooms: 1,
    perRoom: l,
    mics,
  }));
  if (options.rooms > 0) {
    list.push({
      key: `rooms-${options.rooms}x${options.students}${suffix.key}`,
      title: `${options.rooms} rooms x ${options.students} listeners${suffix.title}`,
      rooms: options.rooms,
      perRoom: options.students,
      mics,
    });
  }
  return list;
}

// ---------------------------------------------------------------------------------------------
installSignalHandlers('the server, the relay and the clients', 25_000);

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc.

/** Where a forwarding process spends its CPU, by thread (its threads' names as in /proc/<pid>/task/<tid>/comm). */
const THREAD_GROUPS = ['main', 'juice', 'rtc', 'other'] as const;
type ThreadGroup = (typeof THREAD_GROUPS)[number];
const THREAD_GROUP_TITLE: Record<ThreadGroup, string> = {
  main: 'main (JS) thread',
  juice: 'libjuice ICE thread ("juice mux")',
  rtc: 'libdatachannel workers ("RTC ...")',
  other: 'other threads (V8, libuv pool, SCTP)',
};

/** utime + stime per thread group of a process, in seconds; threads that ended are not counted. */
function threadCpuSeconds(pid: number): Record<ThreadGroup, number> {
  const groups: Record<ThreadGroup, number> = { main: 0, juice: 0, rtc: 0, other: 0 };
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return groups;
  }
  for (const tid of tids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const comm = statName(stat);
    const seconds = statCpuSeconds(stat);
    const group: ThreadGroup = Number(tid) === pid ? 'main' : comm.startsWith('juice') ? 'juice' : comm.startsWith('RTC') ? 'rtc' : 'other';
    groups[group] += seconds;
  }
  return groups;
}

/** Datagrams the kernel dropped at UDP sockets bound to `port` (receive queue full), from /proc/net/udp. */
function udpSocketDrops(port: number): number {
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  let drops = 0;
  for (const line of readFileSync('/proc/net/udp', 'utf8').split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 12 && fields[1]!.endsWith(hexPort)) drops += Number(fields[fields.length - 1]);
  }
  return drops;
}

/** Datagrams dropped machine-wide because a socket's receive buffer was full (Udp RcvbufErrors in /proc/net/snmp). */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'));
  if (lines.length < 2) return NaN;
  const names = lines[0]!.trim().split(/\s+/);
  const values = lines[1]!.trim().split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

interface CpuSnapshot extends ProcessCpuSnapshot {
  /** The forwarding process, by thread group. */
  threads: Record<ThreadGroup, number>;
}

function cpuSnapshot(pids: Map<string, number>): CpuSnapshot {
  const threads = threadCpuSeconds(pids.get('forwarder')!);
  return { ...processCpuSnapshot(pids), threads };
}

interface CpuWindow extends ProcessCpuWindow {
  threads: Record<ThreadGroup, number>;
}

function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuWindow {
  const threads = { ...after.threads };
  for (const group of THREAD_GROUPS) threads[group] -= before.threads[group];
  return { ...processCpuBetween(before, after), threads };
}

// ---------------------------------------------------------------------------------------------
// Child processes: the server, the relay, the client workers.

/**
 * Limits raised so that the benchmark's few hundred clients, all on 127.0.0.1, are not refused or
 * throttled (servers that predate these variables ignore them). None of them is on the media path.
 */
const SERVER_LIMITS = {
  MAX_CONNECTIONS_PER_ADDRESS: '100000',
  MAX_USERS_PER_ROOM: '100000',
  MAX_ROOMS: '100000',
  HTTP_RATE_LIMIT_PER_MIN: '1000000',
  // Quick graceful stop at the end of a run (the clients are gone by then).
  SHUTDOWN_TIMEOUT_MS: '2000',
};

/**
 * A guarded child (bench/lib/child.ts) whose problem lines are the ones `isProblem` picks: for the
 * server, warn/error/fatal log lines and stderr; for the others, stderr. BENCH_SFU_VERBOSE=1 echoes its output.
 */
function manage<In, Out extends { type: string }>(
  name: string,
  child: ChildProcess,
  isProblem: ProblemRule,
  stopGraceMs = STOP_GRACE_MS,
): ManagedChild<In, Out> {
  const managed = new ManagedChild<In, Out>(name, child, isProblem, stopGraceMs);
  if (VERBOSE) managed.onLine((line, stream) => console.error(`[${name} ${stream}] ${line}`));
  return managed;
}

type Server = ManagedChild<never, never> & { http: string; mediaPort: number };
type Worker = ManagedChild<ToWorker, FromWorker>;
type Relay = ManagedChild<ToRelay, FromRelay>;

function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

const startupWarningsShown = new Set<string>();

async function startServer(options: Options, label: string): Promise<Server> {
  const [port, mediaPort] = await Promise.all([freeTcpPort(), freeUdpPort()]);
  const env = serverEnv({
    ...SERVER_LIMITS,
    HOST: '127.0.0.1',
    PORT: String(port),
    MEDIA_PORT: String(mediaPort),
    MEDIA_BIND_ADDRESS: '127.0.0.1',
    STUN_ADDRESS: 'stun:127.0.0.1:3478',
    LOG_LEVEL: 'warn',
    AUDIO_SLOTS: String(options.slots),
  });
  const args = [options.serverEntry];
  if (options.cpuProf) {
    const dir = resolvePath(ROOT, options.cpuProf);
    mkdirSync(dir, { recursive: true });
    args.unshift('--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=sfu-${label}-${Date.now()}.cpuprofile`);
  }
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // LOG_LEVEL=warn: every line the server prints once it is ready is a warning or worse, or a crash
  // on stderr. Lines before (e.g. a warning about its configuration) are shown once, not counted.
  let ready = false;
  const startupLines: string[] = [];
  const server = manage<never, never>(
    'server',
    child,
    (line) => {
      if (!ready) startupLines.push(line);
      return ready;
    },
    options.cpuProf ? STOP_GRACE_PROFILING_MS : STOP_GRACE_MS,
  ) as Server;
  server.http = `http://127.0.0.1:${port}`;
  server.mediaPort = mediaPort;
  const { ready: isReady, last } = await pollReady(server.http, Date.now() + START_TIMEOUT_MS + READY_TIMEOUT_MS, () => {
    server.assertAlive('at start');
  });
  if (isReady) {
    ready = true;
    for (const line of startupLines) {
      if (!startupWarningsShown.has(line.replace(/"(time|pid)":\d+,/g, ''))) {
        startupWarningsShown.add(line.replace(/"(time|pid)":\d+,/g, ''));
        console.log(`note: the server said at start (shown once, not counted as a problem): ${line}`);
      }
    }
    return server;
  }
  await server.stop();
  throw new Error(`server not ready after ${START_TIMEOUT_MS + READY_TIMEOUT_MS} ms: ${last}\n${server.log.recent.join('\n')}`);
}

function startTsx<In, Out extends { type: string }>(name: string, entry: string): ManagedChild<In, Out> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  });
  return manage<In, Out>(name, child, (_line, stream) => stream === 'stderr');
}

function createRoom(server: Server, name: string, master: string): Promise<void> {
  return createRoomAt(server.http, name, master);
}

// ---------------------------------------------------------------------------------------------
// One run of one scenario with one kind.

interface RunResult {
  kind: Kind;
  scenario: string;
  run: number;
  rooms: number;
  listeners: number;
  publishers: number;
  /** listeners x publishers heard (each student hears its room's teacher). */
  streams: number;
  /** Streams into the forwarder (teachers, plus muted student microphones) and their packets/s. */
  uplinks: number;
  receivedPerSec: number;
  setupSeconds: number;
  /** The whole case, process start to teardown. */
  caseSeconds: number;
  forwardedPerSec: number;
  /** The forwarding process (server or relay): % of one core over the window, and while idle. */
  cpu: number;
  /** The same, by thread group (% of one core). */
  threadCpu: Record<ThreadGroup, number>;
  idleCpu: number;
  microsPerPacket: number;
  streamsPerCore: number;
  expected: number;
  received: number;
  lossPct: number;
  worstListenerLossPct: number;
  listenersSilent: number;
  /**
   * Datagrams the kernel dropped during the load (warm-up included) because a receive queue was
   * full: at the forwarder's ingress socket, and at any other UDP socket of the machine (the clients').
   */
  ingressDrops: number;
  otherUdpDrops: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  publisherCpu: number;
  listenerCpu: number;
  machineBusy: number;
  machineSteal: number;
  otherLoad: number;
  sendLagP99: number;
  sendFailures: number;
  duplicates: number;
  unexpected: number;
  rewriteErrors: number;
  ssrcChanges: number;
  reordered: number;
  processProblems: number;
  problems: string[];
}

function clientSpecs(scenario: Scenario, prefix: string): { teachers: ClientSpec[]; students: ClientSpec[] } {
  const teachers: ClientSpec[] = [];
  const students: ClientSpec[] = [];
  for (let r = 0; r < scenario.rooms; r++) {
    const roomName = `${prefix}-${r}`;
    teachers.push({ uuid: `teacher-${r}`, room: r, roomName, publisher: true, listener: -1, mic: false, publisherId: r });
    for (let i = 0; i < scenario.perRoom; i++) {
      const listener = students.length;
      students.push({
        uuid: `student-${r}-${i}`,
        room: r,
        roomName,
        publisher: false,
        listener,
        mic: scenario.mics,
        publisherId: scenario.rooms + listener,
      });
    }
  }
  return { teachers, students };
}

async function runCase(kind: Kind, scenario: Scenario, run: number, options: Options): Promise<RunResult> {
  const { rate, warmup: W, duration: D } = options;
  let server: Server | undefined;
  let relay: Relay | undefined;
  const workers: Worker[] = [];
  let stopping: Promise<void> | undefined;
  // Once only, whoever asks first (the end of the run, or a signal): clients, then the server/relay.
  const teardown = (): Promise<void> =>
    (stopping ??= (async () => {
      await Promise.allSettled(workers.map((worker) => worker.stop({ type: 'stop' })));
      await Promise.allSettled([server?.stop(), relay?.stop({ type: 'stop' })]);
    })());
  cleanups.add(teardown);
  try {
    const setupStart = performance.now();
    const { teachers, students } = clientSpecs(scenario, `bench-${run}`);
    const publisherWorker = startTsx<ToWorker, FromWorker>('publisher process', WORKER_ENTRY);
    const listenerWorker = startTsx<ToWorker, FromWorker>('listener process', WORKER_ENTRY);
    workers.push(publisherWorker, listenerWorker);
    const connectTimeout = (n: number): number => CONNECT_TIMEOUT_MS + CONNECT_PER_CLIENT_MS * n;
    let forwarder: ManagedChild<unknown, { type: string }>;
    /** The forwarder's one ingress UDP port (the SFU's ICE mux port, the relay's socket). */
    let ingressPort: number;
    if (kind === 'sfu') {
      server = await startServer(options, `${scenario.key}-run${run}`);
      forwarder = server as unknown as ManagedChild<unknown, { type: string }>;
      ingressPort = server.mediaPort;
      await Promise.all([
        publisherWorker.next('hello', START_TIMEOUT_MS, 'start'),
        listenerWorker.next('hello', START_TIMEOUT_MS, 'start'),
      ]);
      for (const teacher of teachers) await createRoom(server, teacher.roomName, teacher.uuid);
      const ws = server.http.replace(/^http/, 'ws');
      const common = {
        type: 'setup',
        mode: 'webrtc',
        ws,
        slots: options.slots,
        concurrency: options.concurrency,
        timeoutMs: CLIENT_TIMEOUT_MS,
        muteAll: scenario.mics,
      } as const;
      // Teachers first (the publishers), then the students.
      publisherWorker.post({ ...common, clients: teachers });
      await publisherWorker.next('ready', connectTimeout(teachers.length), `${teachers.length} teachers connected`);
      listenerWorker.post({ ...common, clients: students });
      await listenerWorker.next('ready', connectTimeout(students.length), `${students.length} students connected`);
    } else {
      relay = startTsx<ToRelay, FromRelay>('relay', RELAY_ENTRY);
      forwarder = relay as unknown as ManagedChild<unknown, { type: string }>;
      const [hello] = await Promise.all([
        relay.next('hello', START_TIMEOUT_MS, 'start'),
        publisherWorker.next('hello', START_TIMEOUT_MS, 'start'),
        listenerWorker.next('hello', START_TIMEOUT_MS, 'start'),
      ]);
      ingressPort = hello.port;
      const common = { type: 'setup', mode: 'udp', relayPort: hello.port, timeoutMs: CLIENT_TIMEOUT_MS } as const;
      publisherWorker.post({ ...common, clients: teachers });
      listenerWorker.post({ ...common, clients: students });
      const [pubs, subs] = await Promise.all([
        publisherWorker.next('ready', connectTimeout(teachers.length), 'publisher sockets'),
        listenerWorker.next('ready', connectTimeout(students.length), 'listener sockets'),
      ]);
      const routes: [number, number[]][] = teachers.map((teacher) => [
        pubs.ports[`pub:${teacher.room}`]!,
        students.filter((s) => s.room === teacher.room).map((s) => subs.ports[`lis:${s.listener}`]!),
      ]);
      // Muted microphones: received and dropped, like the SFU drops a muted student's packets.
      for (const student of students) if (student.mic) routes.push([subs.ports[`lis:${student.listener}`]!, []]);
      relay.post({ type: 'routes', routes });
      await relay.next('ready', READY_TIMEOUT_MS, 'routes');
    }
    const setupSeconds = (performance.now() - setupStart) / 1000;
    const pids = new Map<string, number>([
      ['forwarder', forwarder.pid],
      ['publishers', publisherWorker.pid],
      ['listeners', listenerWorker.pid],
    ]);
    const alive = (): void => {
      for (const proc of [forwarder, ...workers]) proc.assertAlive('during the run');
    };

    // Idle: everyone connected, nobody sending (timers, ICE consent checks, the selection loop).
    await delay(300);
    let idleCpu = NaN;
    if (options.idle > 0 && kind === 'sfu') {
      const before = cpuSnapshot(pids);
      await delay(options.idle * 1000);
      const window = cpuBetween(before, cpuSnapshot(pids));
      idleCpu = (window.used.get('forwarder')! / window.seconds) * 100;
    }
    alive();

    // Load: packet k of publisher p leaves at t0 + (k + p / P) / rate; the window is packets W*rate .. (W+D)*rate - 1.
    const warmupPackets = Math.round(W * rate);
    const measuredPackets = Math.round(D * rate);
    const periodMs = 1000 / rate;
    const t0 = process.hrtime.bigint() + 300_000_000n;
    const start: ToWorker = {
      type: 'start',
      t0: t0.toString(),
      rate,
      micRate: options.studentMicRate,
      payload: options.payload,
      warmupPackets,
      measuredPackets,
      publishersTotal: teachers.length + students.filter((s) => s.mic).length,
    };
    const dropsBefore = { ingress: udpSocketDrops(ingressPort), all: udpRcvbufErrors() };
    listenerWorker.post(start);
    publisherWorker.post(start);
    const sleepUntil = async (offsetMs: number): Promise<void> => {
      const wait = Number(t0 - process.hrtime.bigint()) / 1e6 + offsetMs;
      if (wait > 0) await delay(wait);
    };
    await sleepUntil(warmupPackets * periodMs);
    alive();
    const before = cpuSnapshot(pids);
    await sleepUntil((warmupPackets + measuredPackets) * periodMs);
    const window = cpuBetween(before, cpuSnapshot(pids));
    const sent = await publisherWorker.next('sent', REPORT_TIMEOUT_MS + 2 * periodMs, 'the end of the sends');
    await delay(options.drain * 1000);
    const ingressDrops = udpSocketDrops(ingressPort) - dropsBefore.ingress;
    const otherUdpDrops = Math.max(0, udpRcvbufErrors() - dropsBefore.all - ingressDrops);
    alive();

    // Reports.
    listenerWorker.post({ type: 'report' });
    publisherWorker.post({ type: 'report' });
    const [listened, published] = await Promise.all([
      listenerWorker.next('report', REPORT_TIMEOUT_MS, 'report'),
      publisherWorker.next('report', REPORT_TIMEOUT_MS, 'report'),
    ]);
    const problems: string[] = [];
    let relayErrors = 0;
    if (relay) {
      relay.post({ type: 'report' });
      const relayed = await relay.next('report', REPORT_TIMEOUT_MS, 'report');
      relayErrors = relayed.errors + relayed.unknownSource;
      if (relayed.errors) problems.push(`relay: ${relayed.errors} send errors`);
      if (relayed.unknownSource) problems.push(`relay: ${relayed.unknownSource} packets from unknown sources`);
    }
    alive();
    return figures(kind, scenario, run, options, {
      setupSeconds,
      idleCpu,
      window,
      measuredPackets,
      listened: listened.listener!,
      published: mergePublishers(sent.publisher ?? published.publisher!, listened.publisher),
      uplinks: start.publishersTotal,
      micUplinks: students.filter((s) => s.mic).length,
      ingressDrops,
      otherUdpDrops,
      workerProblems: [
        ...published.problems.map((p) => `publisher process: ${p}`),
        ...listened.problems.map((p) => `listener process: ${p}`),
      ],
      workerProblemCount: published.problemCount + listened.problemCount,
      procs: [forwarder, ...workers],
      extraProblems: problems,
      extraProblemCount: relayErrors,
    });
  } finally {
    cleanups.delete(teardown);
    await teardown();
  }
}

/** The teachers' report, and the students' microphones' if any. */
function mergePublishers(teachers: PublisherReport, students: PublisherReport | undefined): PublisherReport {
  if (!students) return teachers;
  return {
    sent: teachers.sent + students.sent,
    sendFailures: teachers.sendFailures + students.sendFailures,
    lagP99: Math.max(teachers.lagP99, students.lagP99),
    lagMax: Math.max(teachers.lagMax, students.lagMax),
  };
}

function figures(
  kind: Kind,
  scenario: Scenario,
  run: number,
  options: Options,
  data: {
    setupSeconds: number;
    idleCpu: number;
    window: CpuWindow;
    measuredPackets: number;
    listened: ListenerReport;
    published: PublisherReport;
    uplinks: number;
    micUplinks: number;
    ingressDrops: number;
    otherUdpDrops: number;
    workerProblems: string[];
    workerProblemCount: number;
    procs: ManagedChild<unknown, { type: string }>[];
    extraProblems: string[];
    extraProblemCount: number;
  },
): RunResult {
  const { window, listened, published } = data;
  const listeners = listened.listeners;
  const expected = listeners * data.measuredPackets;
  let received = 0;
  let worst = 0;
  let silent = 0;
  for (let i = 0; i < listeners; i++) {
    const got = listened.receivedMeasured[i]!;
    received += got;
    worst = Math.max(worst, (data.measuredPackets - got) / data.measuredPackets);
    if (got === 0) silent++;
  }
  const forwarderSeconds = window.used.get('forwarder')!;
  const publisherSeconds = window.used.get('publishers')!;
  const listenerSeconds = window.used.get('listeners')!;
  const latencies = Float64Array.from(listened.latencies).sort();
  const micros = received > 0 ? (forwarderSeconds * 1e6) / received : NaN;
  const problems = [...data.extraProblems, ...data.workerProblems];
  let processProblems = data.workerProblemCount + data.extraProblemCount;
  for (const proc of data.procs) {
    processProblems += proc.log.problemCount;
    for (const line of proc.log.problems) problems.push(`${proc.name}: ${line}`);
  }
  return {
    kind,
    scenario: scenario.key,
    run,
    rooms: scenario.rooms,
    listeners,
    publishers: scenario.rooms,
    streams: listeners,
    uplinks: data.uplinks,
    receivedPerSec: (data.uplinks - data.micUplinks) * options.rate + data.micUplinks * options.studentMicRate,
    setupSeconds: data.setupSeconds,
    caseSeconds: NaN,
    forwardedPerSec: received / (data.measuredPackets / options.rate),
    cpu: (forwarderSeconds / window.seconds) * 100,
    threadCpu: Object.fromEntries(THREAD_GROUPS.map((g) => [g, (window.threads[g] / window.seconds) * 100])) as Record<ThreadGroup, number>,
    idleCpu: data.idleCpu,
    microsPerPacket: micros,
    streamsPerCore: Number.isFinite(micros) && micros > 0 ? 1e6 / (micros * options.rate) : NaN,
    expected,
    received,
    lossPct: expected > 0 ? ((expected - received) / expected) * 100 : NaN,
    worstListenerLossPct: worst * 100,
    listenersSilent: silent,
    ingressDrops: data.ingressDrops,
    otherUdpDrops: data.otherUdpDrops,
    latencyP50: percentile(latencies, 0.5) / 1000,
    latencyP99: percentile(latencies, 0.99) / 1000,
    latencyMax: maximum(latencies) / 1000,
    publisherCpu: (publisherSeconds / window.seconds) * 100,
    listenerCpu: (listenerSeconds / window.seconds) * 100,
    machineBusy: (window.machineBusy / window.seconds) * 100,
    machineSteal: (window.machineSteal / window.seconds) * 100,
    // Tick-grained counters of different sources: a small negative difference means none; clamp at 0.
    otherLoad: Math.max(
      0,
      ((window.machineBusy - forwarderSeconds - publisherSeconds - listenerSeconds - window.self) / window.seconds) * 100,
    ),
    sendLagP99: published.lagP99,
    sendFailures: published.sendFailures,
    duplicates: listened.duplicates,
    unexpected: listened.unexpected,
    rewriteErrors: listened.rewriteErrors,
    ssrcChanges: listened.ssrcChanges,
    reordered: listened.reordered,
    processProblems,
    problems,
  };
}

// ---------------------------------------------------------------------------------------------
// Reporting.

function irregularities(result: RunResult, options: Options): string[] {
  const found: string[] = [];
  if (!(result.lossPct <= options.maxLoss)) {
    found.push(
      `LOSS ${f3(result.lossPct)} % > ${options.maxLoss} % (${result.expected - result.received} of ${result.expected} packets; ` +
        `during the load the kernel dropped ${result.ingressDrops} datagrams at the ${result.kind === 'sfu' ? 'server' : 'relay'}'s ingress socket ` +
        `and ${result.otherUdpDrops} at other UDP sockets, i.e. the clients')`,
    );
  }
  if (result.listenersSilent === result.listeners && result.listeners > 0) {
    found.push(`NOTHING was forwarded: no listener received a single measured packet`);
  } else if (result.listenersSilent) {
    found.push(`${result.listenersSilent} listeners received nothing in the window`);
  }
  if (result.sendFailures) found.push(`${result.sendFailures} sends refused by the publisher's track/socket`);
  if (result.duplicates) found.push(`${result.duplicates} duplicate packets`);
  if (result.unexpected) found.push(`${result.unexpected} stray packets`);
  if (result.rewriteErrors) found.push(`${result.rewriteErrors} seq/timestamp rewriting errors`);
  if (result.ssrcChanges) found.push(`${result.ssrcChanges} SSRC changes on a slot`);
  if (result.reordered) found.push(`${result.reordered} reordered packets`);
  if (result.processProblems) found.push(`${result.processProblems} problem lines/events from the processes`);
  return found;
}

function printRun(result: RunResult, options: Options): void {
  console.log(
    `${result.kind.padEnd(5)} ${result.scenario.padEnd(12)} run ${result.run}/${options.runs}: ` +
      `${result.streams} streams, ${f0(result.forwardedPerSec)} pkt/s forwarded (${f0(result.receivedPerSec)} pkt/s in) | ` +
      `${result.kind === 'sfu' ? 'server' : 'relay'} CPU ${f1(result.cpu)}% (idle ${f1(result.idleCpu)}%), ${f2(result.microsPerPacket)} µs/pkt, ` +
      `${f0(result.streamsPerCore)} streams/core (threads: ${THREAD_GROUPS.filter((g) => result.threadCpu[g] > 0)
        .map((g) => `${g} ${f1(result.threadCpu[g])}%`)
        .join(', ')}) | loss ${f3(result.lossPct)}% (worst listener ${f2(result.worstListenerLossPct)}%; ` +
      `UDP drops: ingress ${result.ingressDrops}, elsewhere ${result.otherUdpDrops}) | ` +
      `latency p50 ${f2(result.latencyP50)} ms, p99 ${f2(result.latencyP99)} ms, max ${f2(result.latencyMax)} ms | ` +
      `clients: publishers ${f1(result.publisherCpu)}%, listeners ${f1(result.listenerCpu)}% | ` +
      `machine ${f1(result.machineBusy)}% of ${MACHINE_PERCENT}% (other ${f1(result.otherLoad)}%, steal ${f1(result.machineSteal)}%) | ` +
      `send lag p99 ${f2(result.sendLagP99)} ms | setup ${f1(result.setupSeconds)} s, all ${f1(result.caseSeconds)} s`,
  );
  if (result.otherLoad > OTHER_LOAD_WARN) {
    console.log(`  note: other processes used ${f1(result.otherLoad)}% of a core during this run: its figures are noisier`);
  }
  const found = irregularities(result, options);
  printRunProblems(`${result.kind} ${result.scenario} run ${result.run}`, found, result.problems);
}

const FIGURES: Figure<RunResult>[] = [
  { key: 'streams', label: 'forwarded streams (listeners x publishers)', format: f0, get: (r) => r.streams },
  { key: 'forwardedPerSec', label: 'forwarded packets/s', format: f0, get: (r) => r.forwardedPerSec },
  { key: 'receivedPerSec', label: 'packets/s into the forwarder (all uplinks)', format: f0, get: (r) => r.receivedPerSec },
  { key: 'cpu', label: 'forwarding process CPU (% of a core)', format: f1, get: (r) => r.cpu },
  ...THREAD_GROUPS.map((g) => ({
    key: `thread.${g}`,
    label: `  of which ${THREAD_GROUP_TITLE[g]}`,
    format: f1,
    get: (r: RunResult) => r.threadCpu[g],
  })),
  { key: 'idleCpu', label: 'same, idle before the load (% of a core)', format: f1, get: (r) => r.idleCpu },
  { key: 'microsPerPacket', label: 'CPU per forwarded packet (µs)', format: f2, get: (r) => r.microsPerPacket },
  { key: 'streamsPerCore', label: 'projected streams per core', format: f0, get: (r) => r.streamsPerCore },
  { key: 'lossPct', label: 'loss (%)', format: f3, get: (r) => r.lossPct },
  { key: 'worstListenerLossPct', label: 'worst listener loss (%)', format: f2, get: (r) => r.worstListenerLossPct },
  { key: 'ingressDrops', label: 'UDP drops at the ingress socket (load)', format: f0, get: (r) => r.ingressDrops },
  { key: 'otherUdpDrops', label: 'UDP drops at other sockets (load)', format: f0, get: (r) => r.otherUdpDrops },
  { key: 'latencyP50', label: 'latency p50 (ms)', format: f2, get: (r) => r.latencyP50 },
  { key: 'latencyP99', label: 'latency p99 (ms)', format: f2, get: (r) => r.latencyP99 },
  { key: 'latencyMax', label: 'latency max (ms)', format: f2, get: (r) => r.latencyMax },
  { key: 'publisherCpu', label: 'publisher process CPU (% of a core)', format: f1, get: (r) => r.publisherCpu },
  { key: 'listenerCpu', label: 'listener process CPU (% of a core)', format: f1, get: (r) => r.listenerCpu },
  { key: 'machineBusy', label: `machine busy (% of ${MACHINE_PERCENT}%)`, format: f1, get: (r) => r.machineBusy },
  { key: 'otherLoad', label: 'other load on the machine (% of a core)', format: f1, get: (r) => r.otherLoad },
  { key: 'sendLagP99', label: 'publisher send lag p99 (ms)', format: f2, get: (r) => r.sendLagP99 },
  { key: 'setupSeconds', label: 'setup (s)', format: f1, get: (r) => r.setupSeconds },
];

interface Summary {
  kind: Kind;
  scenario: Scenario;
  runs: number;
  figures: Record<string, number>;
}

function summarize(results: RunResult[], scenarios: Scenario[], kinds: Kind[]): Summary[] {
  const list: Summary[] = [];
  for (const scenario of scenarios) {
    for (const kind of kinds) {
      const runs = results.filter((r) => r.kind === kind && r.scenario === scenario.key);
      if (runs.length === 0) continue;
      list.push({ kind, scenario, runs: runs.length, figures: medians(FIGURES, runs) });
    }
  }
  return list;
}

const KIND_TITLE: Record<Kind, string> = { sfu: 'SFU', relay: 'UDP relay' };

function barVerdict(summary: Summary, options: Options): { met: boolean; text: string } {
  // Compared as printed (0.01 µs, whole streams, 0.001 %): the CPU figure is good to a few % anyway.
  const micros = Math.round(summary.figures.microsPerPacket! * 100) / 100;
  const perCore = Math.round(summary.figures.streamsPerCore!);
  const loss = Math.round(summary.figures.lossPct! * 1000) / 1000;
  // At another --rate the per-packet bar stays 20 µs; the streams-per-core bar scales with it.
  const streamsBar = (BAR_STREAMS_PER_CORE * 50) / options.rate;
  const cpuOk = micros <= BAR_MICROS_PER_PACKET;
  const streamsOk = perCore >= streamsBar;
  const lossOk = loss < options.maxLoss;
  const met = cpuOk && streamsOk && lossOk;
  return {
    met,
    text:
      `${met ? 'met' : 'NOT met'}: ${f2(micros)} µs/pkt ${cpuOk ? '<=' : '>'} ${BAR_MICROS_PER_PACKET}, ` +
      `${f0(perCore)} streams/core ${streamsOk ? '>=' : '<'} ${f0(streamsBar)}, loss ${f3(loss)} % ${lossOk ? '<' : '>='} ${options.maxLoss} %`,
  };
}

function printSummary(summaries: Summary[], results: RunResult[], options: Options): void {
  console.log('');
  for (const summary of summaries) {
    console.log(`median of ${summary.runs} ${KIND_TITLE[summary.kind]} runs, ${summary.scenario.title}:`);
    printMedians(FIGURES, summary.figures, 44);
    const runs = results.filter((r) => r.kind === summary.kind && r.scenario === summary.scenario.key);
    const lost = runs.reduce((sum, r) => sum + r.expected - r.received, 0);
    const expected = runs.reduce((sum, r) => sum + r.expected, 0);
    console.log(`  ${'total lost over all runs'.padEnd(44)} ${lost} of ${expected}`);
    if (summary.kind === 'sfu') console.log(`  ${'bar'.padEnd(44)} ${barVerdict(summary, options).text}`);
  }
  console.log('');
  console.log(
    `markdown (rate ${options.rate} packets/s per publisher, ${options.payload}-byte payload, K=${options.slots} slots, ` +
      `D=${options.duration} s measured after ${options.warmup} s warm-up, median of ${options.runs} runs):`,
  );
  console.log('');
  console.log(
    '| scenario | forwarder | streams | packets/s in / forwarded | CPU (% core) | of which main / ICE / RTC / other threads | idle CPU (% core) | µs/packet | streams/core | loss (%) | worst listener loss (%) | latency p50 / p99 / max (ms) | client CPU pub / lis (% core) | machine busy (%) |',
  );
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const s of summaries) {
    const v = (key: string): number => s.figures[key]!;
    console.log(
      `| ${s.scenario.title} | ${KIND_TITLE[s.kind]} | ${f0(v('streams'))} | ${f0(v('receivedPerSec'))} / ${f0(v('forwardedPerSec'))} | ${f1(v('cpu'))} | ${THREAD_GROUPS.map((g) => f1(v(`thread.${g}`))).join(' / ')} | ${Number.isFinite(v('idleCpu')) ? f1(v('idleCpu')) : '–'} | ` +
        `${f2(v('microsPerPacket'))} | ${f0(v('streamsPerCore'))} | ${f3(v('lossPct'))} | ${f2(v('worstListenerLossPct'))} | ` +
        `${f2(v('latencyP50'))} / ${f2(v('latencyP99'))} / ${f2(v('latencyMax'))} | ${f1(v('publisherCpu'))} / ${f1(v('listenerCpu'))} | ${f1(v('machineBusy'))} |`,
    );
  }
  const sfu = summaries.filter((s) => s.kind === 'sfu');
  if (sfu.length) {
    console.log('');
    console.log(
      `bar (<= ${BAR_MICROS_PER_PACKET} µs CPU per forwarded packet incl. control logic, >= ${BAR_STREAMS_PER_CORE} streams of 50 packets/s per core, < ${options.maxLoss} % loss):`,
    );
    for (const s of sfu) {
      const relay = summaries.find((r) => r.kind === 'relay' && r.scenario.key === s.scenario.key);
      const ratio = relay ? ` (SFU / relay CPU per packet: ${f1(s.figures.microsPerPacket! / relay.figures.microsPerPacket!)}x)` : '';
      console.log(`  ${s.scenario.title.padEnd(28)} ${barVerdict(s, options).text}${ratio}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------

function libraryVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(new URL(`../node_modules/${name}/package.json`, import.meta.url), 'utf8')) as { version: string })
      .version;
  } catch {
    return '?';
  }
}

async function main(): Promise<number> {
  const options = parseOptions();
  if (options.kinds.includes('sfu')) assertBuilt(options.serverEntry, 'bench:sfu');
  const scenarios = scenariosOf(options);
  const perCase = (s: Scenario): number =>
    60 + options.idle + options.warmup + options.duration + options.drain + (s.rooms * (s.perRoom + 1) * CONNECT_PER_CLIENT_MS) / 1000;
  const budgetMs = scenarios.reduce((sum, s) => sum + perCase(s), 0) * options.kinds.length * options.runs * 1000;
  startDeadline(budgetMs);

  console.log(
    `SFU forwarding bench: ${scenarios.map((s) => s.title).join('; ')}; 1 publishing teacher per room` +
      `${options.studentMics ? ` (and every student publishing silence at ${options.studentMicRate} packets/s, muted by MuteAll)` : ''}, ` +
      `${options.rate} packets/s of ${options.payload}-byte payload, K=${options.slots} receive slots; ` +
      `idle ${options.idle} s, warm-up ${options.warmup} s, measured ${options.duration} s; ${options.runs} runs of ${options.kinds.join(' and ')}`,
  );
  const entry =
    options.serverEntry === resolvePath(ROOT, SERVER_ENTRY) ? SERVER_ENTRY : `${options.serverEntry} (not the repository's build)`;
  console.log(`code: ${describeCommit()}; server: node ${entry}`);
  console.log(`machine: ${describeMachine()}, ` + `node-datachannel ${libraryVersion('node-datachannel')}`);
  const results: RunResult[] = [];
  const failures: { kind: Kind; scenario: string; run: number; error: string }[] = [];
  for (let run = 1; run <= options.runs; run++) {
    for (const scenario of scenarios) {
      // Alternate which kind goes first, so slow drift of the machine hits both alike.
      const order = run % 2 === 1 ? options.kinds : [...options.kinds].reverse();
      for (const kind of order) {
        let result: RunResult;
        const caseStart = performance.now();
        try {
          result = await runCase(kind, scenario, run, options);
          result.caseSeconds = (performance.now() - caseStart) / 1000;
        } catch (error) {
          if (isExiting()) return 130; // interrupted: the signal handler is stopping everything
          // A run that broke (a process died, a client did not connect) is reported and left out of the medians.
          const text = error instanceof Error ? error.message : String(error);
          failures.push({ kind, scenario: scenario.key, run, error: text });
          console.log(failureLine(`${kind.padEnd(5)} ${scenario.key.padEnd(12)} run ${run}/${options.runs}`, text));
          continue;
        }
        results.push(result);
        printRun(result, options);
      }
    }
  }
  const summaries = summarize(results, scenarios, options.kinds);
  printSummary(summaries, results, options);
  if (options.json) {
    writeFileSync(
      options.json,
      `${JSON.stringify(
        {
          options,
          results,
          failures,
          medians: summaries.map((s) => ({ kind: s.kind, scenario: s.scenario.key, runs: s.runs, figures: s.figures })),
        },
        null,
        2,
      )}\n`,
    );
    console.log(`\nwrote ${options.json}`);
  }
  const bad = results.filter((r) => irregularities(r, options).length > 0);
  if (bad.length || failures.length) {
    const lossy = results.filter((r) => !(r.lossPct <= options.maxLoss));
    printBanner(
      `${lossy.length ? `LOSS above ${options.maxLoss} % in ${lossy.length} runs; ` : ''}PROBLEM in ${bad.length + failures.length} of ` +
        `${results.length + failures.length} runs:`,
      [
        ...bad.map((r) => `${r.kind} ${r.scenario} run ${r.run}: ${irregularities(r, options).join('; ')}`),
        ...failures.map((f) => `${f.kind} ${f.scenario} run ${f.run} FAILED: ${f.error.split('\n')[0]}`),
      ],
    );
    return 1;
  }
  return 0;
}

runBenchmark(main, OPTION_HELP);
