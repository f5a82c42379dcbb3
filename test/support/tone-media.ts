/**
 * The two ends of a tone test over real WebRTC audio (libwebrtc via @roamhq/wrtc):
 * - ToneSource: a microphone track playing a continuous sine (or silence), in real time.
 * - ToneDetector: RTCAudioSinks on received tracks, keeping the last seconds of audio of each
 *   receive slot and telling which tones are in it.
 * AudioParticipant uses both; they also work on plain RTCPeerConnections (test/unit/audio-loopback.test.ts).
 */
import {
  addAnalysis,
  analyseTones,
  DEFAULT_MIN_TONE_POWER,
  DEFAULT_TONE_THRESHOLD,
  emptyAnalysis,
  presentTones,
  type ToneAnalysis,
  toneShares,
} from './goertzel.js';
import { onSinkData, RTCAudioSink, RTCAudioSource } from './wrtc.js';

/** The tones AudioParticipant and ToneDetector listen for unless told otherwise: 110 Hz apart. */
export const DEFAULT_LISTEN_FOR: readonly number[] = [440, 550, 660, 770, 880, 990, 1100, 1210, 1320];

export const SOURCE_SAMPLE_RATE = 48_000;
/** RTCAudioSource takes exactly 10 ms per onData call. */
export const SOURCE_FRAME_SAMPLES = 480;
const FRAME_MS = 10;

export interface ToneSourceOptions {
  /** Tone to play; null or undefined: silence (zeros are still sent). */
  hz?: number | null;
  /** Amplitude as a fraction of full scale, 0..1 (default 0.3). */
  amplitude?: number;
  /** How often the timer wakes up (default 10 ms); each wake-up sends every frame that is due. */
  tickMs?: number;
  /**
   * After a stall of the event loop longer than this many frames (default 20, 200 ms), the frames
   * missed beyond it are dropped rather than sent in a burst; `framesDropped` counts them.
   */
  maxBacklogFrames?: number;
}

/**
 * A sine (or silence) fed into an RTCAudioSource in real time: 48 kHz mono 16-bit, 10 ms frames.
 * The timer does not count its own ticks (Node's timers drift and stall); on each tick it sends as
 * many frames as the time elapsed since start() calls for, so the stream keeps real time. The phase
 * is continuous across frames and across tone changes.
 */
export class ToneSource {
  readonly source: RTCAudioSource;
  /** The track to send: `pc.addTransceiver(toneSource.track, { direction: 'sendonly' })`. */
  readonly track: MediaStreamTrack;
  private hz: number | null;
  private amplitude: number;
  private phase = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;
  private readonly tickMs: number;
  private readonly maxBacklogFrames: number;
  /** Frames handed to the source since start(). */
  framesSent = 0;
  /** Frames skipped after event-loop stalls (see maxBacklogFrames). */
  framesDropped = 0;
  private stopped = false;

  constructor(options: ToneSourceOptions = {}) {
    this.hz = options.hz ?? null;
    this.amplitude = clampAmplitude(options.amplitude ?? 0.3);
    this.tickMs = options.tickMs ?? FRAME_MS;
    this.maxBacklogFrames = options.maxBacklogFrames ?? 20;
    this.source = new RTCAudioSource();
    this.track = this.source.createTrack();
  }

  get tone(): number | null {
    return this.hz;
  }

  get level(): number {
    return this.amplitude;
  }

  /** Starts sending (the first frame at once). Idempotent. */
  start(): this {
    if (this.timer || this.stopped) return this;
    this.startedAt = performance.now();
    this.framesSent = 0;
    this.tick();
    this.timer = setInterval(() => this.tick(), this.tickMs);
    return this;
  }

  /** null: silence (frames of zeros keep flowing). The phase stays continuous. */
  setTone(hz: number | null): void {
    this.hz = hz;
  }

  /** 0..1 of full scale. */
  setAmplitude(amplitude: number): void {
    this.amplitude = clampAmplitude(amplitude);
  }

