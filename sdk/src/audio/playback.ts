/**
 * Playing the receive slots: one <audio> element per slot, created inside the page's join gesture
 * (iOS Safari lets an element play later only if it was created and started from a user gesture),
 * and the autoplay policy: when the browser refuses to play (NotAllowedError), `canPlaybackAudio`
 * turns false until `startAudio()` is called from a click. Without elements (Node, or an app that
 * plays the tracks itself) there is nothing to refuse: it stays true.
 */
import { canSetSink } from './devices.js';
import type { AudioElementLike, TrackLike } from './rtc.js';

export interface PlaybackOptions {
  /** Makes one slot's element; null: no elements (the app plays the `track` events itself). */
  createElement: (() => AudioElementLike) | null;
  /** `new MediaStream([track])`, what an element's srcObject takes. */
  createStream: (track: TrackLike) => unknown;
  onChange: (canPlaybackAudio: boolean) => void;
  onError: (error: unknown) => void;
}

const refusedByPolicy = (error: unknown): boolean => (error as { name?: unknown } | null)?.name === 'NotAllowedError';

export class Playback {
  private readonly elementsBySlot: AudioElementLike[] = [];
  private readonly tracks: (TrackLike | null)[] = [];
  private allowed = true;
  private sinkId: string | undefined;
  private disposed = false;

  constructor(private readonly options: PlaybackOptions) {}

  get canPlaybackAudio(): boolean {
    return this.allowed;
  }

  get elements(): readonly AudioElementLike[] {
    return this.elementsBySlot;
  }

  /** Whether the output device can be chosen (setSinkId on the elements). */
  get canChooseOutput(): boolean {
    const probe = this.elementsBySlot[0];
    return probe ? canSetSink(probe) : false;
  }

  /**
   * Synchronously creates the elements of `count` slots (those not made yet) and starts each one:
   * called from the join gesture, that is what lets them play later.
   */
  prepare(count: number): void {
    const make = this.options.createElement;
    if (!make || this.disposed) return;
    while (this.elementsBySlot.length < count) {
      const element = make();
      element.autoplay = true;
      element.setAttribute?.('playsinline', '');
      this.elementsBySlot.push(element);
      if (this.sinkId !== undefined) void this.applySink(element, this.sinkId);
      this.quietly(element.play());
    }
  }

  /** Plays `track` on `slot` (null: nothing). An element made now, outside a gesture, may be refused: then startAudio(). */
  attach(slot: number, track: TrackLike | null): void {
    if (this.disposed) return;
    this.tracks[slot] = track;
    if (!this.options.createElement) return;
    this.prepare(slot + 1);
    const element = this.elementsBySlot[slot]!;
    element.srcObject = track ? this.options.createStream(track) : null;
    if (track) this.play(element);
  }

  /** From a click: plays every slot. Resolves with canPlaybackAudio. */
  async startAudio(): Promise<boolean> {
    if (this.disposed) return this.allowed;
    this.prepare(this.tracks.length);
    const results = await Promise.allSettled(this.elementsBySlot.map((element) => element.play() ?? Promise.resolve()));
    const refused = results.some((result) => result.status === 'rejected' && refusedByPolicy(result.reason));
    this.set(!refused);
    return this.allowed;
  }

  /** Plays every slot on output `sinkId` (`''`: the default output). Throws where it cannot be chosen. */
  async setOutput(sinkId: string): Promise<void> {
    if (this.elementsBySlot.length > 0 && !this.canChooseOutput)
      throw new Error('this browser cannot choose the audio output (no setSinkId)');
    this.sinkId = sinkId;
    await Promise.all(this.elementsBySlot.map((element) => this.applySink(element, sinkId)));
  }

  get outputId(): string | undefined {
    return this.sinkId;
  }

  /** Stops every element (they are not reused). */
  dispose(): void {
    this.disposed = true;
    for (const element of this.elementsBySlot) {
      try {
        element.pause();
        element.srcObject = null;
      } catch (error) {
        this.options.onError(error);
      }
    }
  }

  private play(element: AudioElementLike): void {
    const playing = element.play();
    if (!playing) return;
    playing.then(
      () => this.set(true),
      (error: unknown) => {
        if (refusedByPolicy(error)) this.set(false);
        // Other refusals (AbortError: a new source replaced this one) say nothing about the policy.
      },
    );
  }

  private async applySink(element: AudioElementLike, sinkId: string): Promise<void> {
    if (!canSetSink(element)) return;
    await element.setSinkId!(sinkId);
  }

  private quietly(promise: Promise<void> | undefined): void {
    promise?.catch(() => undefined);
  }

  private set(allowed: boolean): void {
    if (allowed === this.allowed || this.disposed) return;
    this.allowed = allowed;
    this.options.onChange(allowed);
  }
}
