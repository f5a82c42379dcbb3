import type { MediaAddress } from './room-media.js';

/**
 * What a room WebSocket session asks of the SFU. On one node the engine answers itself; in a
 * cluster the router forwards to the node that hosts the room's media.
 */
export interface MediaSignaling {
  offer(room: string, from: MediaAddress, sdp: string): Promise<void>;
  candidate(room: string, from: MediaAddress, candidate: string, mid: string): Promise<void>;
  /** The participant's connection ended: close its media at once. */
  leave(room: string, from: MediaAddress): Promise<void>;
}
