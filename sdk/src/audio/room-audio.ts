/**
 * The class's audio: the microphone to the server's SFU and the K voices back, on the room client's
 * seam (sendSignal, `media` and `connection` events). It offers again by itself after every
 * (re)connect of the room client, MediaClosed, MediaReconnect, an ICE failure, a refused offer and
 * an answer that never comes; it keeps the microphone in step with the server's mutes, plays the
 * slots (autoplay policy included), and tells who speaks, how the connection is, and how every
 * member's is as the server sees it. See docs/sdk.md.
 */
import { toRTCIceServers } from '../admin-client.js';
import { type Clock, systemClock } from '../clock.js';
import { Emitter } from '../emitter.js';
import { SdkError } from '../errors.js';
import { type BackoffOptions, backoffDelay } from '../reconnect.js';
import type { ConnectionStatus, DebugEntry, RoomClient } from '../room-client.js';
import { isMuted } from '../room-state.js';
import type { MediaMessage } from '../wire.js';
import { AudioError } from './audio-error.js';
import { type AudioDevices, DEFAULT_MICROPHONE_CONSTRAINTS, deviceIdOf, listAudioDevices, openMicrophone } from './devices.js';
import { fromConnectionQuality, keepMembers, type MembersQuality, sameMembersQuality } from './member-quality.js';
import { Peer } from './peer.js';
import { Playback } from './playback.js';
import { type AudioQuality, type QualityCounters, readQuality } from './quality.js';
import {
  type AudioElementLike,
  globals,
  type IceServerLike,
  type MediaDevicesLike,
  type PeerConnectionConstructor,
  type PeerConnectionLike,
  type TrackLike,
} from './rtc.js';
import { fromActiveSpeakers, noSpeakers, type Speakers, sameSpeakers } from './speakers.js';

/** Receive slots when the room's state does not say (a server older than audio_slots). */
export const DEFAULT_AUDIO_SLOTS = 3;

export interface MicrophoneOptions {
  /** The input to open (a deviceId from listDevices()); default the system's default microphone. */
  deviceId?: string;
  /** getUserMedia's audio constraints; default echo cancellation, noise suppression and auto gain on. */
  constraints?: Record<string, unknown>;
}

export interface RoomAudioOptions {
  /** The microphone; `false`: listen-only (no getUserMedia, nothing published). Default: the default microphone. */
  microphone?: boolean | MicrophoneOptions;
  /** The RTCPeerConnection class; default the room client's (its option, or the global one). */
  RTCPeerConnection?: PeerConnectionConstructor;
  /** getUserMedia and the device list; default `navigator.mediaDevices`. */
  mediaDevices?: MediaDevicesLike;
  /**
   * Makes the <audio> element of one receive slot; default `document.createElement('audio')` where
   * there is a document. `null`: no elements (Node, or an app that plays the `track` events itself).
   */
  createAudioElement?: (() => AudioElementLike) | null;
  /** What an element's srcObject gets for a track; default `new MediaStream([track])`. */
  createMediaStream?: (track: TrackLike) => unknown;
  /** The ICE servers; default `client.iceServers()` (GET /network_transversal) before every offer. */
  iceServers?: IceServerLike[] | (() => Promise<IceServerLike[]>);
  /** Receive slots to offer; default the room's `audioSlots` (more are answered inactive). */
  slots?: number;
  /** How often `quality` is read from getStats(), in ms; default 2000; 0: never (getQuality() still works). */
  qualityIntervalMs?: number;
  /** An offer with no answer after this long is made again. Default 10 s. */
  answerTimeoutMs?: number;
  /** A PeerConnection `disconnected` this long is replaced (a `failed` one at once). Default 5 s. */
  disconnectedTimeoutMs?: number;
  /** The backoff between offers that keep failing; default 500 ms doubling to 10 s, half of it jittered. */
  reconnect?: Partial<BackoffOptions>;
  clock?: Clock;
  random?: () => number;
}

