import { type AudioStatus, RoomAudio, type RoomClient } from '../../sdk/src/index.js';
import { t } from './strings.js';

/**
 * The class's audio is the SDK's RoomAudio (sdk/src/audio): the microphone to the server's SFU (none
 * when listen-only) and the voices back on the room's receive slots, offered again by itself after
 * every reconnect, MediaClosed, MediaReconnect or ICE failure, the microphone kept in step with the
 * room's mutes. The page only shows what it tells, and gives it the slots' <audio> elements.
 */

export interface AudioHooks {
  /** The audio's state, for the audio line (`data-state`) and its words. */
  status(state: string, text: string): void;
  /** Who speaks, who is on each receive slot, the microphone, or a member's signal changed. */
  changed(): void;
  /** Whether the browser lets the slots play (false: a click on "Play the class's audio" is needed). */
  playback(canPlay: boolean): void;
  /** The client's own signal quality. */
  quality(level: string): void;
  note(text: string, kind?: 'info' | 'error'): void;
}

export function classAudio(
  client: RoomClient,
  listenOnly: boolean,
  createAudioElement: () => HTMLAudioElement,
  hooks: AudioHooks,
): RoomAudio {
  const audio = new RoomAudio(client, { createAudioElement, microphone: !listenOnly });
  audio.on('status', (status) => hooks.status(status.status, describe(status)));
  audio.on('speakers', () => hooks.changed());
  audio.on('microphone', () => hooks.changed());
  audio.on('memberquality', () => hooks.changed());
  audio.on('playback', ({ canPlaybackAudio }) => hooks.playback(canPlaybackAudio));
  audio.on('quality', (quality) => hooks.quality(quality.level));
  audio.on('error', (error) => hooks.note(t.audioError(error.message), 'error'));
  return audio;
}

function describe(status: AudioStatus): string {
  switch (status.status) {
    case 'idle':
      return t.audioIdle;
    case 'waiting':
      return t.audioWaiting;
    case 'negotiating':
      return status.attempt > 1 ? t.audioConnectingAttempt(status.attempt) : t.audioConnecting;
    case 'connected':
      return t.audioConnected;
    case 'reconnecting':
      return t.audioReconnecting(Math.max(1, Math.round(status.delayMs / 1000)));
    case 'closed':
      return t.audioClosed;
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
