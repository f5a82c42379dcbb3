import type { ErrorCode } from './errors.js';

/** A room as clients see it: in RoomState and in `GET /api/room/{name}`. */
export interface RoomView {
  name: string;
  master_uuid: string;
  users: string[];
  id_quran: number | null;
  aya: number | null;
  muted: string[];
  muted_all: boolean;
}

/** Everything the server sends on the room WebSocket. Events broadcast to the room also carry `seq`. */
export type ServerMessage =
  | ({ action: 'RoomState'; room: string; seq: number; missed?: true; audio_slots: number } & Omit<RoomView, 'name'>)
  | { action: 'Resumed'; last_seq: number }
  /** `muted`: present when the newcomer joins muted (a mute they kept from before, or MuteAll). */
  | { action: 'NewUser'; uuid: string; muted?: true }
  | { action: 'UserLeave'; uuid: string }
  | { action: 'ClickAya'; aya: number }
  | { action: 'MoveSura'; id_quran: number }
  | { action: 'MuteUser'; uuid: string; result: boolean }
  | { action: 'MuteAll'; result: boolean }
  | { action: 'RoomDeleted' }
  | { action: 'OfferCorrection'; uuid: string }
  | { action: 'AnswerCorrection'; uuid: string; result: boolean }
  | { action: 'Kicked' }
  | { action: 'Replaced' }
  | { action: 'Ack'; of: ServerMessage['action']; seq: number }
  | { action: 'Pong' }
  /** The server is shutting down: reconnect, to any node, with last_seq. */
  | { action: 'Reconnect' }
  | ErrorFrame
  | MediaMessage;

/** The one error frame: a refused command, a refused offer, bad input. */
export interface ErrorFrame {
  action: 'Error';
  code: ErrorCode;
  message: string;
}

/** The frame that reports an AppError. */
export const errorFrame = ({ code, message }: { code: ErrorCode; message: string }): ErrorFrame => ({ action: 'Error', code, message });

/** What the SFU tells one participant's client (never sequenced: it is not a room event). */
export type MediaMessage =
  | { action: 'SessionDescription'; type: 'answer'; sdp: string }
  | { action: 'ICECandidate'; candidate: string; sdpMid: string; sdpMLineIndex: number }
  | { action: 'ActiveSpeakers'; uuids: string[]; slots: (string | null)[] }
  /** The client's media is closed (left, kicked, the room deleted, or ICE failed). */
  | { action: 'MediaClosed' }
  /** The room's media moved (its node died): offer again with a new PeerConnection. */
  | { action: 'MediaReconnect' }
  /** A signaling message refused (a bad offer, a candidate without an offer): the same frame as any refusal. */
  | ErrorFrame;

/** A frame as sent: room-wide events carry the room's sequence number. */
export type ServerFrame = ServerMessage & { seq?: number };
