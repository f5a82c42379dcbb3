/* The cluster fan-out benchmark's options: --flag, else BENCH_* environment variable, else the default. */
import { resolve as resolvePath } from 'node:path';
import { parseArgs } from 'node:util';
import { namesOption, numberOption, parseFlags, pick, UsageError } from '../lib/options.js';
import { ROOT, SERVER_ENTRY } from '../lib/processes.js';
import type { ServerKind } from './wire.js';

export type Mode = 'fixed' | 'capacity' | 'joins' | 'soak';
/** one: a single node, rooms in memory (Socket.IO: its default in-memory adapter); two: two nodes sharing one Redis. */
export type Topology = 'one' | 'two';

export const MODES: readonly Mode[] = ['fixed', 'capacity', 'joins', 'soak'];
export const TOPOLOGIES: readonly Topology[] = ['one', 'two'];
export const SERVERS: readonly ServerKind[] = ['wigglypuff', 'socketio'];

export interface Options {
  mode: Mode;
  topologies: Topology[];
  servers: ServerKind[];
  rooms: number;
  students: number;
  rate: number;
  duration: number;
  warmup: number;
  runs: number;
  drainTimeout: number;
  clientProcesses: number;
  concurrency: number;
  stepFactor: number;
  stepDuration: number;
  stepWarmup: number;
  maxSteps: number;
  serverEntry: string;
  cpuProf: string | undefined;
  json: string | undefined;
}

export const OPTION_HELP = `usage: npm run bench:cluster -- [options]
  (or: npm run build && node --import tsx bench/cluster-fanout.ts [options])

  --mode M              fixed | capacity | joins | soak                 env BENCH_MODE        default fixed
  --topologies LIST     one,two (one node; two nodes + Redis)           env BENCH_TOPOLOGIES  default one,two
  --servers LIST        wigglypuff,socketio                             env BENCH_SERVERS     default both (soak: wigglypuff)
  --rooms N             rooms (R)                                       env BENCH_ROOMS       default 20
  --students N          students per room (S), besides its master       env BENCH_STUDENTS    default 49
  --rate F              ClickAya per second per master (F); capacity: the first step
                                                                        env BENCH_RATE        default 20
  --duration D          measured seconds (fixed, soak)                  env BENCH_DURATION    default 15
  --warmup W            warm-up seconds before the window (fixed, soak) env BENCH_WARMUP      default 2
  --runs N              runs per server and topology, alternating       env BENCH_RUNS        default 2 (soak: 1)
  --drain-timeout T     seconds to wait for the last deliveries         env BENCH_DRAIN_TIMEOUT default 10
  --client-processes N  client processes (each owns whole rooms)        env BENCH_CLIENT_PROCESSES default 2
  --concurrency N       joins under way at once, over all client processes  env BENCH_CONCURRENCY default 50
  --step-factor X       capacity: each step's rate is the last one's x X   env BENCH_STEP_FACTOR default 1.25
  --step-duration D     capacity: measured seconds per step             env BENCH_STEP_DURATION default 5
  --step-warmup W       capacity: warm-up seconds per step              env BENCH_STEP_WARMUP default 1
  --max-steps N         capacity: give up raising after this many steps env BENCH_MAX_STEPS   default 20
  --server-entry F      Wigglypuff's entry point (another build of it)  env BENCH_SERVER_ENTRY default dist/main.js
  --cpu-prof DIR        run the Wigglypuff nodes with node --cpu-prof --cpu-prof-dir=DIR  env BENCH_CPU_PROF
  --json FILE           also write every run, step and summary as JSON  env BENCH_JSON
  --help`;

function parseCommandLine() {
  return parseArgs({
    options: {
      mode: { type: 'string' },
      topologies: { type: 'string' },
      servers: { type: 'string' },
      rooms: { type: 'string' },
      students: { type: 'string' },
      rate: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      'drain-timeout': { type: 'string' },
      'client-processes': { type: 'string' },
      concurrency: { type: 'string' },
      'step-factor': { type: 'string' },
      'step-duration': { type: 'string' },
      'step-warmup': { type: 'string' },
      'max-steps': { type: 'string' },
      'server-entry': { type: 'string' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
}

export function parseOptions(): Options {
  const values = parseFlags(parseCommandLine, OPTION_HELP);
  const number = numberOption;
  const mode = pick(values.mode, 'BENCH_MODE') || 'fixed';
  if (!(MODES as readonly string[]).includes(mode)) throw new UsageError(`unknown mode "${mode}" (${MODES.join(', ')})`);
  const soak = mode === 'soak';
  const options: Options = {
    mode: mode as Mode,
    topologies: namesOption<Topology>(pick(values.topologies, 'BENCH_TOPOLOGIES') || 'one,two', TOPOLOGIES, 'topology'),
    servers: namesOption<ServerKind>(
      pick(values.servers, 'BENCH_SERVERS') || (soak ? 'wigglypuff' : 'wigglypuff,socketio'),
      SERVERS,
      'server',
    ),
    rooms: number('--rooms', pick(values.rooms, 'BENCH_ROOMS'), 20, true, 1, 10_000),
    students: number('--students', pick(values.students, 'BENCH_STUDENTS'), 49, true, 1, 10_000),
    rate: number('--rate', pick(values.rate, 'BENCH_RATE'), 20, false, 0.1, 10_000),
    duration: number('--duration', pick(values.duration, 'BENCH_DURATION'), 15, false, 1, 24 * 3600),
    warmup: number('--warmup', pick(values.warmup, 'BENCH_WARMUP'), 2, false, 0, 600),
    runs: number('--runs', pick(values.runs, 'BENCH_RUNS'), soak ? 1 : 2, true, 1, 100),
    drainTimeout: number('--drain-timeout', pick(values['drain-timeout'], 'BENCH_DRAIN_TIMEOUT'), 10, false, 0.1, 600),
    clientProcesses: number('--client-processes', pick(values['client-processes'], 'BENCH_CLIENT_PROCESSES'), 2, true, 1, 64),
    concurrency: number('--concurrency', pick(values.concurrency, 'BENCH_CONCURRENCY'), 50, true, 1, 100_000),
    stepFactor: number('--step-factor', pick(values['step-factor'], 'BENCH_STEP_FACTOR'), 1.25, false, 1.01, 10),
    stepDuration: number('--step-duration', pick(values['step-duration'], 'BENCH_STEP_DURATION'), 5, false, 1, 600),
    stepWarmup: number('--step-warmup', pick(values['step-warmup'], 'BENCH_STEP_WARMUP'), 1, false, 0, 600),
    maxSteps: number('--max-steps', pick(values['max-steps'], 'BENCH_MAX_STEPS'), 20, true, 1, 1000),
    serverEntry: resolvePath(ROOT, pick(values['server-entry'], 'BENCH_SERVER_ENTRY') || SERVER_ENTRY),
    cpuProf: pick(values['cpu-prof'], 'BENCH_CPU_PROF') || undefined,
    json: pick(values.json, 'BENCH_JSON') || undefined,
  };
  return options;
}

/** Offered deliveries per second: R rooms x S students x F per master. */
export function offeredLoad(options: Options, rate = options.rate): number {
  return options.rooms * options.students * rate;
}
