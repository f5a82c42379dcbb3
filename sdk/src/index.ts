/**
 * @wigglypuff/client: the client SDK of Wigglypuff, for browsers and Node 20+. See docs/sdk.md.
 */
export {
  AdminClient,
  type AdminClientOptions,
  type Health,
  type IceServers,
  type JoinToken,
  networkTraversal,
  type RTCIceServerLike,
  toRTCIceServers,
} from './admin-client.js';
export { AudioError, type AudioErrorCode } from './audio/audio-error.js';
export { type AudioDevice, type AudioDevices, DEFAULT_MICROPHONE_CONSTRAINTS } from './audio/devices.js';
export { fromConnectionQuality, type MemberQuality, type MembersQuality } from './audio/member-quality.js';
export type { AudioQuality, MicrophoneQuality, QualityLevel, StreamQuality } from './audio/quality.js';
export {
  type AudioStatus,
  DEFAULT_AUDIO_SLOTS,
  type MicrophoneOptions,
  type MicrophoneState,
  type NegotiationEvent,
  type NegotiationReason,
  RoomAudio,
  type RoomAudioEvents,
  type RoomAudioOptions,
} from './audio/room-audio.js';
export type {
  AudioElementLike,
  IceServerLike,
  MediaDeviceInfoLike,
  MediaDevicesLike,
  MediaStreamLike,
  PeerConnectionConstructor,
  PeerConnectionLike,
  StatsReportLike,
  TrackLike,
  TransceiverLike,
} from './audio/rtc.js';
export { fromActiveSpeakers, isSpeaking, type Speakers, slotOf } from './audio/speakers.js';
export { type Clock, systemClock } from './clock.js';
export type { CommandResult } from './commands.js';
export { Emitter, type EventMap, type Listener } from './emitter.js';
export { type CloseReason, isSdkError, SdkError, TERMINAL_CLOSE_CODES } from './errors.js';
export type { AbortSignalLike, ByteStreamLike, FetchLike } from './http.js';
export { AYAT_PER_SURA, ayatIn, SURA_COUNT } from './quran.js';
export { type BackoffOptions, backoffDelay, closeVerdict, DEFAULT_BACKOFF, type Environment } from './reconnect.js';
export {
  type ConnectionStatus,
  type DebugEntry,
  type DropCause,
  joinUrl,
  RoomClient,
  type RoomClientEvents,
  type RoomClientOptions,
  type StateChange,
} from './room-client.js';
export {
  applyEvent,
  ayaRefusal,
  eventOfCommand,
  fromRoomState,
  isMaster,
  isMasterOnline,
  isMember,
  isMuted,
  isQueued,
  type Member,
  nameOf,
  placeSeq,
  predictRefusal,
  type Refusal,
  type RoomSnapshot,
} from './room-state.js';
export type { WebSocketConstructor, WebSocketLike } from './socket.js';
export { jwtExpiry, type TokenProvider, type TokenReason, type TokenRequest } from './tokens.js';
export type {
  AckFrame,
  ClientAction,
  ErrorCode,
  ErrorFrame,
  MediaMessage,
  MediaSignal,
  NodeStatus,
  OperatorEvent,
  RoomCommand,
  RoomEvent,
  RoomStateFrame,
  RoomSummary,
  RoomsPage,
  RoomView,
  SdkErrorCode,
  ServerFrame,
  ServerMessage,
} from './wire.js';
