/**
 * The receiving end of one microphone's RTCP (RFC 3550): it counts the stream's sequence numbers
 * as appendix A.1 says and answers each sender report with a receiver report (A.3's loss).
 *
 * Why not libdatachannel's RtcpReceivingSession: it never puts a new source on probation, so its
 * count starts at sequence number 0. A stream whose first sequence number is below 3000 (libwebrtc
 * starts anywhere in 1..32767) is then reported with that many packets lost, for good, and its
 * first report says up to 90 % loss, which the client's encoder takes for a bad uplink.
 */

import { intervalLoss, type PacketCounts } from './link-quality.js';
import { RTCP_RR, RTCP_SR, rtcpPackets, sequenceOf, ssrcOf } from './rtp.js';

const SEQ_MOD = 0x10000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;
const MIN_SEQUENTIAL = 2;
/** A receiver report with one report block: header, sender SSRC, the 24-byte block. */
const RR_BYTES = 32;
const LOST_MAX = 0x7fffff;
const LOST_MIN = -0x800000;

/** One source's sequence numbers: RFC 3550 A.1, with the received/expected counts of A.3. */
class SourceSequence {
  private maxSeq: number;
  private cycles = 0;
  private baseSeq = 0;
  private badSeq = SEQ_MOD + 1;
  private probation = MIN_SEQUENTIAL;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;

  constructor(
    readonly ssrc: number,
    firstSeq: number,
  ) {
    this.init(firstSeq);
    this.maxSeq = (firstSeq - 1 + SEQ_MOD) % SEQ_MOD;
  }

  private init(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.received = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  update(seq: number): void {
    const udelta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
    if (this.probation > 0) {
      // A source counts once MIN_SEQUENTIAL packets in a row have arrived.
      if (seq === (this.maxSeq + 1) % SEQ_MOD) {
        this.probation -= 1;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.init(seq);
          this.received += 1;
        }
      } else {
        this.probation = MIN_SEQUENTIAL - 1;
        this.maxSeq = seq;
      }
      return;
    }
    if (udelta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (udelta <= SEQ_MOD - MAX_MISORDER) {
      // A very large jump: two in a row mean the sender restarted its numbering; start again.
      if (seq !== this.badSeq) {
        this.badSeq = (seq + 1) % SEQ_MOD;
        return;
      }
      this.init(seq);
    }
    // (else a duplicate or a reordered packet: counted, the highest number stays)
    this.received += 1;
  }

  /** Packets expected and received since the source was validated; undefined while on probation. */
  counts(): PacketCounts | undefined {
    if (this.probation > 0) return undefined;
    return { expected: this.cycles + this.maxSeq - this.baseSeq + 1, received: this.received };
  }

  /** The report block's counts as of now; starts the next interval (A.3). */
  report(): { fraction: number; lost: number; extendedMax: number } {
    const extendedMax = this.cycles + this.maxSeq;
    if (this.probation > 0) return { fraction: 0, lost: 0, extendedMax };
    const expected = extendedMax - this.baseSeq + 1;
    const lost = Math.min(LOST_MAX, Math.max(LOST_MIN, expected - this.received));
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    return { fraction, lost, extendedMax };
  }
}

/**
 * A microphone's reception, told every RTP packet and every RTCP packet of its track. `ssrc` is the
 * server's own for the reports it sends. A new SSRC on the track is a new source, counted afresh.
 */
export class ReceiverReports {
  private source: SourceSequence | undefined;
  /** The counts at the last sampleLoss(), and of which source: the SFU's own interval, apart from the reports'. */
  private sampled: { source: SourceSequence; counts: PacketCounts | undefined } | undefined;

  constructor(private readonly ssrc: number) {}

  /** The share of the microphone's packets lost since the last call (null: none expected meanwhile). */
  sampleLoss(): number | null {
    const source = this.source;
    if (!source) return null;
    const counts = source.counts();
    const before = this.sampled?.source === source ? this.sampled.counts : undefined;
    this.sampled = { source, counts };
    return intervalLoss(before, counts);
  }

  /** An RTP packet of the microphone. */
  rtp(packet: Buffer): void {
    const ssrc = ssrcOf(packet);
    const seq = sequenceOf(packet);
    if (this.source?.ssrc === ssrc) this.source.update(seq);
    else this.source = new SourceSequence(ssrc, seq);
  }

  /**
   * An RTCP packet (compound or not) from the client: the receiver report that answers its sender
   * report, or undefined when it holds none. A sender report about a source that sent no RTP here
   * yet is answered with a report without blocks.
   */
  rtcp(packet: Buffer): Buffer | undefined {
    for (const part of rtcpPackets(packet)) if (part[1] === RTCP_SR && part.length >= 28) return this.answer(part);
    return undefined;
  }

  private answer(sr: Buffer): Buffer {
    const sender = sr.readUInt32BE(4);
    const source = this.source?.ssrc === sender ? this.source : undefined;
    const report = Buffer.alloc(source ? RR_BYTES : 8);
    report[0] = 0x80 | (source ? 1 : 0);
    report[1] = RTCP_RR;
    report.writeUInt16BE(report.length / 4 - 1, 2);
    report.writeUInt32BE(this.ssrc, 4);
    if (!source) return report;
    const { fraction, lost, extendedMax } = source.report();
    report.writeUInt32BE(sender, 8);
    report[12] = fraction;
    report.writeIntBE(lost, 13, 3);
    report.writeUInt32BE(extendedMax >>> 0, 16);
    // Jitter (20) stays 0: arrival times measured on the event loop would report its delays as the network's.
    // LSR: the middle 32 bits of the report's NTP time. DLSR (28) stays 0: it is answered at once.
    report.writeUInt32BE(sr.readUInt32BE(10), 24);
    return report;
  }
}
