/* The server processes' resident memory over a soak: VmRSS of each, sampled every few seconds. */
import { performance } from 'node:perf_hooks';
import { rssBytes } from '../lib/cpu.js';

export const RSS_SAMPLE_MS = 5_000;

export interface RssSample {
  /** Seconds since the sampler started. */
  at: number;
  phase: string;
  /** MiB per process name (node-0, node-1, redis). */
  mib: Record<string, number>;
}

export class RssSampler {
  readonly samples: RssSample[] = [];
  private readonly start = performance.now();
  private last = Number.NEGATIVE_INFINITY;

  constructor(private readonly pids: Map<string, number>) {}

  /** Takes a sample now. */
  sample(phase: string): RssSample {
    const mib: Record<string, number> = {};
    for (const [name, pid] of this.pids) mib[name] = rssBytes(pid) / 2 ** 20;
    const sample = { at: (performance.now() - this.start) / 1000, phase, mib };
    this.samples.push(sample);
    this.last = performance.now();
    return sample;
  }

  /** Takes a sample if the last one is RSS_SAMPLE_MS old. */
  tick(phase: string): void {
    if (performance.now() - this.last >= RSS_SAMPLE_MS) this.sample(phase);
  }

  /** The largest sample of `name` in any of `phases`; NaN when there is none. */
  peak(name: string, phases: string[]): number {
    const values = this.samples.filter((s) => phases.includes(s.phase)).map((s) => s.mib[name] ?? Number.NaN);
    const finite = values.filter(Number.isFinite);
    return finite.length ? Math.max(...finite) : Number.NaN;
  }
}
