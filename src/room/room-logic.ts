import type { RoomCommand } from '../protocol/client-messages.js';
import { AppError, CloseCode } from '../protocol/errors.js';
import { ayatIn } from '../protocol/quran.js';
import { isMaster, requireMaster, requireMayMute, requireRoomFor, requireStudent } from './permissions.js';
import { findMember, isAyaInSura, isMuted, isQueued, type Room } from './room.js';
import type { RoomEvent } from './room-event.js';

/**
 * The room logic: given a room and a command, what the room becomes and who is told what.
 * Pure functions: no I/O, no sockets, no clocks. A rule broken throws an AppError.
 */
export interface Outcome {
  /** The room after the command; `null` when the room is deleted; the same object when unchanged. */
  room: Room | null;
  events: RoomEvent[];
}

const unchanged = (room: Room, events: RoomEvent[] = []): Outcome => ({ room, events });

/**
 * A participant connects, with a display name or none. If they were already connected, the old
 * connection is replaced silently: the membership keeps its place, its mutes and the name it
 * joined with (the others are told nothing, so nothing they were shown changes). A new
 * participant beyond `capacity` is refused.
 */
export function join(room: Room, uuid: string, conn: string, node: string, capacity = Infinity, name?: string): Outcome {
  const existing = findMember(room, uuid);
  if (existing) {
    const replaced = existing.name === undefined ? { uuid, conn, node } : { uuid, conn, node, name: existing.name };
    return {
      room: { ...room, members: room.members.map((member) => (member.uuid === uuid ? replaced : member)) },
      events: [
        {
          audience: { to: 'connection', conn: existing.conn },
          message: { action: 'Replaced' },
          close: CloseCode.replaced,
        },
      ],
    };
  }
  requireRoomFor(room, uuid, capacity);
  const next: Room = { ...room, members: [...room.members, name === undefined ? { uuid, conn, node } : { uuid, conn, node, name }] };
  const message: Extract<RoomEvent['message'], { action: 'NewUser' }> = { action: 'NewUser', uuid };
  if (name !== undefined) message.name = name;
  if (isMuted(next, uuid)) message.muted = true;
  return { room: next, events: [{ audience: { to: 'room', except: uuid }, message }] };
}

/** A connection ended. Only the connection that holds the membership can end it. Leaving also leaves the correction queue (told by UserLeave). */
export function leave(room: Room, uuid: string, conn: string): Outcome {
  const member = findMember(room, uuid);
  if (!member || member.conn !== conn) return unchanged(room);
  return {
    room: withoutMember(room, uuid),
    events: [{ audience: { to: 'room', except: uuid }, message: { action: 'UserLeave', uuid } }],
  };
}

/** A kick ends the membership (and its place in the correction queue, told by UserLeave). */
export function kick(room: Room, uuid: string): Outcome {
  const member = findMember(room, uuid);
  if (!member) throw new AppError('user_not_found', `user ${uuid} is not in room ${room.name}`);
  return {
    room: withoutMember(room, uuid),
    events: [
      {
        audience: { to: 'connection', conn: member.conn },
        message: { action: 'Kicked' },
        close: CloseCode.kicked,
      },
      { audience: { to: 'room', except: uuid }, message: { action: 'UserLeave', uuid } },
    ],
  };
}

export function remove(_room: Room): Outcome {
  return {
    room: null,
    events: [{ audience: { to: 'room' }, message: { action: 'RoomDeleted' }, close: CloseCode.roomDeleted }],
  };
}

function withoutMember(room: Room, uuid: string): Room {
  return {
    ...room,
    members: room.members.filter((member) => member.uuid !== uuid),
    unmuted: room.unmuted.includes(uuid) ? room.unmuted.filter((other) => other !== uuid) : room.unmuted,
    corrections: isQueued(room, uuid) ? room.corrections.filter((other) => other !== uuid) : room.corrections,
  };
}

