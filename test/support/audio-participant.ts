/**
 * A room member with real WebRTC audio (libwebrtc via @roamhq/wrtc), for tests that prove who hears
 * whom through the SFU. It is the SDK: a RoomClient (over `ws`) joins the room and a RoomAudio does
 * the audio recipe, with the tone of a ToneSource as its microphone (handed to the SDK as
 * getUserMedia's track), or none (listen-only); a ToneDetector listens to the receive slots the SDK
 * reports (`track` events) and tells which tones arrive on them. MediaReconnect, MediaClosed, a
 * resumed connection and an ICE failure are the SDK's to handle (an offer again, by itself).
 *
 * `ws` is a WsClient over the SDK's current socket: every frame the server sends on it stays in its
 * unread queue, so a test can still `ws.next('ActiveSpeakers')` or `ws.next('MuteUser')`, and
 * `ws.send()` still sends raw frames (a bogus candidate, a MuteUser without id) on the SDK's socket.
 * The one exception: ClickAya, MoveSura and MuteAll without an id go through the RoomClient's
 * commands, because the server answers their sender with a bare Ack (no event, no id) whose content
 * the RoomClient cannot rebuild; it would rejoin for a fresh state (a `resync`) and renegotiate the
 * audio, which a test sending them raw never meant. Their Ack still reaches `ws` (with an id).
 */

import WebSocket from 'ws';
import { RoomAudio, type RoomAudioOptions } from '../../sdk/src/audio/room-audio.js';
import type { MediaDevicesLike } from '../../sdk/src/audio/rtc.js';
import { RoomClient } from '../../sdk/src/room-client.js';
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
  /** Appended to the first join URL, e.g. `?last_seq=4` (then the server must still answer with RoomState). */
  query?: string;
  /** Frequencies hears() looks for (default 440, 550, ..., 1320: 110 Hz apart). */
  listenFor?: number[];
  /** Window of hears() (default 300 ms). */
  windowMs?: number;
  /** Share of the received energy a tone needs to be heard (default 0.05, see dominantTones). */
  threshold?: number;
  /** Number of receive slots to offer, overriding RoomState's `audio_slots`. */
  slots?: number;
  /** ICE servers of the PeerConnection (default none: host candidates only). */
  iceServers?: RTCIceServer[];
  /** How long join() waits for RoomState (default 5000 ms). */
  joinTimeoutMs?: number;
  /** More RoomAudio options (e.g. `iceServers: undefined` for the server's, `mediaDevices` with several inputs). */
  audio?: Partial<RoomAudioOptions>;
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

/** The commands whose sender gets a bare Ack instead of the event (see the file's comment). */
const SENDER_LEFT_OUT = new Set(['ClickAya', 'MoveSura', 'MuteAll']);

/** getUserMedia that opens `track`: a ToneSource as the microphone. */
export function toneDevices(track: MediaStreamTrack): MediaDevicesLike {
  return { getUserMedia: async () => ({ getAudioTracks: () => [track] }) };
}

export class AudioParticipant {
  /** Incremented for each MediaReconnect the server sent. */
  onMediaReconnect = 0;
  /** Incremented for each MediaClosed the server sent. */
  mediaClosed = 0;
  /** Offers sent and answers received, over every PeerConnection. */
  offers = 0;
  answers = 0;
  /** The SDP of the last answer received for the current offer (kept as it arrives, before it is applied). */
  lastAnswer: string | undefined;
  /** The last ActiveSpeakers, and all of them in order. */
  activeSpeakers: ActiveSpeakers | undefined;
  readonly activeSpeakersHistory: ActiveSpeakers[] = [];
  /** `Error` messages the server sent on the socket. */
  readonly serverErrors: Message[] = [];
  /** Failures of the signaling or media machinery (the SDK's audio `error` events, socket errors). */
  readonly errors: unknown[] = [];
  /** Answers ignored because no offer was waiting for one (e.g. an answer to a replaced PeerConnection). */
  readonly ignoredMessages: Message[] = [];
  /** Every connectionState of every PeerConnection, with performance.now(). */
  readonly connectionStates: { generation: number; state: RTCPeerConnectionState; at: number }[] = [];
  readonly detector: ToneDetector;
  /** The microphone; null for a listen-only participant. */
  readonly source: ToneSource | null;
  /** The SDK's room client and audio this participant is. */
  readonly client: RoomClient;
  readonly audio: RoomAudio;

  private view: WsClient | undefined;
  private firstState: Message | undefined;
  private slotCount = 0;
  private generation = 0;
  private closed = false;
  private closing: Promise<void> | undefined;
  private readonly pending = new Set<() => void>();

