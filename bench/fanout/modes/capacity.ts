/*
 * Capacity mode: per topology and server (taking turns W, S, S, W), one class on fresh processes
 * whose per-master rate starts at --rate and grows by --step-factor per step, each step with its own
 * warm-up and measured window, until a step fails the pass rule:
 *
 *   at least 99 % of the window's deliveries received (after the bounded drain), p99 <= 100 ms,
 *   and no client dropped or closed by the server.
 *
 * When the first step already fails, the rate falls by the same factor per step until one passes.
 * At most --max-steps steps either way. Capacity = the delivered/s of the highest passing step. On a small machine the client processes
 * share the cores with the servers, so each step also shows the clients' CPU and the machine's.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { MACHINE_PERCENT, OTHER_LOAD_WARN } from '../../lib/cpu.js';
import { printRunProblems } from '../../lib/report.js';
import { f0, f1, f2 } from '../../lib/stats.js';
import { openClassroom } from '../classroom.js';
import { runLoadStep, type StepFigures } from '../load-step.js';
import type { Options } from '../options.js';
import { type ComparedFigure, printComparison, processIrregularities } from '../report.js';
import { type Case, type CaseResult, caseLabel, finish, takeTurns } from '../turns.js';
import { describeProblems, type ProblemCounts } from '../wire.js';

const PASS_RECEIVED = 0.99;
const PASS_P99_MS = 100;
/** Between steps, so that one step's backlog and garbage do not start the next. */
const PAUSE_BETWEEN_STEPS_MS = 1_000;
/** Busy above this share of the machine at the failing step: the box, not only the server, was the limit. */
const SATURATED = 0.9;

/** Counts that are wrong at any rate: overload may delay or drop, but never reorder, repeat or invent. */
const CORRECTNESS: (keyof ProblemCounts)[] = [
  'duplicates',
  'outOfOrder',
  'stale',
  'unknownAya',
  'seqGaps',
  'seqRepeats',
  'errorFrames',
  'unexpectedFrames',
];

interface CapacityStep {
  step: number;
  figures: StepFigures;
  receivedShare: number;
  passed: boolean;
  /** Why it failed the pass rule. */
  failedBecause: string[];
  /** Server warn/error log lines during the step. */
  serverLogLines: number;
}

interface CapacityRun extends CaseResult {
  steps: CapacityStep[];
  /** The highest passing step (undefined: none passed). */
  best: CapacityStep | undefined;
  /** Whether a step failed (false: --max-steps reached first). */
  limitFound: boolean;
  problemLines: string[];
}

function judge(figures: StepFigures): { receivedShare: number; failedBecause: string[] } {
  const receivedShare = figures.expected > 0 ? figures.received / figures.expected : 0;
  const failedBecause: string[] = [];
  if (!(receivedShare >= PASS_RECEIVED)) failedBecause.push(`received ${f2(receivedShare * 100)} % < ${PASS_RECEIVED * 100} %`);
  if (!(figures.latencyP99 <= PASS_P99_MS)) failedBecause.push(`p99 ${f2(figures.latencyP99)} ms > ${PASS_P99_MS} ms`);
  const dropped = figures.problems.unexpectedCloses + figures.problems.socketErrors;
  if (dropped) failedBecause.push(`${dropped} clients dropped or closed by the server`);
  return { receivedShare, failedBecause };
}

/**
 * Problems of a step that are the bench's business, not the pass rule's: at a passing step anything
 * lost or wrong; at the failing step only what overload does not excuse.
 */
