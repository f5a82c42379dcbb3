/**
 * A room member with real WebRTC audio (libwebrtc via @roamhq/wrtc), for tests that prove who hears
 * whom through the SFU. It joins over the room WebSocket (WsClient), sends a continuous sine as its
 * microphone (or nothing: listen-only) and tells which tones it receives on its receive slots.
 *
 * Signaling, over the room WebSocket:
 *   → {"action":"SessionDescription","type":"offer","sdp"}
 *   → {"action":"ICECandidate","candidate","sdpMid","sdpMLineIndex"}   (trickle, one per local candidate)
 *   ← {"action":"SessionDescription","type":"answer","sdp"}
 *   ← {"action":"ICECandidate","candidate","sdpMid","sdpMLineIndex"}
 *   ← {"action":"ActiveSpeakers","uuids":[...],"slots":[uuid|null, ...]}
 *   ← {"action":"MediaReconnect"}   throw the PeerConnection away, offer again (done automatically)
 *   ← {"action":"MediaClosed"}
 * The offer: first a sendonly transceiver with the microphone track (none when listen-only), then
 * `audio_slots` (from RoomState, default 3) recvonly transceivers: receive slot i is the i-th.
 *
 * Every message also stays in the WsClient's unread queue, so a test can still `ws.next('ActiveSpeakers')`.
 */

import { DEFAULT_LISTEN_FOR, ToneDetector, ToneSource } from './tone-media.js';
import { RTCPeerConnection } from './wrtc.js';
import { type Message, WsClient } from './ws-client.js';

export type { ReceivedChunk, ToneDetectorOptions, ToneSourceOptions } from './tone-media.js';
export { DEFAULT_LISTEN_FOR, ToneDetector, ToneSource } from './tone-media.js';

/** Receive slots when RoomState carries no `audio_slots`. */
export const DEFAULT_AUDIO_SLOTS = 3;
const POLL_MS = 50;
const DEFAULT_WAIT_MS = 10_000;
const SOCKET_CLOSE_MS = 2000;

export interface AudioParticipantOptions {
  /** The tone this participant "speaks"; null or undefined: listen-only (no sendonly transceiver). */
  toneHz?: number | null;
  /** 0..1 of full scale (default 0.3). */
  amplitude?: number;
  /** Appended to the join URL, e.g. `?last_seq=4` (then the server must still answer with RoomState). */
  query?: string;
  /** Frequencies hears() looks for (default 440, 550, ..., 1320: 110 Hz apart). */
  listenFor?: number[];
  /** Window of hears() (default 300 ms). */
  windowMs?: number;
  /** Share of the received energy a tone needs to be heard (default 0.05, see dominantTones). */
  threshold?: number;
  /** Number of receive slots to offer, overriding RoomState's `audio_slots`. */
  slots?: number;
  /** Offer again by itself when MediaReconnect comes (default true). */
  autoReconnect?: boolean;
  /** ICE servers of the PeerConnection (default none: host candidates only). */
  iceServers?: RTCIceServer[];
  /** How long join() waits for RoomState (default 5000 ms). */
  joinTimeoutMs?: number;
}

export interface ActiveSpeakers {
  uuids: string[];
  /** Who is on each receive slot, in transceiver order. */
  slots: (string | null)[];
  /** performance.now() when it arrived. */
  at: number;
}

export interface InboundStats {
  /** packetsReceived summed over the audio inbound-rtp stats of the current PeerConnection. */
  packetsReceived: number;
  bytesReceived: number;
  /** packetsReceived by transceiver mid. */
  byMid: Record<string, number>;
}

/** One PeerConnection and its offer/answer exchange; replaced as a whole by reconnectMedia(). */
interface MediaSession {
  pc: RTCPeerConnection;
  generation: number;
  offerSent: boolean;
  remoteSet: boolean;
  localCandidates: Message[];
  remoteCandidates: RTCIceCandidateInit[];
}

