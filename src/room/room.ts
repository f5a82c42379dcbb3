import type { RoomView } from '../protocol/server-messages.js';

export interface Member {
  uuid: string;
  /** The id of the WebSocket connection that holds this membership; a rejoin replaces it. */
  conn: string;
  /** The node that holds that connection, so the others can clean up after it if it dies. */
  node: string;
}

/** Who muted a participant: a student may undo their own mute, never the master's. */
export type MuteSource = 'master' | 'self';

/** A room's whole state. Plain JSON, so any RoomStore can keep it. */
export interface Room {
  name: string;
  masterUuid: string;
  /** Connected participants, in join order. */
  members: Member[];
  idQuran: number | null;
  aya: number | null;
  /** Explicit mutes. They outlive a leave, so reconnecting never lifts a mute. */
  muted: Record<string, MuteSource>;
  /** While `mutedAll`: the participants the master has unmuted one by one. Cleared on leave. */
  unmuted: string[];
  mutedAll: boolean;
  /** Sequence number of the last event broadcast to the room (0: none yet). */
  seq: number;
  /** Bumped by every committed change; stores use it to detect concurrent writers. */
  version: number;
}

export function newRoom(name: string, masterUuid: string): Room {
  return {
    name,
    masterUuid,
    members: [],
    idQuran: null,
    aya: null,
    muted: {},
    unmuted: [],
    mutedAll: false,
    seq: 0,
    version: 0,
  };
}

export const findMember = (room: Room, uuid: string): Member | undefined => room.members.find((member) => member.uuid === uuid);

export function isMuted(room: Room, uuid: string): boolean {
  if (room.muted[uuid]) return true;
  return room.mutedAll && uuid !== room.masterUuid && !room.unmuted.includes(uuid);
}

export function viewOf(room: Room): RoomView {
  const users = room.members.map((member) => member.uuid);
  return {
    name: room.name,
    master_uuid: room.masterUuid,
    users,
    id_quran: room.idQuran,
    aya: room.aya,
    muted: users.filter((uuid) => isMuted(room, uuid)),
    muted_all: room.mutedAll,
  };
}
