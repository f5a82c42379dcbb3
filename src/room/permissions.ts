import { AppError } from '../protocol/errors.js';
import { hasRoomFor, muteSource, type Room } from './room.js';

export const isMaster = (room: Room, uuid: string): boolean => room.masterUuid === uuid;

export function requireMaster(room: Room, sender: string, action: string): void {
  if (!isMaster(room, sender)) {
    throw new AppError('forbidden', `only the room master may send ${action}`);
  }
}

export function requireStudent(room: Room, sender: string, action: string): void {
  if (isMaster(room, sender)) {
    throw new AppError('forbidden', `the room master may not send ${action}`);
  }
}

/**
 * The master may mute or unmute anyone. A participant may mute themself, and unmute themself
 * only from a mute they chose: never from the master's mute nor from MuteAll.
 */
export function requireMayMute(room: Room, sender: string, target: string, mute: boolean): void {
  if (isMaster(room, sender)) return;
  if (sender !== target) {
    throw new AppError('forbidden', 'only the room master may mute or unmute another user');
  }
  if (!mute && muteSource(room, sender) === 'master') {
    throw new AppError('forbidden', 'the room master muted you; only the master can unmute you');
  }
}

/** A newcomer beyond the room's capacity is refused (a member coming back never is). */
export function requireRoomFor(room: Room, uuid: string, capacity: number): void {
  if (!hasRoomFor(room, uuid, capacity)) {
    throw new AppError('room_full', `room ${room.name} is full (${capacity} users)`);
  }
}