export class AudioParticipant {
  /** Incremented for each MediaReconnect the server sent. */
  onMediaReconnect = 0;
  /** Incremented for each MediaClosed the server sent. */
  mediaClosed = 0;
  /** Offers sent and answers applied, over every PeerConnection. */
  offers = 0;
  answers = 0;
  /** The SDP of the last answer received for the current offer (kept as it arrives, before it is applied). */
  lastAnswer: string | undefined;
  /** The last ActiveSpeakers, and all of them in order. */
  activeSpeakers: ActiveSpeakers | undefined;
  readonly activeSpeakersHistory: ActiveSpeakers[] = [];
  /** `Error` messages the server sent on the socket. */
  readonly serverErrors: Message[] = [];
  /** Failures of the signaling or media machinery (never thrown as unhandled rejections). */
  readonly errors: unknown[] = [];
  /** Answers ignored because no offer was waiting for one (e.g. an answer to a replaced PeerConnection). */
  readonly ignoredMessages: Message[] = [];
  /** Every connectionState of every PeerConnection, with performance.now(). */
  readonly connectionStates: { generation: number; state: RTCPeerConnectionState; at: number }[] = [];
  readonly detector: ToneDetector;
  /** The microphone; null for a listen-only participant. */
  readonly source: ToneSource | null;

  private session: MediaSession | undefined;
  private generation = 0;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly pending = new Set<() => void>();
  private readonly autoReconnect: boolean;
  private readonly iceServers: RTCIceServer[];
  private readonly messageListener = (data: unknown, isBinary: boolean) => this.onSocketMessage(data, isBinary);
  private readonly errorListener = (error: unknown) => this.errors.push(error);

  private constructor(
    readonly ws: WsClient,
    /** The RoomState the join answered with. */
    readonly state: Message,
    readonly uuid: string,
    /** Number of receive slots offered. */
    readonly slots: number,
    options: AudioParticipantOptions,
  ) {
    this.autoReconnect = options.autoReconnect ?? true;
    this.iceServers = options.iceServers ?? [];
    const detectorOptions: ConstructorParameters<typeof ToneDetector>[0] = { listenFor: options.listenFor ?? DEFAULT_LISTEN_FOR };
    if (options.windowMs !== undefined) detectorOptions.windowMs = options.windowMs;
    if (options.threshold !== undefined) detectorOptions.threshold = options.threshold;
    this.detector = new ToneDetector(detectorOptions);
    this.source =
      options.toneHz === null || options.toneHz === undefined
        ? null
        : new ToneSource({ hz: options.toneHz, amplitude: options.amplitude ?? 0.3 });
    ws.socket.on('message', this.messageListener);
    ws.socket.on('error', this.errorListener);
  }

  /**
   * Joins `room` as `uuid` over the WebSocket at `wsBase` (`ws://host:port`), waits for RoomState,
   * sends the offer, then starts the microphone; resolves once the offer is sent (see
   * waitForConnected). On failure the socket is closed and the error rethrown.
   */
  static async join(wsBase: string, room: string, uuid: string, options: AudioParticipantOptions = {}): Promise<AudioParticipant> {
    // As WsClient.join, but the socket is closed again when RoomState does not come.
    const client = await WsClient.connect(`${wsBase}/api/room/join/${room}/${uuid}${options.query ?? ''}`);
    let state: Message;
    try {
      state = await client.next('RoomState', options.joinTimeoutMs ?? 5000);
    } catch (error) {
      await closeSocket(client);
      throw error;
    }
    return AudioParticipant.start(client, state, uuid, options);
  }

  /** Starts audio on a WebSocket that has already joined (`state`: the RoomState it received). */
  static async start(ws: WsClient, state: Message, uuid: string, options: AudioParticipantOptions = {}): Promise<AudioParticipant> {
    let participant: AudioParticipant | undefined;
    try {
      const slots = options.slots ?? state.audio_slots ?? DEFAULT_AUDIO_SLOTS;
      if (!Number.isInteger(slots) || slots < 0)
        throw new Error(`${uuid}: audio_slots must be an integer >= 0, got ${JSON.stringify(slots)}`);
      participant = new AudioParticipant(ws, state, uuid, slots, options);
      await participant.enqueue(() => participant!.negotiate());
      // The microphone's real time starts once the offer is out.
      participant.source?.start();
      return participant;
    } catch (error) {
      if (participant) await participant.close();
      else await closeSocket(ws);
      throw error;
    }
  }

  /** The current PeerConnection (a new one after each reconnectMedia()). */
  get pc(): RTCPeerConnection {
    return this.session!.pc;
  }

  /** Whether close() was called. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Changes the tone sent (null: silence, frames of zeros keep flowing). */
  setTone(hz: number | null): void {
    this.microphone('setTone').setTone(hz);
  }

  /** Changes the amplitude sent, 0..1 of full scale. */
  setAmplitude(amplitude: number): void {
    this.microphone('setAmplitude').setAmplitude(amplitude);
  }

  /** The tones present in the last windowMs (300 ms) of all receive slots together. */
  hears(): Set<number> {
    return this.detector.hears();
  }

