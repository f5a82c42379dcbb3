/* A client process's problems since its last report: counts by kind and the first few lines. */
import { noProblems, type ProblemCounts } from './wire.js';

const MAX_LINES = 30;

export class ProblemLog {
  counts: ProblemCounts = noProblems();
  lines: string[] = [];

  note(kind: keyof ProblemCounts, line: string, count = 1): void {
    this.counts[kind] += count;
    if (this.lines.length < MAX_LINES) this.lines.push(line);
  }

  /** The counts and lines so far, and a fresh start for the next report. */
  take(): { problems: ProblemCounts; problemLines: string[] } {
    const taken = { problems: this.counts, problemLines: this.lines };
    this.counts = noProblems();
    this.lines = [];
    return taken;
  }
}