/** Why an offer is made. */
export type NegotiationReason =
  /** start() */
  | 'start'
  /** The room client (re)connected: signaling is not replayed, the server closed the old media. */
  | 'connected'
  /** The server's MediaReconnect: the room's media moved to another node. */
  | 'media_reconnect'
  /** The server's MediaClosed. */
  | 'media_closed'
  /** The PeerConnection failed, or stayed disconnected. */
  | 'ice_failed'
  /** The server refused the offer. */
  | 'refused'
  /** No answer within answerTimeoutMs. */
  | 'no_answer'
  /** The WebRTC stack failed while negotiating. */
  | 'error'
  /** renegotiate() */
  | 'manual';

export type AudioStatus =
  /** start() not called yet. */
  | { status: 'idle' }
  /** Started; waiting for the room client's connection (or for the microphone). */
  | { status: 'waiting' }
  /** An offer is being made or waits for its answer and for ICE. `attempt`: offers since the last connected one. */
  | { status: 'negotiating'; reason: NegotiationReason; attempt: number }
  /** The PeerConnection is connected: the microphone is sent and the slots play. */
  | { status: 'connected' }
  /** A new offer follows in `delayMs` (after failures, with a backoff). */
  | { status: 'reconnecting'; reason: NegotiationReason; attempt: number; delayMs: number }
  /** Closed for good (close(), or the room client stopped). */
  | { status: 'closed' };

/** The microphone, and whether it is heard. */
export interface MicrophoneState {
  /** A microphone track is offered (false: listen-only, or it could not be opened, see `error`). */
  readonly published: boolean;
  /** The track is enabled: what the microphone hears is sent. False when muted, here or by the room. */
  readonly enabled: boolean;
  /** The user muted the microphone on this device (setMicrophoneMuted). */
  readonly localMuted: boolean;
  /** The room has this participant muted (the master, MuteAll, or their own MuteUser): the server drops their voice anyway. */
  readonly serverMuted: boolean;
  /** The input in use, when the stack says. */
  readonly deviceId: string | undefined;
  /** Why the microphone could not be opened. */
  readonly error: AudioError | undefined;
}

/** Diagnostics of the signaling. */
export type NegotiationEvent =
  | { kind: 'offer'; id: string; sdp: string; reason: NegotiationReason }
  /** The server's answer, as it arrives (before it is applied). */
  | { kind: 'answer'; sdp: string }
  /** An answer no offer was waiting for (e.g. one for a PeerConnection already replaced). */
  | { kind: 'ignored'; message: MediaMessage };

export type RoomAudioEvents = {
  status: [status: AudioStatus];
  microphone: [microphone: MicrophoneState];
  /** Whether the browser lets the slots play; false: call startAudio() from a click. */
  playback: [playback: { canPlaybackAudio: boolean }];
  speakers: [speakers: Speakers];
  quality: [quality: AudioQuality];
  /** Every media member's connection as the server sees it (its ConnectionQuality), members who left removed. */
  memberquality: [members: MembersQuality];
  /** A receive slot's track (a new one with every PeerConnection); null: the PeerConnection holding it is about to close. */
  track: [slot: number, track: TrackLike | null];
  /** A new PeerConnection, before its offer. */
  peerconnection: [pc: PeerConnectionLike];
  negotiation: [event: NegotiationEvent];
  /** The device list changed (a headset plugged in). */
  devices: [devices: AudioDevices];
  error: [error: AudioError];
  debug: [entry: DebugEntry];
};

