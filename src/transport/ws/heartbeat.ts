import type { RoomFanout } from './room-fanout.js';

/** Pings every connection each interval; Session.heartbeat drops those that stopped answering. */
export function startHeartbeat(fanout: RoomFanout, intervalMs: number): () => void {
  const timer = setInterval(() => {
    for (const session of fanout.sessions()) session.heartbeat();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
