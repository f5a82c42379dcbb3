/*
 * The cluster fan-out benchmark's report: which problems a run had, the order the servers take
 * turns in, and per topology the median of each figure per server beside the ratio
 * Wigglypuff / Socket.IO of this one invocation.
 */
import { type Figure, medians, printMarkdownTable } from '../lib/report.js';
import { f1, f2 } from '../lib/stats.js';
import type { JoinFigures } from './classroom.js';
import type { StepFigures } from './load-step.js';
import type { Options, Topology } from './options.js';
import { SERVER_TITLE, TOPOLOGY_TITLE } from './targets.js';
import { describeProblems, type ProblemCounts, type ServerKind } from './wire.js';

/** A figure of the comparison; `ratio: false` for counts, where a ratio says nothing. */
export interface ComparedFigure<R> extends Figure<R> {
  ratio?: boolean;
}

/** What went wrong in a load step (loss, counts that must be zero, nothing measured at all). */
export function stepIrregularities(step: StepFigures): string[] {
  const found: string[] = [];
  if (step.received === 0) found.push(`measured nothing: 0 of ${step.expected} deliveries received`);
  else if (step.lost !== 0) found.push(`LOST ${step.lost} of ${step.expected} measured ClickAya deliveries`);
  if (step.receivedAll !== step.expectedAll) found.push(`all phases: received ${step.receivedAll} of ${step.expectedAll}`);
  if (step.acks !== step.acksExpected) found.push(`Acks: ${step.acks} of ${step.acksExpected}`);
  found.push(...describeProblems(step.problems));
  return found;
}

export function joinIrregularities(joins: JoinFigures, expected: number): string[] {
  const found = describeProblems(joins.problems).map((text) => `joins: ${text}`);
  if (joins.joins !== expected) found.push(`joins: ${joins.joins} of ${expected} made`);
  return found;
}

export function closeIrregularities(problems: ProblemCounts): string[] {
  return describeProblems(problems).map((text) => `before the clients closed: ${text}`);
}

/** Server warn/error log lines and stderr, client processes' stderr. */
export function processIrregularities(serverProblems: number, clientLines: string[]): string[] {
  const found: string[] = [];
  if (serverProblems) found.push(`${serverProblems} warn/error server log lines (or stderr)`);
  if (clientLines.length) found.push(`${clientLines.length} stderr lines of the client processes`);
  return found;
}

/** `node-0 48.1%, redis 7.2%` for the names that are there. */
export function cpuList(cpu: Record<string, number>, names: (name: string) => boolean): string {
  return Object.entries(cpu)
    .filter(([name]) => names(name))
    .map(([name, value]) => `${name} ${f1(value)}%`)
    .join(', ');
}

/** The per-server medians of one topology and the ratio Wigglypuff / Socket.IO, as a markdown table. */
export function printComparison<R extends { topology: Topology; server: ServerKind }>(
  title: string,
  figures: ComparedFigure<R>[],
  results: R[],
  topology: Topology,
  options: Options,
): Record<string, Record<string, number>> {
  const servers = options.servers;
  const perServer: Record<string, Record<string, number>> = {};
  for (const server of servers) {
    perServer[server] = medians(
      figures,
      results.filter((r) => r.topology === topology && r.server === server),
    );
  }
  const counts = servers.map((server) => results.filter((r) => r.topology === topology && r.server === server).length);
  const both = servers.includes('wigglypuff') && servers.includes('socketio');
  console.log('');
  console.log(
    `${title}, ${TOPOLOGY_TITLE[topology]} (median of ${servers.map((s, i) => `${counts[i]} ${SERVER_TITLE[s]}`).join(', ')} runs):`,
  );
  console.log('');
  const rows: string[][] = [];
  for (const figure of figures) {
    const values = servers.map((server) => perServer[server]![figure.key]!);
    if (values.every((v) => !Number.isFinite(v))) continue;
    const row = [figure.label, ...values.map((v) => (Number.isFinite(v) ? figure.format(v) : '–'))];
    if (both) {
      const w = perServer.wigglypuff![figure.key]!;
      const s = perServer.socketio![figure.key]!;
      row.push(figure.ratio !== false && Number.isFinite(w) && Number.isFinite(s) && s > 0 ? `${f2(w / s)}x` : '');
    }
    rows.push(row);
  }
  printMarkdownTable(
    ['figure', ...servers.map((s) => SERVER_TITLE[s]), ...(both ? ['Wigglypuff / Socket.IO'] : [])],
    ['l', ...servers.map(() => 'r' as const), ...(both ? ['r' as const] : [])],
    rows,
  );
  return perServer;
}
