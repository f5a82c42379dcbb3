/*
 * Fixed mode (and the soak, which is the same load for longer, watched): per topology, runs of
 * each server alternating W, S, S, W, each on fresh processes: the class joins, the masters send
 * ClickAya at --rate for the warm-up and the measured window, the figures of the window are
 * printed per run, and per topology the medians per server with the ratio Wigglypuff / Socket.IO.
 */
import { MACHINE_PERCENT, OTHER_LOAD_WARN } from '../../lib/cpu.js';
import { printRunProblems } from '../../lib/report.js';
import { f0, f1, f2 } from '../../lib/stats.js';
import { type Classroom, type JoinFigures, openClassroom } from '../classroom.js';
import { runLoadStep, type StepFigures } from '../load-step.js';
import type { Options, Topology } from '../options.js';
import {
  type ComparedFigure,
  closeIrregularities,
  cpuList,
  joinIrregularities,
  printComparison,
  processIrregularities,
  stepIrregularities,
} from '../report.js';
import { type CaseResult, caseLabel, finish, takeTurns } from '../turns.js';
import type { ServerKind } from '../wire.js';

export interface LoadRun extends CaseResult {
  joins: JoinFigures;
  step: StepFigures;
  /** Figures a variant adds (soak: memory), by key. */
  extra: Record<string, number>;
  problemLines: string[];
}

/** What a variant watches during a run (the soak: the servers' memory). */
export interface RunObserver {
  /** Called every 250 ms or so during the load. */
  tick(): void;
  /** The load and its drain are over; the clients are still there. */
  endOfLoad(): void;
  /** After the clients closed: the variant's figures. */
  afterClass(classroom: Classroom): Promise<Record<string, number>>;
}

export interface LoadVariant {
  title: string;
  /** Split the window into intervals this long (seconds); undefined: one. */
  intervalSeconds: number | undefined;
  observe?(classroom: Classroom): RunObserver;
  figures(options: Options): ComparedFigure<LoadRun>[];
  printRunDetail?(run: LoadRun): void;
}

const step = (get: (s: StepFigures) => number) => (r: LoadRun) => get(r.step);

/** The figures of fixed mode, in the order of the report. */
export function loadFigures(): ComparedFigure<LoadRun>[] {
  return [
    { key: 'deliveredPerSec', label: 'delivered ClickAya/s (all students)', format: f1, get: step((s) => s.deliveredPerSec) },
    { key: 'latencyP50', label: 'latency p50 (ms)', format: f2, get: step((s) => s.latencyP50) },
    { key: 'latencyP99', label: 'latency p99 (ms)', format: f2, get: step((s) => s.latencyP99) },
    { key: 'latencyMax', label: 'latency max (ms)', format: f2, get: step((s) => s.latencyMax) },
    { key: 'ackP50', label: 'master Ack p50 (ms, Wigglypuff only)', format: f2, get: step((s) => s.ackP50), ratio: false },
    { key: 'expected', label: 'expected deliveries (measured)', format: f0, get: step((s) => s.expected), ratio: false },
    { key: 'received', label: 'received deliveries (measured)', format: f0, get: step((s) => s.received), ratio: false },
    { key: 'lost', label: 'lost', format: f0, get: step((s) => s.lost), ratio: false },
    { key: 'cpuMicrosPerMessage', label: 'server CPU per delivered message (µs)', format: f2, get: step((s) => s.cpuMicrosPerMessage) },
    { key: 'serverCpu', label: 'CPU all server processes (% of a core)', format: f1, get: step((s) => s.serverCpu) },
    { key: 'cpu.node-0', label: 'CPU node-0 (% of a core)', format: f1, get: step((s) => s.cpu['node-0'] ?? Number.NaN) },
    { key: 'cpu.node-1', label: 'CPU node-1 (% of a core)', format: f1, get: step((s) => s.cpu['node-1'] ?? Number.NaN) },
    { key: 'cpu.redis', label: 'CPU redis-server (% of a core)', format: f1, get: step((s) => s.cpu.redis ?? Number.NaN) },
    { key: 'clientCpu', label: 'CPU client processes (% of a core)', format: f1, get: step((s) => s.clientCpu) },
    { key: 'machineBusy', label: `machine busy (% of ${MACHINE_PERCENT}%)`, format: f1, get: step((s) => s.machineBusy), ratio: false },
    { key: 'otherLoad', label: 'other load on the machine (% of a core)', format: f1, get: step((s) => s.otherLoad), ratio: false },
    { key: 'sendLagP99', label: 'send lag p99 (ms, client side)', format: f2, get: step((s) => s.sendLagP99), ratio: false },
    { key: 'joinsTotalMs', label: 'setup: all joins, first to last RoomState (ms)', format: f0, get: (r) => r.joins.totalMs },
    { key: 'joinP99', label: 'setup: join p99 (ms)', format: f2, get: (r) => r.joins.p99 },
  ];
}