  /** Stops the timer and the track. Idempotent; a stopped source cannot start again. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.track.stop();
  }

  private tick(): void {
    if (this.stopped) return;
    const due = Math.floor((performance.now() - this.startedAt) / FRAME_MS) + 1;
    let missing = due - this.framesSent;
    if (missing > this.maxBacklogFrames) {
      const skip = missing - this.maxBacklogFrames;
      this.framesDropped += skip;
      this.framesSent += skip;
      missing = this.maxBacklogFrames;
    }
    for (; missing > 0; missing--) {
      this.source.onData({
        samples: this.frame(),
        sampleRate: SOURCE_SAMPLE_RATE,
        bitsPerSample: 16,
        channelCount: 1,
        numberOfFrames: SOURCE_FRAME_SAMPLES,
      });
      this.framesSent++;
    }
  }

  private frame(): Int16Array {
    const samples = new Int16Array(SOURCE_FRAME_SAMPLES);
    if (this.hz === null || this.amplitude === 0) return samples;
    const step = (2 * Math.PI * this.hz) / SOURCE_SAMPLE_RATE;
    const scale = this.amplitude * 32767;
    let phase = this.phase;
    for (let i = 0; i < SOURCE_FRAME_SAMPLES; i++) {
      samples[i] = Math.round(scale * Math.sin(phase));
      phase += step;
    }
    this.phase = phase % (2 * Math.PI);
    return samples;
  }
}

function clampAmplitude(amplitude: number): number {
  if (!Number.isFinite(amplitude)) throw new RangeError(`amplitude must be a number in 0..1, got ${amplitude}`);
  return Math.min(1, Math.max(0, amplitude));
}

/** 10 ms (usually) of one slot's received audio, mono, with its analysis. */
export interface ReceivedChunk {
  /** performance.now() when the sink delivered it. */
  at: number;
  sampleRate: number;
  /** Mono 16-bit PCM (mixed down when the sink delivered several channels). */
  samples: Int16Array;
  analysis: ToneAnalysis;
}

/** A fixed-capacity ring of chunks, oldest first; chunks older than `historyMs` are also dropped. */
class ChunkRing {
  private readonly chunks: (ReceivedChunk | undefined)[];
  private head = 0;
  private size = 0;

  constructor(
    capacity: number,
    private readonly historyMs: number,
  ) {
    this.chunks = new Array<ReceivedChunk | undefined>(capacity);
  }

  push(chunk: ReceivedChunk): void {
    const capacity = this.chunks.length;
    this.chunks[(this.head + this.size) % capacity] = chunk;
    if (this.size < capacity) this.size++;
    else this.head = (this.head + 1) % capacity;
    while (this.size > 0 && this.chunks[this.head]!.at < chunk.at - this.historyMs) {
      this.chunks[this.head] = undefined;
      this.head = (this.head + 1) % capacity;
      this.size--;
    }
  }

  /** Chunks delivered at or after `since`, oldest first. */
  since(since: number): ReceivedChunk[] {
    const capacity = this.chunks.length;
    const out: ReceivedChunk[] = [];
    for (let i = this.size - 1; i >= 0; i--) {
      const chunk = this.chunks[(this.head + i) % capacity]!;
      if (chunk.at < since) break;
      out.push(chunk);
    }
    return out.reverse();
  }

  last(): ReceivedChunk | undefined {
    return this.size === 0 ? undefined : this.chunks[(this.head + this.size - 1) % this.chunks.length];
  }

