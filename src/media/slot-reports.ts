/**
 * A listener's side of one receive slot's RTCP (RFC 3550): the receiver reports its client sends
 * about the slot (the downlink's loss), and the sender reports the SFU sends on it, so that those
 * receiver reports carry a round trip (LSR/DLSR). Read once per quality interval, never per packet.
 */

import { RTCP_RR, RTCP_SR, rtcpPackets } from './rtp.js';

/** Seconds between 1900 (NTP) and 1970 (Unix). */
const NTP_EPOCH_OFFSET_S = 2_208_988_800;
const SR_BYTES = 28;
/** A sender report older than this is not matched: its round trip would be meaningless. */
const SR_KEPT = 4;
const TS_MOD = 0x100000000;

/** The middle 32 bits of the NTP time of `unixMs` (16.16 seconds), as LSR carries it. */
export function ntpMiddle(unixMs: number): number {
  const seconds = Math.floor(unixMs / 1000) + NTP_EPOCH_OFFSET_S;
  const fraction = Math.floor(((unixMs % 1000) / 1000) * 0x10000);
  return ((seconds & 0xffff) * 0x10000 + fraction) >>> 0;
}

/** The round trip a report block says, in ms, from its LSR and DLSR and when it arrived; null when it says none. */
export function roundTripMs(lsr: number, dlsr: number, arrivedMiddle: number): number | null {
  if (lsr === 0) return null;
  const units = (arrivedMiddle - lsr - dlsr + TS_MOD) % TS_MOD;
  // A negative round trip (clock step, DLSR larger than the wait) wraps to a huge value.
  if (units > 0x10000 * 60) return null;
  return Math.round((units / 0x10000) * 1000);
}

export interface SlotReading {
  /** The share lost of what the slot carried between the listener's last two reports; null: nothing carried. */
  loss: number | null;
  /** null: no report answered one of the SFU's sender reports. */
  roundTripMs: number | null;
}

/** What the listener's reports about one slot said lately. `ssrc`: the slot's (the server's). */
export class SlotReports {
  private last: { highest: number; lost: number; skipped: number } | undefined;
  private loss: { value: number; at: number } | undefined;
  private rtt: { value: number; at: number } | undefined;
  /** The LSR values of the sender reports sent lately. */
  private readonly sent: number[] = [];

  constructor(private readonly ssrc: number) {}

  /**
   * An RTCP packet (compound or not) of the listener about this slot. `nowMs` (performance.now())
   * dates what it says; `unixMs` is the wall clock its round trip is measured on; `skipped`: the
   * slot's sequence numbers the SFU skipped so far (SlotStream.skipped), lost before the downlink.
   */
  rtcp(packet: Buffer, nowMs: number, unixMs: number, skipped: number): void {
    for (const part of rtcpPackets(packet)) {
      const type = part[1];
      const blocksAt = type === RTCP_SR ? 28 : type === RTCP_RR ? 8 : -1;
      if (blocksAt < 0) continue;
      const count = part[0]! & 0x1f;
      for (let i = 0; i < count && blocksAt + 24 * (i + 1) <= part.length; i++) this.block(part, blocksAt + 24 * i, nowMs, unixMs, skipped);
    }
  }

  private block(packet: Buffer, at: number, nowMs: number, unixMs: number, skipped: number): void {
    if (packet.readUInt32BE(at) !== this.ssrc) return;
    const highest = packet.readUInt32BE(at + 8);
    const lost = packet.readIntBE(at + 5, 3);
    const last = this.last;
    this.last = { highest, lost, skipped };
    // Between two reports: what the SFU sent (the sequence numbers it used, but those it skipped),
    // and of it what the listener lost. Reported for the interval (A.3), not from the fraction
    // lost, which counts the skipped ones as the downlink's. Nothing sent: the last loss stands.
    if (last && highest !== last.highest) {
      const gaps = Math.max(0, skipped - last.skipped);
      const sent = ((highest - last.highest) >>> 0) - gaps;
      if (sent > 0) this.loss = { value: Math.min(1, Math.max(0, (lost - last.lost - gaps) / sent)), at: nowMs };
    }
    const lsr = packet.readUInt32BE(at + 16);
    if (!this.sent.includes(lsr)) return;
    const rtt = roundTripMs(lsr, packet.readUInt32BE(at + 20), ntpMiddle(unixMs));
    if (rtt !== null) this.rtt = { value: rtt, at: nowMs };
  }

  /** What the reports of the last `maxAgeMs` said (the latest of each). */
  reading(nowMs: number, maxAgeMs: number): SlotReading {
    const fresh = (entry: { value: number; at: number } | undefined) => (entry && nowMs - entry.at <= maxAgeMs ? entry.value : null);
    return { loss: fresh(this.loss), roundTripMs: fresh(this.rtt) };
  }

  /**
   * A sender report for the slot at `unixMs`: the RTP timestamp the slot's stream would carry then,
   * and what it sent so far.
   */
  senderReport(unixMs: number, rtpTimestamp: number, packets: number, octets: number): Buffer {
    const sr = Buffer.alloc(SR_BYTES);
    sr[0] = 0x80;
    sr[1] = RTCP_SR;
    sr.writeUInt16BE(SR_BYTES / 4 - 1, 2);
    sr.writeUInt32BE(this.ssrc, 4);
    const seconds = Math.floor(unixMs / 1000) + NTP_EPOCH_OFFSET_S;
    sr.writeUInt32BE(seconds >>> 0, 8);
    sr.writeUInt32BE(Math.floor(((unixMs % 1000) / 1000) * TS_MOD) >>> 0, 12);
    sr.writeUInt32BE(rtpTimestamp >>> 0, 16);
    sr.writeUInt32BE(packets >>> 0, 20);
    sr.writeUInt32BE(octets >>> 0, 24);
    this.sent.push(sr.readUInt32BE(10));
    if (this.sent.length > SR_KEPT) this.sent.shift();
    return sr;
  }
}
