/*
 * The client processes of a run, seen from the benchmark: N processes of bench/fanout/client-worker.ts,
 * room r owned by process r mod N (its master and its students), commands sent to all of them and
 * their reports added up.
 */
import { spawn } from 'node:child_process';
import { ManagedChild } from '../lib/child.js';
import { Histogram } from '../lib/histogram.js';
import { ROOT } from '../lib/processes.js';
import {
  addProblems,
  type FromWorker,
  noProblems,
  type ProblemCounts,
  type RoomPlan,
  type ServerKind,
  type SetupReport,
  type StepReport,
  type StepRequest,
  type ToWorker,
} from './wire.js';

const WORKER_ENTRY = 'bench/fanout/client-worker.ts';
const START_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 10_000;

type Worker = ManagedChild<ToWorker, FromWorker>;

/** The setup reports of all client processes together. */
export type PoolSetup = Omit<SetupReport, 'type'>;

/** The step reports of all client processes together, histograms merged. */
export interface PoolStep {
  intervals: { expected: number; received: number; latency: Histogram }[];
  sent: number;
  receivedInWindow: number;
  expectedAll: number;
  receivedAll: number;
  acksExpected: number;
  acks: number;
  ack: Histogram;
  sendLag: Histogram;
  drainMs: number;
  problems: ProblemCounts;
  problemLines: string[];
}

export class ClientPool {
  private constructor(readonly workers: Worker[]) {}

  static async start(count: number): Promise<ClientPool> {
    const workers = Array.from({ length: count }, (_, i) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER_ENTRY], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      return new ManagedChild<ToWorker, FromWorker>(`client-${i}`, child, (_line, stream) => stream === 'stderr');
    });
    const pool = new ClientPool(workers);
    try {
      await Promise.all(workers.map((worker) => worker.next('hello', START_TIMEOUT_MS, 'start')));
    } catch (error) {
      await pool.stop();
      throw error;
    }
    return pool;
  }

  /** The client processes by name (client-0, ...), for their CPU. */
  pids(): Map<string, number> {
    return new Map(this.workers.map((worker) => [worker.name, worker.pid]));
  }

  assertAlive(when: string): void {
    for (const worker of this.workers) worker.assertAlive(when);
  }

  /** stderr lines of the client processes. */
  problemLines(): string[] {
    return this.workers.flatMap((worker) => worker.log.problems.map((line) => `${worker.name}: ${line}`));
  }

  /** Joins every room's clients: room r by process r mod N, `concurrency` joins at once over all processes. */
  async setup(
    server: ServerKind,
    rooms: RoomPlan[],
    concurrency: number,
    timeouts: { joinMs: number; settleMs: number; totalMs: number },
  ): Promise<PoolSetup> {
    const n = this.workers.length;
    this.workers.forEach((worker, i) => {
      worker.post({
        type: 'setup',
        server,
        rooms: rooms.filter((room) => room.index % n === i),
        concurrency: Math.max(1, Math.floor(concurrency / n) + (i < concurrency % n ? 1 : 0)),
        joinTimeoutMs: timeouts.joinMs,
        settleTimeoutMs: timeouts.settleMs,
      });
    });
    const reports: SetupReport[] = await Promise.all(this.workers.map((worker) => worker.next('ready', timeouts.totalMs, 'the joins')));
    const problems = noProblems();
    for (const report of reports) addProblems(problems, report.problems);
    const first = reports.map((r) => r.firstRoomState).filter(Number.isFinite);
    const last = reports.map((r) => r.lastRoomState).filter(Number.isFinite);
    return {
      createMs: Math.max(0, ...reports.map((r) => r.createMs)),
      firstRoomState: Math.min(...first),
      lastRoomState: Math.max(...last),
      joinLatencies: Float64Array.from(reports.flatMap((r) => [...r.joinLatencies])),
      settleMs: Math.max(0, ...reports.map((r) => r.settleMs)),
      problems,
      problemLines: reports.flatMap((r) => r.problemLines),
    };
  }

  /** Posts the step to every process now; resolves with their reports added up. */
  async step(request: StepRequest, timeoutMs: number): Promise<PoolStep> {
    for (const worker of this.workers) worker.post(request);
    const reports: StepReport[] = await Promise.all(this.workers.map((worker) => worker.next('stepDone', timeoutMs, 'the load step')));
    const merged: PoolStep = {
      intervals: [],
      sent: 0,
      receivedInWindow: 0,
      expectedAll: 0,
      receivedAll: 0,
      acksExpected: 0,
      acks: 0,
      ack: new Histogram(),
      sendLag: new Histogram(),
      drainMs: 0,
      problems: noProblems(),
      problemLines: [],
    };
    for (const report of reports) {
      report.intervals.forEach((interval, i) => {
        merged.intervals[i] ??= { expected: 0, received: 0, latency: new Histogram() };
        const into = merged.intervals[i]!;
        into.expected += interval.expected;
        into.received += interval.received;
        into.latency.add(interval.latency);
      });
      merged.sent += report.sent;
      merged.receivedInWindow += report.receivedInWindow;
      merged.expectedAll += report.expectedAll;
      merged.receivedAll += report.receivedAll;
      merged.acksExpected += report.acksExpected;
      merged.acks += report.acks;
      merged.ack.add(report.ack);
      merged.sendLag.add(report.sendLag);
      merged.drainMs = Math.max(merged.drainMs, report.drainMs);
      addProblems(merged.problems, report.problems);
      merged.problemLines.push(...report.problemLines);
    }
    return merged;
  }

  /** Closes every client (the class is over); resolves with what went wrong since the last report. */
  async close(): Promise<{ problems: ProblemCounts; problemLines: string[] }> {
    for (const worker of this.workers) worker.post({ type: 'close' });
    const reports = await Promise.all(this.workers.map((worker) => worker.next('closed', CLOSE_TIMEOUT_MS, 'the clients closing')));
    const problems = noProblems();
    for (const report of reports) addProblems(problems, report.problems);
    return { problems, problemLines: reports.flatMap((r) => r.problemLines) };
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.workers.map((worker) => worker.stop({ type: 'stop' })));
  }
}
