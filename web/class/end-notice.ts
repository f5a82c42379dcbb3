import type { CloseReason } from '../../sdk/src/index.js';
import { byId } from '../shared/dom.js';
import { t } from './strings.js';

/**
 * The class is over for this page (kicked, the room deleted, joined elsewhere, no such room): a
 * full-width notice with "Join again" (the same room, name and role) and a way back to the form.
 */
export function setUpEndNotice(actions: { joinAgain(): void; backToForm(): void }): void {
  byId('join-again').addEventListener('click', () => actions.joinAgain());
  byId('back-to-form').addEventListener('click', () => actions.backToForm());
}

export function showEnded(reason: CloseReason, room: string, message: string): void {
  const why: Partial<Record<CloseReason, string>> = {
    kicked: t.endedKicked,
    room_deleted: t.endedDeleted,
    replaced: t.endedReplaced,
    room_not_found: t.endedNotFound(room),
    invalid_request: t.endedInvalid,
  };
  byId('ended-why').textContent = why[reason] ?? message;
  byId('ended-view').hidden = false;
  byId('ended').hidden = false;
  byId('ended').dataset.reason = reason;
  byId<HTMLButtonElement>('join-again').focus();
}

export function hideEnded(): void {
  byId('ended-view').hidden = true;
  byId('ended').hidden = true;
}
