/**
 * One PeerConnection's life, per the recipe (docs/protocol.md, Audio): the microphone's send-only
 * transceiver first (none when listen-only), then K receive-only slots; the offer; local candidates
 * trickled once the offer is out; the answer; remote candidates added once the answer is set. The
 * server answers every offer with a new PeerConnection of its own (a new DTLS identity), so a
 * PeerConnection is never renegotiated: recovering from anything (an ICE failure, MediaReconnect,
 * a new connection to the room) is a new Peer (RoomAudio decides when).
 */
import type { MediaSignal } from '../wire.js';
import type {
  IceCandidateInitLike,
  IceCandidateLike,
  IceServerLike,
  PeerConnectionConstructor,
  PeerConnectionLike,
  TrackLike,
  TransceiverLike,
} from './rtc.js';

export interface PeerOptions {
  RTCPeerConnection: PeerConnectionConstructor;
  iceServers: IceServerLike[];
  /** The microphone track; null: listen-only (no send-only transceiver). */
  microphone: TrackLike | null;
  /** Receive slots to offer. */
  slots: number;
  /** Sends a signal to the server (the room client's seam); returns its request id, throws when not connected. */
  send(signal: MediaSignal): string;
  /** The connection's state: connectionState where the stack has it, otherwise from iceConnectionState. */
  onState(state: string): void;
  onError(error: unknown): void;
}

/** connectionState, or what iceConnectionState says where a stack lacks it. */
function connectionStateOf(pc: PeerConnectionLike): string {
  if (typeof pc.connectionState === 'string') return pc.connectionState;
  const ice = pc.iceConnectionState;
  return ice === 'completed' ? 'connected' : ice === 'checking' ? 'connecting' : ice;
}

export class Peer {
  readonly pc: PeerConnectionLike;
  readonly microphone: TransceiverLike | null;
  readonly slots: readonly TransceiverLike[];
  /** The request id of this Peer's offer, once sent. */
  offerId: string | undefined;
  /** Whether the answer has been applied. */
  answered = false;
  private closed = false;
  private readonly localCandidates: MediaSignal[] = [];
  private readonly remoteCandidates: IceCandidateInitLike[] = [];
  private lastState = 'new';
  private readonly onCandidate = (event: { candidate?: IceCandidateLike | null }) => this.localCandidate(event.candidate ?? null);
  private readonly onStateChange = () => {
    if (this.closed) return;
    const state = connectionStateOf(this.pc);
    if (state === this.lastState) return;
    this.lastState = state;
    this.options.onState(state);
  };

  constructor(private readonly options: PeerOptions) {
    const pc = new options.RTCPeerConnection({ iceServers: options.iceServers });
    this.pc = pc;
    pc.addEventListener('icecandidate', this.onCandidate);
    pc.addEventListener('connectionstatechange', this.onStateChange);
    pc.addEventListener('iceconnectionstatechange', this.onStateChange);
    this.microphone = options.microphone ? pc.addTransceiver(options.microphone, { direction: 'sendonly' }) : null;
    const slots: TransceiverLike[] = [];
    for (let slot = 0; slot < options.slots; slot++) slots.push(pc.addTransceiver('audio', { direction: 'recvonly' }));
    this.slots = slots;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Each receive slot's track, in slot order. */
  get slotTracks(): TrackLike[] {
    return this.slots.map((transceiver) => transceiver.receiver.track);
  }

  /** Makes the offer, sets it and sends it; then the candidates gathered meanwhile. Returns its id and SDP. */
  async offer(): Promise<{ id: string; sdp: string }> {
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    if (this.closed) throw new Error('the PeerConnection was closed before its offer went out');
    const sdp = offer.sdp ?? '';
    const id = this.options.send({ action: 'SessionDescription', type: 'offer', sdp });
    this.offerId = id;
    for (const candidate of this.localCandidates.splice(0)) this.trySend(candidate);
    return { id, sdp };
  }

  /** Applies the server's answer. False when no offer of this Peer waits for one (it is then ignored). */
  async answer(sdp: string): Promise<boolean> {
    if (this.closed || this.answered || this.offerId === undefined || this.pc.signalingState !== 'have-local-offer') return false;
    this.answered = true;
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
    for (const candidate of this.remoteCandidates.splice(0)) await this.addCandidate(candidate);
    return true;
  }

  /** A candidate of the server: added once the answer is set, kept until then. */
  async remoteCandidate(candidate: IceCandidateInitLike): Promise<void> {
    if (this.closed || candidate.candidate === '') return;
    if (this.answered && this.pc.signalingState === 'stable') await this.addCandidate(candidate);
    else this.remoteCandidates.push(candidate);
  }

  /** Sends another microphone track on the same transceiver (a device switch): no renegotiation. */
  async replaceMicrophone(track: TrackLike): Promise<void> {
    if (this.closed || !this.microphone) return;
    await this.microphone.sender.replaceTrack(track);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pc.removeEventListener('icecandidate', this.onCandidate);
    this.pc.removeEventListener('connectionstatechange', this.onStateChange);
    this.pc.removeEventListener('iceconnectionstatechange', this.onStateChange);
    try {
      this.pc.close();
    } catch (error) {
      this.options.onError(error);
    }
  }

  private localCandidate(candidate: IceCandidateLike | null): void {
    // null, or an empty candidate in some stacks: gathering is over; the server needs nothing for it.
    if (this.closed || !candidate?.candidate) return;
    const signal: MediaSignal = {
      action: 'ICECandidate',
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
    };
    if (this.offerId === undefined) this.localCandidates.push(signal);
    else this.trySend(signal);
  }

  private trySend(signal: MediaSignal): void {
    try {
      this.options.send(signal);
    } catch {
      // Not connected: this Peer is replaced after the reconnect anyway.
    }
  }

  private async addCandidate(candidate: IceCandidateInitLike): Promise<void> {
    if (this.closed) return;
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      this.options.onError(error);
    }
  }
}
