import { byId } from '../shared/dom.js';
import type { LinkPrefill, Role } from './join-link.js';
import { t } from './strings.js';

/** The join form: the room, your name, your role, listen-only. Prefilled from the link (`?room=&name=&role=`) or the last class. */

export interface JoinChoice {
  room: string;
  name: string;
  role: Role;
  listenOnly: boolean;
}

const ROOM = /^(?!\.{1,2}$)[A-Za-z0-9._-]{1,64}$/;

export function setUpJoinForm(onJoin: (choice: JoinChoice) => void): void {
  const form = byId<HTMLFormElement>('join-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const room = byId<HTMLInputElement>('room');
    const name = byId<HTMLInputElement>('display-name');
    room.value = room.value.trim();
    name.value = name.value.trim();
    const invalid = !ROOM.test(room.value) ? room : name.value === '' ? name : null;
    room.setAttribute('aria-invalid', String(invalid === room));
    name.setAttribute('aria-invalid', String(invalid === name));
    if (invalid) {
      invalid.focus();
      return;
    }
    const role = form.querySelector<HTMLInputElement>('input[name="role"]:checked')?.value === 'teacher' ? 'teacher' : 'student';
    onJoin({ room: room.value, name: name.value, role, listenOnly: byId<HTMLInputElement>('listen-only').checked });
  });
}

export function prefillJoinForm(prefill: Partial<LinkPrefill & { listenOnly: boolean }>): void {
  if (prefill.room) byId<HTMLInputElement>('room').value = prefill.room;
  if (prefill.name) byId<HTMLInputElement>('display-name').value = prefill.name;
  if (prefill.role) {
    const radio = document.querySelector<HTMLInputElement>(`#join-form input[name="role"][value="${prefill.role}"]`);
    if (radio) radio.checked = true;
  }
  if (prefill.listenOnly !== undefined) byId<HTMLInputElement>('listen-only').checked = prefill.listenOnly;
}

export function setJoining(joining: boolean): void {
  const button = byId<HTMLButtonElement>('join');
  button.disabled = joining;
  button.textContent = joining ? t.joining : t.joinButton;
}

export function showJoinError(text: string): void {
  byId('join-error').textContent = text;
}

/** Focuses the first field to fill. */
export function focusJoinForm(): void {
  const room = byId<HTMLInputElement>('room');
  const name = byId<HTMLInputElement>('display-name');
  (room.value === '' ? room : name.value === '' ? name : byId('join')).focus();
}
