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
}

export const isBroadcast = (event: RoomEvent): boolean => event.audience.to === 'room';
