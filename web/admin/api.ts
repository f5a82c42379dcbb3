/**
 * What the dashboard asks the server, all through the SDK's AdminClient (GET /healthz, /api/nodes,
 * /api/rooms, /api/room/{name}, the /api/events stream, kick and delete). The API key lives only in
 * the AdminClient made here, in this page's memory: never in storage or a cookie.
 */
import { AdminClient } from '../../sdk/src/index.js';

export type { NodeStatus, OperatorEvent, RoomSummary, RoomsPage } from '../../sdk/src/index.js';

/** The AdminClient calls the dashboard makes. */
export type DashboardApi = Pick<AdminClient, 'health' | 'nodes' | 'roomsPage' | 'getRoom' | 'events' | 'kick' | 'deleteRoom'>;

/** The server this page came from, with the API key when there is one. */
export function connect(apiKey?: string): DashboardApi {
  return new AdminClient({ url: location.origin, ...(apiKey === undefined ? {} : { apiKey }) });
}
