/*
 * One step of load on a ready class: every master sends ClickAya at `rate` per second, the rooms
 * staggered evenly over each period, for a warm-up and then a measured window; the client processes
 * report what arrived (after a bounded drain) and this process reads the CPU of every process over
 * the measured window from /proc.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { cpuBetween, cpuSnapshot } from '../lib/cpu.js';
import { Histogram } from '../lib/histogram.js';
import type { Classroom } from './classroom.js';
import type { Options } from './options.js';
import { epochNow, type ProblemCounts } from './wire.js';

/** The client processes get this long to receive the step before its first send. */
const START_LEAD_MS = 300;
const CHECK_EVERY_MS = 250;
/** Beyond the step's own length and its drain, for the reports to arrive. */
const REPORT_MARGIN_MS = 15_000;

export interface StepSpec {
  rate: number;
  warmupSeconds: number;
  measureSeconds: number;
  /** Split the measured window into intervals this long (soak: 60); default: one interval. */
  intervalSeconds?: number;
}

export interface IntervalFigures {
  /** Start of the interval, seconds into the measured window. */
  startSeconds: number;
  expected: number;
  received: number;
  lost: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
}

export interface StepFigures {
  rate: number;
  offeredPerSec: number;
  deliveredPerSec: number;
  latencyP50: number;
  latencyP99: number;
  latencyMax: number;
  /** Wigglypuff: master send -> its Ack (ms); NaN for Socket.IO. */
  ackP50: number;
  ackP99: number;
  /** Deliveries owed for the measured window's sends, received, lost (after the drain). */
  expected: number;
  received: number;
  lost: number;
  /** All phases of the step, warm-up included. */
  expectedAll: number;
  receivedAll: number;
  acksExpected: number;
  acks: number;
  /** % of one core over the window: each server process (node-0, node-1, redis) and each client process. */
  cpu: Record<string, number>;
  serverCpu: number;
  cpuMicrosPerMessage: number;
  clientCpu: number;
  /** This (orchestrating) process. */
  benchCpu: number;
  machineBusy: number;
  machineSteal: number;
  otherLoad: number;
  sendLagP99: number;
  sendLagMax: number;
  drainMs: number;
  intervals: IntervalFigures[];
  problems: ProblemCounts;
  problemLines: string[];
}

/** Sleeps until performance.now() reaches `until`, calling `check` (which may throw) every 250 ms. */
async function sleepUntil(until: number, check: () => void): Promise<void> {
  for (;;) {
    check();
    const left = until - performance.now();
    if (left <= 0) return;
    await delay(Math.min(left, CHECK_EVERY_MS));
  }
}

export async function runLoadStep(classroom: Classroom, spec: StepSpec, options: Options, onTick?: () => void): Promise<StepFigures> {
  const { target, pool } = classroom;
  const { rate } = spec;
  const periodMs = 1000 / rate;
  const warmupSends = Math.round(spec.warmupSeconds * rate);
  const measuredSends = Math.max(1, Math.round(spec.measureSeconds * rate));
  const intervalSends = spec.intervalSeconds ? Math.max(1, Math.round(spec.intervalSeconds * rate)) : measuredSends;
  const t0Epoch = epochNow() + START_LEAD_MS;
  const t0 = t0Epoch - performance.timeOrigin;
  const windowStart = t0 + warmupSends * periodMs;
  const windowEnd = t0 + (warmupSends + measuredSends) * periodMs;
  const drainTimeoutMs = options.drainTimeout * 1000;

  let failure: unknown;
  const reported = pool.step(
    { type: 'step', t0: t0Epoch, rate, roomsTotal: options.rooms, warmupSends, measuredSends, intervalSends, drainTimeoutMs },
    windowEnd - performance.now() + drainTimeoutMs + REPORT_MARGIN_MS,
  );
  reported.catch((error: unknown) => {
    failure = error;
  });
  const check = (): void => {
    if (failure) throw failure;
    target.assertAlive('during the load');
    pool.assertAlive('during the load');
    onTick?.();
  };
  const pids = new Map([...target.pids, ...pool.pids()]);
  await sleepUntil(windowStart, check);
  const before = cpuSnapshot(pids);
  await sleepUntil(windowEnd, check);
  const after = cpuSnapshot(pids);
  const report = await reported;
  target.assertAlive('during the drain');

  const window = cpuBetween(before, after);
  const wall = window.seconds;
  const cpu: Record<string, number> = {};
  let serverSeconds = 0;
  let clientSeconds = 0;
  for (const [name, used] of window.used) {
    cpu[name] = (used / wall) * 100;
    if (target.pids.has(name)) serverSeconds += used;
    else clientSeconds += used;
  }
  const windowSeconds = (windowEnd - windowStart) / 1000;
  let expected = 0;
  let received = 0;
  const latency = new Histogram();
  for (const interval of report.intervals) latency.add(interval.latency.data());
  const intervals = report.intervals.map((interval, i) => {
    expected += interval.expected;
    received += interval.received;
    return {
      startSeconds: (i * intervalSends) / rate,
      expected: interval.expected,
      received: interval.received,
      lost: interval.expected - interval.received,
      latencyP50: interval.latency.percentile(0.5),
      latencyP99: interval.latency.percentile(0.99),
      latencyMax: interval.latency.max,
    };
  });
  return {
    rate,
    offeredPerSec: options.rooms * options.students * rate,
    deliveredPerSec: report.receivedInWindow / windowSeconds,
    latencyP50: latency.percentile(0.5),
    latencyP99: latency.percentile(0.99),
    latencyMax: latency.max,
    ackP50: report.ack.percentile(0.5),
    ackP99: report.ack.percentile(0.99),
    expected,
    received,
    lost: expected - received,
    expectedAll: report.expectedAll,
    receivedAll: report.receivedAll,
    acksExpected: report.acksExpected,
    acks: report.acks,
    cpu,
    serverCpu: (serverSeconds / wall) * 100,
    cpuMicrosPerMessage: report.receivedInWindow > 0 ? (serverSeconds * 1e6) / report.receivedInWindow : Number.NaN,
    clientCpu: (clientSeconds / wall) * 100,
    benchCpu: (window.self / wall) * 100,
    machineBusy: (window.machineBusy / wall) * 100,
    machineSteal: (window.machineSteal / wall) * 100,
    // Tick-grained counters of different sources: a small negative difference means none; clamp at 0.
    otherLoad: Math.max(0, ((window.machineBusy - serverSeconds - clientSeconds - window.self) / wall) * 100),
    sendLagP99: report.sendLag.percentile(0.99),
    sendLagMax: report.sendLag.max,
    drainMs: report.drainMs,
    intervals,
    problems: report.problems,
    problemLines: report.problemLines,
  };
}
