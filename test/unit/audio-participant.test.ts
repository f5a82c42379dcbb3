/**
 * AudioParticipant against a stand-in for the server: a WebSocket server that speaks the room join
 * and audio signaling protocol (RoomState with audio_slots, offer/answer, trickle ICE,
 * ActiveSpeakers, MediaReconnect) and answers each offer with a libwebrtc PeerConnection that plays
 * fixed tones on the receive slots and listens to the microphone. No room logic, no SFU: this
 * checks the client side of the protocol, so that tests against the real server fail only for the
 * server's reasons.
 */

import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { type WebSocket, WebSocketServer } from 'ws';
import { AudioParticipant } from '../support/audio-participant.js';
import { ToneDetector, ToneSource } from '../support/tone-media.js';
import { RTCPeerConnection } from '../support/wrtc.js';

type Json = Record<string, any>;

/** One client connection of the stand-in server. */
class FakeConnection {
  pc: RTCPeerConnection | undefined;
  readonly offers: string[] = [];
  readonly candidatesIn: Json[] = [];
  readonly errors: unknown[] = [];
  readonly uplink = new ToneDetector();
  closed = false;
  private remoteSet = false;
  private queued: RTCIceCandidateInit[] = [];
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly socket: WebSocket,
    readonly uuid: string,
    private readonly slotTones: ToneSource[],
  ) {
    socket.on('message', (data) => {
      const message = JSON.parse(String(data)) as Json;
      this.chain = this.chain.then(() => this.handle(message)).catch((error: unknown) => void this.errors.push(error));
    });
    socket.on('close', () => {
      this.closed = true;
      this.closePc();
    });
  }

  send(message: Json): void {
    if (this.socket.readyState === this.socket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** Directions of the m-lines of the last offer. */
  offeredDirections(): string[] {
    const sdp = this.offers.at(-1) ?? '';
    return [...sdp.matchAll(/^a=(sendonly|recvonly|sendrecv|inactive)\r?$/gm)].map((match) => match[1]!);
  }

  closePc(): void {
    this.uplink.detachAll();
    this.pc?.close();
    this.pc = undefined;
  }

  private async handle(message: Json): Promise<void> {
    if (message.action === 'SessionDescription' && message.type === 'offer') {
      this.offers.push(message.sdp);
      await this.answer(message.sdp);
    } else if (message.action === 'ICECandidate') {
      this.candidatesIn.push(message);
      const candidate = { candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex };
      if (this.remoteSet && this.pc) await this.pc.addIceCandidate(candidate);
      else this.queued.push(candidate);
    }
  }

  /** Like the SFU: the sending m-line is the microphone, the receiving ones are slots, in order. */
  private async answer(sdp: string): Promise<void> {
    this.closePc();
    this.remoteSet = false;
    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    pc.onicecandidate = ({ candidate }) => {
      if (candidate?.candidate && this.pc === pc) {
        this.send({
          action: 'ICECandidate',
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex,
        });
      }
    };
    await pc.setRemoteDescription({ type: 'offer', sdp });
    const directions = this.offeredDirections();
    let slot = 0;
    for (const [index, transceiver] of pc.getTransceivers().entries()) {
      if (directions[index] === 'sendonly') {
        this.uplink.attach(0, transceiver.receiver.track);
      } else if (directions[index] === 'recvonly') {
        const tone = this.slotTones[slot++];
        if (tone) {
          transceiver.direction = 'sendonly';
          await transceiver.sender.replaceTrack(tone.track);
        }
      }
    }
    const answer = await pc.createAnswer();
    await pc.setLocalDescription(answer);
    this.send({ action: 'SessionDescription', type: 'answer', sdp: answer.sdp });
    this.remoteSet = true;
    for (const candidate of this.queued.splice(0)) await pc.addIceCandidate(candidate);
  }
}

/** The stand-in server: ws://127.0.0.1:PORT/api/room/join/{room}/{uuid}. */
class FakeServer {
  readonly connections: FakeConnection[] = [];
  /** audio_slots put in RoomState; undefined: left out. */
  audioSlots: number | undefined = 2;
  private constructor(
    private readonly wss: WebSocketServer,
    readonly slotTones: ToneSource[],
  ) {
    wss.on('connection', (socket, request) => {
      const match = /^\/api\/room\/join\/([^/]+)\/([^/?]+)/.exec(request.url ?? '');
      if (!match) return socket.close(4004);
      const [, room, uuid] = match;
      const connection = new FakeConnection(socket, uuid!, this.slotTones);
      this.connections.push(connection);
      if (room === 'no-state') return; // never answers the join
      const state: Json = {
        action: 'RoomState',
        room,
        seq: 1,
        master_uuid: 'teacher',
        users: [uuid],
        id_quran: null,
        aya: null,
        muted: [],
        muted_all: false,
      };
      if (this.audioSlots !== undefined) state.audio_slots = this.audioSlots;
      connection.send(state);
    });
  }

  static async start(slotTones: ToneSource[]): Promise<FakeServer> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    return new FakeServer(wss, slotTones);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}`;
  }

  connection(uuid: string): FakeConnection {
    const found = this.connections.filter((connection) => connection.uuid === uuid).at(-1);
    assert.ok(found, `no connection from ${uuid}`);
    return found;
  }

  async close(): Promise<void> {
    for (const connection of this.connections) {
      connection.closePc();
      connection.uplink.stop();
      connection.socket.terminate();
    }
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 10_000, explain = () => ''): Promise<void> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} ${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let server: FakeServer;
const slotTones = [new ToneSource({ hz: 660 }), new ToneSource({ hz: 880 })];
const participants: AudioParticipant[] = [];

before(async () => {
  for (const tone of slotTones) tone.start();
  server = await FakeServer.start(slotTones);
});

after(async () => {
  await Promise.all(participants.map((participant) => participant.close()));
  await server.close();
  for (const tone of slotTones) tone.stop();
});

test('a speaking participant: offer per the recipe, hears each slot, is heard, follows MediaReconnect', async () => {
  server.audioSlots = 2;
  const ali = await AudioParticipant.join(server.url, 'halaqa-1', 'ali', { toneHz: 1100 });
  participants.push(ali);
  assert.equal(ali.slots, 2);
  assert.equal(ali.offers, 1);
  const fake = server.connection('ali');
  await until('the offer', () => fake.offers.length === 1);
  assert.deepEqual(fake.offeredDirections(), ['sendonly', 'recvonly', 'recvonly'], 'microphone first, then the slots');

  await ali.waitForConnected(10_000);
  assert.ok(fake.candidatesIn.length > 0, 'local candidates were trickled');
  for (const candidate of fake.candidatesIn) {
    // The SDK sends every signal with a request id (its seam, sendSignal), so a refusal names it.
    assert.deepEqual(Object.keys(candidate).sort(), ['action', 'candidate', 'id', 'sdpMLineIndex', 'sdpMid']);
    assert.match(candidate.candidate, /^candidate:/);
  }
  await ali.waitUntilHears([660, 880], { exactly: true, timeoutMs: 5000 });
  await until('each slot filled', () => ali.hearsOnSlot(0).has(660) && ali.hearsOnSlot(1).has(880));
  await new Promise((resolve) => setTimeout(resolve, 350));
  assert.deepEqual([...ali.hearsOnSlot(0)], [660], ali.describe());
  assert.deepEqual([...ali.hearsOnSlot(1)], [880], ali.describe());
  const stats = await ali.inboundStats();
  assert.ok(stats.packetsReceived > 0 && stats.bytesReceived > 0, JSON.stringify(stats));
  assert.ok((stats.byMid['1'] ?? 0) > 0 && (stats.byMid['2'] ?? 0) > 0, JSON.stringify(stats));

  // The microphone reaches the other side, and follows setTone / setAmplitude.
  await until(
    '1100 Hz upstream',
    () => fake.uplink.hears().has(1100),
    5000,
    () => fake.uplink.describe(),
  );
  ali.setTone(1320);
  await until(
    '1320 Hz upstream only',
    () => {
      const heard = [...fake.uplink.hears()];
      return heard.length === 1 && heard[0] === 1320;
    },
    5000,
    () => fake.uplink.describe(),
  );
  ali.setAmplitude(0);
  await until(
    'silence upstream',
    () => fake.uplink.hears().size === 0,
    5000,
    () => fake.uplink.describe(),
  );
  ali.setAmplitude(0.3);
  ali.setTone(1100);

  // ActiveSpeakers is recorded.
  fake.send({ action: 'ActiveSpeakers', uuids: ['teacher'], slots: ['teacher', null] });
  const speakers = await ali.waitForActiveSpeakers((s) => s.uuids.includes('teacher'), 2000);
  assert.deepEqual(speakers.slots, ['teacher', null]);
  assert.equal(ali.slotOf('teacher'), 0);
  assert.equal(ali.slotOf('ghost'), undefined);

  // MediaReconnect: a new PeerConnection, a new offer, audio back.
  const firstPc = ali.pc;
  fake.send({ action: 'MediaReconnect' });
  await until('a second offer', () => fake.offers.length === 2, 5000);
  assert.equal(ali.onMediaReconnect, 1);
  assert.equal(ali.offers, 2);
  assert.notEqual(ali.pc, firstPc);
  assert.equal(firstPc.connectionState, 'closed');
  assert.deepEqual(fake.offeredDirections(), ['sendonly', 'recvonly', 'recvonly']);
  await ali.waitForConnected(10_000);
  ali.detector.clear();
  await ali.waitUntilHears([660, 880], { exactly: true, timeoutMs: 5000 });
  await until(
    '1100 Hz upstream again',
    () => fake.uplink.hears().has(1100),
    5000,
    () => fake.uplink.describe(),
  );

  // A tone that stops: heardAt tells when it was last heard.
  const stoppedAt = performance.now();
  slotTones[1]!.setTone(null);
  await ali.waitUntilSilentOf(880, 5000);
  const lastHeard = ali.heardAt(880)!;
  assert.ok(lastHeard > stoppedAt && lastHeard - stoppedAt < 500, `880 Hz last heard ${lastHeard - stoppedAt} ms after it stopped`);
  await ali.waitUntilHears([660], { exactly: true, timeoutMs: 5000 });
  slotTones[1]!.setTone(880);

  // A wait that times out says what was heard.
  await assert.rejects(
    ali.waitUntilHears([440], { timeoutMs: 300 }),
    /ali: timed out after \d+ ms waiting for to hear at least \[440\].*hears \[660/,
  );
  await assert.rejects(ali.waitUntilHears([445]), /does not listen for 445 Hz/);
  assert.deepEqual(ali.errors, [], ali.describe());
  assert.deepEqual(fake.errors, []);
  assert.deepEqual(ali.ignoredMessages, []);

  // close() ends pending waits, the PeerConnection and the socket.
  const pending = assert.rejects(ali.waitUntilHears([440], { timeoutMs: 60_000 }), /closed while waiting/);
  await ali.close();
  await pending;
  await assert.rejects(ali.waitForConnected(), /closed/);
  await until('the server sees the socket close', () => fake.closed, 3000);
  assert.equal(ali.pc.connectionState, 'closed');
  await ali.close(); // idempotent
});

test('a listen-only participant offers only receive slots; RoomState without audio_slots means 3', async () => {
  server.audioSlots = undefined;
  const bilal = await AudioParticipant.join(server.url, 'halaqa-1', 'bilal', {});
  participants.push(bilal);
  assert.equal(bilal.slots, 3);
  assert.equal(bilal.source, null);
  assert.throws(() => bilal.setTone(440), /listen-only/);
  const fake = server.connection('bilal');
  await until('the offer', () => fake.offers.length === 1);
  // The third slot has no tone on the stand-in: answered inactive.
  assert.deepEqual(fake.offeredDirections(), ['recvonly', 'recvonly', 'recvonly']);
  await bilal.waitForConnected(10_000);
  await bilal.waitUntilHears([660, 880], { exactly: true, timeoutMs: 5000 });
  assert.deepEqual([...bilal.hearsOnSlot(2)], []);
  // libwebrtc: a receive slot answered inactive delivers no audio at all to its sink.
  assert.equal(
    bilal.detector.chunksReceived(2),
    0,
    `chunks of the inactive slot ${bilal.detector.chunksReceived(2)}, of slot 0: ${bilal.detector.chunksReceived(0)}`,
  );
  await bilal.close();
  assert.deepEqual(bilal.errors, [], bilal.describe());
});

test('a join that cannot connect, or gets no RoomState, rejects and leaves no socket open', async () => {
  await assert.rejects(AudioParticipant.join('ws://127.0.0.1:1', 'halaqa-1', 'carol', { toneHz: 440 }));
  await assert.rejects(
    AudioParticipant.join(server.url, 'no-state', 'dan', { toneHz: 440, joinTimeoutMs: 200 }),
    /timed out after 200 ms waiting for RoomState/,
  );
  await until('the server sees the socket close', () => server.connection('dan').closed, 3000);
});
