import { Type } from 'typebox';

/**
 * Room names and uuids travel in URL paths, so they are restricted to URL-safe characters; `.` and
 * `..` are excluded, since URL clients resolve them as path segments.
 */
export const ROOM_NAME_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._-]{1,64}$';
export const UUID_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._:-]{1,128}$';

/** `GET /api/room/all` lists rooms, so no room may be called `all`. */
export const RESERVED_ROOM_NAMES: ReadonlySet<string> = new Set(['all']);

export const RoomName = Type.String({ pattern: ROOM_NAME_PATTERN });
export const Uuid = Type.String({ pattern: UUID_PATTERN });
