/**
 * Tone detection for audio tests: the Goertzel algorithm evaluates one frequency of a block of
 * samples (one DFT bin, at any frequency, not only multiples of sampleRate / N) in O(N).
 *
 * Sample scale: an `Int16Array` is read as 16-bit PCM (full scale 32768), a `Float32Array` as
 * floating-point PCM (full scale 1.0).
 */

export type Samples = Int16Array | Float32Array;

/** Candidate frequencies should be at least this far apart for 10 ms blocks (their DFT resolution is 100 Hz). */
export const MIN_TONE_SPACING_HZ = 100;

/** A tone must carry at least this share of the block's energy to count as present (see dominantTones). */
export const DEFAULT_TONE_THRESHOLD = 0.05;

/**
 * A tone must also reach this normalised power (see goertzelPower) to count as present: 1e-5 is a
 * sine of amplitude 0.0032 of full scale (-50 dBFS), far below any tone a test sends, far above
 * what Opus makes of digital silence.
 */
export const DEFAULT_MIN_TONE_POWER = 1e-5;

/** Length of the segments dominantTones cuts a long block into (see there). */
export const DEFAULT_SEGMENT_MS = 20;

function scaleOf(samples: Samples): number {
  return samples instanceof Int16Array ? 1 / 32768 : 1;
}

/**
 * Normalised power of `frequency` in `samples[start, end)`.
 *
 * Normalisation: `(2 |X(f)| / N)^2`, where `X(f)` is the block's DFT at `f` (rectangular window)
 * and N the block length. A sine of amplitude A (as a fraction of full scale) at `frequency` gives
 * A^2: a full-scale sine gives ~1, a sine at 0.3 of full scale ~0.09. (Exactly so when the block
 * holds a whole number of periods; otherwise within a few percent, from the sine's own negative
 * frequency image.) A tone at another frequency leaks into it by the rectangular window's sinc:
 * at 1.1 DFT bins away (110 Hz on a 10 ms block) about 1% of its power.
 */
export function goertzelPower(samples: Samples, sampleRate: number, frequency: number, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  const scale = scaleOf(samples);
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    const s0 = samples[i]! * scale + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  // |X(f)|^2 from the last two states; the phase factor does not change the magnitude.
  const magnitude2 = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return (4 * Math.max(0, magnitude2)) / (n * n);
}

/** Mean square of `samples[start, end)`, in the same scale (a full-scale sine: 0.5). */
export function meanSquare(samples: Samples, start = 0, end = samples.length): number {
  const n = end - start;
  if (n <= 0) return 0;
  const scale = scaleOf(samples);
  let sum = 0;
  for (let i = start; i < end; i++) {
    const x = samples[i]! * scale;
    sum += x * x;
  }
  return sum / n;
}

/**
 * The candidates' powers and the energy of one block, averaged over segments. Analyses of several
 * blocks (several receive slots, several chunks in time) add up with `addAnalysis`.
 */
export interface ToneAnalysis {
  /** Normalised power (goertzelPower) of each candidate, in candidate order, times `samples`. */
  weightedPowers: Float64Array;
  /** Mean square times `samples`. */
  weightedEnergy: number;
  /** Number of samples analysed. */
  samples: number;
}

export function emptyAnalysis(candidates: number): ToneAnalysis {
  return { weightedPowers: new Float64Array(candidates), weightedEnergy: 0, samples: 0 };
}

export function addAnalysis(into: ToneAnalysis, other: ToneAnalysis): ToneAnalysis {
  for (let i = 0; i < into.weightedPowers.length; i++) into.weightedPowers[i]! += other.weightedPowers[i] ?? 0;
  into.weightedEnergy += other.weightedEnergy;
  into.samples += other.samples;
  return into;
}

/**
 * Analyses a block, cut into segments of `segmentMs` (a block shorter than 1.5 segments is one
 * segment; a trailing piece shorter than half a segment is left out). Powers are averaged over the
 * segments rather than measured over the whole block at once, so that a phase jump inside the block
 * (a lost packet, concealment, the jitter buffer stretching or shortening the audio) cannot cancel
 * a tone out, and so that each candidate keeps the same bandwidth whatever the block length.
 */