function stepIrregularities(step: CapacityStep): string[] {
  const found: string[] = [];
  const counts = { ...step.figures.problems };
  if (step.passed) {
    if (step.figures.lost) found.push(`lost ${step.figures.lost} of ${step.figures.expected} at a passing step`);
    if (step.figures.acks !== step.figures.acksExpected) found.push(`Acks ${step.figures.acks} of ${step.figures.acksExpected}`);
    if (step.serverLogLines) found.push(`${step.serverLogLines} warn/error server log lines`);
  } else {
    for (const key of Object.keys(counts) as (keyof ProblemCounts)[]) if (!CORRECTNESS.includes(key)) counts[key] = 0;
  }
  if (step.figures.received === 0) found.push('measured nothing: no delivery received');
  found.push(...describeProblems(counts));
  return found.map((text) => `step ${step.step}: ${text}`);
}

async function measureRun(c: Case, options: Options): Promise<CapacityRun> {
  const classroom = await openClassroom(c.server, c.topology, options);
  try {
    const { target, pool } = classroom;
    const steps: CapacityStep[] = [];
    const problemLines: string[] = [...classroom.joins.problemLines];
    let limitFound = false;
    let logLinesBefore = target.problemCount();
    let rate = options.rate;
    let raising = true;
    for (let i = 0; i < options.maxSteps; i++) {
      if (i > 0) await delay(PAUSE_BETWEEN_STEPS_MS);
      const figures = await runLoadStep(
        classroom,
        { rate, warmupSeconds: options.stepWarmup, measureSeconds: options.stepDuration },
        options,
      );
      const { receivedShare, failedBecause } = judge(figures);
      const step: CapacityStep = {
        step: i + 1,
        figures,
        receivedShare,
        passed: failedBecause.length === 0,
        failedBecause,
        serverLogLines: target.problemCount() - logLinesBefore,
      };
      logLinesBefore = target.problemCount();
      steps.push(step);
      problemLines.push(...figures.problemLines);
      printStep(step);
      if (i === 0) raising = step.passed;
      // Raising: the first failure is the limit. Lowering (the first step failed): the first pass is.
      if (step.passed !== raising) {
        limitFound = true;
        break;
      }
      rate = raising ? rate * options.stepFactor : rate / options.stepFactor;
    }
    const clientLines = pool.problemLines();
    const passing = steps.filter((s) => s.passed);
    const irregularities = [...steps.flatMap(stepIrregularities), ...processIrregularities(0, clientLines)];
    if (passing.length && !limitFound)
      irregularities.push(`no step failed in ${options.maxSteps} steps: the capacity is only a lower bound`);
    if (!passing.length)
      irregularities.push(`no step passed in ${options.maxSteps} steps down from ${options.rate}/s per master: lower --rate`);
    return {
      ...c,
      steps,
      best: passing.reduce<CapacityStep | undefined>(
        (best, step) => (best && best.figures.rate >= step.figures.rate ? best : step),
        undefined,
      ),
      limitFound,
      lost: passing.reduce((sum, s) => sum + s.figures.lost, 0),
      irregularities,
      problemLines: [...problemLines, ...target.problemLines(), ...clientLines],
    };
  } finally {
    await classroom.teardown();
  }
}

function printStep(step: CapacityStep): void {
  const s = step.figures;
  console.log(
    `  step ${String(step.step).padStart(2)}: F=${f2(s.rate)}/s per master (${f0(s.offeredPerSec)}/s offered) | delivered ${f1(s.deliveredPerSec)}/s, ` +
      `received ${f2(step.receivedShare * 100)} % | latency p50 ${f2(s.latencyP50)} ms, p99 ${f2(s.latencyP99)} ms, max ${f2(s.latencyMax)} ms | ` +
      `servers ${f1(s.serverCpu)}% (${f2(s.cpuMicrosPerMessage)} µs/msg), clients ${f1(s.clientCpu)}%, machine ${f1(s.machineBusy)}% of ${MACHINE_PERCENT}% (other load ${f1(s.otherLoad)}%) | ` +
      `send lag p99 ${f2(s.sendLagP99)} ms | ${step.passed ? 'pass' : `FAIL: ${step.failedBecause.join(', ')}`}`,
  );
}

