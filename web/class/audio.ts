import { type MediaMessage, type RoomClient, toRTCIceServers } from '../../sdk/src/index.js';

/**
 * The class's audio: one RTCPeerConnection to the server's SFU, by the recipe of docs/protocol.md
 * ("Audio"): the microphone send-only, then one receive-only transceiver per audio slot. Its
 * signaling goes through the room client's audio seam (docs/sdk.md): `sendSignal` out, the `media`
 * event in. The page speaks no protocol of its own.
 *
 * Offers again on every (re)connection, on MediaReconnect, and (a few times) after MediaClosed.
 */

export type MediaState = RTCPeerConnectionState | 'connecting';

export interface AudioHooks {
  /** The PeerConnection's state changed (or there is none: `closed`). */
  status(state: MediaState): void;
  /** Who speaks, and who is on each receive slot, changed. */
  speakers(): void;
  /** Receive slot `slot` now plays `stream`. */
  slot(slot: number, stream: MediaStream): void;
  note(text: string, kind?: 'info' | 'error'): void;
}

/** Re-offers after MediaClosed before giving up, since the last connected PeerConnection. */
const MEDIA_RETRIES = 3;

export class ClassAudio {
  /** The PeerConnection to the SFU, when there is one. */
  pc: RTCPeerConnection | null = null;
  /** Who is speaking now, loudest first (ActiveSpeakers). */
  speaking: readonly string[] = [];
  /** The uuid on each receive slot (ActiveSpeakers), null for none. */
  slots: readonly (string | null)[] = [];

