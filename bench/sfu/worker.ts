/*
 * A client process of the SFU forwarding benchmark (bench/sfu-forwarding.ts starts it; not run by hand).
 *
 * It runs publishers (teachers) and/or listeners (students; with --student-mics their microphones
 * publish silence too), either as WebRTC clients of the Wigglypuff SFU (node-datachannel
 * PeerConnections, signaling over the room WebSocket) or as plain UDP sockets of the baseline relay.
 * Commands come over IPC (see wire.ts): setup, start, report, stop. It exits when its parent goes
 * away.
 *
 * Not the SDK's RoomAudio, on purpose: it needs an RTCPeerConnection (libwebrtc, whose encoder and
 * jitter buffer would take the client processes' CPU the measurement needs for hundreds of
 * streams), while node-datachannel's raw RTP tracks send and count packets at almost no cost; the
 * signaling here is the few messages of the recipe.
 */

import { randomInt } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import nodeDataChannel from 'node-datachannel';
import WebSocket from 'ws';
import {
  AUDIO_LEVEL_EXT_ID,
  AUDIO_LEVEL_URI,
  type ClientSpec,
  type FromWorker,
  isRtcp,
  type ListenerReport,
  LOUD_LEVEL,
  makePacket,
  OPUS_PT,
  type PublisherReport,
  payloadOffset,
  SEND_TIME_OFFSET,
  type SetupRequest,
  SILENT_LEVEL,
  type StartRequest,
  stampPacket,
  type ToWorker,
  TS_STEP,
} from './wire.js';

const { Audio, PeerConnection } = nodeDataChannel;
type Pc = InstanceType<typeof PeerConnection>;
type Track = ReturnType<Pc['addTrack']>;

const MAX_PROBLEMS = 30;
const problems: string[] = [];
let problemCount = 0;
function problem(text: string): void {
  problemCount++;
  if (problems.length < MAX_PROBLEMS) problems.push(text);
}

function send(message: FromWorker): void {
  process.send?.(message);
}

let stopping = false;

// ---------------------------------------------------------------------------------------------
// Listener bookkeeping (shared by both modes).

class Listeners {
  readonly count: number;
  private readonly rooms: Int32Array;
  private readonly slots: number;
  private total = 0;
  private warmup = 0;
  private measured = 0;
  private started = false;
  private seen = new Uint8Array(0);
  readonly receivedMeasured: Int32Array;
  readonly receivedAll: Int32Array;
  private latencies = new Float64Array(0);
  private latencyCount = 0;
  private readonly lastCounter: Float64Array;
  private readonly lastSeq: Uint32Array;
  private readonly lastTs: Uint32Array;
  private readonly lastSsrc: Float64Array;
  duplicates = 0;
  unexpected = 0;
  rewriteErrors = 0;
  ssrcChanges = 0;
  reordered = 0;
  rtcp = 0;

  constructor(specs: ClientSpec[], slots: number) {
    this.count = specs.length;
    this.slots = slots;
    this.rooms = Int32Array.from(specs.map((spec) => spec.room));
    this.receivedMeasured = new Int32Array(this.count);
    this.receivedAll = new Int32Array(this.count);
    this.lastCounter = new Float64Array(this.count * slots).fill(-1);
    this.lastSeq = new Uint32Array(this.count * slots);
    this.lastTs = new Uint32Array(this.count * slots);
    this.lastSsrc = new Float64Array(this.count * slots).fill(-1);
  }

  start(request: StartRequest): void {
    this.warmup = request.warmupPackets;
    this.measured = request.measuredPackets;
    this.total = this.warmup + this.measured;
    this.seen = new Uint8Array(this.count * this.total);
    this.latencies = new Float64Array(this.count * this.measured);
    this.started = true;
  }

