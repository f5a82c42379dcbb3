/*
 * Joins mode: per topology, runs of each server alternating W, S, S, W on fresh processes, each
 * making R x (1 + S) joins (default 1000), --concurrency (default 50) under way at once: for
 * Wigglypuff the rooms are created over HTTP first, then every client's WebSocket join until its
 * RoomState; for Socket.IO the connect until its RoomState event. No load follows.
 */
import { printRunProblems } from '../../lib/report.js';
import { f0, f1, f2 } from '../../lib/stats.js';
import { type JoinFigures, openClassroom } from '../classroom.js';
import type { Options, Topology } from '../options.js';
import { type ComparedFigure, closeIrregularities, joinIrregularities, printComparison, processIrregularities } from '../report.js';
import { type CaseResult, caseLabel, finish, takeTurns } from '../turns.js';
import type { ServerKind } from '../wire.js';

interface JoinRun extends CaseResult {
  joins: JoinFigures;
  problemLines: string[];
}

const FIGURES: ComparedFigure<JoinRun>[] = [
  { key: 'joins', label: 'joins made', format: f0, get: (r) => r.joins.joins, ratio: false },
  { key: 'totalMs', label: 'all joins, first to last RoomState (ms)', format: f0, get: (r) => r.joins.totalMs },
  { key: 'p50', label: 'per join p50 (ms)', format: f2, get: (r) => r.joins.p50 },
  { key: 'p99', label: 'per join p99 (ms)', format: f2, get: (r) => r.joins.p99 },
  { key: 'max', label: 'per join max (ms)', format: f2, get: (r) => r.joins.max },
  { key: 'createMs', label: 'creating the rooms first (ms, Wigglypuff only)', format: f0, get: (r) => r.joins.createMs, ratio: false },
  { key: 'settleMs', label: 'last RoomState to every NewUser seen (ms)', format: f0, get: (r) => r.joins.settleMs },
  { key: 'serverCpuMs', label: 'server CPU, creation to settled (ms)', format: f0, get: (r) => r.joins.serverCpuMs },
  { key: 'serverCpuPerJoin', label: 'server CPU per join (µs)', format: f1, get: (r) => r.joins.serverCpuPerJoinMicros },
];

async function measureRun(server: ServerKind, topology: Topology, run: number, options: Options): Promise<JoinRun> {
  const classroom = await openClassroom(server, topology, options);
  try {
    const closed = await classroom.pool.close();
    classroom.target.assertAlive('after the joins');
    const clientLines = classroom.pool.problemLines();
    return {
      topology,
      server,
      run,
      joins: classroom.joins,
      lost: 0,
      irregularities: [
        ...joinIrregularities(classroom.joins, options.rooms * (options.students + 1)),
        ...closeIrregularities(closed.problems),
        ...processIrregularities(classroom.target.problemCount(), clientLines),
      ],
      problemLines: [...classroom.joins.problemLines, ...closed.problemLines, ...classroom.target.problemLines(), ...clientLines],
    };
  } finally {
    await classroom.teardown();
  }
}

function printJoinRun(result: JoinRun, options: Options): void {
  const j = result.joins;
  console.log(
    `${caseLabel(result, options)}: ${j.joins} joins in ${f0(j.totalMs)} ms (first to last RoomState) | ` +
      `per join p50 ${f2(j.p50)} ms, p99 ${f2(j.p99)} ms, max ${f2(j.max)} ms | ` +
      `${result.server === 'wigglypuff' ? `rooms created first in ${f0(j.createMs)} ms | ` : ''}settled ${f0(j.settleMs)} ms later | ` +
      `server CPU ${f0(j.serverCpuMs)} ms (${f1(j.serverCpuPerJoinMicros)} µs per join)`,
  );
  printRunProblems(`${result.topology} ${result.server} run ${result.run}`, result.irregularities, result.problemLines);
}

export async function runJoins(options: Options): Promise<number> {
  const done = await takeTurns(
    options,
    (c) => measureRun(c.server, c.topology, c.run, options),
    (result) => printJoinRun(result, options),
  );
  if (!done) return 130;
  const medians: Record<string, unknown> = {};
  for (const topology of options.topologies) {
    medians[topology] = printComparison(`${options.concurrency} joins at a time`, FIGURES, done.results, topology, options);
  }
  return finish(options, done.results, done.failures, { medians });
}
