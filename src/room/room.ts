import type { ConnectionRef } from '../protocol/connection.js';
import { ayatIn } from '../protocol/quran.js';
import type { RoomView } from '../protocol/server-messages.js';

/**
 * A participant's membership: held by one connection (a rejoin replaces it), on one node (so the
 * others can clean up after it), with the display name it joined with, if any.
 */
export type Member = ConnectionRef & { name?: string };

/** Who muted a participant: a student may undo their own mute, never the master's. */
export type MuteSource = 'master' | 'self';

/**
 * A room's whole state. Plain JSON, so any RoomStore can keep it, and never changed in place: the
 * room logic makes a new one for every change, so a store may hand out the object it keeps.
 */
export interface Room {
  readonly name: string;
  readonly masterUuid: string;
  /** Connected participants, in join order. */
  readonly members: readonly Member[];
  readonly idQuran: number | null;
  readonly aya: number | null;
  /** Explicit mutes. They outlive a leave, so reconnecting never lifts a mute. */
  readonly muted: Readonly<Record<string, MuteSource>>;
  /** While `mutedAll`: the participants the master has unmuted one by one. Cleared on leave. */
  readonly unmuted: readonly string[];
  readonly mutedAll: boolean;
  /** The correction queue: students who asked the master for a correction, in the order they asked. */
  readonly corrections: readonly string[];
  /** Sequence number of the last event broadcast to the room (0: none yet). */
  readonly seq: number;
  /** Bumped by every committed change; stores use it to detect concurrent writers. */
  readonly version: number;
  /** When the room was created, in ms since the epoch; null for a room stored before rooms kept it. */
  readonly createdAt: number | null;
}

export function newRoom(name: string, masterUuid: string, createdAt: number = Date.now()): Room {
  return {
    name,
    masterUuid,
    members: [],
    idQuran: null,
    aya: null,
    muted: {},
    unmuted: [],
    mutedAll: false,
    corrections: [],
    seq: 0,
    version: 0,
    createdAt,
  };
}

export const findMember = (room: Room, uuid: string): Member | undefined => room.members.find((member) => member.uuid === uuid);

/**
 * The mute rule, the one place it is written: who holds a participant's mute, or null when they may
 * speak. The master's hold wins over a self-mute: the master's own mute, or MuteAll, which holds
 * every student but those the master unmuted one by one.
 */
export function muteSource(room: Room, uuid: string): MuteSource | null {
  const heldByMuteAll = room.mutedAll && uuid !== room.masterUuid && !room.unmuted.includes(uuid);
  if (room.muted[uuid] === 'master' || heldByMuteAll) return 'master';
  return room.muted[uuid] ?? null;
}

export const isMuted = (room: Room, uuid: string): boolean => muteSource(room, uuid) !== null;

/** The muted members, in join order. */
export const mutedMembers = (room: Room): string[] => room.members.map((member) => member.uuid).filter((uuid) => isMuted(room, uuid));

/** The capacity rule: a member may always come back; a newcomer only while the room has fewer than `capacity` members. */
export const hasRoomFor = (room: Room, uuid: string, capacity: number): boolean =>
  room.members.length < capacity || findMember(room, uuid) !== undefined;

/** The aya rule: an aya may be pointed at only inside the room's sura, so never before a MoveSura. */
export const isAyaInSura = (room: Room, aya: number): boolean => room.idQuran !== null && aya >= 1 && aya <= ayatIn(room.idQuran);

/** Whether a student is in the correction queue. */
export const isQueued = (room: Room, uuid: string): boolean => room.corrections.includes(uuid);

/** Whether two states of a room may differ in who is muted (the fields the mute rule reads). */
const mayMuteDifferently = (before: Room, after: Room): boolean =>
  before.muted !== after.muted ||
  before.unmuted !== after.unmuted ||
  before.mutedAll !== after.mutedAll ||
  before.members !== after.members;

/** Members whose mute state differs between two states of a room (what the SFU must start or stop enforcing). */
export function mutesChanged(before: Room, after: Room): { muted: string[]; unmuted: string[] } {
  if (!mayMuteDifferently(before, after)) return { muted: [], unmuted: [] };
  const was = new Set(mutedMembers(before));
  const now = mutedMembers(after);
  const nowSet = new Set(now);
  return { muted: now.filter((uuid) => !was.has(uuid)), unmuted: [...was].filter((uuid) => !nowSet.has(uuid)) };
}

export function viewOf(room: Room): RoomView {
  return {
    name: room.name,
    master_uuid: room.masterUuid,
    users: room.members.map((member) => member.uuid),
    names: namesOf(room),
    id_quran: room.idQuran,
    aya: room.aya,
    muted: mutedMembers(room),
    muted_all: room.mutedAll,
    corrections: [...room.corrections],
  };
}

/** The display names of the members who have one, by uuid. */
function namesOf(room: Room): Record<string, string> {
  const names: Record<string, string> = {};
  for (const member of room.members) {
    // An own property even for a uuid like `__proto__` (a plain assignment would set the prototype).
    if (member.name !== undefined)
      Object.defineProperty(names, member.uuid, { value: member.name, enumerable: true, writable: true, configurable: true });
  }
  return names;
}