export function analyseTones(
  samples: Samples,
  sampleRate: number,
  candidates: readonly number[],
  segmentMs = DEFAULT_SEGMENT_MS,
): ToneAnalysis {
  const analysis = emptyAnalysis(candidates.length);
  const n = samples.length;
  if (n === 0) return analysis;
  const segment = Math.max(1, Math.round((sampleRate * segmentMs) / 1000));
  const bounds: [number, number][] = [];
  if (n < segment * 1.5) {
    bounds.push([0, n]);
  } else {
    for (let start = 0; start + segment / 2 <= n; start += segment) bounds.push([start, Math.min(n, start + segment)]);
  }
  for (const [start, end] of bounds) {
    const length = end - start;
    for (let c = 0; c < candidates.length; c++) {
      analysis.weightedPowers[c]! += goertzelPower(samples, sampleRate, candidates[c]!, start, end) * length;
    }
    analysis.weightedEnergy += meanSquare(samples, start, end) * length;
    analysis.samples += length;
  }
  return analysis;
}

export interface ToneDecision {
  threshold?: number;
  minPower?: number;
}

/**
 * Each candidate's share of an analysis' energy: its power over twice the mean square (a sine's
 * power is A^2 and its mean square A^2 / 2). One pure tone: ~1; k tones of equal amplitude: ~1/k
 * each; white noise: ~2 / segment length (0.002 for 20 ms at 48 kHz). 0 when the block is empty.
 */
export function toneShares(analysis: ToneAnalysis): number[] {
  const shares: number[] = [];
  for (let c = 0; c < analysis.weightedPowers.length; c++) {
    const power = analysis.weightedPowers[c]!;
    shares.push(analysis.weightedEnergy > 0 ? power / (2 * analysis.weightedEnergy) : 0);
  }
  return shares;
}

/** The candidates an analysis says are present (see dominantTones). */
export function presentTones(analysis: ToneAnalysis, candidates: readonly number[], decision: ToneDecision = {}): number[] {
  const threshold = decision.threshold ?? DEFAULT_TONE_THRESHOLD;
  const minPower = decision.minPower ?? DEFAULT_MIN_TONE_POWER;
  if (analysis.samples === 0) return [];
  const shares = toneShares(analysis);
  const present: number[] = [];
  for (let c = 0; c < candidates.length; c++) {
    const power = analysis.weightedPowers[c]! / analysis.samples;
    if (shares[c]! >= threshold && power >= minPower) present.push(candidates[c]!);
  }
  return present;
}

/**
 * The candidate frequencies present in a block, in candidate order.
 *
 * A candidate is present when it carries at least `threshold` of the block's energy (its normalised
 * power over twice the block's mean square, see toneShares) and its normalised power is at least
 * `options.minPower` (default 1e-5, a sine at -50 dBFS), so that silence and near-silence hear
 * nothing. Being relative, it does not depend on the level, and Opus's coding noise (well under 1%
 * of the energy of a coded sine) or the leakage between candidates 110 Hz apart (about 1%) stays
 * far below the default threshold of 0.05; one tone among three of equal level has 0.33.
 * A tone much quieter than the others (under about a quarter of their amplitude) is not reported.
 *
 * Long blocks are analysed in segments of `options.segmentMs` (default 20 ms), see analyseTones.
 */
export function dominantTones(
  samples: Samples,
  sampleRate: number,
  candidates: readonly number[],
  threshold = DEFAULT_TONE_THRESHOLD,
  options: { minPower?: number; segmentMs?: number } = {},
): number[] {
  const analysis = analyseTones(samples, sampleRate, candidates, options.segmentMs);
  const decision: ToneDecision = { threshold };
  if (options.minPower !== undefined) decision.minPower = options.minPower;
  return presentTones(analysis, candidates, decision);
}
