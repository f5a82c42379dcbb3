/*
 * How every mode runs its cases: per topology, runs 1..N, the servers taking turns (odd runs in the
 * given order, even runs reversed: W, S, S, W, ...), each case on fresh processes. A case that
 * breaks is printed as FAILED and left out of the medians; at the end a LOSS / PROBLEM banner lists
 * what went wrong, and the exit code says whether anything did.
 */
import { writeFileSync } from 'node:fs';
import { isExiting } from '../lib/cleanup.js';
import { failureLine, printBanner } from '../lib/report.js';
import type { Options, Topology } from './options.js';
import type { ServerKind } from './wire.js';

export interface Case {
  topology: Topology;
  server: ServerKind;
  run: number;
}

export interface Failure extends Case {
  error: string;
}

/** What every mode's result has, for the banner. */
export interface CaseResult extends Case {
  irregularities: string[];
  /** Deliveries lost, for the banner's headline (0 where the mode has none). */
  lost: number;
}

export function caseLabel(c: Case, options: Options): string {
  return `${c.topology} ${c.server.padEnd(10)} run ${c.run}/${options.runs}`;
}

export function serverOrder(servers: ServerKind[], run: number): ServerKind[] {
  return run % 2 === 1 ? servers : [...servers].reverse();
}

/** Runs every case in turn; undefined when the benchmark was interrupted. */
export async function takeTurns<R>(
  options: Options,
  measure: (c: Case) => Promise<R>,
  print: (result: R) => void,
): Promise<{ results: R[]; failures: Failure[] } | undefined> {
  const results: R[] = [];
  const failures: Failure[] = [];
  for (const topology of options.topologies) {
    for (let run = 1; run <= options.runs; run++) {
      for (const server of serverOrder(options.servers, run)) {
        const c: Case = { topology, server, run };
        let result: R;
        try {
          result = await measure(c);
        } catch (error) {
          if (isExiting()) return undefined; // the signal handler is stopping everything
          const text = error instanceof Error ? error.message : String(error);
          failures.push({ ...c, error: text });
          console.log(failureLine(caseLabel(c, options), text));
          continue;
        }
        results.push(result);
        print(result);
      }
    }
  }
  return { results, failures };
}

/** Writes the JSON file (if asked), prints the banner if anything went wrong; the exit code. */
export function finish(options: Options, results: CaseResult[], failures: Failure[], json: Record<string, unknown>): number {
  if (options.json) {
    writeFileSync(options.json, `${JSON.stringify({ options, results, failures, ...json }, null, 2)}\n`);
    console.log(`\nwrote ${options.json}`);
  }
  const bad = results.filter((r) => r.irregularities.length > 0);
  if (!bad.length && !failures.length) return 0;
  const lost = results.reduce((sum, r) => sum + r.lost, 0);
  printBanner(
    `${lost > 0 ? `LOSS: ${lost} ClickAya deliveries lost` : 'PROBLEM'} in ${bad.length + failures.length} of ${results.length + failures.length} runs:`,
    [
      ...bad.map((r) => `${r.topology} ${r.server} run ${r.run}: ${r.irregularities.join('; ')}`),
      ...failures.map((f) => `${f.topology} ${f.server} run ${f.run} FAILED: ${f.error.split('\n')[0]}`),
    ],
  );
  return 1;
}