  clear(): void {
    this.chunks.fill(undefined);
    this.head = 0;
    this.size = 0;
  }
}

export interface ToneDetectorOptions {
  /** Candidate frequencies (default DEFAULT_LISTEN_FOR); keep them at least 100 Hz apart. */
  listenFor?: readonly number[];
  /** Window of hears() (default 300 ms). */
  windowMs?: number;
  /** How much audio each slot keeps (default 2000 ms). */
  historyMs?: number;
  /** Share of the energy a tone needs (default 0.05, see dominantTones). */
  threshold?: number;
  /** Normalised power a tone needs (default 1e-5, see dominantTones). */
  minPower?: number;
  /**
   * heardAt() leaves out a chunk where a tone's power is below this fraction of its highest in the
   * 3 chunks before (default 0.5: fading by more than 3 dB in 30 ms), i.e. the fade-out libwebrtc
   * plays when packets stop. 0: no such rule.
   */
  decayRatio?: number;
}

interface Slot {
  ring: ChunkRing;
  sink: RTCAudioSink | undefined;
  chunks: number;
  lastHeard: Map<number, number>;
  /** Tones present in the slot's previous chunk. */
  previous: Set<number>;
  /** Normalised power of each candidate in the slot's last 3 chunks, oldest first. */
  recentPowers: Float64Array[];
}

/**
 * Receive side of tone tests: one RTCAudioSink per receive slot (attach()), or audio pushed by hand
 * (push()). Each delivered chunk (10 ms) is mixed down to mono, analysed at once (one Goertzel per
 * candidate) and kept, with its timestamp, for `historyMs`. hears() adds up the analyses of the
 * chunks of the last `windowMs`: powers and energies add, so several slots (or several chunks) are
 * analysed as if their audio were summed, without the phases of the slots cancelling each other.
 */
export class ToneDetector {
  readonly listenFor: readonly number[];
  readonly windowMs: number;
  readonly historyMs: number;
  private readonly threshold: number;
  private readonly minPower: number;
  private readonly decayRatio: number;
  private readonly slots: Slot[] = [];
  private readonly lastHeard = new Map<number, number>();
  private readonly firstHeard = new Map<number, number>();
  /** Sink deliveries seen, by "<sampleRate> Hz/<channels> ch/<frames> frames": how libwebrtc delivered audio. */
  readonly formats = new Map<string, number>();
  private stopped = false;

  constructor(options: ToneDetectorOptions = {}) {
    this.listenFor = [...(options.listenFor ?? DEFAULT_LISTEN_FOR)];
    this.windowMs = options.windowMs ?? 300;
    this.historyMs = options.historyMs ?? 2000;
    this.threshold = options.threshold ?? DEFAULT_TONE_THRESHOLD;
    this.minPower = options.minPower ?? DEFAULT_MIN_TONE_POWER;
    this.decayRatio = options.decayRatio ?? 0.5;
  }

  /** Number of slots that have been attached or pushed to. */
  get slotCount(): number {
    return this.slots.length;
  }

  /**
   * Listens to a received track as `slot` (replacing, and stopping, that slot's previous sink; its
   * audio history is kept). Returns the sink.
   */
  attach(slot: number, track: MediaStreamTrack): RTCAudioSink {
    if (this.stopped) throw new Error('ToneDetector is stopped');
    const state = this.slot(slot);
    state.sink?.stop();
    const sink = new RTCAudioSink(track);
    state.sink = sink;
    onSinkData(sink, ({ samples, sampleRate, channelCount, numberOfFrames }) => {
      if (state.sink !== sink || this.stopped) return;
      this.push(slot, samples, sampleRate, channelCount, performance.now(), numberOfFrames);
    });
    return sink;
  }

  /** Stops the sinks of every slot (history stays readable). */
  detachAll(): void {
    for (const slot of this.slots) {
      slot.sink?.stop();
      slot.sink = undefined;
    }
  }

  /** Stops every sink; push() and attach() are refused from then on. Idempotent. */
  stop(): void {
    this.stopped = true;
    this.detachAll();
  }

