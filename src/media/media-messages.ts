import type { ErrorCode } from '../errors.js';

/** What the SFU tells a participant's client, through the room WebSocket. */
export type MediaMessage =
  | { action: 'SessionDescription'; type: 'answer'; sdp: string }
  | { action: 'ICECandidate'; candidate: string; sdpMid: string; sdpMLineIndex: number }
  | { action: 'ActiveSpeakers'; uuids: string[]; slots: (string | null)[] }
  /** The client's media is closed (left, kicked, the room deleted, or ICE failed). */
  | { action: 'MediaClosed' }
  /** The room's media moved (its node died): offer again with a new PeerConnection. */
  | { action: 'MediaReconnect' }
  /** A signaling message the media node refused (relayed back to the sender's node). */
  | { action: 'Error'; code: ErrorCode; message: string };
