/**
 * A lossy network in front of one WebRTC client, for tests of what the SFU sees of a bad link: a UDP
 * relay on loopback that forwards everything between the client and the server but drops every Nth
 * RTP packet on its way up (real SRTP packets; STUN, DTLS and RTCP pass). The client is told to
 * reach the server through it: relayedPeerConnection() makes an RTCPeerConnection class whose
 * server candidates (in the answer, and trickled) point at the relay, and which keeps its own
 * candidates to itself, so the server only learns the client's address from the relay's checks
 * (peer-reflexive) and no direct path can form.
 */
import { createSocket, type Socket } from 'node:dgram';
import { RTCPeerConnection } from './wrtc.js';

const LOOPBACK = '127.0.0.1';

/** RFC 7983: first byte 128..191 is RTP or RTCP; RTCP's packet types 192..223 sit where RTP has marker+payload type. */
const isRtp = (packet: Buffer): boolean =>
  packet.length >= 12 && packet[0]! >= 128 && packet[0]! <= 191 && !(packet[1]! >= 192 && packet[1]! <= 223);

export interface LossyUdpRelayOptions {
  /** Drop every Nth RTP packet from the client to the server (5: 20 %); 0: drop none. */
  dropEvery: number;
}

export class LossyUdpRelay {
  /** RTP packets from the client, forwarded and dropped. */
  rtpForwarded = 0;
  rtpDropped = 0;
  /** Where the server really is: the first server candidate rewritten. */
  private target: { address: string; port: number } | undefined;
  /** One socket toward the server per client address, so the server sees each as its own candidate. */
  private readonly upstream = new Map<string, Socket>();
  private closed = false;

  private constructor(
    private readonly socket: Socket,
    private readonly options: LossyUdpRelayOptions,
  ) {
    socket.on('message', (packet, from) => this.fromClient(packet, from.address, from.port));
  }

  static async start(options: LossyUdpRelayOptions): Promise<LossyUdpRelay> {
    const socket = createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, LOOPBACK, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new LossyUdpRelay(socket, options);
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** A server candidate (`candidate:... <address> <port> typ ...`) pointed at the relay; the first one names the server. */
  rewrite(candidate: string): string {
    const fields = candidate.split(' ');
    if (fields.length < 8 || fields[2]?.toLowerCase() !== 'udp') return candidate;
    this.target ??= { address: fields[4]!, port: Number(fields[5]) };
    fields[4] = LOOPBACK;
    fields[5] = String(this.port);
    return fields.join(' ');
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
    for (const socket of this.upstream.values()) socket.close();
  }

  private fromClient(packet: Buffer, address: string, port: number): void {
    if (!this.target || this.closed) return;
    if (isRtp(packet)) {
      if (this.options.dropEvery > 0 && (this.rtpForwarded + this.rtpDropped + 1) % this.options.dropEvery === 0) {
        this.rtpDropped++;
        return;
      }
      this.rtpForwarded++;
    }
    const key = `${address}:${port}`;
    let upstream = this.upstream.get(key);
    if (!upstream) {
      upstream = createSocket('udp4');
      upstream.on('message', (reply) => {
        if (!this.closed) this.socket.send(reply, port, address);
      });
      upstream.on('error', () => undefined);
      upstream.bind(0, LOOPBACK);
      this.upstream.set(key, upstream);
    }
    upstream.send(packet, this.target.port, this.target.address);
  }
}

/** An RTCPeerConnection class (for RoomAudio's `RTCPeerConnection` option) that reaches the server only through `relay`. */
export function relayedPeerConnection(relay: LossyUdpRelay): typeof RTCPeerConnection {
  const rewriteSdp = (sdp: string) =>
    sdp
      .split('\r\n')
      .map((line) => (line.startsWith('a=candidate:') ? `a=${relay.rewrite(line.slice(2))}` : line))
      .join('\r\n');
  return class RelayedPeerConnection extends RTCPeerConnection {
    override setRemoteDescription(description: RTCSessionDescriptionInit): Promise<void> {
      return super.setRemoteDescription({ ...description, sdp: rewriteSdp(description.sdp ?? '') });
    }

    override addIceCandidate(candidate?: RTCIceCandidateInit | null): Promise<void> {
      if (!candidate?.candidate) return super.addIceCandidate(candidate ?? undefined);
      return super.addIceCandidate({ ...candidate, candidate: relay.rewrite(candidate.candidate.replace(/^a=/, '')) });
    }

    // The client's own candidates never reach the server (see the file's comment).
    override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: unknown): void {
      if (type === 'icecandidate') return;
      (super.addEventListener as (...args: unknown[]) => void)(type, listener, options);
    }
  } as typeof RTCPeerConnection;
}