  /**
   * The offers sent on this connection that are not answered yet, oldest first. Each gets one
   * answer (the server answers in order) or one refusal naming its id. An answer for an offer of a
   * PeerConnection already thrown away is skipped.
   */
  private offers: { id: string; peer: RTCPeerConnection }[] = [];
  private remoteReady = false;
  private queuedCandidates: RTCIceCandidateInit[] = [];
  /** Bumped whenever the PeerConnection is thrown away, so a start still fetching ICE servers gives up. */
  private generation = 0;
  private retries = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly client: RoomClient,
    private readonly mic: MediaStream,
    private readonly hooks: AudioHooks,
  ) {}

  /** A new connection to the room: the old one's answers never come; offer again. */
  connected(): void {
    this.offers = [];
    void this.start();
  }

  /** The connection to the room is gone: so is the media (the server closes it too). */
  disconnected(): void {
    this.offers = [];
    this.stop();
  }

  /** The room client's `media` event. */
  handle(message: MediaMessage): void {
    switch (message.action) {
      case 'SessionDescription':
        void this.applyAnswer(message.sdp);
        return;
      case 'ICECandidate':
        this.addCandidate({ candidate: message.candidate, sdpMid: message.sdpMid, sdpMLineIndex: message.sdpMLineIndex });
        return;
      case 'ActiveSpeakers':
        this.speaking = message.uuids;
        this.slots = message.slots;
        this.hooks.speakers();
        return;
      case 'MediaClosed':
        this.stop();
        if (this.client.connected && this.retries < MEDIA_RETRIES) {
          this.retries += 1;
          this.hooks.note('Audio was closed; reconnecting audio', 'error');
          this.retryTimer = setTimeout(() => {
            if (this.client.connected && !this.pc) void this.start();
          }, 1000 * this.retries);
        }
        return;
      case 'MediaReconnect':
        void this.start();
        return;
      case 'Error':
        if (message.of === 'SessionDescription') {
          const index = this.offers.findIndex((offer) => offer.id === message.id);
          const [refused] = index >= 0 ? this.offers.splice(index, 1) : [];
          if (!refused || refused.peer === this.pc) {
            this.hooks.note(`Audio refused: ${message.code}: ${message.message}`, 'error');
            this.hooks.status('failed');
          }
        }
        // A refused candidate (e.g. `no_offer` for one of a PeerConnection just closed) is harmless.
        return;
    }
  }

  /** Closes the PeerConnection and a retry still pending. */
  stop(): void {
    this.generation += 1;
    clearTimeout(this.retryTimer);
    this.remoteReady = false;
    this.queuedCandidates = [];
    this.speaking = [];
    this.slots = [];
    const peer = this.pc;
    if (!peer) return;
    this.pc = null;
    peer.close();
    this.hooks.status('closed');
    this.hooks.speakers();
  }

  /** Sums the PeerConnection's audio statistics (the browser tests read them). */
  async stats(): Promise<{ packetsReceived: number; audioLevel: number; packetsSent: number }> {
    const totals = { packetsReceived: 0, audioLevel: 0, packetsSent: 0 };
    if (!this.pc) return totals;
    (await this.pc.getStats()).forEach((report) => {
      if (report.type === 'inbound-rtp' && report.kind === 'audio') {
        totals.packetsReceived += report.packetsReceived ?? 0;
        totals.audioLevel = Math.max(totals.audioLevel, report.audioLevel ?? 0);
      } else if (report.type === 'outbound-rtp' && report.kind === 'audio') {
        totals.packetsSent += report.packetsSent ?? 0;
      }
    });
    return totals;
  }

  private async start(): Promise<void> {
    this.stop();
    const generation = this.generation;
    const state = this.client.state;
    const track = this.mic.getAudioTracks()[0];
    if (!this.client.connected || !state) return;
    try {
      this.hooks.status('connecting');
      const iceServers = toRTCIceServers(await this.client.iceServers());
      if (generation !== this.generation) return;
      const Peer = (this.client.RTCPeerConnection ?? RTCPeerConnection) as typeof RTCPeerConnection;
      const peer = new Peer({ iceServers });
      this.pc = peer;
      if (track) peer.addTransceiver(track, { direction: 'sendonly' });
      for (let slot = 0; slot < state.audioSlots; slot += 1) {
        const { receiver } = peer.addTransceiver('audio', { direction: 'recvonly' });
        this.hooks.slot(slot, new MediaStream([receiver.track]));
      }
      peer.onicecandidate = ({ candidate }) => {
        if (this.pc !== peer || !candidate?.candidate) return;
        this.signal({
          action: 'ICECandidate',
          candidate: candidate.candidate,
          sdpMid: candidate.sdpMid,
          sdpMLineIndex: candidate.sdpMLineIndex,
        });
      };
      peer.onconnectionstatechange = () => {
        if (this.pc !== peer) return;
        if (peer.connectionState === 'connected') this.retries = 0;
        this.hooks.status(peer.connectionState);
      };
      await peer.setLocalDescription(await peer.createOffer());
      const sdp = peer.localDescription?.sdp;
      if (this.pc !== peer || !sdp) return;
      const id = this.signal({ action: 'SessionDescription', type: 'offer', sdp });
      if (id !== undefined) this.offers.push({ id, peer });
    } catch (error) {
      if (generation !== this.generation) return;
      this.hooks.note(`Audio failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
      this.hooks.status('failed');
    }
  }

  /** Sends signaling through the seam; undefined when the connection is gone (the next connection offers again). */
  private signal(signal: Parameters<RoomClient['sendSignal']>[0]): string | undefined {
    try {
      return this.client.sendSignal(signal);
    } catch {
      return undefined;
    }
  }

  private async applyAnswer(sdp: string): Promise<void> {
    const offer = this.offers.shift();
    const peer = this.pc;
    // The answer to an offer of a PeerConnection already thrown away.
    if (!offer || offer.peer !== peer || peer.signalingState !== 'have-local-offer') return;
    try {
      await peer.setRemoteDescription({ type: 'answer', sdp });
      if (this.pc !== peer) return;
      this.remoteReady = true;
      for (const candidate of this.queuedCandidates.splice(0)) this.addCandidate(candidate);
    } catch (error) {
      this.hooks.note(`Audio answer refused: ${error instanceof Error ? error.message : String(error)}`, 'error');
    }
  }

  private addCandidate(candidate: RTCIceCandidateInit): void {
    if (!this.pc || !this.remoteReady) {
      this.queuedCandidates.push(candidate);
      return;
    }
    this.pc.addIceCandidate(candidate).catch((error: unknown) => console.warn('candidate refused', error));
  }
}
