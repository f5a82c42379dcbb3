/*
 * The IPC messages between the cluster fan-out benchmark (bench/cluster-fanout.ts) and its client
 * processes (bench/fanout/client-worker.ts), serialization 'advanced' (typed arrays pass as they are).
 *
 * A client process owns whole rooms: a room's master and its students, so a delivery's latency is
 * one process's clock (send time and receipt time). It reports counts and histograms, never one
 * message per delivery.
 */
import { performance } from 'node:perf_hooks';
import type { HistogramData } from '../lib/histogram.js';

/** The time base of the messages: this process's performance.now() as epoch ms, alike in every process of the machine. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

export type ServerKind = 'wigglypuff' | 'socketio';

/** Where a client connects: a node's HTTP base (room creation) and WebSocket base. */
export interface Endpoint {
  http: string;
  ws: string;
}

export interface RoomPlan {
  /** Global room index r (0..R-1): the room's place in the send stagger. */
  index: number;
  name: string;
  master: string;
  students: string[];
  masterNode: Endpoint;
  studentNode: Endpoint;
}

export interface SetupRequest {
  type: 'setup';
  server: ServerKind;
  rooms: RoomPlan[];
  /** Joins this process keeps under way at once (its share of --concurrency). */
  concurrency: number;
  joinTimeoutMs: number;
  settleTimeoutMs: number;
}

export interface StepRequest {
  type: 'step';
  /** Epoch ms (performance.timeOrigin + performance.now()) of room 0's first send. */
  t0: number;
  /** ClickAya per second per master. */
  rate: number;
  /** All rooms of the run (the stagger: room r sends its k-th at t0 + (k + r/R) / rate). */
  roomsTotal: number;
  warmupSends: number;
  measuredSends: number;
  /** Measured sends per reporting interval (soak: a minute's worth); the window is split into intervals of this many. */
  intervalSends: number;
  drainTimeoutMs: number;
}

export type ToWorker = SetupRequest | StepRequest | { type: 'close' } | { type: 'stop' };

/** Things that must not happen; any non-zero count is a PROBLEM. */
export interface ProblemCounts {
  duplicates: number;
  outOfOrder: number;
  /** A ClickAya of an earlier step, after that step had been drained and reported. */
  stale: number;
  /** A ClickAya nobody sent (or a master receiving one). */
  unknownAya: number;
  /** Wigglypuff: seq numbers missing, or repeated. */
  seqGaps: number;
  seqRepeats: number;
  errorFrames: number;
  /** Frames neither protocol event the bench expects (e.g. a Socket.IO disconnect packet). */
  unexpectedFrames: number;
  /** Sockets closed or failing while the bench did not close them: a client dropped by the server. */
  unexpectedCloses: number;
  socketErrors: number;
}

export interface SetupReport {
  type: 'ready';
  /** Wigglypuff: creating this process's rooms (ms); 0 for Socket.IO. */
  createMs: number;
  /** Epoch ms of the first and the last RoomState this process received. */
  firstRoomState: number;
  lastRoomState: number;
  /** Per join: WebSocket opened -> RoomState received (ms). */
  joinLatencies: Float64Array;
  /** After the last RoomState, until every master had seen all its students' NewUser (ms). */
  settleMs: number;
  problems: ProblemCounts;
  problemLines: string[];
}

export interface IntervalReport {
  /** Deliveries owed for the interval's sends (sends x students), and those received. */
  expected: number;
  received: number;
  /** Master send -> student receipt, ms, of the interval's sends. */
  latency: HistogramData;
}

export interface StepReport {
  type: 'stepDone';
  intervals: IntervalReport[];
  sent: number;
  /** Receipts (of any send of the step) whose receipt time fell in the measured window. */
  receivedInWindow: number;
  /** All phases of the step (warm-up included), after the drain. */
  expectedAll: number;
  receivedAll: number;
  /** Wigglypuff: the masters' Acks of their ClickAya; Socket.IO has none. */
  acksExpected: number;
  acks: number;
  ack: HistogramData;
  /** How late each send left after its due time (ms). */
  sendLag: HistogramData;
  drainMs: number;
  problems: ProblemCounts;
  problemLines: string[];
}

export type FromWorker =
  | { type: 'hello'; pid: number }
  | SetupReport
  | StepReport
  | { type: 'closed'; problems: ProblemCounts; problemLines: string[] }
  | { type: 'error'; message: string };

export function noProblems(): ProblemCounts {
  return {
    duplicates: 0,
    outOfOrder: 0,
    stale: 0,
    unknownAya: 0,
    seqGaps: 0,
    seqRepeats: 0,
    errorFrames: 0,
    unexpectedFrames: 0,
    unexpectedCloses: 0,
    socketErrors: 0,
  };
}

export function addProblems(into: ProblemCounts, more: ProblemCounts): void {
  for (const key of Object.keys(into) as (keyof ProblemCounts)[]) into[key] += more[key];
}

const PROBLEM_TEXT: Record<keyof ProblemCounts, string> = {
  duplicates: 'duplicate ClickAya',
  outOfOrder: 'out-of-order ClickAya',
  stale: 'ClickAya of an earlier step',
  unknownAya: 'unexpected ClickAya',
  seqGaps: 'seq missing (gaps)',
  seqRepeats: 'seq repeated',
  errorFrames: 'Error frames',
  unexpectedFrames: 'unexpected frames',
  unexpectedCloses: 'sockets closed by the server',
  socketErrors: 'socket errors',
};

/** `3 duplicate ClickAya`, ... for every non-zero count. */
export function describeProblems(counts: ProblemCounts): string[] {
  return (Object.keys(counts) as (keyof ProblemCounts)[])
    .filter((key) => counts[key] > 0)
    .map((key) => `${counts[key]} ${PROBLEM_TEXT[key]}`);
}

/**
 * Wigglypuff accepts an aya only inside the room's sura: each master first moves its room to sura 2
 * (BENCH_SURA, 286 ayat, the longest), so ayas 1..286 are valid. The bench numbers its ClickAyas
 * 1, 2, 3, ... and sends them cyclically.
 */
export const MAX_AYA = 286;
export const BENCH_SURA = 2;

export function ayaOnWire(index: number): number {
  return ((index - 1) % MAX_AYA) + 1;
}

/** The running index of a received ClickAya, from its aya on the wire and the last index seen. */
export function indexOfAya(wire: number, last: number): number {
  let index = last - ((((last - 1) % MAX_AYA) + MAX_AYA) % MAX_AYA) + (wire - 1);
  if (index < last) index += MAX_AYA;
  return index;
}
