import type { ErrorCode } from '../errors.js';
import type { MediaMessage } from '../media/media-messages.js';

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
  | { action: 'NewUser'; uuid: string }
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
  | { action: 'Error'; code: ErrorCode; message: string }
  | MediaMessage;

/** A frame as sent: room-wide events carry the room's sequence number. */
export type ServerFrame = ServerMessage & { seq?: number };
