import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import nodeDataChannel from 'node-datachannel';
import type { Logger } from 'pino';
import { AppError } from '../protocol/errors.js';
import type { MediaPlan } from './offer.js';
import { ReceiverReports } from './receiver-reports.js';
import { isRtcp, isRtp } from './rtp.js';
import { type SlotReading, SlotReports } from './slot-reports.js';

const { Audio, PeerConnection, RtcpReceivingSession } = nodeDataChannel;
type Track = ReturnType<InstanceType<typeof PeerConnection>['addTrack']>;
type RtcpSession = InstanceType<typeof RtcpReceivingSession>;

export interface MediaNetwork {
  /** ICE servers in libdatachannel's form (`stun:host:port`, `turn:user:pass@host:port`), fresh per peer. */
  iceServers(): string[];
  bindAddress?: string | undefined;
  /** The address clients should reach, written into host candidates (a public IP behind NAT). */
  announceAddress?: string | undefined;
}

export interface MediaPeerHandlers {
  candidate(candidate: string, mid: string, index: number): void;
  /** An RTP packet from the client's microphone (its RTCP is answered here, see ReceiverReports). */
  rtp(packet: Buffer): void;
  /** ICE or DTLS failed and the peer closed itself: the client must offer again. */
  closed(): void;
  /** The first slot's sequence numbers skipped so far (SlotStream.skipped): lost before the listener's downlink. */
  firstSlotSkipped?(): number;
}

const CNAME = 'wigglypuff';

type Role =
  | { role: 'uplink'; media: NonNullable<MediaPlan['uplink']> }
  | { role: 'slot'; media: MediaPlan['slots'][number]; slot: number }
  | { role: 'unused'; media: MediaPlan['unused'][number] };

/**
 * One participant's WebRTC connection to the SFU (libdatachannel through node-datachannel): the
 * answer to the client's offer, the microphone track in, and the receive slots out. Every callback
 * from native code is guarded: an exception escaping one would abort the process. It joins the ICE
 * UDP mux listener MediaPorts holds on `port`, so it never binds a socket of its own.
 */
export class MediaPeer {
  private readonly pc: InstanceType<typeof PeerConnection>;
  private readonly slotTracks: Track[] = [];
  private readonly slotOpen: boolean[] = [];
  /** Every track, held for the peer's life: a Track object that is garbage-collected stops its callbacks. */
  private readonly tracks: Track[] = [];
  /** The tracks' RTCP sessions, held alike. */
  private readonly rtcpSessions: RtcpSession[] = [];
  private readonly midIndex = new Map<string, number>();
  /** The microphone's reception (none when listen-only). */
  private uplinkReports: ReceiverReports | undefined;
  /** The listener's reports about its first slot: its downlink (none without slots). */
  private firstSlotReports: SlotReports | undefined;
  private closed = false;

  constructor(
    readonly name: string,
    plan: MediaPlan,
    slotSsrcs: readonly number[],
    readonly port: number,
    private readonly network: MediaNetwork,
    private readonly handlers: MediaPeerHandlers,
    private readonly log: Logger,
  ) {
    this.pc = new PeerConnection(name, {
      iceServers: network.iceServers(),
      bindAddress: network.bindAddress,
      enableIceUdpMux: true,
      portRangeBegin: port,
      portRangeEnd: port,
      disableAutoNegotiation: true,
    });
    try {
      this.addTracks(plan, slotSsrcs);
    } catch (error) {
      this.close();
      throw refused(error);
    }
  }

