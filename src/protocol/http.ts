import { type Static, Type } from 'typebox';
import { DisplayName, ROOM_NAME_CHARS, RoomName, Uuid } from './names.js';

export const CreateRoomBody = Type.Object({ name: RoomName, master_uuid: Uuid });
export type CreateRoomBody = Static<typeof CreateRoomBody>;

export const DeleteRoomBody = Type.Object({ name: RoomName });
export type DeleteRoomBody = Static<typeof DeleteRoomBody>;

export const KickUserBody = Type.Object({ uuid: Uuid, room_name: RoomName });
export type KickUserBody = Static<typeof KickUserBody>;

export const RoomParams = Type.Object({ name: RoomName });
export type RoomParams = Static<typeof RoomParams>;

export const JoinParams = Type.Object({ room_name: RoomName, uuid: Uuid });
export type JoinParams = Static<typeof JoinParams>;

/** Query strings are text: `last_seq` is a decimal seq, checked by pattern since types are never coerced. */
export const JoinQuery = Type.Object({
  last_seq: Type.Optional(Type.String({ pattern: '^(0|[1-9][0-9]{0,14})$' })),
  token: Type.Optional(Type.String({ maxLength: 4096 })),
  /** The joiner's display name; a join token's `name` claim wins over it. */
  name: Type.Optional(DisplayName),
});
export type JoinQuery = Static<typeof JoinQuery>;

export const NetworkTraversalQuery = Type.Object({ uuid: Type.Optional(Uuid), token: Type.Optional(Type.String({ maxLength: 4096 })) });
export type NetworkTraversalQuery = Static<typeof NetworkTraversalQuery>;

export const MintTokenBody = Type.Object({
  room: RoomName,
  uuid: Uuid,
  ttl: Type.Optional(Type.Integer({ minimum: 10, maximum: 7 * 24 * 3600 })),
  /** The display name the token gives its holder (its `name` claim). */
  name: Type.Optional(DisplayName),
});
export type MintTokenBody = Static<typeof MintTokenBody>;

/** `GET /api/rooms` without `limit`. */
export const ROOMS_PAGE_DEFAULT = 50;

/** Query strings are text, never coerced: `limit` is checked by pattern (1..100). */
export const RoomsQuery = Type.Object({
  limit: Type.Optional(Type.String({ pattern: '^([1-9]|[1-9][0-9]|100)$' })),
  after: Type.Optional(RoomName),
});
export type RoomsQuery = Static<typeof RoomsQuery>;

export const EVENTS_MAX_ROOMS = 50;

/** `rooms`: 1..50 room names, comma-separated (each must exist: `.` and `..` never do). */
export const EventsQuery = Type.Object({
  rooms: Type.String({ pattern: `^${ROOM_NAME_CHARS}(,${ROOM_NAME_CHARS}){0,${EVENTS_MAX_ROOMS - 1}}$` }),
});
export type EventsQuery = Static<typeof EventsQuery>;