  /** The tones present in the last windowMs of one receive slot. */
  hearsOnSlot(slot: number): Set<number> {
    return this.detector.hearsOnSlot(slot);
  }

  /** performance.now() of the last 10 ms chunk, on any slot, in which `hz` was detected. */
  heardAt(hz: number): number | undefined {
    return this.detector.heardAt(hz);
  }

  /** The receive slot the last ActiveSpeakers put `uuid` on, or undefined. */
  slotOf(uuid: string): number | undefined {
    const index = this.activeSpeakers?.slots.indexOf(uuid) ?? -1;
    return index >= 0 ? index : undefined;
  }

  /**
   * Resolves once hears() contains every tone of `expected` (and nothing else with `exactly`);
   * rejects after `timeoutMs` (default 10 s) saying what it heard.
   */
  waitUntilHears(expected: number[], options: { exactly?: boolean; timeoutMs?: number } = {}): Promise<void> {
    const unknown = expected.filter((hz) => !this.detector.listenFor.includes(hz));
    if (unknown.length > 0) {
      return Promise.reject(
        new Error(`${this.uuid}: does not listen for ${unknown.join(', ')} Hz (listenFor: ${this.detector.listenFor.join(', ')})`),
      );
    }
    const want = `${options.exactly ? 'exactly' : 'at least'} [${expected.join(', ')}]`;
    return this.waitFor(
      `to hear ${want}`,
      () => {
        const heard = this.hears();
        return expected.every((hz) => heard.has(hz)) && (!options.exactly || heard.size === new Set(expected).size);
      },
      options.timeoutMs ?? DEFAULT_WAIT_MS,
    );
  }

  /** Resolves once `hz` is no longer in hears(); rejects after `timeoutMs` (default 10 s). */
  waitUntilSilentOf(hz: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor(`${hz} Hz to stop`, () => !this.hears().has(hz), timeoutMs);
  }

  /** Resolves once the current PeerConnection's connectionState is 'connected'. */
  waitForConnected(timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    return this.waitFor('the PeerConnection to connect', () => this.session?.pc.connectionState === 'connected', timeoutMs);
  }

  /** Resolves once an ActiveSpeakers that satisfies `predicate` has arrived (the last one is checked). */
  waitForActiveSpeakers(predicate: (speakers: ActiveSpeakers) => boolean, timeoutMs = DEFAULT_WAIT_MS): Promise<ActiveSpeakers> {
    return this.waitFor('ActiveSpeakers', () => !!this.activeSpeakers && predicate(this.activeSpeakers), timeoutMs).then(
      () => this.activeSpeakers!,
    );
  }

  /** Inbound audio RTP counters of the current PeerConnection (they start again at 0 after reconnectMedia()). */
  async inboundStats(): Promise<InboundStats> {
    const stats: InboundStats = { packetsReceived: 0, bytesReceived: 0, byMid: {} };
    const session = this.session;
    if (!session || this.closed) return stats;
    const report = await session.pc.getStats();
    report.forEach((entry: Record<string, any>) => {
      if (entry.type !== 'inbound-rtp' || (entry.kind ?? entry.mediaType) !== 'audio') return;
      const packets = Number(entry.packetsReceived ?? 0);
      stats.packetsReceived += packets;
      stats.bytesReceived += Number(entry.bytesReceived ?? 0);
      const mid = String(entry.mid ?? entry.id);
      stats.byMid[mid] = (stats.byMid[mid] ?? 0) + packets;
    });
    return stats;
  }

  /** The current PeerConnection's audio stats entries of one type (e.g. `outbound-rtp`); none when closed. */
  async audioStats(type: string): Promise<Record<string, any>[]> {
    const session = this.session;
    if (!session || this.closed) return [];
    const entries: Record<string, any>[] = [];
    (await session.pc.getStats()).forEach((entry: Record<string, any>) => {
      if (entry.type === type && (entry.kind ?? entry.mediaType) === 'audio') entries.push(entry);
    });
    return entries;
  }

  /** Audio RTP packets the microphone has sent on the current PeerConnection (0 when listen-only). */
  async packetsSent(): Promise<number> {
    return (await this.audioStats('outbound-rtp')).reduce((sent, entry) => sent + Number(entry.packetsSent ?? 0), 0);
  }

