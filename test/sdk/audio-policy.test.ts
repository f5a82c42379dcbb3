/**
 * RoomAudio's decisions over scripted parts: a RoomClient on scripted sockets (support.ts), a
 * scripted RTCPeerConnection, a manual clock. When it offers again (ICE failure, a refused offer, no
 * answer, MediaClosed, MediaReconnect, a new connection), with which backoff, and what start() does
 * synchronously (the join gesture). The real WebRTC behaviour is audio.test.ts's.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AudioError } from '../../sdk/src/audio/audio-error.js';
import { type AudioStatus, RoomAudio, type RoomAudioOptions } from '../../sdk/src/audio/room-audio.js';
import type {
  AudioElementLike,
  MediaDevicesLike,
  PeerConnectionConstructor,
  PeerConnectionLike,
  SessionDescriptionLike,
  TrackLike,
  TransceiverLike,
} from '../../sdk/src/audio/rtc.js';
import { RoomClient } from '../../sdk/src/room-client.js';
import type { RTCPeerConnection as WrtcPeerConnection } from '../support/wrtc.js';
import { fakeWebSocket, ManualClock, roomState, settle } from './support.js';

/** The DOM's classes and @roamhq/wrtc's fit the SDK's structural types as they are (checked by the type-check). */
type Fits<T extends U, U> = T;
export type TheDomFits = [
  Fits<typeof RTCPeerConnection, PeerConnectionConstructor>,
  Fits<typeof WrtcPeerConnection, PeerConnectionConstructor>,
  Fits<MediaDevices, MediaDevicesLike>,
  Fits<HTMLAudioElement, AudioElementLike>,
  Fits<MediaStreamTrack, TrackLike>,
];

const fakeTrack = (id: string): TrackLike & { stopped: boolean } => ({
  id,
  kind: 'audio',
  enabled: true,
  stopped: false,
  stop() {
    this.stopped = true;
  },
});

/** A scripted RTCPeerConnection: the test moves its connectionState. */
class FakePeerConnection implements PeerConnectionLike {
  static made: FakePeerConnection[] = [];
  connectionState = 'new';
  iceConnectionState = 'new';
  signalingState = 'stable';
  readonly transceivers: ({ -readonly [K in keyof TransceiverLike]: TransceiverLike[K] } & { direction: string })[] = [];
  readonly remote: SessionDescriptionLike[] = [];
  private readonly listeners = new Map<string, Set<(event: any) => void>>();

  constructor(readonly configuration: { iceServers: unknown[] }) {
    FakePeerConnection.made.push(this);
  }

  addTransceiver(trackOrKind: TrackLike | string, init?: { direction?: string }) {
    const index = this.transceivers.length;
    const transceiver = {
      mid: null as string | null,
      direction: init?.direction ?? 'sendrecv',
      sender: {
        track: typeof trackOrKind === 'string' ? null : trackOrKind,
        async replaceTrack(track: TrackLike | null) {
          transceiver.sender.track = track;
        },
      },
      receiver: { track: fakeTrack(`recv-${FakePeerConnection.made.length}-${index}`) },
    };
    this.transceivers.push(transceiver);
    return transceiver;
  }
  getTransceivers() {
    return this.transceivers;
  }
  async createOffer() {
    return { type: 'offer' as const, sdp: this.transceivers.map((t) => `m=audio a=${t.direction}`).join('\r\n') };
  }
  async setLocalDescription() {
    this.signalingState = 'have-local-offer';
    this.transceivers.forEach((transceiver, index) => {
      transceiver.mid = String(index);
    });
    this.emit('icecandidate', { candidate: { candidate: 'candidate:1 1 udp 1 127.0.0.1 5000 typ host', sdpMid: '0', sdpMLineIndex: 0 } });
  }
  async setRemoteDescription(description: SessionDescriptionLike) {
    this.remote.push(description);
    this.signalingState = 'stable';
  }
  async addIceCandidate() {}
  async getStats() {
    return { forEach() {} };
  }
  addEventListener(type: string, listener: (event: any) => void) {
    if (!this.listeners.has(type)) this.listeners.set(type, new Set());
    this.listeners.get(type)!.add(listener);
  }
  removeEventListener(type: string, listener: (event: any) => void) {
    this.listeners.get(type)?.delete(listener);
  }
  close() {
    this.connectionState = 'closed';
    this.signalingState = 'closed';
  }
  /** The connection moves to `state`. */
  become(state: string) {
    this.connectionState = state;
    this.emit('connectionstatechange', {});
  }
  private emit(type: string, event: unknown) {
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }
}

