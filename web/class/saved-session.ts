/**
 * The class this tab is in, kept in sessionStorage so a reload rejoins it by itself (with the same
 * uuid from localStorage, the server resumes the member's place). Leaving forgets it.
 */
import type { Role } from './join-link.js';

export interface SavedSession {
  room: string;
  role: Role;
  name: string | undefined;
  listenOnly: boolean;
}

const KEY = 'wigglypuff.session';

export function loadSession(): SavedSession | null {
  try {
    const value: unknown = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    if (!value || typeof value !== 'object') return null;
    const { room, role, name, listenOnly } = value as Record<string, unknown>;
    if (typeof room !== 'string' || (role !== 'teacher' && role !== 'student')) return null;
    return { room, role, name: typeof name === 'string' ? name : undefined, listenOnly: listenOnly === true };
  } catch {
    return null;
  }
}

export function saveSession(session: SavedSession): void {
  try {
    sessionStorage.setItem(KEY, JSON.stringify(session));
  } catch {
    // no storage: a reload shows the form
  }
}

export function forgetSession(): void {
  try {
    sessionStorage.removeItem(KEY);
  } catch {
    // nothing kept
  }
}