  /** Resolves once the microphone has sent at least `count` packets on the current PeerConnection. */
  async waitUntilSent(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const sent = await this.packetsSent();
      if (sent >= count) return;
      if (this.closed || performance.now() > deadline) {
        throw new Error(`${this.uuid}: sent ${sent} of ${count} packets within ${timeoutMs} ms; ${this.describe()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  /**
   * Closes the PeerConnection and does the whole offer again with a new one (same microphone track,
   * same slots; received audio history is kept). Done by itself when MediaReconnect arrives.
   */
  reconnectMedia(): Promise<void> {
    return this.enqueue(() => this.negotiate());
  }

  /** Stops the microphone, the sinks, every timer and wait, closes the PeerConnection and the socket. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** A line for failure messages. */
  describe(): string {
    const pc = this.session?.pc;
    const speakers = this.activeSpeakers ? ` activeSpeakers slots ${JSON.stringify(this.activeSpeakers.slots)};` : '';
    const errors = this.errors.length
      ? ` errors: ${this.errors.map((e) => (e instanceof Error ? e.message : String(e))).join(' | ')};`
      : '';
    const serverErrors = this.serverErrors.length ? ` server errors: ${JSON.stringify(this.serverErrors)};` : '';
    return (
      `${this.uuid}: ${this.detector.describe()}; pc ${pc?.connectionState ?? 'none'} (ice ${pc?.iceConnectionState ?? '-'}, ` +
      `signaling ${pc?.signalingState ?? '-'}), ${this.offers} offers, ${this.answers} answers, ` +
      `${this.onMediaReconnect} MediaReconnect, ${this.mediaClosed} MediaClosed;${speakers}${errors}${serverErrors}`
    );
  }

  private microphone(what: string): ToneSource {
    if (!this.source) throw new Error(`${this.uuid}: ${what}: a listen-only participant has no microphone`);
    return this.source;
  }

  /** Runs signaling steps one at a time, in the order the messages came; failures are recorded. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch((error: unknown) => {
      this.errors.push(error);
    });
    return run;
  }

  private signal(message: Message): void {
    if (this.closed || this.ws.socket.readyState !== this.ws.socket.OPEN) return;
    this.ws.send(message);
  }

  private onSocketMessage(data: unknown, isBinary: boolean): void {
    if (isBinary || this.closed) return;
    let message: Message;
    try {
      message = JSON.parse(String(data)) as Message;
    } catch {
      return;
    }
    switch (message.action) {
      case 'SessionDescription':
        void this.enqueue(() => this.applyAnswer(message)).catch(() => {});
        break;
      case 'ICECandidate':
        void this.enqueue(() => this.addRemoteCandidate(message)).catch(() => {});
        break;
      case 'ActiveSpeakers': {
        const speakers: ActiveSpeakers = {
          uuids: Array.isArray(message.uuids) ? message.uuids : [],
          slots: Array.isArray(message.slots) ? message.slots : [],
          at: performance.now(),
        };
        this.activeSpeakers = speakers;
        this.activeSpeakersHistory.push(speakers);
        break;
      }
      case 'MediaReconnect':
        this.onMediaReconnect++;
        if (this.autoReconnect) void this.enqueue(() => this.negotiate()).catch(() => {});
        break;
      case 'MediaClosed':
        this.mediaClosed++;
        break;
      case 'Error':
        this.serverErrors.push(message);
        break;
    }
  }

  /** Builds a new PeerConnection per the recipe and sends its offer (closing the previous one). */
  private async negotiate(): Promise<void> {
    if (this.closed) return;
    this.teardownSession();
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    const session: MediaSession = {
      pc,
      generation: ++this.generation,
      offerSent: false,
      remoteSet: false,
      localCandidates: [],
      remoteCandidates: [],
    };
    this.session = session;
    pc.onicecandidate = (event) => {
      const candidate = event.candidate;
      // null: gathering is over; an empty candidate string is the same in some stacks. Nothing to send.
      if (!candidate?.candidate || this.session !== session) return;
      const message = {
        action: 'ICECandidate',
        candidate: candidate.candidate,
        sdpMid: candidate.sdpMid,
        sdpMLineIndex: candidate.sdpMLineIndex,
      };
      if (session.offerSent) this.signal(message);
      else session.localCandidates.push(message);
    };
    pc.onconnectionstatechange = () => {
      this.connectionStates.push({ generation: session.generation, state: pc.connectionState, at: performance.now() });
    };
    if (this.source) pc.addTransceiver(this.source.track, { direction: 'sendonly' });
    for (let slot = 0; slot < this.slots; slot++) {
      const transceiver = pc.addTransceiver('audio', { direction: 'recvonly' });
      this.detector.attach(slot, transceiver.receiver.track);
    }
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    if (this.closed || this.session !== session) return;
    this.signal({ action: 'SessionDescription', type: 'offer', sdp: offer.sdp });
    this.offers++;
    session.offerSent = true;
    for (const message of session.localCandidates.splice(0)) this.signal(message);
  }

  private async applyAnswer(message: Message): Promise<void> {
    const session = this.session;
    if (this.closed || !session) return;
    if (message.type !== 'answer' || typeof message.sdp !== 'string' || session.pc.signalingState !== 'have-local-offer') {
      this.ignoredMessages.push(message);
      return;
    }
    // Kept before it is applied: the connection may be up before setRemoteDescription's promise settles.
    this.lastAnswer = message.sdp;
    await session.pc.setRemoteDescription({ type: 'answer', sdp: message.sdp });
    if (this.session !== session) return;
    session.remoteSet = true;
    this.answers++;
    for (const candidate of session.remoteCandidates.splice(0)) {
      await this.addCandidate(session, candidate);
    }
  }

  private async addRemoteCandidate(message: Message): Promise<void> {
    const session = this.session;
    if (this.closed || !session) return;
    if (typeof message.candidate !== 'string' || message.candidate === '') return; // end of candidates
    const candidate: RTCIceCandidateInit = { candidate: message.candidate };
    if (message.sdpMid !== undefined) candidate.sdpMid = message.sdpMid;
    if (message.sdpMLineIndex !== undefined) candidate.sdpMLineIndex = message.sdpMLineIndex;
    if (session.remoteSet) await this.addCandidate(session, candidate);
    else session.remoteCandidates.push(candidate);
  }

  private async addCandidate(session: MediaSession, candidate: RTCIceCandidateInit): Promise<void> {
    if (this.session !== session || this.closed) return;
    try {
      await session.pc.addIceCandidate(candidate);
    } catch (error) {
      this.errors.push(new Error(`${this.uuid}: addIceCandidate(${JSON.stringify(candidate)}) failed: ${String(error)}`));
    }
  }

  /** Stops the sinks, then closes the PeerConnection (in that order: a sink on a closed track is not needed). */
  private teardownSession(): void {
    const session = this.session;
    if (!session) return;
    this.detector.detachAll();
    session.pc.onicecandidate = null;
    session.pc.onconnectionstatechange = null;
    try {
      session.pc.close();
    } catch (error) {
      this.errors.push(error);
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const cancel of [...this.pending]) cancel();
    this.ws.socket.off('message', this.messageListener);
    this.detector.stop();
    this.teardownSession();
    this.source?.stop();
    // A signaling step in flight sees `closed` and stops; do not hang on one that never settles.
    await settleWithin(this.chain, SOCKET_CLOSE_MS);
    await closeSocket(this.ws);
  }

  /** Polls `check` every 50 ms until it holds; rejects after `timeoutMs`, or at once when the participant closes. */
  private waitFor(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.closed) {
        reject(new Error(`${this.uuid}: closed, not waiting for ${what}`));
        return;
      }
      const started = performance.now();
      let poll: NodeJS.Timeout | undefined;
      let deadline: NodeJS.Timeout | undefined;
      let done = false;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearInterval(poll);
        clearTimeout(deadline);
        this.pending.delete(cancel);
        if (error) reject(error);
        else resolve();
      };
      const cancel = () => finish(new Error(`${this.uuid}: closed while waiting for ${what}`));
      const attempt = (last: boolean) => {
        let ok: boolean;
        try {
          ok = check();
        } catch (error) {
          finish(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (ok) finish();
        else if (last) {
          finish(
            new Error(
              `${this.uuid}: timed out after ${Math.round(performance.now() - started)} ms waiting for ${what}; ${this.describe()}`,
            ),
          );
        }
      };
      this.pending.add(cancel);
      poll = setInterval(() => attempt(false), POLL_MS);
      deadline = setTimeout(() => attempt(true), timeoutMs);
      attempt(false);
    });
  }
}

/** Waits for `promise` (ignoring its outcome), at most `timeoutMs`. */
async function settleWithin(promise: Promise<unknown>, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.then(
      () => {},
      () => {},
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
}

/** Closes a WsClient, terminating it if the server does not finish the closing handshake in time. */
async function closeSocket(ws: WsClient, timeoutMs = SOCKET_CLOSE_MS): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ws.close(),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          ws.socket.terminate();
          resolve();
        }, timeoutMs);
      }),
    ]);
  } catch {
    ws.socket.terminate();
  } finally {
    clearTimeout(timer);
  }
}
