/*
 * Shared by the SFU forwarding benchmark's processes (bench/sfu-forwarding.ts, bench/sfu/worker.ts,
 * bench/sfu/relay.ts): the synthetic RTP packet and the IPC messages.
 *
 * Packet (what a publisher sends, 12 + 8 + payload bytes; 120 with the default 100-byte payload):
 *
 *   0      V=2, X=1 (0x90)
 *   1      M | payload type 111 (Opus); marker on the first packet only
 *   2..3   sequence number, +1 per packet (random start)
 *   4..7   timestamp, +960 per packet (20 ms at 48 kHz, random start)
 *   8..11  SSRC
 *   12..19 RFC 8285 one-byte header extension (0xBEDE, 1 word): id 1 = RFC 6464 ssrc-audio-level,
 *          V flag set, level 10 (-10 dBov: loud; a student's muted microphone: 127, silence),
 *          2 bytes of padding
 *   20..27 payload: send time, process.hrtime.bigint() (CLOCK_MONOTONIC, ns), big-endian
 *   28..31 payload: packet counter k (0, 1, 2, ...) of this publisher
 *   32..35 payload: publisher id (a teacher: its room index; a student's microphone: rooms + its
 *          listener index)
 *   36..   payload: filler up to the payload size
 *
 * The SFU rewrites SSRC, sequence number, timestamp and payload type (and may set the marker) but
 * forwards the extension and the payload untouched; the receiver finds the payload after the header.
 */

export const OPUS_PT = 111;
export const AUDIO_LEVEL_EXT_ID = 1;
export const AUDIO_LEVEL_URI = 'urn:ietf:params:rtp-hdrext:ssrc-audio-level';
/** The loud level the teachers put in every packet (0 = loudest, 127 = silence). */
export const LOUD_LEVEL = 10;
/** The level of the students' (muted) microphones, with --student-mics: silence. */
export const SILENT_LEVEL = 127;
export const TS_STEP = 960;
export const HEADER_BYTES = 20;
/** send time (8) + counter (4) + publisher (4) */
export const MIN_PAYLOAD = 16;

export function makePacket(payloadBytes: number, ssrc: number, seq: number, ts: number, publisher: number, level: number): Buffer {
  const packet = Buffer.alloc(HEADER_BYTES + Math.max(MIN_PAYLOAD, payloadBytes));
  packet[0] = 0x90;
  packet[1] = OPUS_PT;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(ts >>> 0, 4);
  packet.writeUInt32BE(ssrc >>> 0, 8);
  packet.writeUInt16BE(0xbede, 12);
  packet.writeUInt16BE(1, 14);
  packet[16] = (AUDIO_LEVEL_EXT_ID << 4) | 0; // id 1, length 1 byte
  packet[17] = (level < 127 ? 0x80 : 0) | level;
  packet.writeUInt32BE(publisher, 32);
  for (let i = 36; i < packet.length; i++) packet[i] = (i * 37) & 0xff; // opaque "audio"
  return packet;
}

/** Sets packet k's header fields and counter; the send time is written by the caller just before sending. */
export function stampPacket(packet: Buffer, seq0: number, ts0: number, k: number): void {
  packet[1] = (k === 0 ? 0x80 : 0) | OPUS_PT;
  packet.writeUInt16BE((seq0 + k) & 0xffff, 2);
  packet.writeUInt32BE((ts0 + k * TS_STEP) >>> 0, 4);
  packet.writeUInt32BE(k >>> 0, 28);
}

export const SEND_TIME_OFFSET = 20;

/** Offset of the payload in a received RTP packet (after CSRCs and the header extension), or -1. */
export function payloadOffset(packet: Buffer): number {
  if (packet.length < 12 || packet[0]! >> 6 !== 2) return -1;
  let offset = 12 + 4 * (packet[0]! & 0x0f);
  if (packet[0]! & 0x10) {
    if (packet.length < offset + 4) return -1;
    offset += 4 + 4 * packet.readUInt16BE(offset + 2);
  }
  return packet.length >= offset + MIN_PAYLOAD ? offset : -1;
}

export const isRtcp = (packet: Buffer): boolean => packet.length >= 2 && packet[1]! >= 192 && packet[1]! <= 223;

// ---------------------------------------------------------------------------------------------
// IPC between the orchestrator and the worker / relay processes (serialization: 'advanced').

/** One client a worker runs. `room` indexes the room; publishers publish the room's teacher voice. */
export interface ClientSpec {
  uuid: string;
  room: number;
  roomName: string;
  /** The room's teacher: publishes (microphone m-line + K receive slots). */
  publisher: boolean;
  /** Index among the worker's listeners (students), or -1. */
  listener: number;
  /** A student that also publishes, silence, while muted by the teacher's MuteAll (--student-mics). */
  mic: boolean;
  /** Payload id and stagger slot of whatever this client publishes (see the packet layout). */
  publisherId: number;
}

export type SetupRequest =
  | {
      type: 'setup';
      mode: 'webrtc';
      ws: string;
      slots: number;
      clients: ClientSpec[];
      concurrency: number;
      timeoutMs: number;
      /** Teachers send MuteAll right after joining, before their offer. */
      muteAll: boolean;
    }
  | {
      type: 'setup';
      mode: 'udp';
      relayPort: number;
      clients: ClientSpec[];
      timeoutMs: number;
    };

export interface StartRequest {
  type: 'start';
  /** process.hrtime.bigint() of packet 0 of publisher 0, as a decimal string. */
  t0: string;
  rate: number;
  /** Packets per second of each student's microphone (--student-mic-rate). */
  micRate: number;
  payload: number;
  /** Packets per teacher: warm-up, then measured. */
  warmupPackets: number;
  measuredPackets: number;
  /** All publishers of the run (for staggering); this worker's publishers are spread over them. */
  publishersTotal: number;
}

export type ToWorker = SetupRequest | StartRequest | { type: 'report' } | { type: 'stop' };

export interface PublisherReport {
  sent: number;
  sendFailures: number;
  /** How late the sends left (ms): p99 and max. */
  lagP99: number;
  lagMax: number;
}

export interface ListenerReport {
  listeners: number;
  /** Distinct measured packets received, per listener. */
  receivedMeasured: Int32Array;
  /** Distinct packets received (warm-up included), per listener. */
  receivedAll: Int32Array;
  /** Measured packets' send->receive latency, microseconds, one per receipt. */
  latencies: Float64Array;
  duplicates: number;
  /** Packets that are not ours, from another room's publisher, or on an unexpected slot. */
  unexpected: number;
  /** Consecutive packets on a slot whose sequence / timestamp step disagrees with the counter step. */
  rewriteErrors: number;
  /** SSRC changes on a slot. */
  ssrcChanges: number;
  /** Packets that arrived after a later one (by counter) on the same slot. */
  reordered: number;
  rtcp: number;
  /** Listeners that received at least one packet. */
  listenersHearing: number;
}

export type FromWorker =
  | { type: 'hello'; pid: number }
  | { type: 'ready'; ports: Record<string, number>; setupMs: number }
  | { type: 'sent'; publisher: PublisherReport }
  | {
      type: 'report';
      publisher: PublisherReport | undefined;
      listener: ListenerReport | undefined;
      problems: string[];
      problemCount: number;
    }
  | { type: 'error'; message: string };

export type ToRelay = { type: 'routes'; routes: [number, number[]][] } | { type: 'report' } | { type: 'stop' };
export type FromRelay =
  | { type: 'hello'; pid: number; port: number }
  | { type: 'ready' }
  | { type: 'report'; received: number; forwarded: number; unknownSource: number; errors: number };
