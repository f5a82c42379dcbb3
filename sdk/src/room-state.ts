import { ayatIn } from './quran.js';
import type { AckFrame, ErrorCode, RoomCommand, RoomEvent, RoomStateFrame } from './wire.js';

/** A participant of the room, with their display name when they have one. */
export interface Member {
  readonly uuid: string;
  readonly name?: string;
}

/**
 * The one authoritative state of a room as this client knows it: built from the server's
 * `RoomState`, then moved on by each room-wide event in seq order. Immutable: every change makes a
 * new snapshot, so a snapshot handed out never changes under its holder.
 */
export interface RoomSnapshot {
  readonly room: string;
  /** This client's uuid. */
  readonly self: string;
  /** The seq of the last room-wide event applied. */
  readonly seq: number;
  /** The master's uuid (connected or not). */
  readonly master: string;
  /** The connected participants, in join order. */
  readonly members: readonly Member[];
  /** The current sura (1..114), or null until the master moves to one. */
  readonly sura: number | null;
  /** The current aya, or null until the master points at one (a new sura resets it). */
  readonly aya: number | null;
  /** The muted participants (explicitly or by MuteAll), in `members` order. */
  readonly muted: readonly string[];
  /** Whether MuteAll is in force. */
  readonly mutedAll: boolean;
  /** The correction queue: students waiting for the master, in the order they asked. */
  readonly corrections: readonly string[];
  /** How many voices this client can hear at once (receive slots to offer). */
  readonly audioSlots: number;
  /** Whether the room was deleted (the connection then closes for good). */
  readonly deleted: boolean;
}

/** The snapshot a `RoomState` frame describes. */
export function fromRoomState(frame: RoomStateFrame, self: string): RoomSnapshot {
  const names = frame.names ?? {};
  const members = frame.users.map((uuid) => memberOf(uuid, Object.hasOwn(names, uuid) ? names[uuid] : undefined));
  return {
    room: frame.room,
    self,
    seq: frame.seq,
    master: frame.master_uuid,
    members,
    sura: frame.id_quran,
    aya: frame.aya,
    muted: inMemberOrder(members, new Set(frame.muted)),
    mutedAll: frame.muted_all,
    corrections: [...(frame.corrections ?? [])],
    audioSlots: frame.audio_slots,
    deleted: false,
  };
}

/** Where a seq stands for a state: the one expected next, one already applied, or past a gap. */
export type Placement = 'next' | 'stale' | 'gap';

export function placeSeq(state: RoomSnapshot, seq: number): Placement {
  if (seq === state.seq + 1) return 'next';
  return seq <= state.seq ? 'stale' : 'gap';
}

/**
 * The state after one room-wide event. The caller applies events in seq order (placeSeq says
 * `next`); the mute rules are the server's, as its events tell them:
 * - a newcomer is muted exactly when the server says so (`NewUser.muted`: a kept mute or MuteAll);
 * - `MuteUser` mutes or unmutes one participant, also one by one under MuteAll;
 * - `MuteAll` true mutes every participant but the master (dropping one-by-one unmutes; a master
 *   who muted themself stays muted), false lifts every mute;
 * - leaving drops the participant from the members, the muted and the correction queue.
 */
export function applyEvent(state: RoomSnapshot, event: RoomEvent): RoomSnapshot {
  const next = { ...state, seq: event.seq };
  switch (event.action) {
    case 'NewUser': {
      const members = [...state.members.filter((member) => member.uuid !== event.uuid), memberOf(event.uuid, event.name)];
      const muted = new Set(state.muted);
      if (event.muted) muted.add(event.uuid);
      else muted.delete(event.uuid);
      return { ...next, members, muted: inMemberOrder(members, muted) };
    }
    case 'UserLeave': {
      const members = state.members.filter((member) => member.uuid !== event.uuid);
      return {
        ...next,
        members,
        muted: without(state.muted, event.uuid),
        corrections: without(state.corrections, event.uuid),
      };
    }
    case 'ClickAya':
      return { ...next, aya: event.aya };
    case 'MoveSura':
      return { ...next, sura: event.id_quran, aya: null };
    case 'MuteUser': {
      const muted = new Set(state.muted);
      if (event.result) muted.add(event.uuid);
      else muted.delete(event.uuid);
      return { ...next, muted: inMemberOrder(state.members, muted) };
    }
    case 'MuteAll':
      return { ...next, mutedAll: event.result, muted: event.result ? mutedByMuteAll(state) : [] };
    case 'OfferCorrection':
      return state.corrections.includes(event.uuid) ? next : { ...next, corrections: [...state.corrections, event.uuid] };
    case 'WithdrawCorrection':
    case 'AnswerCorrection':
      return { ...next, corrections: without(state.corrections, event.uuid) };
    case 'RoomDeleted':
      return { ...next, deleted: true };
  }
}

/**
 * The room-wide event that an accepted command of this client became, at `seq`: what its Ack stands
 * for. The server leaves the sender out of ClickAya, MoveSura and MuteAll and sends the Ack instead,
 * so the sender's state applies its own command only when the Ack arrives, never before.
 */
