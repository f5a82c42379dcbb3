/**
 * The WebRTC and media surface the audio module drives, as structural types: the browser's
 * RTCPeerConnection, MediaStreamTrack, mediaDevices and <audio> satisfy them, and so do
 * @roamhq/wrtc's in Node. The SDK's declarations must type-check without the DOM library, so it
 * names only what it uses. Everything is injectable (RoomAudioOptions); the defaults are the globals.
 */

/** A media track: the microphone's, or a receive slot's. */
export interface TrackLike {
  readonly id: string;
  readonly kind: string;
  enabled: boolean;
  readonly readyState?: string;
  readonly label?: string;
  stop(): void;
  getSettings?(): { deviceId?: string };
}

export interface SenderLike {
  readonly track: TrackLike | null;
  replaceTrack(track: TrackLike | null): Promise<void>;
}

export interface ReceiverLike {
  readonly track: TrackLike;
}

export interface TransceiverLike {
  readonly mid: string | null;
  readonly sender: SenderLike;
  readonly receiver: ReceiverLike;
}

export interface SessionDescriptionLike {
  type?: 'offer' | 'answer' | 'pranswer' | 'rollback';
  sdp?: string;
}

export interface IceCandidateLike {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

export interface IceCandidateInitLike {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** A getStats() report: a map of stats entries (RTCStatsReport). */
export interface StatsReportLike {
  forEach(callback: (entry: Record<string, unknown>) => void): void;
}

export interface PeerConnectionLike {
  readonly connectionState: string;
  readonly iceConnectionState: string;
  readonly signalingState: string;
  addTransceiver(trackOrKind: TrackLike | string, init?: { direction?: 'sendonly' | 'recvonly' }): TransceiverLike;
  getTransceivers(): TransceiverLike[];
  createOffer(): Promise<SessionDescriptionLike>;
  setLocalDescription(description: SessionDescriptionLike): Promise<void>;
  setRemoteDescription(description: SessionDescriptionLike): Promise<void>;
  addIceCandidate(candidate: IceCandidateInitLike): Promise<void>;
  getStats(): Promise<StatsReportLike>;
  addEventListener(type: string, listener: (event: { candidate?: IceCandidateLike | null }) => void): void;
  removeEventListener(type: string, listener: (event: { candidate?: IceCandidateLike | null }) => void): void;
  close(): void;
}

/** An entry of RTCPeerConnection's `iceServers` (toRTCIceServers() makes them from GET /network_transversal). */
export interface IceServerLike {
  urls: string | string[];
  username?: string;
  credential?: string;
}

/** `new RTCPeerConnection({iceServers})`. */
export type PeerConnectionConstructor = new (configuration: { iceServers: IceServerLike[] }) => PeerConnectionLike;

/** What getUserMedia resolves with (a MediaStream). */
export interface MediaStreamLike {
  getAudioTracks(): TrackLike[];
}

export interface MediaDeviceInfoLike {
  readonly deviceId: string;
  readonly kind: string;
  readonly label: string;
  readonly groupId?: string;
}

/** `navigator.mediaDevices`: the microphone, the device list, and its changes. */
export interface MediaDevicesLike {
  getUserMedia(constraints: { audio: boolean | Record<string, unknown>; video?: false }): Promise<MediaStreamLike>;
  enumerateDevices?(): Promise<MediaDeviceInfoLike[]>;
  addEventListener?(type: 'devicechange', listener: () => void): void;
  removeEventListener?(type: 'devicechange', listener: () => void): void;
}

/** An <audio> element: what plays one receive slot. */
export interface AudioElementLike {
  srcObject: unknown;
  autoplay: boolean;
  muted?: boolean;
  play(): Promise<void> | undefined;
  pause(): void;
  setAttribute?(name: string, value: string): void;
  /** Where it exists (Chrome, Edge, Firefox; not Safari): the output device. */
  setSinkId?(sinkId: string): Promise<void>;
}

/** The global RTCPeerConnection class, navigator.mediaDevices and document, where there are. */
export const globals = globalThis as unknown as {
  RTCPeerConnection?: PeerConnectionConstructor;
  MediaStream?: new (tracks: TrackLike[]) => unknown;
  navigator?: { mediaDevices?: MediaDevicesLike };
  document?: { createElement(tag: 'audio'): AudioElementLike };
};