  /** Adds received audio to a slot: 16-bit PCM, interleaved when channelCount > 1. */
  push(slot: number, samples: Int16Array, sampleRate: number, channelCount = 1, at = performance.now(), numberOfFrames?: number): void {
    if (this.stopped) return;
    const frames = numberOfFrames ?? Math.floor(samples.length / channelCount);
    const key = `${sampleRate} Hz/${channelCount} ch/${frames} frames`;
    this.formats.set(key, (this.formats.get(key) ?? 0) + 1);
    const mono = mixDown(samples, channelCount, frames);
    const analysis = analyseTones(mono, sampleRate, this.listenFor, 1000);
    const state = this.slot(slot);
    state.ring.push({ at, sampleRate, samples: mono, analysis });
    state.chunks++;
    // A tone counts as detected at a chunk when
    // - this chunk and the one before both have it: a chunk where a tone starts, stops or changes
    //   holds a truncated sine, whose spectrum splatters over the neighbouring candidates (a 660 Hz
    //   onset reads as 440 + 550 + 660 + 770 for 10 ms);
    // - and it is not fading: its power is at least decayRatio of its highest in the 3 chunks before.
    //   When packets stop coming (the SFU stops forwarding a voice), libwebrtc's concealment goes
    //   on playing the last sound, fading it out by about 1.6 dB per 10 ms after some 50 ms: a
    //   pure tone stays a pure tone down to -50 dBFS for 300 ms. Without this rule that tail would
    //   count as hearing the voice.
    const present = new Set(presentTones(analysis, this.listenFor, this.decision()));
    const powers = new Float64Array(this.listenFor.length);
    for (let c = 0; c < powers.length; c++) powers[c] = analysis.samples > 0 ? analysis.weightedPowers[c]! / analysis.samples : 0;
    for (const [c, hz] of this.listenFor.entries()) {
      if (!present.has(hz) || !state.previous.has(hz)) continue;
      const before = Math.max(0, ...state.recentPowers.map((earlier) => earlier[c]!));
      if (powers[c]! < this.decayRatio * before) continue;
      state.lastHeard.set(hz, at);
      this.lastHeard.set(hz, at);
      if (!this.firstHeard.has(hz)) this.firstHeard.set(hz, at);
    }
    state.previous = present;
    state.recentPowers.push(powers);
    if (state.recentPowers.length > 3) state.recentPowers.shift();
  }

  /** The tones present in the last `windowMs` of all slots together. */
  hears(windowMs = this.windowMs): Set<number> {
    return new Set(presentTones(this.analysis(undefined, windowMs), this.listenFor, this.decision()));
  }

  /** The tones present in the last `windowMs` of one slot. */
  hearsOnSlot(slot: number, windowMs = this.windowMs): Set<number> {
    return new Set(presentTones(this.analysis(slot, windowMs), this.listenFor, this.decision()));
  }

  /** Each candidate's share of the energy of the last `windowMs` (of one slot, or all). */
  shares(slot?: number, windowMs = this.windowMs): Map<number, number> {
    const shares = toneShares(this.analysis(slot, windowMs));
    return new Map(this.listenFor.map((hz, i) => [hz, shares[i]!]));
  }

  /** RMS (fraction of full scale) of the last `windowMs` (of one slot, or all slots' energies added). */
  level(slot?: number, windowMs = this.windowMs): number {
    const analysis = this.analysis(slot, windowMs);
    return analysis.samples === 0 ? 0 : Math.sqrt(analysis.weightedEnergy / analysis.samples);
  }

  /**
   * performance.now() of the last 10 ms chunk, on any slot (or on `slot`), in which `hz` was
   * detected: present in that chunk and in the slot's chunk before it, and not fading out (see
   * decayRatio); undefined if never (since clear()), or if `hz` is not a candidate. On loopback, a
   * tone replaced by silence at T is last detected at about T + 40..60 ms; a tone whose packets
   * stop at T (concealment plays on, fading) at about T + 60..100 ms.
   */
  heardAt(hz: number, slot?: number): number | undefined {
    if (slot === undefined) return this.lastHeard.get(hz);
    return this.slots[slot]?.lastHeard.get(hz);
  }