/** The lowest failing step above the best passing one (with none passing: the lowest failing step). */
function failureAbove(run: CapacityRun): CapacityStep | undefined {
  const floor = run.best?.figures.rate ?? 0;
  return run.steps
    .filter((s) => !s.passed && s.figures.rate > floor)
    .reduce<CapacityStep | undefined>((low, s) => (low && low.figures.rate <= s.figures.rate ? low : s), undefined);
}

function printRun(run: CapacityRun, options: Options): void {
  const best = run.best?.figures;
  const failed = failureAbove(run);
  const limit = run.limitFound
    ? ` | the step above (${f0(failed!.figures.offeredPerSec)}/s offered) failed: ${failed!.failedBecause.join(', ')}`
    : ` | no limit found in ${options.maxSteps} steps: raise --max-steps or --step-factor`;
  console.log(
    `${caseLabel(run, options)}: capacity ${best ? `${f1(best.deliveredPerSec)} deliveries/s (F=${f2(best.rate)}/s per master, p99 ${f2(best.latencyP99)} ms)` : 'none'}${limit}`,
  );
  if (failed && failed.figures.machineBusy >= SATURATED * MACHINE_PERCENT) {
    console.log(
      `  note: the machine was ${f1(failed.figures.machineBusy)}% busy of ${MACHINE_PERCENT}% at the failing step (clients ${f1(failed.figures.clientCpu)}%): the limit is the whole box's, the clients included`,
    );
  }
  const noisy = run.steps.filter((s) => s.figures.otherLoad > OTHER_LOAD_WARN);
  if (noisy.length) {
    console.log(
      `  note: other processes used more than ${OTHER_LOAD_WARN}% of a core during steps ${noisy.map((s) => s.step).join(', ')}: this capacity is noisier`,
    );
  }
  printRunProblems(`${run.topology} ${run.server} run ${run.run}`, run.irregularities, run.problemLines);
}

const atBest = (get: (s: StepFigures) => number) => (r: CapacityRun) => (r.best ? get(r.best.figures) : Number.NaN);

const FIGURES: ComparedFigure<CapacityRun>[] = [
  { key: 'capacity', label: 'capacity: delivered/s at the highest passing step', format: f0, get: atBest((s) => s.deliveredPerSec) },
  { key: 'rate', label: 'its ClickAya/s per master', format: f2, get: atBest((s) => s.rate) },
  { key: 'p99', label: 'its latency p99 (ms)', format: f2, get: atBest((s) => s.latencyP99) },
  { key: 'cpuMicrosPerMessage', label: 'its server CPU per delivered message (µs)', format: f2, get: atBest((s) => s.cpuMicrosPerMessage) },
  { key: 'serverCpu', label: 'its CPU all server processes (% of a core)', format: f1, get: atBest((s) => s.serverCpu) },
  { key: 'clientCpu', label: 'its CPU client processes (% of a core)', format: f1, get: atBest((s) => s.clientCpu), ratio: false },
  { key: 'machineBusy', label: `its machine busy (% of ${MACHINE_PERCENT}%)`, format: f1, get: atBest((s) => s.machineBusy), ratio: false },
  {
    key: 'failedOffered',
    label: 'offered/s of the failing step above it',
    format: f0,
    get: (r) => failureAbove(r)?.figures.offeredPerSec ?? Number.NaN,
  },
];

export async function runCapacity(options: Options): Promise<number> {
  const done = await takeTurns(
    options,
    (c) => {
      console.log(`${caseLabel(c, options)}:`);
      return measureRun(c, options);
    },
    (result) => printRun(result, options),
  );
  if (!done) return 130;
  const medians: Record<string, unknown> = {};
  for (const topology of options.topologies) {
    medians[topology] = printComparison(
      `capacity (>= ${PASS_RECEIVED * 100} % received, p99 <= ${PASS_P99_MS} ms, no client dropped)`,
      FIGURES,
      done.results,
      topology,
      options,
    );
  }
  return finish(options, done.results, done.failures, { medians });
}