async function setup(options: Partial<RoomAudioOptions> = {}) {
  FakePeerConnection.made = [];
  const clock = new ManualClock();
  const ws = fakeWebSocket();
  const client = new RoomClient({
    url: 'ws://node-a:6030',
    room: 'halaqa',
    uuid: 'ali',
    WebSocket: ws.WebSocket,
    fetch: async () => {
      throw new Error('unreachable');
    },
    clock,
    random: () => 0.5,
    keepAlive: false,
    environment: {},
  });
  const microphone = fakeTrack('mic');
  let gets = 0;
  const elements: { played: number }[] = [];
  const audio = new RoomAudio(client, {
    RTCPeerConnection: FakePeerConnection,
    mediaDevices: {
      getUserMedia: async () => {
        gets++;
        return { getAudioTracks: () => [microphone] };
      },
    },
    createAudioElement: () => {
      const element = {
        srcObject: null as unknown,
        autoplay: false,
        played: 0,
        play() {
          element.played++;
          return Promise.resolve();
        },
        pause() {},
      };
      elements.push(element);
      return element;
    },
    createMediaStream: (track) => ({ track }),
    iceServers: [{ urls: 'stun:stun.example' }],
    clock,
    random: () => 0.5,
    ...options,
  });
  const statuses: AudioStatus[] = [];
  const errors: AudioError[] = [];
  audio.on('status', (status) => statuses.push(status));
  audio.on('error', (error) => errors.push(error));
  const connect = async (state: Record<string, unknown> = {}) => {
    const connected = client.connect();
    await settle();
    ws.last().open();
    ws.last().receive(roomState(state));
    await connected;
    await clock.advance(0);
  };
  const offers = () => ws.sockets.flatMap((socket) => socket.sent.filter((frame) => frame.action === 'SessionDescription'));
  const answer = async () => {
    const offer = ws.last().lastSent('SessionDescription')!;
    ws.last().receive({ action: 'SessionDescription', type: 'answer', sdp: `answer to ${offer.id}` });
    await settle();
  };
  const pc = () => FakePeerConnection.made.at(-1)!;
  return { clock, ws, client, audio, microphone, statuses, errors, connect, offers, answer, pc, elements, gets: () => gets };
}

