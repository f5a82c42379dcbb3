/*
 * What an operator dashboard reads (`GET /api/nodes`, `/api/rooms`, `/api/room/{name}`, `/api/events`):
 * plain types, for the SDK too. Their query schemas are in http.ts.
 */
import type { RoomView, ServerMessage } from './server-messages.js';

/** A node of the cluster as `GET /api/nodes` shows it: what it reported with its last heartbeat. */
export interface NodeStatus {
  /** Its name in the cluster (as `/healthz` says it). */
  node: string;
  /** `<host>:<port>` it listens on (the machine's host name when it listens on every interface). */
  address: string;
  /** When the process started (ISO 8601). */
  started_at: string;
  uptime_s: number;
  /** Rooms with at least one WebSocket on it. */
  rooms: number;
  /** Room WebSockets open on it. */
  sockets: number;
  /** Media participants its SFU hosts (its load as a media node). */
  media_peers: number;
  /** The fraction of one CPU core the process used over its last heartbeat interval (0.12: 12 %). */
  cpu: number;
  memory: { rss: number; heap_used: number };
  /** Whether it is the node that answered. */
  self: boolean;
}

/** A room as an operator sees it: its view, where its media is, and how old it is. */
export type RoomSummary = RoomView & {
  /** The node hosting the room's media now; null when nobody in it has offered audio. */
  media_node: string | null;
  /** When the room was created (ISO 8601); null for a room stored before rooms kept it. */
  created_at: string | null;
};

/** One page of `GET /api/rooms`. */
export interface RoomsPage {
  /** Sorted by name (byte order). */
  rooms: RoomSummary[];
  /** The last name of this page when more rooms follow (pass it as `after`), else null. */
  next: string | null;
  /** Every room of the cluster. */
  total: number;
}

/** The `data` of each Server-Sent Event of `GET /api/events`, by its `event:` name. */
export interface OperatorStreamData {
  /** First: the rooms followed; from here on, every event of theirs arrives. */
  ready: { rooms: string[] };
  /** One event of a followed room, as its receivers get it. */
  room: {
    room: string;
    /** Room-wide events carry the room's seq; the others none. */
    seq: number | null;
    /** Who received it: the whole room, every connection of one participant (`uuid`), or one connection. */
    to: 'room' | 'user' | 'connection';
    uuid?: string;
    /** The message as its receivers got it (a room-wide one with its `seq`). */
    message: ServerMessage & { seq?: number };
  };
  /** The stream did not drain: `count` events (the oldest held) were left out before the ones that follow. */
  dropped: { count: number };
}

export type OperatorStreamEvent = keyof OperatorStreamData;