  /** performance.now() of the first chunk, on any slot, in which `hz` was detected (since clear()). */
  firstHeardAt(hz: number): number | undefined {
    return this.firstHeard.get(hz);
  }

  /** Chunks delivered to a slot so far (a sink delivers about 100 a second once attached). */
  chunksReceived(slot: number): number {
    return this.slots[slot]?.chunks ?? 0;
  }

  /** performance.now() of a slot's last chunk. */
  lastChunkAt(slot: number): number | undefined {
    return this.slots[slot]?.ring.last()?.at;
  }

  /**
   * A slot's audio of the last `windowMs` (up to historyMs), concatenated; chunks at another sample
   * rate than the newest one are left out.
   */
  recent(slot: number, windowMs = this.windowMs): { samples: Int16Array; sampleRate: number } {
    const chunks = this.slots[slot]?.ring.since(performance.now() - windowMs) ?? [];
    const sampleRate = chunks.at(-1)?.sampleRate ?? 48_000;
    const same = chunks.filter((chunk) => chunk.sampleRate === sampleRate);
    const samples = new Int16Array(same.reduce((n, chunk) => n + chunk.samples.length, 0));
    let offset = 0;
    for (const chunk of same) {
      samples.set(chunk.samples, offset);
      offset += chunk.samples.length;
    }
    return { samples, sampleRate };
  }

  /** Forgets all received audio and detections (sinks stay attached). */
  clear(): void {
    for (const slot of this.slots) {
      slot.ring.clear();
      slot.lastHeard.clear();
      slot.previous.clear();
      slot.recentPowers = [];
    }
    this.lastHeard.clear();
    this.firstHeard.clear();
  }

  /** One line for failure messages: what each slot hears, its level and chunk count. */
  describe(windowMs = this.windowMs): string {
    const heard = [...this.hears(windowMs)];
    const slots = this.slots.map((slot, i) => {
      const tones = [...this.hearsOnSlot(i, windowMs)];
      const age = slot.ring.last() ? `${Math.round(performance.now() - slot.ring.last()!.at)} ms ago` : 'never';
      return `slot ${i}: [${tones.join(', ')}] rms ${this.level(i, windowMs).toFixed(4)}, ${slot.chunks} chunks, last ${age}`;
    });
    return `hears [${heard.join(', ')}] in the last ${windowMs} ms; ${slots.join('; ') || 'no slot'}`;
  }

  private decision() {
    return { threshold: this.threshold, minPower: this.minPower };
  }

  private analysis(slot: number | undefined, windowMs: number): ToneAnalysis {
    const since = performance.now() - windowMs;
    const total = emptyAnalysis(this.listenFor.length);
    const one = slot === undefined ? undefined : this.slots[slot];
    const slots = slot === undefined ? this.slots : one ? [one] : [];
    for (const state of slots) {
      for (const chunk of state.ring.since(since)) addAnalysis(total, chunk.analysis);
    }
    return total;
  }

  private slot(index: number): Slot {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`slot must be an integer >= 0, got ${index}`);
    while (this.slots.length <= index) {
      // 10 ms chunks: room for historyMs of them, twice over in case a sink delivers smaller ones.
      this.slots.push({
        ring: new ChunkRing(Math.ceil(this.historyMs / 10) * 2 + 16, this.historyMs),
        sink: undefined,
        chunks: 0,
        lastHeard: new Map(),
        previous: new Set(),
        recentPowers: [],
      });
    }
    return this.slots[index]!;
  }
}

/** Mono copy of interleaved 16-bit PCM (the average of the channels). */
export function mixDown(samples: Int16Array, channelCount: number, frames = Math.floor(samples.length / channelCount)): Int16Array {
  if (channelCount <= 1) return samples.slice(0, frames);
  const mono = new Int16Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < channelCount; c++) sum += samples[i * channelCount + c]!;
    mono[i] = Math.round(sum / channelCount);
  }
  return mono;
}