  /** One packet for listener `index` on receive slot `slot`, received at `now` (hrtime ns). */
  packet(index: number, slot: number, packet: Buffer, now: bigint): void {
    if (isRtcp(packet)) {
      this.rtcp++;
      return;
    }
    const offset = payloadOffset(packet);
    if (offset < 0 || !this.started) {
      this.unexpected++;
      if (!this.started) problem(`listener ${index}: a packet before the start (slot ${slot})`);
      return;
    }
    const counter = packet.readUInt32BE(offset + 8);
    const publisher = packet.readUInt32BE(offset + 12);
    if (publisher !== this.rooms[index] || counter >= this.total) {
      this.unexpected++;
      problem(`listener ${index}: packet from publisher ${publisher} counter ${counter} (room ${this.rooms[index]})`);
      return;
    }
    const cell = index * this.total + counter;
    if (this.seen[cell]) {
      this.duplicates++;
      return;
    }
    this.seen[cell] = 1;
    this.receivedAll[index]!++;
    if (counter >= this.warmup) {
      this.receivedMeasured[index]!++;
      const sentAt = packet.readBigUInt64BE(offset); // the send time opens the payload
      this.latencies[this.latencyCount++] = Number(now - sentAt) / 1000;
    }
    // The rewritten stream must stay continuous: sequence +1 and timestamp +960 per counter step.
    if (slot >= this.slots) return;
    const s = index * this.slots + slot;
    const seq = packet.readUInt16BE(2);
    const ts = packet.readUInt32BE(4);
    const ssrc = packet.readUInt32BE(8);
    const last = this.lastCounter[s]!;
    if (last >= 0) {
      if (ssrc !== this.lastSsrc[s]) {
        this.ssrcChanges++;
      } else if (counter < last) {
        this.reordered++;
        return;
      } else {
        const step = counter - last;
        if (((this.lastSeq[s]! + step) & 0xffff) !== seq || (this.lastTs[s]! + step * TS_STEP) >>> 0 !== ts) {
          this.rewriteErrors++;
          if (this.rewriteErrors <= 3) {
            problem(
              `listener ${index} slot ${slot}: counter ${last}->${counter} but seq ${this.lastSeq[s]}->${seq}, ts ${this.lastTs[s]}->${ts}`,
            );
          }
        }
      }
    }
    this.lastCounter[s] = counter;
    this.lastSeq[s] = seq;
    this.lastTs[s] = ts;
    this.lastSsrc[s] = ssrc;
  }