  private addTracks(plan: MediaPlan, slotSsrcs: readonly number[]): void {
    const handlers = this.handlers;
    const roles: Role[] = [
      ...(plan.uplink ? [{ role: 'uplink' as const, media: plan.uplink }] : []),
      ...plan.slots.map((media, slot) => ({ role: 'slot' as const, media, slot })),
      ...plan.unused.map((media) => ({ role: 'unused' as const, media })),
    ].sort((a, b) => a.media.index - b.media.index);

    for (const entry of roles) {
      const { media } = entry;
      this.midIndex.set(media.mid, media.index);
      if (entry.role === 'uplink') {
        const description = new Audio(media.mid, 'RecvOnly');
        description.addOpusCodec(entry.media.opus.payloadType, entry.media.opus.fmtp || undefined);
        if (media.audioLevelId !== undefined) {
          description.parseSdpLine(`a=extmap:${media.audioLevelId} urn:ietf:params:rtp-hdrext:ssrc-audio-level`);
        }
        // No native RTCP session here (see ReceiverReports): without a media handler the track
        // hands its RTCP to onMessage, and sends the RTCP it is given whatever its direction.
        const track = this.pc.addTrack(description);
        this.tracks.push(track);
        const reports = new ReceiverReports(slotSsrcs[0] ?? randomInt(1, 0xffffffff));
        this.uplinkReports = reports;
        track.onMessage(
          this.guard('uplink', (packet: Buffer) => {
            if (isRtp(packet)) {
              reports.rtp(packet);
              handlers.rtp(packet);
            } else if (isRtcp(packet)) {
              const report = reports.rtcp(packet);
              if (report && !this.closed) track.sendMessageBinary(report);
            }
          }),
        );
      } else if (entry.role === 'slot') {
        const description = new Audio(media.mid, 'SendOnly');
        description.addOpusCodec(entry.media.opus.payloadType, entry.media.opus.fmtp || undefined);
        description.addSSRC(slotSsrcs[entry.slot]!, CNAME, CNAME, `slot-${entry.slot}`);
        if (entry.slot === 0) {
          // The first slot's RTCP comes here (its receiver reports: the downlink's loss and round
          // trip), so the SFU can send its sender reports on it too. One callback per peer, not per slot.
          this.slotTracks.push(this.addReportedSlot(description, slotSsrcs[0]!));
        } else {
          // No onMessage: each registered callback is one more libuv async handle, and libuv walks them
          // all on every wake-up of the loop. The receivers' RTCP is consumed natively.
          this.slotTracks.push(this.addTrackWithRtcp(description));
        }
      } else if (media.kind === 'audio') {
        const description = new Audio(media.mid, 'Inactive');
        description.addOpusCodec(media.opus?.payloadType ?? 111);
        this.tracks.push(this.pc.addTrack(description));
      }
    }

    this.pc.onLocalCandidate(
      this.guard('candidate', (candidate: string, mid: string) => {
        handlers.candidate(this.announce(candidate.replace(/^a=/, '')), mid, this.midIndex.get(mid) ?? 0);
      }),
    );
  }

  /** Adds the first slot's track, whose RTCP (the listener's reports about it) SlotReports reads. */
  private addReportedSlot(description: InstanceType<typeof Audio>, ssrc: number): Track {
    const track = this.pc.addTrack(description);
    this.tracks.push(track);
    const reports = new SlotReports(ssrc);
    this.firstSlotReports = reports;
    // Without a media handler the track hands its RTCP to onMessage, and sends the RTCP it is given.
    track.onMessage(
      this.guard('slot', (packet: Buffer) => {
        if (isRtcp(packet)) reports.rtcp(packet, performance.now(), Date.now(), this.handlers.firstSlotSkipped?.() ?? 0);
      }),
    );
    return track;
  }

  /**
   * Adds a send-only track whose incoming RTCP (the listeners' receiver reports) libdatachannel's
   * RtcpReceivingSession consumes natively: it never crosses into JavaScript, nor piles up in the
   * track's queue.
   */
  private addTrackWithRtcp(description: InstanceType<typeof Audio>): Track {
    const track = this.pc.addTrack(description);
    const rtcp = new RtcpReceivingSession();
    track.setMediaHandler(rtcp);
    this.tracks.push(track);
    this.rtcpSessions.push(rtcp);
    return track;
  }

  /**
   * Answers the client's offer; the SDP already carries the server's candidates. An offer
   * libdatachannel refuses is the client's mistake: AppError `invalid_message`, saying why.
   */
  answer(offer: string): string {
    let sdp: string | undefined;
    try {
      this.pc.setRemoteDescription(offer, 'offer');
      this.pc.setLocalDescription('answer');
      sdp = this.pc.localDescription()?.sdp;
    } catch (error) {
      throw refused(error);
    }
    if (!sdp) throw new AppError('invalid_message', 'the offer was refused: it gives nothing to answer');
    return this.announceSdp(sdp);
  }

