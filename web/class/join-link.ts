/**
 * What the page's address says about the class to join: `?room=&name=&role=` prefill the join form;
 * `?token=` is a join link minted by a school's backend (a JWT for a closed server), which names the
 * room and the member (`room`, `sub`, optional `name`) and joins straight away. The page only reads
 * the token's payload; the server verifies it.
 */

export type Role = 'teacher' | 'student';

export interface LinkPrefill {
  room: string | null;
  name: string | null;
  role: Role | null;
}

export interface TokenLink {
  token: string;
  room: string;
  uuid: string;
  name: string | undefined;
}

export function readPrefill(search: string = location.search): LinkPrefill {
  const params = new URLSearchParams(search);
  const role = params.get('role');
  return {
    room: params.get('room'),
    name: params.get('name'),
    role: role === 'teacher' || role === 'student' ? role : null,
  };
}

/** The join link's token and what its payload names; null when there is no token; 'unreadable' for a bad one. */
export function readTokenLink(search: string = location.search): TokenLink | null | 'unreadable' {
  const token = new URLSearchParams(search).get('token');
  if (!token) return null;
  const payload = decodePayload(token);
  if (!payload || typeof payload.room !== 'string' || typeof payload.sub !== 'string') return 'unreadable';
  return { token, room: payload.room, uuid: payload.sub, name: typeof payload.name === 'string' ? payload.name : undefined };
}

function decodePayload(token: string): Record<string, unknown> | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const base64 = part
      .replace(/-/g, '+')
      .replace(/_/g, '/')
      .padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    const payload: unknown = JSON.parse(new TextDecoder().decode(bytes));
    return payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
