import { byId } from './dom.js';

/** The join form: room, who you are, your role. Prefilled from the page's query (?room=&uuid=&name=&role=teacher&token=). */

export interface JoinRequest {
  room: string;
  uuid: string;
  /** The display name the others see; none when left empty. */
  name: string | undefined;
  role: 'teacher' | 'student';
  /** A join token from the app's backend (closed server), from the page's `?token=`. */
  token: string | undefined;
}

export function setUpJoinForm(onJoin: (request: JoinRequest) => void): void {
  const params = new URLSearchParams(location.search);
  const room = byId<HTMLInputElement>('room');
  const uuid = byId<HTMLInputElement>('uuid');
  const name = byId<HTMLInputElement>('display-name');
  const role = byId<HTMLSelectElement>('role');
  room.value = params.get('room') ?? room.value;
  uuid.value = params.get('uuid') ?? `guest-${Math.random().toString(36).slice(2, 8)}`;
  name.value = params.get('name') ?? '';
  if (params.get('role') === 'teacher') role.value = 'teacher';
  const token = params.get('token') ?? undefined;

  byId('join-form').addEventListener('submit', (event) => {
    event.preventDefault();
    onJoin({
      room: room.value.trim(),
      uuid: uuid.value.trim(),
      name: name.value.trim() || undefined,
      role: role.value === 'teacher' ? 'teacher' : 'student',
      token,
    });
  });
}

/** Disables the Join button while a join is being prepared. */
export function setJoining(joining: boolean): void {
  byId<HTMLButtonElement>('join').disabled = joining;
}

/** Shows the form (not in a class) or the class. */
export function showJoinForm(visible: boolean): void {
  byId('join-form').classList.toggle('hidden', !visible);
  byId('class').classList.toggle('hidden', visible);
}
