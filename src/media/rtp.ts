/**
 * The few RTP facts the SFU needs (RFC 3550, RFC 8285 header extensions, RFC 6464 audio level).
 * It never decodes audio: it reads a level byte and rewrites SSRC, sequence number and timestamp.
 */

/** RTCP shares the port (rtcp-mux); its packet types 192..223 sit where RTP has marker+payload type. */
export const isRtcp = (packet: Buffer): boolean => packet.length >= 2 && packet[1]! >= 192 && packet[1]! <= 223;

export const isRtp = (packet: Buffer): boolean => packet.length >= 12 && packet[0]! >> 6 === 2 && !isRtcp(packet);

export const RTCP_SR = 200;
export const RTCP_RR = 201;

/**
 * The packets of a compound RTCP packet, each as a view of its own bytes (its length field says
 * where it ends); a truncated one ends the walk. RTCP comes every few seconds: this is no hot path.
 */
export function* rtcpPackets(compound: Buffer): Generator<Buffer> {
  for (let offset = 0; offset + 8 <= compound.length; ) {
    const length = (compound.readUInt16BE(offset + 2) + 1) * 4;
    if (offset + length > compound.length) return;
    yield compound.subarray(offset, offset + length);
    offset += length;
  }
}

export const sequenceOf = (packet: Buffer): number => packet.readUInt16BE(2);
export const timestampOf = (packet: Buffer): number => packet.readUInt32BE(4);
export const ssrcOf = (packet: Buffer): number => packet.readUInt32BE(8);

/** Audio level, 0 (loudest, 0 dBov) to 127 (silence, -127 dBov). */
export const SILENT = 127;

/**
 * The `ssrc-audio-level` value carried under extension `id`, or undefined when absent.
 * Handles both the one-byte (0xBEDE) and two-byte (0x100x) header extension forms.
 */
export function audioLevelOf(packet: Buffer, id: number): number | undefined {
  if (!(packet[0]! & 0x10)) return undefined;
  const start = 12 + 4 * (packet[0]! & 0x0f);
  if (packet.length < start + 4) return undefined;
  const profile = packet.readUInt16BE(start);
  const end = start + 4 + 4 * packet.readUInt16BE(start + 2);
  if (end > packet.length) return undefined;
  let i = start + 4;
  if (profile === 0xbede) {
    while (i < end) {
      const byte = packet[i]!;
      if (byte === 0) {
        i += 1;
        continue;
      }
      const elementId = byte >> 4;
      if (elementId === 15) return undefined;
      if (elementId === id) return packet[i + 1]! & 0x7f;
      i += 2 + (byte & 0x0f);
    }
  } else if ((profile & 0xfff0) === 0x1000) {
    while (i + 1 < end) {
      const elementId = packet[i]!;
      if (elementId === 0) {
        i += 1;
        continue;
      }
      if (elementId === id) return packet[i + 2]! & 0x7f;
      i += 2 + packet[i + 1]!;
    }
  }
  return undefined;
}

const SEQ_MOD = 0x10000;
const TS_MOD = 0x100000000;
/** Opus runs at 48 kHz whatever the audio's own rate. */
const OPUS_CLOCK_PER_MS = 48;
/** A switch never lets the timestamp advance less than one 20 ms frame. */
const MIN_SWITCH_GAP = 20 * OPUS_CLOCK_PER_MS;

/**
 * One outgoing stream (a listener's receive slot) fed by whichever source the SFU picks.
 * When the source changes, sequence numbers go on by one and the timestamp by the wall-clock gap,
 * so the listener's decoder sees one continuous stream and never needs renegotiation.
 */
export class SlotStream {
  private source: number | undefined;
  private seqDelta = 0;
  private tsDelta = 0;
  private lastSeq = 0;
  private lastTs = 0;
  private lastAt = 0;
  private started = false;
  /** Packets and payload octets sent (the counts of its sender reports). */
  packets = 0;
  octets = 0;
  /**
   * Sequence numbers skipped: packets lost before the SFU (it forwards a source's gaps as they are).
   * A listener's receiver reports count them lost too; they are not its downlink's.
   */
  skipped = 0;

  constructor(
    readonly ssrc: number,
    private readonly payloadType: number,
  ) {}

  /**
   * Stamps `packet` in place for this slot: SSRC, payload type, sequence number, timestamp. The
   * forwarder reuses one buffer for every listener, so the source's header comes in as arguments.
   */
  stamp(packet: Buffer, source: RtpHeader, nowMs: number): void {
    let marker = source.marker;
    if (source.ssrc !== this.source) {
      const outSeq = this.started ? (this.lastSeq + 1) % SEQ_MOD : source.seq;
      const gap = Math.max(MIN_SWITCH_GAP, Math.round((nowMs - this.lastAt) * OPUS_CLOCK_PER_MS));
      const outTs = this.started ? (this.lastTs + gap) % TS_MOD : source.ts;
      this.seqDelta = (outSeq - source.seq + SEQ_MOD) % SEQ_MOD;
      this.tsDelta = (outTs - source.ts + TS_MOD) % TS_MOD;
      this.source = source.ssrc;
      this.started = true;
      marker = true; // a new talkspurt starts here
    }
    const outSeq = (source.seq + this.seqDelta) % SEQ_MOD;
    const outTs = (source.ts + this.tsDelta) % TS_MOD;
    packet[1] = (marker ? 0x80 : 0) | this.payloadType;
    packet.writeUInt16BE(outSeq, 2);
    packet.writeUInt32BE(outTs, 4);
    packet.writeUInt32BE(this.ssrc, 8);
    // Remember the newest packet sent (reordered older ones must not pull the stream back).
    const step = (outSeq - this.lastSeq + SEQ_MOD) % SEQ_MOD;
    if (step < SEQ_MOD / 2 || this.lastAt === 0) {
      if (this.lastAt !== 0 && step > 1) this.skipped += step - 1;
      this.lastSeq = outSeq;
      this.lastTs = outTs;
    } else if (this.skipped > 0) {
      this.skipped -= 1; // a late packet of a gap counted as skipped
    }
    this.lastAt = nowMs;
    this.packets += 1;
    this.octets += packet.length - 12;
  }

  /** The timestamp the stream would carry at `nowMs`; undefined before its first packet. */
  timestampAt(nowMs: number): number | undefined {
    if (!this.started) return undefined;
    return (this.lastTs + Math.max(0, Math.round((nowMs - this.lastAt) * OPUS_CLOCK_PER_MS))) % TS_MOD;
  }
}

export interface RtpHeader {
  ssrc: number;
  seq: number;
  ts: number;
  marker: boolean;
}

export const headerOf = (packet: Buffer): RtpHeader => ({
  ssrc: ssrcOf(packet),
  seq: sequenceOf(packet),
  ts: timestampOf(packet),
  marker: (packet[1]! & 0x80) !== 0,
});