/** The aya rule (isAyaInSura), refused with `aya_out_of_range` naming the sura and its count. */
function requireAyaInSura(room: Room, aya: number): void {
  if (isAyaInSura(room, aya)) return;
  if (room.idQuran === null) throw new AppError('aya_out_of_range', 'no sura yet: send MoveSura first');
  throw new AppError('aya_out_of_range', `aya ${aya} is out of range: sura ${room.idQuran} has ${ayatIn(room.idQuran)} ayat`);
}

function requireMember(room: Room, uuid: string): void {
  if (!findMember(room, uuid)) {
    throw new AppError('user_not_found', `user ${uuid} is not in room ${room.name}`);
  }
}

/** A command a connected participant sent. */
export function act(room: Room, sender: string, message: RoomCommand): Outcome {
  switch (message.action) {
    case 'ClickAya': {
      requireMaster(room, sender, message.action);
      requireAyaInSura(room, message.aya);
      return {
        room: { ...room, aya: message.aya },
        events: [{ audience: { to: 'room', except: sender }, message: { action: 'ClickAya', aya: message.aya } }],
      };
    }
    case 'MoveSura': {
      requireMaster(room, sender, message.action);
      return {
        room: { ...room, idQuran: message.id_quran, aya: null },
        events: [
          {
            audience: { to: 'room', except: sender },
            message: { action: 'MoveSura', id_quran: message.id_quran },
          },
        ],
      };
    }
    case 'OfferCorrection': {
      requireStudent(room, sender, message.action);
      if (!findMember(room, room.masterUuid)) {
        throw new AppError('master_offline', 'the room master is not connected');
      }
      if (isQueued(room, sender)) return unchanged(room);
      return {
        room: { ...room, corrections: [...room.corrections, sender] },
        events: [{ audience: { to: 'room' }, message: { action: 'OfferCorrection', uuid: sender } }],
      };
    }
    case 'WithdrawCorrection': {
      requireStudent(room, sender, message.action);
      if (!isQueued(room, sender)) return unchanged(room);
      return {
        room: { ...room, corrections: room.corrections.filter((uuid) => uuid !== sender) },
        events: [{ audience: { to: 'room' }, message: { action: 'WithdrawCorrection', uuid: sender } }],
      };
    }
    case 'AnswerCorrection': {
      requireMaster(room, sender, message.action);
      if (!isQueued(room, message.uuid)) {
        throw new AppError('not_queued', `user ${message.uuid} is not in the correction queue of room ${room.name}`);
      }
      return {
        room: { ...room, corrections: room.corrections.filter((uuid) => uuid !== message.uuid) },
        events: [
          {
            audience: { to: 'room' },
            message: { action: 'AnswerCorrection', uuid: message.uuid, result: message.result },
          },
        ],
      };
    }
    case 'MuteUser': {
      const target = message.uuid;
      const mute = message.result ?? true;
      requireMayMute(room, sender, target, mute);
      requireMember(room, target);
      return {
        room: muteChanged(room, sender, target, mute),
        events: [{ audience: { to: 'room' }, message: { action: 'MuteUser', uuid: target, result: mute } }],
      };
    }
    case 'MuteAll': {
      requireMaster(room, sender, message.action);
      const mute = message.result ?? true;
      return {
        room: { ...room, mutedAll: mute, unmuted: [], muted: mute ? room.muted : {} },
        events: [{ audience: { to: 'room', except: sender }, message: { action: 'MuteAll', result: mute } }],
      };
    }
  }
}

/** The room after `sender` muted (or unmuted) `target`, as the mute rules allow (checked before). */
function muteChanged(room: Room, sender: string, target: string, mute: boolean): Room {
  if (!mute) {
    const { [target]: _lifted, ...muted } = room.muted;
    const unmuted = room.mutedAll && !room.unmuted.includes(target) ? [...room.unmuted, target] : room.unmuted;
    return { ...room, muted, unmuted };
  }
  if (isMaster(room, sender)) {
    return { ...room, muted: { ...room.muted, [target]: 'master' }, unmuted: room.unmuted.filter((uuid) => uuid !== target) };
  }
  // A self-mute keeps the master's one-by-one unmute, so the student can lift it again.
  return room.muted[target] ? room : { ...room, muted: { ...room.muted, [target]: 'self' } };
}