export function eventOfCommand(command: RoomCommand, self: string, seq: number): RoomEvent {
  switch (command.action) {
    case 'ClickAya':
      return { action: 'ClickAya', aya: command.aya, seq };
    case 'MoveSura':
      return { action: 'MoveSura', id_quran: command.id_quran, seq };
    case 'MuteAll':
      return { action: 'MuteAll', result: command.result ?? true, seq };
    case 'MuteUser':
      return { action: 'MuteUser', uuid: command.uuid, result: command.result ?? true, seq };
    case 'OfferCorrection':
      return { action: 'OfferCorrection', uuid: self, seq };
    case 'WithdrawCorrection':
      return { action: 'WithdrawCorrection', uuid: self, seq };
    case 'AnswerCorrection':
      return { action: 'AnswerCorrection', uuid: command.uuid, result: command.result, seq };
  }
}

/**
 * An Ack without a command of this connection behind it: an own event replayed on resume (the
 * command was sent on an earlier connection). Only an own `UserLeave` can be rebuilt from it; for
 * the others (ClickAya, MoveSura, MuteAll, the own NewUser) the Ack does not say what changed, so the
 * caller must fetch a fresh snapshot.
 */
export function eventOfBareAck(state: RoomSnapshot, ack: AckFrame & { seq: number }): RoomEvent | undefined {
  if ((ack.of as string) === 'UserLeave') return { action: 'UserLeave', uuid: state.self, seq: ack.seq };
  return undefined;
}

export const isMaster = (state: RoomSnapshot, uuid: string = state.self): boolean => state.master === uuid;
export const isMember = (state: RoomSnapshot, uuid: string): boolean => state.members.some((member) => member.uuid === uuid);
export const isMuted = (state: RoomSnapshot, uuid: string = state.self): boolean => state.muted.includes(uuid);
export const isQueued = (state: RoomSnapshot, uuid: string = state.self): boolean => state.corrections.includes(uuid);
export const isMasterOnline = (state: RoomSnapshot): boolean => isMember(state, state.master);
/** A participant's display name, or undefined when they joined without one. */
export const nameOf = (state: RoomSnapshot, uuid: string): string | undefined => state.members.find((member) => member.uuid === uuid)?.name;

/** A refusal the server is certain to answer a command with, in the state the client knows. */
export interface Refusal {
  code: ErrorCode;
  message: string;
}

/**
 * The server's rules, as far as the client can know them: the refusal `command` from this client
 * will get, or null when the server should accept it. It only predicts (for a page to disable what
 * cannot work); commands are always sent, and the server decides. The one case it cannot call is a
 * student unmuting themself: only the server knows whether the master holds that mute.
 */
export function predictRefusal(state: RoomSnapshot, command: RoomCommand): Refusal | null {
  const master = isMaster(state);
  const onlyMaster = (): Refusal | null =>
    master ? null : { code: 'forbidden', message: `only the room master may send ${command.action}` };
  const onlyStudent = (): Refusal | null =>
    master ? { code: 'forbidden', message: `the room master may not send ${command.action}` } : null;
  switch (command.action) {
    case 'ClickAya':
      return onlyMaster() ?? ayaRefusal(state.sura, command.aya);
    case 'MoveSura':
    case 'MuteAll':
      return onlyMaster();
    case 'OfferCorrection':
      return onlyStudent() ?? (isMasterOnline(state) ? null : { code: 'master_offline', message: 'the room master is not connected' });
    case 'WithdrawCorrection':
      return onlyStudent();
    case 'AnswerCorrection':
      return (
        onlyMaster() ??
        (isQueued(state, command.uuid) ? null : { code: 'not_queued', message: `user ${command.uuid} is not in the correction queue` })
      );
    case 'MuteUser': {
      if (!master && command.uuid !== state.self) {
        return { code: 'forbidden', message: 'only the room master may mute or unmute another user' };
      }
      return isMember(state, command.uuid)
        ? null
        : { code: 'user_not_found', message: `user ${command.uuid} is not in room ${state.room}` };
    }
  }
}

/** The aya rule: an aya only inside the room's sura, so never before a MoveSura. */
export function ayaRefusal(sura: number | null, aya: number): Refusal | null {
  if (sura === null) return { code: 'aya_out_of_range', message: 'no sura yet: send MoveSura first' };
  if (aya < 1 || aya > ayatIn(sura)) return { code: 'aya_out_of_range', message: `sura ${sura} has ${ayatIn(sura)} ayat` };
  return null;
}

function memberOf(uuid: string, name: string | undefined): Member {
  return name === undefined ? { uuid } : { uuid, name };
}

/** MuteAll holds every student (dropping one-by-one unmutes) and keeps the mutes already there (the master's own). */
function mutedByMuteAll(state: RoomSnapshot): string[] {
  const muted = new Set(state.muted);
  for (const member of state.members) if (member.uuid !== state.master) muted.add(member.uuid);
  return inMemberOrder(state.members, muted);
}

function inMemberOrder(members: readonly Member[], muted: ReadonlySet<string>): string[] {
  return members.map((member) => member.uuid).filter((uuid) => muted.has(uuid));
}

function without(list: readonly string[], uuid: string): readonly string[] {
  return list.includes(uuid) ? list.filter((other) => other !== uuid) : list;
}