  private constructor(
    wsBase: string,
    room: string,
    readonly uuid: string,
    options: AudioParticipantOptions,
  ) {
    const detectorOptions: ConstructorParameters<typeof ToneDetector>[0] = { listenFor: options.listenFor ?? DEFAULT_LISTEN_FOR };
    if (options.windowMs !== undefined) detectorOptions.windowMs = options.windowMs;
    if (options.threshold !== undefined) detectorOptions.threshold = options.threshold;
    this.detector = new ToneDetector(detectorOptions);
    this.source =
      options.toneHz === null || options.toneHz === undefined
        ? null
        : new ToneSource({ hz: options.toneHz, amplitude: options.amplitude ?? 0.3 });

    // The SDK's sockets are `ws` WebSockets; each one gets a WsClient view as it is made.
    const participant = this;
    let query = options.query;
    class ViewedWebSocket extends WebSocket {
      constructor(url: string) {
        const extra = query ? (url.includes('?') ? `&${query.replace(/^\?/, '')}` : query) : '';
        query = undefined;
        super(url + extra);
        participant.view = WsClient.over(this, (message) => participant.sendRaw(this, message));
        this.on('error', (error) => participant.errors.push(error));
      }
    }
    this.client = new RoomClient({
      url: wsBase,
      room,
      uuid,
      WebSocket: ViewedWebSocket,
      RTCPeerConnection,
      // The stand-in server of test/unit/audio-participant.test.ts does not answer Ping.
      keepAlive: false,
    });
    this.audio = new RoomAudio(this.client, {
      microphone: this.source !== null,
      ...(this.source ? { mediaDevices: toneDevices(this.source.track) } : {}),
      RTCPeerConnection,
      createAudioElement: null,
      iceServers: options.iceServers ?? [],
      ...(options.slots === undefined ? {} : { slots: options.slots }),
      ...options.audio,
    });
    this.client.on('event', (frame) => {
      const message = frame as Message;
      if (message.action === 'RoomState') this.firstState ??= message;
      if (message.action === 'Error') this.serverErrors.push(message);
    });
    this.client.on('media', (message) => {
      if (message.action === 'MediaReconnect') this.onMediaReconnect++;
      else if (message.action === 'MediaClosed') this.mediaClosed++;
      else if (message.action === 'ActiveSpeakers') {
        const speakers: ActiveSpeakers = {
          uuids: Array.isArray(message.uuids) ? message.uuids : [],
          slots: Array.isArray(message.slots) ? message.slots : [],
          at: performance.now(),
        };
        this.activeSpeakers = speakers;
        this.activeSpeakersHistory.push(speakers);
      }
    });
    this.audio.on('negotiation', (event) => {
      if (event.kind === 'offer') this.offers++;
      else if (event.kind === 'answer') {
        this.answers++;
        this.lastAnswer = event.sdp;
      } else this.ignoredMessages.push(event.message as Message);
    });
    this.audio.on('error', (error) => this.errors.push(error));
    this.audio.on('peerconnection', (pc) => {
      const generation = ++this.generation;
      pc.addEventListener('connectionstatechange', () => {
        this.connectionStates.push({ generation, state: pc.connectionState as RTCPeerConnectionState, at: performance.now() });
      });
    });
    // The SDK says `null` before it closes a PeerConnection: the sinks stop before their tracks end.
    this.audio.on('track', (slot, track) => {
      if (this.closed) return;
      if (track) this.detector.attach(slot, track as MediaStreamTrack);
      else this.detector.detachAll();
    });
  }

  /**
   * Joins `room` as `uuid` over the WebSocket at `wsBase` (`ws://host:port`), waits for RoomState,
   * starts the SDK's audio and the microphone; resolves once the offer is sent (see
   * waitForConnected). A join whose first attempt fails, or that gets no RoomState within
   * joinTimeoutMs, rejects (the SDK would retry): the participant is closed and the error rethrown.
   */
  static async join(wsBase: string, room: string, uuid: string, options: AudioParticipantOptions = {}): Promise<AudioParticipant> {
    const participant = new AudioParticipant(wsBase, room, uuid, options);
    try {
      await participant.connect(options.joinTimeoutMs ?? 5000);
      const slots = options.slots ?? participant.state.audio_slots ?? DEFAULT_AUDIO_SLOTS;
      if (!Number.isInteger(slots) || slots < 0)
        throw new Error(`${uuid}: audio_slots must be an integer >= 0, got ${JSON.stringify(slots)}`);
      participant.slotCount = slots;
      await participant.audio.start();
      // The microphone's real time starts once the offer is out.
      participant.source?.start();
      return participant;
    } catch (error) {
      await participant.close();
      throw error;
    }
  }

  /** The WsClient over the SDK's current socket (a new one after each reconnect). */
  get ws(): WsClient {
    if (!this.view) throw new Error(`${this.uuid}: no socket yet`);
    return this.view;
  }

