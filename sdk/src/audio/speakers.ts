/**
 * Who is speaking and who is on each receive slot, from the server's `ActiveSpeakers` (sent when it
 * changes, at most twice a second). Pure functions over an immutable value.
 */

/** The room's voices as the server hears them. */
export interface Speakers {
  /** Who is speaking now, loudest first (louder than -50 dBov, smoothed over ~100 ms). */
  readonly speaking: readonly string[];
  /** The uuid on each of this client's receive slots (null: none), in slot order. */
  readonly slots: readonly (string | null)[];
}

/** Nobody speaking, `slots` empty slots: the value before the first ActiveSpeakers of a PeerConnection. */
export function noSpeakers(slots: number): Speakers {
  return { speaking: [], slots: Array.from({ length: slots }, () => null) };
}

/** The value an `ActiveSpeakers` frame describes (fields that are not lists read as empty). */
export function fromActiveSpeakers(frame: { uuids?: unknown; slots?: unknown }): Speakers {
  const speaking = Array.isArray(frame.uuids) ? frame.uuids.filter((uuid): uuid is string => typeof uuid === 'string') : [];
  const slots = Array.isArray(frame.slots) ? frame.slots.map((uuid) => (typeof uuid === 'string' ? uuid : null)) : [];
  return { speaking, slots };
}

/** Whether `uuid` is speaking now. */
export const isSpeaking = (speakers: Speakers, uuid: string): boolean => speakers.speaking.includes(uuid);

/** The receive slot `uuid` is heard on, or undefined when it is on none. */
export function slotOf(speakers: Speakers, uuid: string): number | undefined {
  const index = speakers.slots.indexOf(uuid);
  return index >= 0 ? index : undefined;
}

export const sameSpeakers = (a: Speakers, b: Speakers): boolean =>
  a.speaking.length === b.speaking.length &&
  a.slots.length === b.slots.length &&
  a.speaking.every((uuid, i) => uuid === b.speaking[i]) &&
  a.slots.every((uuid, i) => uuid === b.slots[i]);