  /** A trickled candidate; one libdatachannel cannot read is refused with AppError `invalid_message`. */
  addRemoteCandidate(candidate: string, mid: string): void {
    if (this.closed) return;
    try {
      this.pc.addRemoteCandidate(candidate, mid);
    } catch (error) {
      throw new AppError('invalid_message', `ICECandidate refused: ${reasonOf(error)}`);
    }
  }

  /** The share of the microphone's packets lost since the last call; null when listen-only or none expected. */
  sampleUplinkLoss(): number | null {
    return this.uplinkReports?.sampleLoss() ?? null;
  }

  /** What the listener's reports about its first slot said within `maxAgeMs`; null without slots. */
  downlinkReading(nowMs: number, maxAgeMs: number): SlotReading | null {
    return this.firstSlotReports?.reading(nowMs, maxAgeMs) ?? null;
  }

  /** Sends a sender report on the first slot (so the listener's next report carries a round trip). */
  sendFirstSlotReport(rtpTimestamp: number, packets: number, octets: number): void {
    const reports = this.firstSlotReports;
    const track = this.slotTracks[0];
    if (!reports || !track || this.closed || !this.slotOpen[0]) return;
    try {
      track.sendMessageBinary(reports.senderReport(Date.now(), rtpTimestamp, packets, octets));
    } catch {
      // the track closed under us; the health poll closes the peer
    }
  }

  get slotCount(): number {
    return this.slotTracks.length;
  }

  /** Sends an RTP packet on a receive slot; false when the slot is not open (yet, or any more). */
  send(slot: number, packet: Buffer): boolean {
    const track = this.slotTracks[slot];
    if (!track || this.closed) return false;
    try {
      if (!this.slotOpen[slot]) {
        // Asked only until the slot opens: a slot never reopens, and a closed one throws below.
        if (!track.isOpen()) return false;
        this.slotOpen[slot] = true;
      }
      return track.sendMessageBinary(packet);
    } catch {
      return false; // the track closed under us; the health poll closes the peer
    }
  }

  /**
   * Closes the peer when ICE or DTLS failed, and tells its handlers. Polled by the room (no state
   * callback: a callback lives as long as the native peer and would keep the process from exiting).
   */
  checkHealth(): void {
    if (this.closed || this.healthy()) return;
    this.close();
    try {
      this.handlers.closed();
    } catch (error) {
      this.log.error({ err: error, peer: this.name }, 'media close handler failed');
    }
  }

  healthy(): boolean {
    if (this.closed) return false;
    const state = this.pc.state();
    return state !== 'failed' && state !== 'closed';
  }

  /** Closes the peer (its owner's decision: the handlers are not told). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      // Closing each track releases its callbacks; closing the peer alone would not.
      for (const track of this.tracks) track.close();
      this.pc.close();
    } catch (error) {
      this.log.debug({ err: error, peer: this.name }, 'closing the peer failed');
    }
  }

  private guard<A extends unknown[]>(what: string, fn: (...args: A) => void): (...args: A) => void {
    return (...args: A) => {
      try {
        fn(...args);
      } catch (error) {
        this.log.error({ err: error, peer: this.name, callback: what }, 'media callback failed');
      }
    };
  }

  private announce(candidate: string): string {
    const address = this.network.announceAddress;
    if (!address) return candidate;
    // candidate:<foundation> <component> <transport> <priority> <address> <port> typ host ...
    const fields = candidate.split(' ');
    if (fields.length > 7 && fields[7] === 'host') fields[4] = address;
    return fields.join(' ');
  }

  private announceSdp(sdp: string): string {
    if (!this.network.announceAddress) return sdp;
    return sdp
      .split('\r\n')
      .map((line) => (line.startsWith('a=candidate:') ? `a=${this.announce(line.slice(2))}` : line))
      .map((line) => (line.startsWith('c=IN IP4 ') && !line.endsWith(' 0.0.0.0') ? `c=IN IP4 ${this.network.announceAddress}` : line))
      .join('\r\n');
  }
}

/** libdatachannel's reason, without its prefix ("libdatachannel error while adding remote description: ..."). */
const reasonOf = (error: unknown): string => String((error as Error)?.message ?? error).replace(/^libdatachannel error while [^:]*: /, '');

const refused = (error: unknown): AppError => new AppError('invalid_message', `the offer was refused: ${reasonOf(error)}`);
