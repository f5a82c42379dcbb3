/**
 * Every media participant's connection as the server's SFU sees it, from its `ConnectionQuality`
 * (every 5 s, when something changed). Pure functions over immutable values.
 */
import type { QualityLevel } from './quality.js';

/** One member's link over the SFU's last interval (losses 0..1, in whole percent; null: not known). */
export interface MemberQuality {
  /** On the same thresholds as the client's own `quality.level`. */
  readonly level: QualityLevel;
  /** They send a microphone (false: listen-only). */
  readonly publishing: boolean;
  /** The worse of uplinkLoss and downlinkLoss. */
  readonly loss: number | null;
  /** Of their microphone's packets, as the server counted them. */
  readonly uplinkLoss: number | null;
  /** Of what the server sent them on their first receive slot, as their receiver reports say. */
  readonly downlinkLoss: number | null;
  /** Their round trip to the server, in ms (tens of), as the server measured it. */
  readonly roundTripMs: number | null;
}

/** By uuid: the members whose media is connected to the server. */
export type MembersQuality = ReadonlyMap<string, MemberQuality>;

const LEVELS: ReadonlySet<string> = new Set(['good', 'fair', 'poor', 'unknown']);

const lossOf = (value: unknown): number | null =>
  typeof value === 'number' && Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : null;

/** The value a `ConnectionQuality` frame describes; entries that cannot be read are left out. */
export function fromConnectionQuality(frame: { members?: unknown }): MembersQuality {
  const members = new Map<string, MemberQuality>();
  if (typeof frame.members !== 'object' || frame.members === null || Array.isArray(frame.members)) return members;
  for (const [uuid, entry] of Object.entries(frame.members as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) continue;
    const raw = entry as Record<string, unknown>;
    members.set(uuid, {
      level: typeof raw.level === 'string' && LEVELS.has(raw.level) ? (raw.level as QualityLevel) : 'unknown',
      publishing: raw.publishing === true,
      loss: lossOf(raw.loss),
      uplinkLoss: lossOf(raw.uplink_loss),
      downlinkLoss: lossOf(raw.downlink_loss),
      roundTripMs:
        typeof raw.round_trip_ms === 'number' && Number.isFinite(raw.round_trip_ms) && raw.round_trip_ms >= 0 ? raw.round_trip_ms : null,
    });
  }
  return members;
}

/** `members` without those not in `uuids` (members who left the room); the same value when none left. */
export function keepMembers(members: MembersQuality, uuids: readonly string[]): MembersQuality {
  if ([...members.keys()].every((uuid) => uuids.includes(uuid))) return members;
  return new Map([...members].filter(([uuid]) => uuids.includes(uuid)));
}

const sameMember = (a: MemberQuality, b: MemberQuality | undefined): boolean =>
  b !== undefined &&
  a.level === b.level &&
  a.publishing === b.publishing &&
  a.loss === b.loss &&
  a.uplinkLoss === b.uplinkLoss &&
  a.downlinkLoss === b.downlinkLoss &&
  a.roundTripMs === b.roundTripMs;

export const sameMembersQuality = (a: MembersQuality, b: MembersQuality): boolean =>
  a.size === b.size && [...a].every(([uuid, quality]) => sameMember(quality, b.get(uuid)));
