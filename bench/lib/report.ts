/* Reporting: the header's code line, medians, markdown tables and the PROBLEM / LOSS banner. */
import { execFileSync } from 'node:child_process';
import { ROOT } from './processes.js';
import { median } from './stats.js';

/** One figure of a run: its key in the medians, its label and its format. */
export interface Figure<R> {
  key: string;
  label: string;
  format: (v: number) => string;
  get: (r: R) => number;
}

/** The median of every figure over `runs`, by key. */
export function medians<R>(figures: Figure<R>[], runs: R[]): Record<string, number> {
  const values: Record<string, number> = {};
  for (const figure of figures) values[figure.key] = median(runs.map(figure.get));
  return values;
}

/** `  label   value` for every finite median, the labels padded to `width`. */
export function printMedians<R>(figures: Figure<R>[], values: Record<string, number>, width: number): void {
  for (const figure of figures) {
    const value = values[figure.key]!;
    if (!Number.isFinite(value)) continue;
    console.log(`  ${figure.label.padEnd(width)} ${figure.format(value)}`);
  }
}

/** Prints a markdown table: a header row, the alignment row ('l' or 'r' per column), the rows. */
export function printMarkdownTable(header: string[], align: ('l' | 'r')[], rows: string[][]): void {
  console.log(`| ${header.join(' | ')} |`);
  console.log(`|${align.map((a) => (a === 'r' ? '---:' : '---')).join('|')}|`);
  for (const row of rows) console.log(`| ${row.join(' | ')} |`);
}

/** The commit the server was built from, and whether src/ differed from it. */
export function describeCommit(): string {
  try {
    const git = (...args: string[]): string =>
      execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const commit = git('log', '-1', '--format=%h %s');
    const dirty = git('status', '--porcelain', '--', 'src') !== '';
    return `${commit}${dirty ? ' (+ uncommitted changes in src/)' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

const BANNER = '!'.repeat(72);

/** The closing banner: `!!! headline`, then `!!!   line` for every line. */
export function printBanner(headline: string, lines: string[]): void {
  console.log('');
  console.log(BANNER);
  console.log(`!!! ${headline}`);
  for (const line of lines) console.log(`!!!   ${line}`);
  console.log(BANNER);
}

/** A run's problem lines: `  !!! PROBLEM in <what>: ...` and its first 10 problem lines. */
export function printRunProblems(what: string, found: string[], problems: string[]): void {
  if (!found.length) return;
  console.log(`  !!! PROBLEM in ${what}: ${found.join('; ')}`);
  for (const line of problems.slice(0, 10)) console.log(`  !!!   ${line}`);
}

/** The failure line of a run that broke, its message's further lines indented. */
export function failureLine(prefix: string, text: string): string {
  return `${prefix}: !!! FAILED: ${text.replace(/\n/g, '\n  !!!   ')}`;
}
