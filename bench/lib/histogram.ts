/*
 * A latency histogram that child processes can send over IPC instead of every sample: logarithmic
 * buckets 1 % wide from 1 µs to beyond 1000 s, so a percentile read from it is within 1 % of the
 * exact one; count, sum and the exact maximum are kept beside the buckets. Histograms add up.
 */

const MIN_MS = 0.001;
const GROWTH = 1.01;
const LOG_GROWTH = Math.log(GROWTH);
/** Bucket 0 holds values up to MIN_MS; bucket b > 0 holds (MIN_MS·GROWTH^(b-1), MIN_MS·GROWTH^b]. */
const BUCKETS = 2200;

/** The histogram's data as sent over IPC (serialization: 'advanced' keeps the typed array). */
export interface HistogramData {
  counts: Uint32Array;
  count: number;
  sumMs: number;
  maxMs: number;
}

export class Histogram {
  readonly counts = new Uint32Array(BUCKETS);
  count = 0;
  sumMs = 0;
  maxMs = Number.NaN;

  record(ms: number): void {
    const bucket = ms <= MIN_MS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(ms / MIN_MS) / LOG_GROWTH));
    this.counts[bucket]!++;
    this.count++;
    this.sumMs += ms;
    if (!(ms <= this.maxMs)) this.maxMs = ms;
  }

  add(other: HistogramData): void {
    for (let b = 0; b < BUCKETS; b++) this.counts[b]! += other.counts[b]!;
    this.count += other.count;
    this.sumMs += other.sumMs;
    if (other.count > 0 && !(other.maxMs <= this.maxMs)) this.maxMs = other.maxMs;
  }

  /** The nearest-rank percentile (p in 0..1): the upper edge of its bucket, at most the maximum; NaN when empty. */
  percentile(p: number): number {
    if (this.count === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let b = 0; b < BUCKETS; b++) {
      seen += this.counts[b]!;
      if (seen >= rank) return Math.min(MIN_MS * GROWTH ** b, this.maxMs);
    }
    return this.maxMs;
  }

  get max(): number {
    return this.count ? this.maxMs : Number.NaN;
  }

  data(): HistogramData {
    return { counts: this.counts, count: this.count, sumMs: this.sumMs, maxMs: this.maxMs };
  }
}
