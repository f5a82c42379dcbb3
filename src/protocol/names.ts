import { Type } from 'typebox';

/**
 * Room names and uuids travel in URL paths, so they are restricted to URL-safe characters; `.` and
 * `..` are excluded, since URL clients resolve them as path segments.
 */
export const ROOM_NAME_CHARS = '[A-Za-z0-9._-]{1,64}';
export const ROOM_NAME_PATTERN = `^(?!\\.{1,2}$)${ROOM_NAME_CHARS}$`;
export const UUID_PATTERN = '^(?!\\.{1,2}$)[A-Za-z0-9._:-]{1,128}$';

/** `GET /api/room/all` lists rooms, so no room may be called `all`. */
export const RESERVED_ROOM_NAMES: ReadonlySet<string> = new Set(['all']);

export const RoomName = Type.String({ pattern: ROOM_NAME_PATTERN });
export const Uuid = Type.String({ pattern: UUID_PATTERN });

/**
 * A participant's display name: 1..64 characters (code points), any script (Arabic included), no
 * control characters. The uuid stays the identity; the name is only shown.
 */
export const DISPLAY_NAME_MAX_LENGTH = 64;
export const DISPLAY_NAME_PATTERN = '^[^\\p{Cc}]*$';
export const DisplayName = Type.String({ minLength: 1, maxLength: DISPLAY_NAME_MAX_LENGTH, pattern: DISPLAY_NAME_PATTERN });

const displayNameRegExp = new RegExp(DISPLAY_NAME_PATTERN, 'u');

/** Whether a value is a valid display name (the same rule as the DisplayName schema). */
export const isDisplayName = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && [...value].length <= DISPLAY_NAME_MAX_LENGTH && displayNameRegExp.test(value);
