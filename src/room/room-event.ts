import type { ClientAction } from '../protocol/client-messages.js';
import type { ServerMessage } from '../protocol/server-messages.js';

/** Who receives a room event. Every node delivers it to the matching sockets it holds. */
export type Audience =
  /** Every member of the room, optionally but one. These events are sequenced. */
  | { to: 'room'; except?: string }
  /** Every connection of one participant. */
  | { to: 'user'; uuid: string }
  /** One connection, by id (the one being kicked or replaced). */
  | { to: 'connection'; conn: string };

export interface RoomEvent {
  audience: Audience;
  message: ServerMessage;
  /** Close the receiving sockets with this code after delivering the message. */
  close?: number;
  /** Set by the store on room-wide events: the room's sequence number, +1 per event, no gaps. */
  seq?: number;
  /**
   * Members whose mute the commit started or lifted, for the SFU (never sent to clients). Set on
   * the last room-wide event of a commit that changed who is muted.
   */
  mutes?: MuteChange;
  /**
   * The command this commit answers, when its sender gave a request id (never sent to clients): set
   * by RoomService on the commit's last room-wide event. The session holding `conn` sends the Ack
   * when it delivers this event, so the client sees the change before its answer.
   */
  reply?: Reply;
}

/** Who waits for the answer to a command: the sender's connection, the request id it gave, the command's action. */
export interface Reply {
  conn: string;
  id: string;
  of: ClientAction;
}

export interface MuteChange {
  muted: string[];
  unmuted: string[];
}

export const isBroadcast = (event: RoomEvent): boolean => event.audience.to === 'room';

/**
 * The seq rule: a commit numbers its room-wide events on from the room's last seq, one each, in
 * order; other events carry none. Every store applies it (the Redis one inside its commit script too).
 */
export function sequence(events: readonly RoomEvent[], lastSeq: number): RoomEvent[] {
  let seq = lastSeq;
  return events.map((event) => (isBroadcast(event) ? { ...event, seq: ++seq } : event));
}

/** Where a reader of a room's sequenced events stands: what a new seq is to it. */
export class SeqCursor {
  constructor(public last: number | undefined = undefined) {}

  /** `next`: the one expected (or the first seen); `stale`: already had; `gap`: some are missing before it. */
  place(seq: number): 'next' | 'stale' | 'gap' {
    if (this.last === undefined || seq === this.last + 1) return 'next';
    return seq <= this.last ? 'stale' : 'gap';
  }
}