export const FIXED: LoadVariant = {
  title: 'fixed load',
  intervalSeconds: undefined,
  figures: loadFigures,
};

async function measureRun(server: ServerKind, topology: Topology, run: number, options: Options, variant: LoadVariant): Promise<LoadRun> {
  const classroom = await openClassroom(server, topology, options);
  try {
    const { target, pool } = classroom;
    const observer = variant.observe?.(classroom);
    const figures = await runLoadStep(
      classroom,
      { rate: options.rate, warmupSeconds: options.warmup, measureSeconds: options.duration, intervalSeconds: variant.intervalSeconds },
      options,
      observer && (() => observer.tick()),
    );
    observer?.endOfLoad();
    const closed = await pool.close();
    const extra = (await observer?.afterClass(classroom)) ?? {};
    target.assertAlive('after the class');
    const clientLines = pool.problemLines();
    return {
      topology,
      server,
      run,
      joins: classroom.joins,
      step: figures,
      lost: figures.lost,
      extra,
      irregularities: [
        ...joinIrregularities(classroom.joins, options.rooms * (options.students + 1)),
        ...stepIrregularities(figures),
        ...closeIrregularities(closed.problems),
        ...processIrregularities(target.problemCount(), clientLines),
      ],
      problemLines: [
        ...classroom.joins.problemLines,
        ...figures.problemLines,
        ...closed.problemLines,
        ...target.problemLines(),
        ...clientLines,
      ],
    };
  } finally {
    await classroom.teardown();
  }
}

export function printLoadRun(result: LoadRun, options: Options): void {
  const s = result.step;
  const servers = cpuList(s.cpu, (name) => !name.startsWith('client-'));
  const clients = cpuList(s.cpu, (name) => name.startsWith('client-'));
  console.log(
    `${caseLabel(result, options)}: ` +
      `delivered ${f1(s.deliveredPerSec)}/s | latency p50 ${f2(s.latencyP50)} ms, p99 ${f2(s.latencyP99)} ms, max ${f2(s.latencyMax)} ms` +
      `${Number.isFinite(s.ackP50) ? ` | Ack p50 ${f2(s.ackP50)} ms` : ''} | received ${s.received}/${s.expected} (lost ${s.lost}) | ` +
      `CPU ${servers} (servers ${f1(s.serverCpu)}%, ${f2(s.cpuMicrosPerMessage)} µs/msg), clients ${f1(s.clientCpu)}% (${clients}), bench ${f1(s.benchCpu)}% | ` +
      `machine ${f1(s.machineBusy)}% (other load ${f1(s.otherLoad)}%, steal ${f1(s.machineSteal)}%) | send lag p99 ${f2(s.sendLagP99)} ms | ` +
      `joins ${result.joins.joins} in ${f0(result.joins.totalMs)} ms (p99 ${f2(result.joins.p99)} ms)`,
  );
  if (s.otherLoad > OTHER_LOAD_WARN) {
    console.log(`  note: other processes used ${f1(s.otherLoad)}% of a core during this run: its figures are noisier`);
  }
  printRunProblems(`${result.topology} ${result.server} run ${result.run}`, result.irregularities, result.problemLines);
}

export async function runLoadMode(options: Options, variant: LoadVariant): Promise<number> {
  const done = await takeTurns(
    options,
    (c) => measureRun(c.server, c.topology, c.run, options, variant),
    (result) => {
      printLoadRun(result, options);
      variant.printRunDetail?.(result);
    },
  );
  if (!done) return 130;
  const medians: Record<string, unknown> = {};
  for (const topology of options.topologies) {
    medians[topology] = printComparison(variant.title, variant.figures(options), done.results, topology, options);
  }
  return finish(options, done.results, done.failures, { medians });
}
