/**
 * The wire vocabulary, taken from the server's own definitions (src/protocol) with type-only
 * imports, so the SDK and the server cannot drift apart: a change there that breaks the SDK breaks
 * its type-check. Nothing of the server is bundled at run time; the build flattens these types into
 * the package's declarations (sdk/scripts/build.mjs).
 */
import type { ClientAction, ClientMessage } from '../../src/protocol/client-messages.js';
import type { ClientErrorCode, ErrorCode } from '../../src/protocol/errors.js';
import type { NodeStatus, OperatorStreamData, RoomSummary, RoomsPage } from '../../src/protocol/operator.js';
import type { AckFrame, ErrorFrame, MediaMessage, RoomView, ServerMessage } from '../../src/protocol/server-messages.js';

export type {
  AckFrame,
  ClientAction,
  ClientErrorCode,
  ClientMessage,
  ErrorCode,
  ErrorFrame,
  MediaMessage,
  NodeStatus,
  RoomSummary,
  RoomsPage,
  RoomView,
  ServerMessage,
};

/** One event of `GET /api/events` (AdminClient.events): `type` is its SSE event name, the rest its data. */
export type OperatorEvent = { [K in keyof OperatorStreamData]: { type: K } & OperatorStreamData[K] }[keyof OperatorStreamData];

/** A frame as received: room-wide events carry the room's sequence number. */
export type ServerFrame = ServerMessage & { seq?: number };

/** The snapshot a joiner receives first. */
export type RoomStateFrame = Extract<ServerMessage, { action: 'RoomState' }>;

/** The actions of the room-wide events, the ones that carry `seq` and change the room's state. */
export type RoomEventAction =
  | 'NewUser'
  | 'UserLeave'
  | 'ClickAya'
  | 'MoveSura'
  | 'MuteUser'
  | 'MuteAll'
  | 'OfferCorrection'
  | 'WithdrawCorrection'
  | 'AnswerCorrection'
  | 'RoomDeleted';

/** A room-wide event, with its seq. */
export type RoomEvent = Extract<ServerMessage, { action: RoomEventAction }> & { seq: number };

/** The commands the room logic decides on (each may carry a request id). */
export type RoomCommand = Extract<ClientMessage, { action: Exclude<ClientAction, 'Ping' | 'SessionDescription' | 'ICECandidate'> }>;

/** A command as the app gives it: the SDK adds the request id. */
export type RoomCommandInput = RoomCommand extends infer C ? (C extends RoomCommand ? Omit<C, 'id'> : never) : never;

/** Signaling for the audio (the server's SFU): an offer, or a trickled ICE candidate. */
export type MediaSignal = Extract<ClientMessage, { action: 'SessionDescription' | 'ICECandidate' }>;

/** Every code an SDK error may carry: the server's, and the SDK's own (not_connected, timeout, closed). */
export type SdkErrorCode = ErrorCode | ClientErrorCode;

const ROOM_EVENT_ACTIONS: ReadonlySet<string> = new Set<RoomEventAction>([
  'NewUser',
  'UserLeave',
  'ClickAya',
  'MoveSura',
  'MuteUser',
  'MuteAll',
  'OfferCorrection',
  'WithdrawCorrection',
  'AnswerCorrection',
  'RoomDeleted',
]);

const MEDIA_ACTIONS: ReadonlySet<string> = new Set([
  'SessionDescription',
  'ICECandidate',
  'ActiveSpeakers',
  'ConnectionQuality',
  'MediaClosed',
  'MediaReconnect',
]);

/** Whether a frame is a room-wide event (sequenced ones carry `seq`). */
export const isRoomEvent = (frame: ServerFrame): frame is ServerFrame & Extract<ServerMessage, { action: RoomEventAction }> =>
  ROOM_EVENT_ACTIONS.has(frame.action);

/** Whether a frame is for the audio: signaling answers, speakers, media lifecycle, and refusals of signaling. */
export const isMediaMessage = (frame: ServerFrame): boolean =>
  MEDIA_ACTIONS.has(frame.action) || (frame.action === 'Error' && (frame.of === 'SessionDescription' || frame.of === 'ICECandidate'));
