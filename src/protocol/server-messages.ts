import type { ClientAction } from './client-messages.js';
import type { ErrorCode } from './errors.js';

/** A room as clients see it: in RoomState and in `GET /api/room/{name}`. */
export interface RoomView {
  name: string;
  master_uuid: string;
  users: string[];
  /** Display names of the members who have one, by uuid. */
  names: Record<string, string>;
  id_quran: number | null;
  aya: number | null;
  muted: string[];
  muted_all: boolean;
  /** The correction queue: students waiting for the master, in the order they asked. */
  corrections: string[];
}

/** Everything the server sends on the room WebSocket. Events broadcast to the room also carry `seq`. */
export type ServerMessage =
  | ({ action: 'RoomState'; room: string; seq: number; missed?: true; audio_slots: number } & Omit<RoomView, 'name'>)
  | { action: 'Resumed'; last_seq: number }
  /** `muted`: present when the newcomer joins muted (a mute they kept from before, or MuteAll). `name`: their display name, if any. */
  | { action: 'NewUser'; uuid: string; name?: string; muted?: true }
  | { action: 'UserLeave'; uuid: string }
  | { action: 'ClickAya'; aya: number }
  | { action: 'MoveSura'; id_quran: number }
  | { action: 'MuteUser'; uuid: string; result: boolean }
  | { action: 'MuteAll'; result: boolean }
  | { action: 'RoomDeleted' }
  | { action: 'OfferCorrection'; uuid: string }
  | { action: 'WithdrawCorrection'; uuid: string }
  | { action: 'AnswerCorrection'; uuid: string; result: boolean }
  | { action: 'Kicked' }
  | { action: 'Replaced' }
  | AckFrame
  | { action: 'Pong'; id?: string }
  /** The server is shutting down: reconnect, to any node, with last_seq. */
  | { action: 'Reconnect' }
  | ErrorFrame
  | MediaMessage;

/**
 * A command answered. Without `id`: the room-wide event the sender was left out of (ClickAya,
 * MoveSura, MuteAll), at its `seq`. With `id`: the one answer to the command that carried it, after
 * the commit's events; `seq` absent when the command changed nothing.
 */
export interface AckFrame {
  action: 'Ack';
  of: ClientAction;
  id?: string;
  seq?: number;
}

/** The one error frame: a refused command, a refused offer, bad input. `of` and `id` name the command it answers. */
export interface ErrorFrame {
  action: 'Error';
  of?: ClientAction;
  id?: string;
  code: ErrorCode;
  message: string;
}

/** Which command a frame answers: its action and the client's request id, when it gave one. */
export interface RequestRef {
  of: ClientAction;
  id?: string | undefined;
}

/** The frame that reports an AppError, naming the command it refuses when there is one. */
export const errorFrame = ({ code, message }: { code: ErrorCode; message: string }, about?: Partial<RequestRef>): ErrorFrame => ({
  action: 'Error',
  ...(about?.of !== undefined && { of: about.of }),
  ...(about?.id !== undefined && { id: about.id }),
  code,
  message,
});

/** What the SFU tells one participant's client (never sequenced: it is not a room event). */
export type MediaMessage =
  | { action: 'SessionDescription'; type: 'answer'; sdp: string }
  | { action: 'ICECandidate'; candidate: string; sdpMid: string; sdpMLineIndex: number }
  | { action: 'ActiveSpeakers'; uuids: string[]; slots: (string | null)[] }
  /** Each media participant's link as the SFU sees it, every 5 s when it changed (docs/protocol.md). */
  | { action: 'ConnectionQuality'; members: Record<string, MemberConnectionQuality> }
  /** The client's media is closed (left, kicked, the room deleted, or ICE failed). */
  | { action: 'MediaClosed' }
  /** The room's media moved (its node died): offer again with a new PeerConnection. */
  | { action: 'MediaReconnect' }
  /** A signaling message refused (a bad offer, a candidate without an offer): the same frame as any refusal. */
  | ErrorFrame;

/** A link's level, on the SDK's thresholds: loss under 2 % and round trip under 300 ms good, under 10 % and 800 ms fair, else poor; unknown without either. */
export type ConnectionQualityLevel = 'good' | 'fair' | 'poor' | 'unknown';

/** One participant's link over the SFU's last interval (losses 0..1, in whole percent; null: not known). */
export interface MemberConnectionQuality {
  level: ConnectionQualityLevel;
  /** Its offer has a microphone (false: listen-only). */
  publishing: boolean;
  /** The worse of the two losses below. */
  loss: number | null;
  /** Of the microphone's packets, as the SFU counted them (null: listen-only, or none expected). */
  uplink_loss: number | null;
  /** Of what the SFU sent it on its first receive slot, as its own receiver reports say (null: no recent report, or nothing sent). */
  downlink_loss: number | null;
  /** The round trip its receiver reports measure against the SFU's sender reports, in tens of ms (null: none yet). */
  round_trip_ms: number | null;
}

/** A frame as sent: room-wide events carry the room's sequence number. */
export type ServerFrame = ServerMessage & { seq?: number };