  /** The RoomState the join answered with. */
  get state(): Message {
    if (!this.firstState) throw new Error(`${this.uuid}: no RoomState yet`);
    return this.firstState;
  }

  /** Number of receive slots offered. */
  get slots(): number {
    return this.slotCount;
  }

  /** The current PeerConnection (a new one after each reconnectMedia(); the last one, closed, after close()). */
  get pc(): RTCPeerConnection {
    return this.audio.peerConnection as unknown as RTCPeerConnection;
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
    return this.waitFor('the PeerConnection to connect', () => this.currentPc()?.connectionState === 'connected', timeoutMs);
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
    const pc = this.currentPc();
    if (!pc || this.closed) return stats;
    const report = await pc.getStats();
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
    const pc = this.currentPc();
    if (!pc || this.closed) return [];
    const entries: Record<string, any>[] = [];
    (await pc.getStats()).forEach((entry: Record<string, any>) => {
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
   * same slots; received audio history is kept): the SDK's renegotiate(). The SDK does it by itself
   * on MediaReconnect, MediaClosed, a resumed connection and an ICE failure.
   */
  reconnectMedia(): Promise<void> {
    return this.audio.renegotiate();
  }

  /** Stops the microphone, the sinks, every timer and wait, the SDK's audio and its room client (a clean close). Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  /** A line for failure messages. */
  describe(): string {
    const pc = this.currentPc();
    const speakers = this.activeSpeakers ? ` activeSpeakers slots ${JSON.stringify(this.activeSpeakers.slots)};` : '';
    const errors = this.errors.length
      ? ` errors: ${this.errors.map((e) => (e instanceof Error ? e.message : String(e))).join(' | ')};`
      : '';
    const serverErrors = this.serverErrors.length ? ` server errors: ${JSON.stringify(this.serverErrors)};` : '';
    return (
      `${this.uuid}: ${this.detector.describe()}; pc ${pc?.connectionState ?? 'none'} (ice ${pc?.iceConnectionState ?? '-'}, ` +
      `signaling ${pc?.signalingState ?? '-'}), audio ${this.audio.status.status}, room ${this.client.status.status}, ` +
      `${this.offers} offers, ${this.answers} answers, ` +
      `${this.onMediaReconnect} MediaReconnect, ${this.mediaClosed} MediaClosed;${speakers}${errors}${serverErrors}`
    );
  }

  private currentPc(): RTCPeerConnection | null {
    return this.audio.peerConnection as unknown as RTCPeerConnection | null;
  }

  private microphone(what: string): ToneSource {
    if (!this.source) throw new Error(`${this.uuid}: ${what}: a listen-only participant has no microphone`);
    return this.source;
  }

  /** `ws.send()`: raw on `socket`, but for the commands whose sender the server leaves out (see the file's comment). */
  private sendRaw(socket: WebSocket, message: unknown): void {
    const frame = typeof message === 'string' ? safeParse(message) : (message as Message);
    if (frame && typeof frame === 'object' && SENDER_LEFT_OUT.has(frame.action) && frame.id === undefined) {
      const command =
        frame.action === 'ClickAya'
          ? this.client.clickAya(frame.aya)
          : frame.action === 'MoveSura'
            ? this.client.moveSura(frame.id_quran)
            : frame.result === false
              ? this.client.unmuteAll()
              : this.client.muteAll();
      // A refusal still reaches `ws` as its Error frame.
      command.catch(() => undefined);
      return;
    }
    socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  private async connect(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let off: (() => void) | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`${this.uuid}: timed out after ${timeoutMs} ms waiting for RoomState`)), timeoutMs);
        off = this.client.on('connection', (status) => {
          if (status.status === 'reconnecting') {
            const cause = status.cause;
            reject(
              new Error(
                `${this.uuid}: the join failed (${cause.kind}${cause.status ? ` ${cause.status}` : ''}${cause.message ? `: ${cause.message}` : ''})`,
              ),
            );
          }
        });
        this.client.connect().then(() => resolve(), reject);
      });
    } finally {
      clearTimeout(timer);
      off?.();
    }
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const cancel of [...this.pending]) cancel();
    this.detector.stop();
    this.audio.close();
    this.source?.stop();
    const socket = this.view?.socket;
    const closed = this.view?.closed;
    this.client.close();
    // A clean close (the server lets the user leave at once); terminated if the handshake does not finish in time.
    if (socket && closed && socket.readyState !== WebSocket.CLOSED) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        closed,
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            socket.terminate();
            resolve();
          }, SOCKET_CLOSE_MS);
        }),
      ]);
      clearTimeout(timer);
    }
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

function safeParse(text: string): Message | undefined {
  try {
    return JSON.parse(text) as Message;
  } catch {
    return undefined;
  }
}