describe('RoomAudio policy', () => {
  test('start() makes and starts the slot elements synchronously (the gesture), then offers once connected, per the recipe', async () => {
    const t = await setup({ slots: 2 });
    const started = t.audio.start();
    assert.equal(t.elements.length, 2, 'made inside the call');
    assert.ok(t.elements.every((element) => element.played === 1));
    await settle();
    assert.equal(t.offers().length, 0, 'no offer before the room is joined');
    assert.equal(t.audio.status.status, 'waiting');
    await t.connect({ audio_slots: 3 });
    await started;
    assert.equal(t.gets(), 1);
    assert.equal(t.offers().length, 1);
    assert.deepEqual(
      t.pc().transceivers.map((transceiver) => transceiver.direction),
      ['sendonly', 'recvonly', 'recvonly'],
      'the microphone first, then the slots (the option wins over audio_slots)',
    );
    assert.deepEqual(t.pc().configuration.iceServers, [{ urls: 'stun:stun.example' }]);
    assert.equal(t.ws.last().lastSent('ICECandidate')!.candidate.startsWith('candidate:'), true, 'candidates trickled after the offer');
    await t.answer();
    assert.equal(t.pc().remote.length, 1);
    t.pc().become('connected');
    assert.deepEqual(t.audio.status, { status: 'connected' });
  });

  test('an ICE failure offers again at once on a new PeerConnection; failures in a row back off', async () => {
    const t = await setup();
    void t.audio.start();
    await t.connect();
    await t.answer();
    t.pc().become('connected');
    const first = t.pc();
    first.become('failed');
    await t.clock.advance(0);
    assert.equal(first.connectionState, 'closed');
    assert.equal(FakePeerConnection.made.length, 2);
    assert.equal(t.offers().length, 2);
    assert.deepEqual(t.statuses.at(-1), { status: 'negotiating', reason: 'ice_failed', attempt: 1 });
    // It fails again before connecting: the next offer waits for the backoff.
    t.pc().become('failed');
    await settle();
    const waiting = t.statuses.at(-1)!;
    assert.equal(waiting.status, 'reconnecting');
    assert.ok((waiting as { delayMs: number }).delayMs > 0);
    await t.clock.advance((waiting as { delayMs: number }).delayMs);
    assert.equal(t.offers().length, 3);
    // A disconnected PeerConnection gets disconnectedTimeoutMs to recover.
    await t.answer();
    t.pc().become('connected');
    t.pc().become('disconnected');
    await t.clock.advance(4000);
    assert.equal(t.offers().length, 3);
    t.pc().become('connected');
    await t.clock.advance(10_000);
    assert.equal(t.offers().length, 3, 'it recovered');
    t.pc().become('disconnected');
    await t.clock.advance(5000);
    assert.equal(t.offers().length, 4);
  });

  test('a refused offer is an error and is made again with a backoff; an answer that never comes too', async () => {
    const t = await setup({ answerTimeoutMs: 3000 });
    void t.audio.start();
    await t.connect();
    const offer = t.ws.last().lastSent('SessionDescription')!;
    t.ws.last().receive({ action: 'Error', of: 'SessionDescription', id: offer.id, code: 'unavailable', message: 'Redis is down' });
    await settle();
    assert.equal(t.errors.at(-1)!.code, 'refused');
    assert.equal(t.errors.at(-1)!.serverCode, 'unavailable');
    const waiting = t.statuses.at(-1) as Extract<AudioStatus, { status: 'reconnecting' }>;
    assert.equal(waiting.status, 'reconnecting');
    assert.equal(waiting.reason, 'refused');
    await t.clock.advance(waiting.delayMs);
    assert.equal(t.offers().length, 2);
    // A refusal of a candidate (of a replaced PeerConnection) changes nothing.
    t.ws.last().receive({ action: 'Error', of: 'ICECandidate', id: 'x', code: 'no_offer', message: 'no offer' });
    await settle();
    assert.equal(t.offers().length, 2);
    // No answer within answerTimeoutMs.
    await t.clock.advance(3000);
    await t.clock.advance(10_000);
    assert.ok(t.offers().length >= 3);
    assert.ok(t.statuses.some((status) => status.status !== 'idle' && 'reason' in status && status.reason === 'no_answer'));
  });

  test('MediaClosed and MediaReconnect offer again; a lost connection tears down and offers on the next; a stopped client closes the audio', async () => {
    const t = await setup();
    void t.audio.start();
    await t.connect();
    await t.answer();
    t.pc().become('connected');
    t.ws.last().receive({ action: 'MediaReconnect' });
    await t.clock.advance(0);
    assert.equal(t.offers().length, 2);
    await t.answer();
    t.pc().become('connected');
    t.ws.last().receive({ action: 'MediaClosed' });
    await t.clock.advance(0);
    assert.equal(t.offers().length, 3);
    // An answer for no offer waiting (a late duplicate) is ignored.
    const ignored: unknown[] = [];
    t.audio.on('negotiation', (event) => event.kind === 'ignored' && ignored.push(event));
    await t.answer();
    await t.answer();
    assert.equal(ignored.length, 1);

    const before = t.pc();
    t.ws.last().serverClose(1006);
    await settle();
    assert.equal(before.connectionState, 'closed', 'torn down with the connection');
    assert.equal(t.audio.status.status, 'waiting');
    await t.clock.advance(1000);
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    await t.clock.advance(0);
    assert.equal(t.offers().length, 4);
    assert.deepEqual(t.statuses.at(-1), { status: 'negotiating', reason: 'connected', attempt: 1 });

    t.ws.last().receive({ action: 'Kicked' });
    t.ws.last().serverClose(4001);
    await settle();
    assert.equal(t.audio.status.status, 'closed');
    assert.equal(t.microphone.stopped, true, 'the microphone the SDK opened is stopped');
  });

  test('the microphone follows the server: muted by the room or here; listen-only opens nothing', async () => {
    const t = await setup();
    void t.audio.start();
    await t.connect({ muted: ['ali'] });
    assert.equal(t.microphone.enabled, false);
    assert.equal(t.audio.microphone.serverMuted, true);
    t.ws.last().receive({ action: 'MuteUser', uuid: 'ali', result: false, seq: 3 });
    assert.equal(t.microphone.enabled, true);
    t.audio.setMicrophoneMuted(true);
    t.ws.last().receive({ action: 'MuteAll', result: true, seq: 4 });
    t.ws.last().receive({ action: 'MuteAll', result: false, seq: 5 });
    assert.equal(t.microphone.enabled, false);
    t.audio.setMicrophoneMuted(false);
    assert.equal(t.microphone.enabled, true);

    const listener = await setup({ microphone: false });
    void listener.audio.start();
    await listener.connect();
    assert.equal(listener.gets(), 0);
    assert.deepEqual(
      listener.pc().transceivers.map((transceiver) => transceiver.direction),
      ['recvonly', 'recvonly', 'recvonly'],
    );
    assert.equal(listener.audio.microphone.published, false);
  });

  test('start() twice is one start; close() before any offer rejects it with closed; renegotiate() after close rejects', async () => {
    const t = await setup();
    const first = t.audio.start();
    assert.equal(t.audio.start(), first);
    t.audio.close();
    await assert.rejects(first, (error: AudioError) => error.code === 'closed');
    await assert.rejects(t.audio.renegotiate(), (error: AudioError) => error.code === 'closed');
    assert.equal(t.audio.status.status, 'closed');
  });

  test('a microphone that cannot be opened: listen-only, an error, and the microphone state says why', async () => {
    const t = await setup({
      mediaDevices: {
        getUserMedia: async () => {
          throw Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' });
        },
      },
    });
    void t.audio.start();
    await t.connect();
    assert.equal(t.errors[0]!.code, 'microphone');
    assert.equal(t.audio.microphone.published, false);
    assert.match(t.audio.microphone.error!.message, /Permission denied/);
    assert.deepEqual(
      t.pc().transceivers.map((transceiver) => transceiver.direction),
      ['recvonly', 'recvonly', 'recvonly'],
    );
  });
});
