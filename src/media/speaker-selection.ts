import { SILENT } from './rtp.js';

/**
 * Who is heard: pure functions over audio levels (0 loudest .. 127 silent, as RFC 6464 carries them).
 */

/** Louder than -50 dBov counts as speaking. */
export const SPEAKING_LEVEL = 50;
/** A voice already on a slot keeps it unless another is this many dB louder, so slots do not flap. */
const HYSTERESIS_DB = 6;

export interface Voice {
  uuid: string;
  level: number;
}

export const isSpeaking = (level: number): boolean => level <= SPEAKING_LEVEL;

/**
 * The voices the room forwards, best first: the master when speaking, then speakers, loudest first,
 * then the others. When everyone fits, everyone is forwarded.
 */
export function selectVoices(voices: readonly Voice[], master: string, capacity: number, previous: readonly string[]): string[] {
  const rank = (voice: Voice) => {
    const speaking = isSpeaking(voice.level);
    return [voice.uuid === master && speaking ? 0 : 1, speaking ? 0 : 1, voice.level - (previous.includes(voice.uuid) ? HYSTERESIS_DB : 0)];
  };
  const ranked = voices
    .map((voice) => ({ voice, key: rank(voice) }))
    .sort((a, b) => a.key[0]! - b.key[0]! || a.key[1]! - b.key[1]! || a.key[2]! - b.key[2]! || a.voice.uuid.localeCompare(b.voice.uuid));
  return ranked.slice(0, capacity).map(({ voice }) => voice.uuid);
}

/**
 * Puts `wanted` voices on a listener's slots, leaving every voice that stays where it was, so a
 * listener's streams switch only when a voice really comes or goes.
 */
export function assignSlots(current: readonly (string | null)[], wanted: readonly string[]): (string | null)[] {
  const next = current.map((owner) => (owner !== null && wanted.includes(owner) ? owner : null));
  for (const uuid of wanted) {
    if (next.includes(uuid)) continue;
    const free = next.indexOf(null);
    if (free < 0) break;
    next[free] = uuid;
  }
  return next;
}

/** A level smoothed over the last few packets, falling to silence when packets stop. */
export class LevelMeter {
  private level = SILENT;
  private lastAt = -Infinity;

  /** `level` as carried by one packet; a packet without the extension counts as quiet speech. */
  update(level: number | undefined, nowMs: number): void {
    const value = level ?? SPEAKING_LEVEL + 10;
    this.level += (value - this.level) * 0.3;
    this.lastAt = nowMs;
  }

  current(nowMs: number): number {
    return nowMs - this.lastAt > 300 ? SILENT : Math.round(this.level);
  }
}
