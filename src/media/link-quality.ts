/**
 * Each participant's link as the SFU sees it: pure functions from packet counts to a loss over the
 * last interval and a level, on the SDK's own thresholds (sdk/src/audio/quality.ts) so a member's
 * tag in the class list and a client's own signal read alike.
 */
import type { ConnectionQualityLevel, MemberConnectionQuality } from '../protocol/server-messages.js';

/** A stream's counts since it started (RFC 3550 A.3): packets its sequence numbers say were sent, and those that arrived. */
export interface PacketCounts {
  expected: number;
  received: number;
}

/** What the SFU knows of one participant's link over the last interval. */
export interface LinkReading {
  /** Whether its offer has a microphone (listen-only participants have none). */
  publishing: boolean;
  /** The microphone's loss over the interval, 0..1; null: nothing expected in it (or listen-only). */
  uplinkLoss: number | null;
  /** The loss its own receiver reports say of what the SFU sent it, 0..1; null: no report. */
  downlinkLoss: number | null;
  /** The round trip its receiver reports measure against the SFU's sender reports, in ms; null: none. */
  roundTripMs: number | null;
}

/** Under both: good; under both of the next: fair; else poor (sdk/src/audio/quality.ts). */
const GOOD_LOSS = 0.02;
const FAIR_LOSS = 0.1;
const GOOD_RTT_MS = 300;
const FAIR_RTT_MS = 800;

/**
 * The loss between two cumulative readings of one stream. `before` undefined, or counts that went
 * back (a new source, a restarted numbering), count `now` from zero. Null when no packet was
 * expected in between; duplicates never make it negative.
 */
export function intervalLoss(before: PacketCounts | undefined, now: PacketCounts | undefined): number | null {
  if (!now) return null;
  const restarted = !before || now.expected < before.expected || now.received < before.received;
  const expected = now.expected - (restarted ? 0 : before.expected);
  const received = now.received - (restarted ? 0 : before.received);
  if (expected <= 0) return null;
  return Math.min(1, Math.max(0, (expected - received) / expected));
}

/** The level of the worst known loss and the round trip; `unknown` when neither is known. */
export function levelOf(losses: readonly (number | null)[], roundTripMs: number | null = null): ConnectionQualityLevel {
  const known = losses.filter((loss): loss is number => loss !== null);
  if (known.length === 0 && roundTripMs === null) return 'unknown';
  const worst = Math.max(0, ...known);
  const rtt = roundTripMs ?? 0;
  if (worst < GOOD_LOSS && rtt < GOOD_RTT_MS) return 'good';
  if (worst < FAIR_LOSS && rtt < FAIR_RTT_MS) return 'fair';
  return 'poor';
}

/** Losses are sent in whole percent: a smaller change is noise, and would resend the room's list. */
const roundLoss = (loss: number | null): number | null => (loss === null ? null : Math.round(loss * 100) / 100);
/** Round trips in tens of ms, alike. */
const roundRtt = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 10) * 10);

/** A participant's entry in ConnectionQuality. */
export function memberQuality(reading: LinkReading): MemberConnectionQuality {
  const uplink = roundLoss(reading.uplinkLoss);
  const downlink = roundLoss(reading.downlinkLoss);
  const known = [uplink, downlink].filter((loss): loss is number => loss !== null);
  return {
    level: levelOf([reading.uplinkLoss, reading.downlinkLoss], reading.roundTripMs),
    publishing: reading.publishing,
    loss: known.length === 0 ? null : Math.max(...known),
    uplink_loss: uplink,
    downlink_loss: downlink,
    round_trip_ms: roundRtt(reading.roundTripMs),
  };
}
