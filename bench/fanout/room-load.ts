/*
 * A client process's side of one room under load: its master and students, when each ClickAya of
 * the current step left, and the accounting of what the students received (into the step's tally).
 *
 * ClickAyas are numbered 1, 2, 3, ... over the whole run (steps continue the numbering), so a
 * student's receipts must come in order and a step's stragglers cannot be mistaken for the next
 * step's; on the wire the aya cycles through 1..286.
 */
import { performance } from 'node:perf_hooks';
import { Histogram } from '../lib/histogram.js';
import type { ClientConnection } from './connection.js';
import type { ProblemLog } from './problem-log.js';
import type { IntervalReport, RoomPlan, StepRequest } from './wire.js';

/** What one step of load received, over all of a client process's rooms. */
export class StepTally {
  readonly intervals: { expected: number; received: number; latency: Histogram }[];
  receivedInWindow = 0;
  receivedAll = 0;
  expectedAll = 0;
  acks = 0;
  acksExpected = 0;
  readonly ack = new Histogram();
  readonly sendLag = new Histogram();

  constructor(
    /** The measured window, performance.now() ms of this process. */
    readonly windowStart: number,
    readonly windowEnd: number,
    intervalCount: number,
  ) {
    this.intervals = Array.from({ length: intervalCount }, () => ({ expected: 0, received: 0, latency: new Histogram() }));
  }

  intervalReports(): IntervalReport[] {
    return this.intervals.map((interval) => ({
      expected: interval.expected,
      received: interval.received,
      latency: interval.latency.data(),
    }));
  }
}

export class RoomLoad {
  /** Running number of the last ClickAya sent. */
  sent = 0;
  /** The last ClickAya sent before the current step. */
  private stepBase = 0;
  /** Per send of the current step (slot = number - stepBase - 1): performance.now() at the send, and its interval (-1: warm-up). */
  private sendTimes = new Float64Array(0);
  private intervalOf = new Int32Array(0);
  /** Send times of the ClickAyas still waiting for their Ack (Wigglypuff masters), NaN for warm-up ones. */
  private unacked: number[] = [];
  private unackedHead = 0;
  private tally: StepTally | undefined;
  master!: ClientConnection;
  students: ClientConnection[] = [];

  constructor(
    readonly plan: RoomPlan,
    private readonly problems: ProblemLog,
    private readonly expectsAcks: boolean,
  ) {}

  get index(): number {
    return this.plan.index;
  }

  /** Prepares the step's bookkeeping and adds what this room owes to the tally. */
  startStep(step: StepRequest, tally: StepTally): void {
    const total = step.warmupSends + step.measuredSends;
    this.stepBase = this.sent;
    this.sendTimes = new Float64Array(total).fill(Number.NaN);
    this.intervalOf = new Int32Array(total);
    for (let k = 0; k < total; k++) {
      const interval =
        k < step.warmupSends ? -1 : Math.min(tally.intervals.length - 1, Math.floor((k - step.warmupSends) / step.intervalSends));
      this.intervalOf[k] = interval;
      if (interval >= 0) tally.intervals[interval]!.expected += this.students.length;
    }
    tally.expectedAll += total * this.students.length;
    if (this.expectsAcks) tally.acksExpected += total;
    this.unacked = [];
    this.unackedHead = 0;
    this.tally = tally;
  }

  /** Sends the next ClickAya from the master. */
  send(): void {
    const number = ++this.sent;
    const slot = number - this.stepBase - 1;
    const now = performance.now();
    this.sendTimes[slot] = now;
    if (this.expectsAcks) this.unacked.push(this.intervalOf[slot]! >= 0 ? now : Number.NaN);
    this.master.sendClickAya(number);
  }

  /** A student received ClickAya `number` at `now` (in order and not a repeat: the connection checked). */
  received(number: number, now: number): void {
    const tally = this.tally;
    const slot = number - this.stepBase - 1;
    if (!tally || slot < 0) {
      this.problems.note('stale', `${this.plan.name}: ClickAya ${number} of an earlier step arrived after its drain`);
      return;
    }
    tally.receivedAll++;
    if (now >= tally.windowStart && now < tally.windowEnd) tally.receivedInWindow++;
    const interval = this.intervalOf[slot]!;
    if (interval >= 0) {
      const entry = tally.intervals[interval]!;
      entry.received++;
      entry.latency.record(now - this.sendTimes[slot]!);
    }
  }

  /** The master's Ack of its oldest unacknowledged ClickAya. */
  acked(now: number): boolean {
    if (this.unackedHead >= this.unacked.length || !this.tally) return false;
    const sentAt = this.unacked[this.unackedHead++]!;
    this.tally.acks++;
    if (!Number.isNaN(sentAt)) this.tally.ack.record(now - sentAt);
    return true;
  }
}
