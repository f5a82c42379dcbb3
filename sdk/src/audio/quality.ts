/**
 * Connection quality from a PeerConnection's getStats(): loss, jitter and round trip, for each
 * receive slot (what this client hears) and for the microphone (what the server receives of it,
 * from the receiver reports the server sends back). Pure: the previous reading makes the loss of
 * the last interval rather than since the start.
 */
import type { StatsReportLike } from './rtc.js';

/** One audio stream's quality over the last interval. */
export interface StreamQuality {
  /** Share of the packets lost over the last interval, 0..1 (null: no packet expected in it). */
  readonly loss: number | null;
  /** Inter-arrival jitter, in ms (null: not known yet). */
  readonly jitterMs: number | null;
  /** Packets received (a slot) or sent (the microphone) since the PeerConnection started. */
  readonly packets: number;
}

export interface MicrophoneQuality extends StreamQuality {
  /** Round trip to the server, from its receiver reports, in ms (null: no report yet). */
  readonly roundTripMs: number | null;
}

/** How the audio is doing: `good` (loss under 2 %, round trip under 300 ms), `fair` (under 10 % / 800 ms), `poor`, or `unknown`. */
export type QualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

export interface AudioQuality {
  /** When it was read (the clock's now()). */
  readonly at: number;
  /** The current round trip of the ICE candidate pair in use, in ms (null: not known yet). */
  readonly roundTripMs: number | null;
  /** The microphone's stream as the server receives it; null when listen-only. */
  readonly microphone: MicrophoneQuality | null;
  /** Each receive slot's stream, in slot order (null: nothing received on it yet). */
  readonly slots: readonly (StreamQuality | null)[];
  readonly level: QualityLevel;
}

/** Counters kept between readings: packets received and lost by stream. */
export type QualityCounters = ReadonlyMap<string, { received: number; lost: number }>;

const num = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
const ms = (seconds: unknown): number | null => {
  const value = num(seconds);
  return value === null ? null : Math.round(value * 1000 * 10) / 10;
};

/**
 * Reads a stats report. `slotMids` are the receive slots' transceiver mids (and `slotTracks` their
 * track ids, for stacks whose inbound-rtp has no mid), in slot order; `micMid` the microphone's.
 */
export function readQuality(
  report: StatsReportLike,
  layout: { slotMids: readonly (string | null)[]; slotTracks: readonly (string | null)[]; micMid: string | null; listenOnly: boolean },
  previous: QualityCounters,
  now: number,
): { quality: AudioQuality; counters: QualityCounters } {
  const entries: Record<string, unknown>[] = [];
  report.forEach((entry) => {
    entries.push(entry);
  });
  const byId = new Map(entries.map((entry) => [String(entry.id), entry]));
  const counters = new Map<string, { received: number; lost: number }>();
  const isAudio = (entry: Record<string, unknown>) => (entry.kind ?? entry.mediaType ?? 'audio') === 'audio';

  const intervalLoss = (key: string, received: number, lost: number): number | null => {
    counters.set(key, { received, lost });
    const before = previous.get(key) ?? { received: 0, lost: 0 };
    const dReceived = Math.max(0, received - before.received);
    const dLost = Math.max(0, lost - before.lost);
    return dReceived + dLost === 0 ? null : dLost / (dReceived + dLost);
  };

  const slots: (StreamQuality | null)[] = layout.slotMids.map(() => null);
  for (const entry of entries) {
    if (entry.type !== 'inbound-rtp' || !isAudio(entry)) continue;
    let slot = typeof entry.mid === 'string' ? layout.slotMids.indexOf(entry.mid) : -1;
    if (slot < 0 && typeof entry.trackIdentifier === 'string') slot = layout.slotTracks.indexOf(entry.trackIdentifier);
    if (slot < 0) continue;
    const received = num(entry.packetsReceived) ?? 0;
    const lost = Math.max(0, num(entry.packetsLost) ?? 0);
    slots[slot] = { loss: intervalLoss(`slot:${slot}`, received, lost), jitterMs: ms(entry.jitter), packets: received };
  }

  let microphone: MicrophoneQuality | null = null;
  if (!layout.listenOnly) {
    const outbound = entries.find(
      (entry) =>
        entry.type === 'outbound-rtp' &&
        isAudio(entry) &&
        (layout.micMid === null || entry.mid === undefined || entry.mid === layout.micMid),
    );
    const remote = entries.find((entry) => entry.type === 'remote-inbound-rtp' && isAudio(entry));
    const sent = num(outbound?.packetsSent) ?? 0;
    let loss: number | null = null;
    if (remote) {
      const lost = Math.max(0, num(remote.packetsLost) ?? 0);
      // The server's report counts what it received of what was sent up to the report.
      loss = intervalLoss('microphone', Math.max(0, sent - lost), lost);
      if (loss === null && num(remote.fractionLost) !== null) loss = num(remote.fractionLost);
    }
    microphone = { loss, jitterMs: ms(remote?.jitter), roundTripMs: ms(remote?.roundTripTime), packets: sent };
  }

  let pair: Record<string, unknown> | undefined;
  for (const entry of entries) {
    if (entry.type === 'transport' && typeof entry.selectedCandidatePairId === 'string') pair = byId.get(entry.selectedCandidatePairId);
  }
  pair ??= entries.find((entry) => entry.type === 'candidate-pair' && entry.nominated === true && entry.state === 'succeeded');
  const roundTripMs = ms(pair?.currentRoundTripTime) ?? microphone?.roundTripMs ?? null;

  const quality: AudioQuality = { at: now, roundTripMs, microphone, slots, level: levelOf(roundTripMs, [microphone, ...slots]) };
  return { quality, counters };
}

function levelOf(roundTripMs: number | null, streams: readonly (StreamQuality | null)[]): QualityLevel {
  const losses = streams.flatMap((stream) => (stream?.loss === null || stream?.loss === undefined ? [] : [stream.loss]));
  if (roundTripMs === null && losses.length === 0) return 'unknown';
  const loss = Math.max(0, ...losses);
  const rtt = roundTripMs ?? 0;
  if (loss < 0.02 && rtt < 300) return 'good';
  if (loss < 0.1 && rtt < 800) return 'fair';
  return 'poor';
}