  report(): ListenerReport {
    let hearing = 0;
    for (let i = 0; i < this.count; i++) if (this.receivedAll[i]! > 0) hearing++;
    return {
      listeners: this.count,
      receivedMeasured: this.receivedMeasured,
      receivedAll: this.receivedAll,
      latencies: this.latencies.slice(0, this.latencyCount),
      duplicates: this.duplicates,
      unexpected: this.unexpected,
      rewriteErrors: this.rewriteErrors,
      ssrcChanges: this.ssrcChanges,
      reordered: this.reordered,
      rtcp: this.rtcp,
      listenersHearing: hearing,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Publishers (shared by both modes): the send schedule.

interface Publisher {
  /** Payload id and stagger slot. */
  id: number;
  /** A student's muted, silent microphone (sends at the StartRequest's micRate), not a teacher (loud). */
  mic: boolean;
  ssrc: number;
  seq0: number;
  ts0: number;
  packet: Buffer;
  /** false when the packet was not sent (track closed, socket error). */
  transmit(packet: Buffer): boolean;
}

let publisherReport: PublisherReport | undefined;

/** A publisher starting from random sequence number and timestamp. */
function newPublisher(id: number, mic: boolean, ssrc: number, transmit: Publisher['transmit']): Publisher {
  return { id, mic, ssrc, seq0: randomInt(0, 0x10000), ts0: randomInt(0, 0x7fffffff), packet: Buffer.alloc(0), transmit };
}

/** Sends a publisher's packets to the relay from `socket`. */
function relaySend(socket: UdpSocket, relayPort: number): Publisher['transmit'] {
  return (packet) => {
    // dgram may queue the send: it gets its own copy, since the next packet is stamped into the
    // same buffer (sendMessageBinary, in the WebRTC mode, copies synchronously).
    socket.send(Buffer.from(packet), relayPort, '127.0.0.1');
    return true;
  };
}

function runPublishers(publishers: Publisher[], request: StartRequest): void {
  const t0 = BigInt(request.t0);
  // A process runs either the teachers or the students' microphones, never both.
  const mics = publishers.some((publisher) => publisher.mic);
  if (mics && !publishers.every((publisher) => publisher.mic)) throw new Error('teachers and microphones in one process');
  const rate = mics ? request.micRate : request.rate;
  const periodNs = 1e9 / rate;
  // The microphones send over the same span of time as the teachers, at their own rate.
  const total = mics
    ? Math.ceil(((request.warmupPackets + request.measuredPackets) * rate) / request.rate)
    : request.warmupPackets + request.measuredPackets;
  const P = request.publishersTotal;
  for (const publisher of publishers) {
    const level = publisher.mic ? SILENT_LEVEL : LOUD_LEVEL;
    publisher.packet = makePacket(request.payload, publisher.ssrc, publisher.seq0, publisher.ts0, publisher.id, level);
  }
  // The run's sends in time order: (k, publisher); publisher p sends packet k at t0 + (k + p / P) * period.
  const order = [...publishers].sort((a, b) => a.id - b.id);
  const due = (i: number): number => {
    const k = Math.floor(i / order.length);
    const p = order[i % order.length]!.id;
    return (k + p / P) * periodNs;
  };
  const lags: number[] = [];
  let sendFailures = 0;
  let i = 0;
  const end = total * order.length;
  const step = (): void => {
    if (stopping) return;
    let now = Number(process.hrtime.bigint() - t0);
    while (i < end && due(i) <= now) {
      const publisher = order[i % order.length]!;
      const k = Math.floor(i / order.length);
      stampPacket(publisher.packet, publisher.seq0, publisher.ts0, k);
      const sentAt = process.hrtime.bigint();
      publisher.packet.writeBigUInt64BE(sentAt, SEND_TIME_OFFSET);
      if (!publisher.transmit(publisher.packet)) sendFailures++;
      lags.push((Number(sentAt - t0) - due(i)) / 1e6);
      i++;
      now = Number(process.hrtime.bigint() - t0);
    }
    if (i < end) {
      // Timers are ms-grained; no spinning (it would steal CPU from the server). Lateness is reported.
      setTimeout(step, Math.max(0, Math.floor((due(i) - now) / 1e6)));
      return;
    }
    const sorted = Float64Array.from(lags).sort();
    publisherReport = {
      sent: lags.length,
      sendFailures,
      lagP99: sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)]! : NaN,
      lagMax: sorted.length ? sorted[sorted.length - 1]! : NaN,
    };
    send({ type: 'sent', publisher: publisherReport });
  };
  const wait = Number(t0 - process.hrtime.bigint()) / 1e6;
  setTimeout(step, Math.max(0, Math.floor(wait)));
}

// ---------------------------------------------------------------------------------------------
// WebRTC clients of the SFU.

interface RtcClient {
  spec: ClientSpec;
  ws: WebSocket | undefined;
  pc: Pc | undefined;
  sendTrack: Track | undefined;
  tracks: Track[];
}

const rtcClients: RtcClient[] = [];
const udpSockets: UdpSocket[] = [];
let listeners: Listeners | undefined;
const publishers: Publisher[] = [];

function connectRtc(spec: ClientSpec, base: string, slots: number, timeoutMs: number, muteAll: boolean): Promise<RtcClient> {
  const client: RtcClient = { spec, ws: undefined, pc: undefined, sendTrack: undefined, tracks: [] };
  rtcClients.push(client);
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (why: string): void => {
      if (settled) {
        if (!stopping) problem(`${spec.uuid}: ${why}`);
        return;
      }
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${spec.uuid}: ${why}`));
    };
    const timer = setTimeout(() => {
      const pc = client.pc;
      const state = pc
        ? `pc ${pc.state()}, ice ${pc.iceState()}, ${client.tracks.filter((t) => t.isOpen()).length}/${client.tracks.length} tracks open`
        : 'no RoomState';
      fail(`not connected after ${timeoutMs} ms (${state})`);
    }, timeoutMs);
    let connected = false;
    let opened = 0;
    const check = (): void => {
      if (!settled && connected && opened === client.tracks.length) {
        settled = true;
        clearTimeout(timer);
        resolve(client);
      }
    };

    const ws = new WebSocket(`${base}/api/room/join/${spec.roomName}/${spec.uuid}`, { perMessageDeflate: false });
    client.ws = ws;
    let answered = false;
    const pendingCandidates: { candidate: string; mid: string }[] = [];
    const pendingRemote: { candidate: string; mid: string }[] = [];
    const sendCandidate = (candidate: string, mid: string): void => {
      ws.send(JSON.stringify({ action: 'ICECandidate', candidate: candidate.replace(/^a=/, ''), sdpMid: mid }));
    };

    const offer = (): void => {
      const pc = new PeerConnection(spec.uuid, {
        iceServers: [],
        bindAddress: '127.0.0.1',
        enableIceUdpMux: false,
        disableAutoNegotiation: true,
      });
      client.pc = pc;
      let mid = 0;
      if (spec.publisher || spec.mic) {
        const audio = new Audio(String(mid++), 'SendOnly');
        audio.addOpusCodec(OPUS_PT);
        const ssrc = randomInt(1, 0xffffffff);
        audio.addSSRC(ssrc, 'bench', 'bench', `mic-${spec.uuid}`);
        audio.parseSdpLine(`a=extmap:${AUDIO_LEVEL_EXT_ID} ${AUDIO_LEVEL_URI}`);
        const track = pc.addTrack(audio);
        client.sendTrack = track;
        client.tracks.push(track);
        track.onOpen(() => {
          opened++;
          check();
        });
        track.onMessage(() => undefined); // RTCP from the SFU, if any
        publishers.push(
          newPublisher(spec.publisherId, !spec.publisher, ssrc, (packet) => {
            try {
              return track.sendMessageBinary(packet);
            } catch {
              return false;
            }
          }),
        );
      }
      for (let slot = 0; slot < slots; slot++) {
        const audio = new Audio(String(mid++), 'RecvOnly');
        audio.addOpusCodec(OPUS_PT);
        const track = pc.addTrack(audio);
        client.tracks.push(track);
        track.onOpen(() => {
          opened++;
          check();
        });
        const index = spec.listener;
        if (index >= 0) {
          track.onMessage((packet: Buffer) => {
            const now = process.hrtime.bigint();
            listeners!.packet(index, slot, packet, now);
          });
        } else {
          track.onMessage((packet: Buffer) => {
            if (!isRtcp(packet)) problem(`${spec.uuid} (publisher) received a packet on slot ${slot}`);
          });
        }
      }
      pc.onLocalCandidate((candidate, candidateMid) => {
        if (answered) sendCandidate(candidate, candidateMid);
        else pendingCandidates.push({ candidate, mid: candidateMid });
      });
      pc.onStateChange((state) => {
        if (state === 'connected') {
          connected = true;
          check();
        } else if (state === 'failed' || state === 'closed' || state === 'disconnected') {
          fail(`peer connection ${state}`);
        }
      });
      pc.setLocalDescription('offer');
      const sdp = pc.localDescription()?.sdp;
      if (!sdp) throw new Error('no local offer');
      ws.send(JSON.stringify({ action: 'SessionDescription', type: 'offer', sdp: withoutCandidates(sdp) }));
    };

    ws.on('message', (data) => {
      let message: {
        action?: string;
        audio_slots?: number;
        sdp?: string;
        type?: string;
        candidate?: string;
        sdpMid?: string;
        code?: string;
        message?: string;
      };
      try {
        message = JSON.parse(data.toString()) as typeof message;
      } catch {
        problem(`${spec.uuid}: non-JSON frame`);
        return;
      }
      try {
        switch (message.action) {
          case 'RoomState':
            if (message.audio_slots !== slots) {
              fail(`RoomState.audio_slots is ${message.audio_slots}, expected ${slots}`);
              return;
            }
            // With --student-mics the teacher mutes everyone first: the students join muted.
            if (spec.publisher && muteAll) ws.send(JSON.stringify({ action: 'MuteAll', result: true }));
            // Candidates are trickled only after the answer: the server handles an offer
            // asynchronously and ignores candidates for a peer it has not created yet.
            offer();
            return;
          case 'SessionDescription':
            if (message.type !== 'answer' || !message.sdp || !client.pc) {
              fail(`unexpected SessionDescription ${JSON.stringify(message).slice(0, 200)}`);
              return;
            }
            // The answer's candidates are added only once the answer is in place (see withoutCandidates).
            client.pc.setRemoteDescription(withoutCandidates(message.sdp), 'answer');
            answered = true;
            for (const c of candidatesOf(message.sdp)) client.pc.addRemoteCandidate(c.candidate, c.mid);
            for (const c of pendingRemote.splice(0)) client.pc.addRemoteCandidate(c.candidate, c.mid);
            for (const c of pendingCandidates.splice(0)) sendCandidate(c.candidate, c.mid);
            return;
          case 'ICECandidate':
            if (!client.pc || !message.candidate) return;
            if (answered) client.pc.addRemoteCandidate(message.candidate, message.sdpMid ?? '0');
            else pendingRemote.push({ candidate: message.candidate, mid: message.sdpMid ?? '0' });
            return;
          case 'ActiveSpeakers':
          case 'ConnectionQuality':
          case 'NewUser':
          case 'UserLeave':
          case 'MuteAll':
          case 'MuteUser':
            return;
          case 'Ack':
            if (!(spec.publisher && muteAll && (message as { of?: string }).of === 'MuteAll'))
              fail(`unexpected ${JSON.stringify(message)}`);
            return;
          case 'Error':
            fail(`Error ${message.code}: ${message.message}`);
            return;
          default:
            fail(`unexpected ${JSON.stringify(message).slice(0, 200)}`);
        }
      } catch (error) {
        const pc = client.pc;
        fail(
          `signaling failed: ${(error as Error).message} (pc ${pc?.state()}, ice ${pc?.iceState()}, signaling ${pc?.signalingState()}, gathering ${pc?.gatheringState()})`,
        );
      }
    });
    ws.on('error', (error) => fail(`socket error ${error.message}`));
    ws.on('close', (code) => {
      if (!stopping) fail(`room socket closed (${code})`);
    });
  });
}

/*
 * Candidates travel only by trickle (ICECandidate), never inside the offer or the answer, and this
 * client adds the server's only after setRemoteDescription(answer) has returned. Otherwise, on
 * loopback, ICE can connect and the server's DTLS handshake (it answers setup:active) can reach this
 * client's certificate check while libdatachannel is still inside setRemoteDescription, before it
 * has stored the answer's fingerprint: the client rejects the server's certificate ("unknown CA"),
 * both peers fail, and setRemoteDescription throws "Got a remote candidate without ICE transport".
 * That happened to roughly 1 connection in 10-20 when the candidates came inside the SDP, and many
 * others only connected after a 1 s DTLS retransmission.
 */
function withoutCandidates(sdp: string): string {
  return sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates')
    .join('\r\n');
}

function candidatesOf(sdp: string): { candidate: string; mid: string }[] {
  const found: { candidate: string; mid: string }[] = [];
  let mid = '0';
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith('a=mid:')) mid = line.slice('a=mid:'.length);
    else if (line.startsWith('a=candidate:')) found.push({ candidate: line.slice(2), mid });
  }
  return found;
}

async function pool<T>(items: T[], concurrency: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const lanes = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++]!;
      try {
        await run(item);
      } catch (error) {
        failed ??= error;
      }
    }
  });
  await Promise.all(lanes);
  if (failed !== undefined) throw failed;
}

// ---------------------------------------------------------------------------------------------
// Plain UDP clients of the baseline relay.

function bindUdp(onMessage?: (packet: Buffer) => void): Promise<UdpSocket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    udpSockets.push(socket);
    socket.once('error', reject);
    if (onMessage) socket.on('message', (packet) => onMessage(packet));
    socket.bind(0, '127.0.0.1', () => {
      socket.off('error', reject);
      socket.on('error', (error) => problem(`udp socket: ${error.message}`));
      resolve(socket);
    });
  });
}

// ---------------------------------------------------------------------------------------------

async function setup(request: SetupRequest): Promise<Record<string, number>> {
  const listenerSpecs = request.clients.filter((c) => c.listener >= 0).sort((a, b) => a.listener - b.listener);
  if (listenerSpecs.some((spec, i) => spec.listener !== i)) throw new Error('listener indexes must be 0..n-1');
  const slots = request.mode === 'webrtc' ? request.slots : 1;
  listeners = listenerSpecs.length ? new Listeners(listenerSpecs, slots) : undefined;
  const ports: Record<string, number> = {};
  if (request.mode === 'webrtc') {
    await pool(request.clients, request.concurrency, (spec) =>
      connectRtc(spec, request.ws, request.slots, request.timeoutMs, request.muteAll),
    );
    return ports;
  }
  for (const spec of request.clients) {
    if (spec.publisher) {
      const socket = await bindUdp();
      ports[`pub:${spec.room}`] = socket.address().port;
      publishers.push(newPublisher(spec.publisherId, false, randomInt(1, 0xffffffff), relaySend(socket, request.relayPort)));
    } else {
      const index = spec.listener;
      const socket = await bindUdp((packet) => {
        const now = process.hrtime.bigint();
        listeners!.packet(index, 0, packet, now);
      });
      ports[`lis:${index}`] = socket.address().port;
      if (spec.mic) {
        // The muted microphone: the relay has an empty route for it (it drops what it gets).
        publishers.push(newPublisher(spec.publisherId, true, randomInt(1, 0xffffffff), relaySend(socket, request.relayPort)));
      }
    }
  }
  return ports;
}

function stop(): void {
  if (stopping) return;
  stopping = true;
  for (const client of rtcClients) {
    try {
      client.ws?.close(1000);
    } catch {
      // already closed
    }
    try {
      client.pc?.close();
    } catch {
      // already closed
    }
  }
  for (const socket of udpSockets) {
    try {
      socket.close();
    } catch {
      // already closed
    }
  }
  setTimeout(() => {
    try {
      nodeDataChannel.cleanup();
    } catch {
      // best effort
    }
    process.exit(0);
  }, 300).unref();
  setTimeout(() => process.exit(0), 3000);
}

process.on('disconnect', () => {
  stop();
  setTimeout(() => process.exit(0), 500);
});
process.on('message', (raw) => {
  const message = raw as ToWorker;
  switch (message.type) {
    case 'setup': {
      const started = performance.now();
      setup(message).then(
        (ports) => send({ type: 'ready', ports, setupMs: performance.now() - started }),
        (error: unknown) => send({ type: 'error', message: error instanceof Error ? error.message : String(error) }),
      );
      return;
    }
    case 'start':
      listeners?.start(message);
      if (publishers.length) runPublishers(publishers, message);
      return;
    case 'report':
      send({ type: 'report', publisher: publisherReport, listener: listeners?.report(), problems, problemCount });
      return;
    case 'stop':
      stop();
      return;
  }
});
// Debugging aid (see bench/sfu-forwarding.ts): libdatachannel's own log, on stderr.
const libdatachannelLog = process.env.BENCH_SFU_LIBDATACHANNEL_LOG;
if (libdatachannelLog) {
  nodeDataChannel.initLogger(libdatachannelLog as Parameters<typeof nodeDataChannel.initLogger>[0], (level, text) =>
    console.error(`libdatachannel ${level}: ${text}`),
  );
}
send({ type: 'hello', pid: process.pid });
