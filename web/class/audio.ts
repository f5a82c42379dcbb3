import { type AudioStatus, RoomAudio, type RoomClient } from '../../sdk/src/index.js';

/**
 * The class's audio is the SDK's RoomAudio (sdk/src/audio): the microphone to the server's SFU and
 * the voices back on the room's receive slots, offered again by itself after every reconnect,
 * MediaClosed, MediaReconnect or ICE failure, the microphone kept in step with the room's mutes.
 * The page only shows what it tells, and gives it the slots' <audio> elements.
 */

export interface AudioHooks {
  /** The audio's state, for the audio line (`data-state`) and its words. */
  status(state: string, text: string): void;
  /** Who speaks, and who is on each receive slot, changed. */
  speakers(): void;
  /** Whether the browser lets the slots play (false: a click on "Play the class's audio" is needed). */
  playback(canPlay: boolean): void;
  note(text: string, kind?: 'info' | 'error'): void;
}

export function classAudio(client: RoomClient, createAudioElement: () => HTMLAudioElement, hooks: AudioHooks): RoomAudio {
  const audio = new RoomAudio(client, { createAudioElement });
  audio.on('status', (status) => hooks.status(status.status, describe(status)));
  audio.on('speakers', () => hooks.speakers());
  audio.on('playback', ({ canPlaybackAudio }) => hooks.playback(canPlaybackAudio));
  audio.on('error', (error) => hooks.note(`Audio: ${error.message}`, 'error'));
  return audio;
}

function describe(status: AudioStatus): string {
  switch (status.status) {
    case 'idle':
      return 'not started';
    case 'waiting':
      return 'waiting for the class';
    case 'negotiating':
      return status.attempt > 1 ? `connecting (attempt ${status.attempt})` : 'connecting';
    case 'connected':
      return 'connected';
    case 'reconnecting':
      return `reconnecting in ${Math.max(1, Math.round(status.delayMs / 1000))} s`;
    case 'closed':
      return 'closed';
  }
}

/** The PeerConnection's audio statistics, summed (the browser tests read them). */
export async function audioStats(
  audio: RoomAudio | undefined,
): Promise<{ packetsReceived: number; audioLevel: number; packetsSent: number }> {
  const totals = { packetsReceived: 0, audioLevel: 0, packetsSent: 0 };
  const pc = audio?.peerConnection as RTCPeerConnection | null | undefined;
  if (!pc) return totals;
  (await pc.getStats()).forEach((report) => {
    if (report.type === 'inbound-rtp' && report.kind === 'audio') {
      totals.packetsReceived += report.packetsReceived ?? 0;
      totals.audioLevel = Math.max(totals.audioLevel, report.audioLevel ?? 0);
    } else if (report.type === 'outbound-rtp' && report.kind === 'audio') {
      totals.packetsSent += report.packetsSent ?? 0;
    }
  });
  return totals;
}
