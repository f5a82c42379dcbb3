/**
 * What the dashboard asks the server, all through the SDK's AdminClient (GET /healthz, /api/nodes,
 * /api/rooms, /api/room/{name}, the /api/events stream, kick and delete). The API key lives only in
 * the AdminClient made here, in this page's memory: never in storage or a cookie.
 */
import { AdminClient, type Health } from '../../sdk/src/index.js';
import type { RoomView, ServerMessage } from '../../src/protocol/server-messages.js';

/** One node of the cluster, as `GET /api/nodes` lists it. */
export interface NodeStatus {
  node: string;
  address: string;
  /** ISO 8601. */
  started_at: string;
  uptime_s: number;
  rooms: number;
  sockets: number;
  media_peers: number;
  /** A fraction of one core. */
  cpu: number;
  memory: { rss: number; heap_used: number };
  /** The node that answered. */
  self: boolean;
}

/** A room as `GET /api/rooms` and `GET /api/room/{name}` give it. */
export interface RoomSummary extends RoomView {
  media_node: string | null;
  /** ISO 8601, or null when the server does not know it. */
  created_at: string | null;
}

export interface RoomsPage {
  rooms: RoomSummary[];
  /** The cursor of the next page (`after`), null on the last. */
  next: string | null;
  total: number;
}

/** One item of the `GET /api/events` stream. */
export type AdminEvent =
  | { type: 'ready'; rooms: string[] }
  | { type: 'room'; room: string; seq: number | null; to: 'room' | 'user' | 'connection'; uuid?: string; message: ServerMessage }
  | { type: 'dropped'; count: number };

/** The AdminClient calls the dashboard makes. */
export interface DashboardApi {
  health(): Promise<Health>;
  nodes(): Promise<NodeStatus[]>;
  roomsPage(query: { limit?: number; after?: string }): Promise<RoomsPage>;
  getRoom(name: string): Promise<RoomSummary>;
  events(rooms: string[], options?: { signal?: AbortSignal }): AsyncIterable<AdminEvent>;
  kick(room: string, uuid: string): Promise<void>;
  deleteRoom(name: string): Promise<void>;
}

/** The server this page came from, with the API key when there is one. */
export function connect(apiKey?: string): DashboardApi {
  return new AdminClient({ url: location.origin, ...(apiKey === undefined ? {} : { apiKey }) }) as unknown as DashboardApi;
}