const DEFAULT_AUDIO_BACKOFF: BackoffOptions = {
  initialDelayMs: 500,
  maxDelayMs: 10_000,
  hiddenMaxDelayMs: 10_000,
  factor: 2,
  jitter: 0.5,
  stableAfterMs: 0,
};

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * The audio of one RoomClient. Create it with the client, call `start()` from the page's join click
 * (it makes the slots' <audio> elements inside the gesture), and listen to its events.
 */
export class RoomAudio {
  private readonly emitter: Emitter<RoomAudioEvents>;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly backoff: BackoffOptions;
  private readonly playback: Playback;
  private readonly mediaDevices: MediaDevicesLike | undefined;
  private readonly wantMicrophone: false | MicrophoneOptions;

  private currentStatus: AudioStatus = { status: 'idle' };
  private mic: MicrophoneState = {
    published: false,
    enabled: false,
    localMuted: false,
    serverMuted: false,
    deviceId: undefined,
    error: undefined,
  };
  private currentSpeakers: Speakers = noSpeakers(0);
  private currentQuality: AudioQuality | null = null;
  private counters: QualityCounters = new Map();
  private members: MembersQuality = new Map();

  private track: TrackLike | null = null;
  private peer: Peer | null = null;
  private lastPc: PeerConnectionLike | null = null;
  private lastIceServers: IceServerLike[] = [];
  private generation = 0;
  /** Offers since the last connected PeerConnection: the backoff's exponent. */
  private failures = 0;
  private started = false;
  private ready = false;
  private closed = false;
  private retryTimer: unknown;
  private answerTimer: unknown;
  private disconnectedTimer: unknown;
  private qualityTimer: unknown;
  private readonly offerWaiters: Deferred[] = [];
  private firstOffer: Promise<void> | undefined;
  private readonly unsubscribe: (() => void)[] = [];

  constructor(
    readonly client: RoomClient,
    private readonly options: RoomAudioOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.backoff = { ...DEFAULT_AUDIO_BACKOFF, ...options.reconnect };
    this.mediaDevices = options.mediaDevices ?? globals.navigator?.mediaDevices;
    const microphone = options.microphone ?? true;
    this.wantMicrophone = microphone === false ? false : microphone === true ? {} : microphone;
    this.emitter = new Emitter<RoomAudioEvents>((error, event) => {
      if (event !== 'debug') this.debug(`a listener of "${event}" threw`, error);
    });
    const document = globals.document;
    const createElement =
      options.createAudioElement !== undefined ? options.createAudioElement : document ? () => document.createElement('audio') : null;
    const MediaStreamClass = globals.MediaStream;
    this.playback = new Playback({
      createElement,
      createStream:
        options.createMediaStream ??
        ((track) => {
          if (!MediaStreamClass) throw new Error('no MediaStream: pass createMediaStream');
          return new MediaStreamClass([track]);
        }),
      onChange: (canPlaybackAudio) => this.emitter.emit('playback', { canPlaybackAudio }),
      onError: (error) => this.debug('playback', error),
    });
  }

  // The readable state.

  get status(): AudioStatus {
    return this.currentStatus;
  }

  get microphone(): MicrophoneState {
    return this.mic;
  }

  /** Who is speaking, and who is on each slot (from the server's ActiveSpeakers). */
  get speakers(): Speakers {
    return this.currentSpeakers;
  }

  /** The last quality read (every qualityIntervalMs while connected); null before the first. */
  get quality(): AudioQuality | null {
    return this.currentQuality;
  }

  /** Each media member's connection as the server's SFU sees it, by uuid (this client's own included); empty before the first report. */
  get memberQuality(): MembersQuality {
    return this.members;
  }

  /** Whether the browser lets the slots play; false: call startAudio() from a click. */
  get canPlaybackAudio(): boolean {
    return this.playback.canPlaybackAudio;
  }

  /** The slots' <audio> elements (none without a document); append them to the page if you want controls. */
  get audioElements(): readonly AudioElementLike[] {
    return this.playback.elements;
  }

  /** Whether the output device can be chosen here (setSinkId). */
  get canChooseOutput(): boolean {
    return this.playback.canChooseOutput;
  }

  /** The current PeerConnection (the last one, closed, after close()); null before the first offer. */
  get peerConnection(): PeerConnectionLike | null {
    return this.peer?.pc ?? this.lastPc;
  }

  /** Each receive slot's track on the current PeerConnection. */
  get tracks(): readonly TrackLike[] {
    return this.peer?.slotTracks ?? [];
  }

  /** The microphone track sent (null: listen-only, or not opened yet). */
  get microphoneTrack(): TrackLike | null {
    return this.track;
  }

  on<E extends keyof RoomAudioEvents & string>(event: E, listener: (...args: RoomAudioEvents[E]) => void): () => void {
    return this.emitter.on(event, listener);
  }

  once<E extends keyof RoomAudioEvents & string>(event: E, listener: (...args: RoomAudioEvents[E]) => void): () => void {
    return this.emitter.once(event, listener);
  }

  off<E extends keyof RoomAudioEvents & string>(event: E, listener: (...args: RoomAudioEvents[E]) => void): void {
    this.emitter.off(event, listener);
  }

  // Commands.

  /**
   * Starts the audio. Call it synchronously from the page's join click, before awaiting anything:
   * the slots' <audio> elements are made and started inside that gesture (iOS Safari plays them
   * later only then). Then it opens the microphone (unless listen-only; a refusal goes on
   * listen-only, see `microphone.error`) and offers as soon as the room client is connected.
   * Resolves once the first offer is sent; rejects with `closed` if close() comes first.
   */
  start(): Promise<void> {
    if (this.closed) return Promise.reject(new AudioError('closed', 'the audio is closed'));
    if (this.firstOffer) return this.firstOffer;
    this.started = true;
    this.playback.prepare(this.options.slots ?? this.client.state?.audioSlots ?? DEFAULT_AUDIO_SLOTS);
    const offered = this.nextOffer();
    this.firstOffer = offered;
    this.unsubscribe.push(
      this.client.on('connection', (status) => this.onConnection(status)),
      this.client.on('media', (message) => this.onMedia(message)),
      this.client.on('state', () => {
        this.syncMicrophone();
        this.setMembers(this.members);
      }),
    );
    const devices = this.mediaDevices;
    if (devices?.addEventListener) {
      const listener = () =>
        void this.listDevices().then(
          (list) => this.emitter.emit('devices', list),
          () => undefined,
        );
      devices.addEventListener('devicechange', listener);
      this.unsubscribe.push(() => devices.removeEventListener?.('devicechange', listener));
    }
    this.setStatus({ status: 'waiting' });
    void this.openFirstMicrophone().then(() => {
      if (this.closed) return;
      this.ready = true;
      this.syncMicrophone();
      if (this.client.connected) this.renegotiateSoon('start', 'now');
    });
    return offered;
  }

  /** From a click: plays the slots the browser refused to autoplay. Resolves with canPlaybackAudio. */
  startAudio(): Promise<boolean> {
    return this.playback.startAudio();
  }

  /** Mutes or unmutes the microphone on this device (the track is disabled; the room is not told: use client.muteUser() for that). */
  setMicrophoneMuted(muted: boolean): void {
    this.mic = { ...this.mic, localMuted: muted };
    this.syncMicrophone(true);
  }

  /** Switches the microphone to input `deviceId` (no renegotiation: the new track replaces the old one on the same sender). */
  async setMicrophone(deviceId: string): Promise<void> {
    if (this.wantMicrophone === false) throw new AudioError('microphone', 'listen-only: there is no microphone to switch');
    const devices = this.mediaDevices;
    if (!devices) throw new AudioError('microphone', 'no mediaDevices: pass the mediaDevices option');
    let track: TrackLike;
    try {
      track = await openMicrophone(devices, deviceId, this.wantMicrophone.constraints ?? DEFAULT_MICROPHONE_CONSTRAINTS);
    } catch (error) {
      throw new AudioError('microphone', `the microphone ${deviceId} could not be opened: ${describe(error)}`, { cause: error });
    }
    if (this.closed) {
      track.stop();
      return;
    }
    const old = this.track;
    const hadTrack = old !== null;
    this.track = track;
    track.enabled = !this.mic.localMuted && !this.mic.serverMuted;
    await this.peer?.replaceMicrophone(track);
    if (old && old !== track) old.stop();
    this.mic = { ...this.mic, deviceId, error: undefined };
    if (!hadTrack) {
      // The microphone could not be opened before: offer again, now publishing it.
      this.syncMicrophone(true);
      this.renegotiateSoon('manual', 'now');
      return;
    }
    this.syncMicrophone(true);
  }

  /** Plays every slot on output `deviceId` (`''`: the default), where setSinkId exists; rejects with `output` elsewhere. */
  async setOutput(deviceId: string): Promise<void> {
    try {
      await this.playback.setOutput(deviceId);
    } catch (error) {
      throw new AudioError('output', `the output ${deviceId} could not be set: ${describe(error)}`, { cause: error });
    }
  }

  /** The audio inputs, and the outputs where they can be chosen. */
  listDevices(): Promise<AudioDevices> {
    return listAudioDevices(this.mediaDevices, this.playback.canChooseOutput);
  }

  /** Throws the PeerConnection away and offers again (start() if it was not started); resolves once the new offer is sent. */
  renegotiate(): Promise<void> {
    if (this.closed) return Promise.reject(new AudioError('closed', 'the audio is closed'));
    if (!this.started) return this.start();
    const offered = this.nextOffer();
    this.renegotiateSoon('manual', 'now');
    return offered;
  }

  /**
   * Test hook: the PeerConnection fails as a lost network would fail it, and the audio recovers by
   * its policy (a new PeerConnection, offered again). Nothing happens before one exists.
   */
  simulatePeerFailure(): void {
    if (this.peer) this.onPeerState(this.peer, 'failed');
  }

  /** Reads the quality now (null when there is no PeerConnection). */
  async getQuality(): Promise<AudioQuality | null> {
    const peer = this.peer;
    if (!peer) return null;
    let report: Awaited<ReturnType<PeerConnectionLike['getStats']>>;
    try {
      report = await peer.pc.getStats();
    } catch (error) {
      this.report(new AudioError('stats', `getStats() failed: ${describe(error)}`, { cause: error }));
      return this.currentQuality;
    }
    if (peer !== this.peer) return this.currentQuality;
    const { quality, counters } = readQuality(
      report,
      {
        slotMids: peer.slots.map((transceiver) => transceiver.mid),
        slotTracks: peer.slotTracks.map((track) => track.id),
        micMid: peer.microphone?.mid ?? null,
        listenOnly: peer.microphone === null,
      },
      this.counters,
      this.clock.now(),
    );
    this.counters = counters;
    this.currentQuality = quality;
    this.emitter.emit('quality', quality);
    return quality;
  }

  /** Stops the audio for good: the PeerConnection, the microphone (when the SDK opened it), the elements. The room client stays. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.retryTimer);
    for (const off of this.unsubscribe.splice(0)) off();
    this.teardownPeer();
    this.track?.stop();
    this.playback.dispose();
    this.mic = { ...this.mic, enabled: false };
    this.emitter.emit('microphone', this.mic);
    this.setMembers(new Map());
    for (const waiter of this.offerWaiters.splice(0)) waiter.reject(new AudioError('closed', 'the audio was closed'));
    this.setStatus({ status: 'closed' });
  }

  // What moves it.

  private onConnection(status: ConnectionStatus): void {
    if (status.status === 'connected') {
      this.failures = 0;
      this.renegotiateSoon('connected', 'now');
    } else if (status.status === 'closed') {
      this.close();
    } else if (status.status === 'reconnecting') {
      // The server closed this participant's media with the socket: nothing to keep.
      this.clock.clearTimeout(this.retryTimer);
      this.teardownPeer();
      this.setStatus({ status: 'waiting' });
    }
  }

  private onMedia(message: MediaMessage): void {
    if (this.closed) return;
    switch (message.action) {
      case 'SessionDescription':
        void this.applyAnswer(message);
        return;
      case 'ICECandidate':
        void this.peer?.remoteCandidate({ candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex });
        return;
      case 'ActiveSpeakers':
        this.setSpeakers(fromActiveSpeakers(message));
        return;
      case 'ConnectionQuality':
        this.setMembers(fromConnectionQuality(message));
        return;
      case 'MediaReconnect':
        this.debug('MediaReconnect: the media moved; offering again');
        this.renegotiateSoon('media_reconnect', 'backoff');
        return;
      case 'MediaClosed':
        this.debug('MediaClosed: offering again');
        this.renegotiateSoon('media_closed', 'backoff');
        return;
      case 'Error':
        if (message.of === 'SessionDescription' && this.peer && message.id === this.peer.offerId) {
          this.report(new AudioError('refused', `the server refused the offer: ${message.message}`, { serverCode: message.code }));
          this.renegotiateSoon('refused', 'backoff');
        } else {
          // A candidate of a PeerConnection already replaced (no_offer), or a refusal of an old offer: harmless.
          this.debug(`the server refused ${message.of ?? 'a signal'}: ${message.code}`, undefined, message);
        }
        return;
    }
  }

  private async applyAnswer(message: Extract<MediaMessage, { action: 'SessionDescription' }>): Promise<void> {
    const peer = this.peer;
    if (!peer || message.type !== 'answer' || typeof message.sdp !== 'string' || peer.offerId === undefined || peer.answered) {
      this.emitter.emit('negotiation', { kind: 'ignored', message });
      return;
    }
    this.emitter.emit('negotiation', { kind: 'answer', sdp: message.sdp });
    try {
      if (!(await peer.answer(message.sdp))) this.emitter.emit('negotiation', { kind: 'ignored', message });
    } catch (error) {
      if (peer !== this.peer) return;
      this.report(new AudioError('negotiation', `the answer could not be applied: ${describe(error)}`, { cause: error }));
      this.renegotiateSoon('error', 'backoff');
    }
  }

  /**
   * Replaces the PeerConnection: now (a new connection, start, renegotiate()) or, after failures,
   * with the backoff (the first one since the last connected PeerConnection is at once too).
   */
  private renegotiateSoon(reason: NegotiationReason, when: 'now' | 'backoff'): void {
    if (this.closed || !this.started) return;
    this.clock.clearTimeout(this.retryTimer);
    this.teardownPeer();
    if (!this.ready || !this.client.connected) {
      this.setStatus({ status: 'waiting' });
      return;
    }
    const delayMs = when === 'now' || this.failures === 0 ? 0 : backoffDelay(this.failures - 1, this.backoff, this.random);
    if (delayMs > 0) this.setStatus({ status: 'reconnecting', reason, attempt: this.failures, delayMs });
    // A timer even at 0 ms: triggers of one turn (MediaReconnect, then the connection) make one offer.
    this.retryTimer = this.clock.setTimeout(() => void this.negotiate(reason), delayMs);
  }

  private async negotiate(reason: NegotiationReason): Promise<void> {
    const generation = ++this.generation;
    this.teardownPeer();
    const state = this.client.state;
    if (this.closed || !state || !this.client.connected) {
      if (!this.closed) this.setStatus({ status: 'waiting' });
      return;
    }
    this.failures += 1;
    this.setStatus({ status: 'negotiating', reason, attempt: this.failures });
    const iceServers = await this.resolveIceServers();
    if (generation !== this.generation || this.closed) return;
    const RTCPeerConnectionClass =
      this.options.RTCPeerConnection ?? (this.client.RTCPeerConnection as PeerConnectionConstructor | undefined);
    if (typeof RTCPeerConnectionClass !== 'function') {
      this.report(new AudioError('negotiation', 'no RTCPeerConnection: pass the RTCPeerConnection option'));
      return;
    }
    const slots = this.options.slots ?? state.audioSlots ?? DEFAULT_AUDIO_SLOTS;
    let peer: Peer;
    try {
      peer = new Peer({
        RTCPeerConnection: RTCPeerConnectionClass,
        iceServers,
        microphone: this.track,
        slots,
        send: (signal) => this.client.sendSignal(signal),
        onState: (connection) => this.onPeerState(peer, connection),
        onError: (error) => this.report(new AudioError('negotiation', describe(error), { cause: error })),
      });
    } catch (error) {
      this.report(new AudioError('negotiation', `the PeerConnection could not be made: ${describe(error)}`, { cause: error }));
      this.renegotiateSoon('error', 'backoff');
      return;
    }
    this.peer = peer;
    this.lastPc = peer.pc;
    this.counters = new Map();
    this.setSpeakers(noSpeakers(slots));
    this.emitter.emit('peerconnection', peer.pc);
    peer.slotTracks.forEach((track, slot) => {
      this.playback.attach(slot, track);
      this.emitter.emit('track', slot, track);
    });
    let offer: { id: string; sdp: string };
    try {
      offer = await peer.offer();
    } catch (error) {
      if (peer !== this.peer) return;
      if (error instanceof SdkError && error.code === 'not_connected') {
        // The connection dropped meanwhile: its `connected` offers again.
        this.teardownPeer();
        this.setStatus({ status: 'waiting' });
        return;
      }
      this.report(new AudioError('negotiation', `the offer could not be made: ${describe(error)}`, { cause: error }));
      this.renegotiateSoon('error', 'backoff');
      return;
    }
    if (peer !== this.peer) return;
    this.emitter.emit('negotiation', { kind: 'offer', id: offer.id, sdp: offer.sdp, reason });
    for (const waiter of this.offerWaiters.splice(0)) waiter.resolve();
    this.answerTimer = this.clock.setTimeout(() => {
      if (peer !== this.peer || peer.answered) return;
      this.debug(`no answer within ${this.answerTimeoutMs} ms: offering again`);
      this.renegotiateSoon('no_answer', 'backoff');
    }, this.answerTimeoutMs);
  }

  private onPeerState(peer: Peer, state: string): void {
    if (peer !== this.peer || this.closed) return;
    this.clock.clearTimeout(this.disconnectedTimer);
    if (state === 'connected') {
      this.failures = 0;
      this.setStatus({ status: 'connected' });
      this.startQuality(peer);
    } else if (state === 'failed') {
      this.debug('the PeerConnection failed: offering again');
      this.renegotiateSoon('ice_failed', 'backoff');
    } else if (state === 'disconnected') {
      // ICE often recovers by itself from a short loss; after disconnectedTimeoutMs it is replaced.
      this.disconnectedTimer = this.clock.setTimeout(() => {
        if (peer !== this.peer) return;
        this.debug('the PeerConnection stayed disconnected: offering again');
        this.renegotiateSoon('ice_failed', 'backoff');
      }, this.options.disconnectedTimeoutMs ?? 5000);
    }
  }

  private startQuality(peer: Peer): void {
    const interval = this.options.qualityIntervalMs ?? 2000;
    this.clock.clearTimeout(this.qualityTimer);
    if (interval <= 0) return;
    const tick = () => {
      if (peer !== this.peer) return;
      void this.getQuality().finally(() => {
        if (peer === this.peer) this.qualityTimer = this.clock.setTimeout(tick, interval);
      });
    };
    this.qualityTimer = this.clock.setTimeout(tick, interval);
  }

  /** Closes the current PeerConnection (the slots' `track` null first: a sink on them stops before its track ends). */
  private teardownPeer(): void {
    this.clock.clearTimeout(this.answerTimer);
    this.clock.clearTimeout(this.disconnectedTimer);
    this.clock.clearTimeout(this.qualityTimer);
    const peer = this.peer;
    if (!peer) return;
    this.peer = null;
    peer.slots.forEach((_, slot) => {
      this.playback.attach(slot, null);
      this.emitter.emit('track', slot, null);
    });
    peer.close();
    this.setSpeakers(noSpeakers(peer.slots.length));
  }

  private async openFirstMicrophone(): Promise<void> {
    const wanted = this.wantMicrophone;
    if (wanted === false) return;
    const devices = this.mediaDevices;
    try {
      if (!devices) throw new Error('no mediaDevices (pass the mediaDevices option, or use a secure origin)');
      const track = await openMicrophone(devices, wanted.deviceId, wanted.constraints ?? DEFAULT_MICROPHONE_CONSTRAINTS);
      if (this.closed) {
        track.stop();
        return;
      }
      this.track = track;
      this.mic = { ...this.mic, deviceId: wanted.deviceId ?? deviceIdOf(track), error: undefined };
    } catch (error) {
      const failure = new AudioError('microphone', `the microphone could not be opened: ${describe(error)}; listening only`, {
        cause: error,
      });
      this.mic = { ...this.mic, error: failure };
      this.report(failure);
    }
  }

  /** The track is enabled exactly when published and muted neither here nor by the room. */
  private syncMicrophone(force = false): void {
    const state = this.client.state;
    const serverMuted = state ? isMuted(state) : false;
    const published = this.track !== null && !this.closed;
    const enabled = published && !this.mic.localMuted && !serverMuted;
    if (this.track && this.track.enabled !== enabled) this.track.enabled = enabled;
    const changed = published !== this.mic.published || enabled !== this.mic.enabled || serverMuted !== this.mic.serverMuted;
    this.mic = { ...this.mic, published, enabled, serverMuted };
    if (changed || force) this.emitter.emit('microphone', this.mic);
  }

  private async resolveIceServers(): Promise<IceServerLike[]> {
    const option = this.options.iceServers;
    try {
      if (Array.isArray(option)) return option;
      this.lastIceServers = typeof option === 'function' ? await option() : toRTCIceServers(await this.client.iceServers());
    } catch (error) {
      this.report(new AudioError('ice_servers', `the ICE servers could not be fetched: ${describe(error)}`, { cause: error }));
    }
    return this.lastIceServers;
  }

  private get answerTimeoutMs(): number {
    return this.options.answerTimeoutMs ?? 10_000;
  }

  private nextOffer(): Promise<void> {
    const offered = new Promise<void>((resolve, reject) => this.offerWaiters.push({ resolve, reject }));
    // A page that never awaits start() must not see an unhandled rejection when the audio closes first.
    offered.catch(() => undefined);
    return offered;
  }

  private setSpeakers(speakers: Speakers): void {
    if (sameSpeakers(speakers, this.currentSpeakers)) return;
    this.currentSpeakers = speakers;
    this.emitter.emit('speakers', speakers);
  }

  /** Members who left the room are dropped at once (the server's next report would leave them out anyway). */
  private setMembers(members: MembersQuality): void {
    const state = this.client.state;
    const kept = state
      ? keepMembers(
          members,
          state.members.map(({ uuid }) => uuid),
        )
      : members;
    if (sameMembersQuality(kept, this.members)) return;
    this.members = kept;
    this.emitter.emit('memberquality', kept);
  }

  private setStatus(status: AudioStatus): void {
    const same =
      status.status === this.currentStatus.status &&
      (status.status === 'waiting' || status.status === 'connected' || status.status === 'closed' || status.status === 'idle');
    this.currentStatus = status;
    if (!same) this.emitter.emit('status', status);
  }

  private report(error: AudioError): void {
    this.debug(error.message, error);
    this.emitter.emit('error', error);
  }

  private debug(message: string, error?: unknown, data?: unknown): void {
    const entry: DebugEntry = { message: `audio: ${message}` };
    if (error !== undefined) entry.error = error;
    if (data !== undefined) entry.data = data;
    this.emitter.emit('debug', entry);
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));
