import type { RoomSnapshot } from '../../sdk/src/index.js';
import { byId } from '../shared/dom.js';
import { phoneLayout } from './layout.js';
import { t } from './strings.js';

/**
 * The roster, the queue and the voices (`#side`): a column beside the text on a desktop; on a phone
 * a sheet over the text, opened by "Class (4) · Queue (2)" (in the teacher's bar, floating for a
 * student) and closed by "Back to the text", that button again, or Escape. Focus goes into the sheet
 * and back to the button that opened it; the text under the sheet is inert meanwhile.
 */

export function setUpSideSheet(): void {
  byId('to-side').addEventListener('click', () => setOpen(!isOpen(), true));
  byId('close-side').addEventListener('click', () => setOpen(false, true));
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || event.defaultPrevented || !isOpen()) return;
    event.preventDefault();
    setOpen(false, true);
  });
  // A desktop shows the column: no sheet to close.
  phoneLayout.addEventListener('change', () => {
    if (!phoneLayout.matches) setOpen(false, false);
  });
}

export function renderSideToggle(state: RoomSnapshot): void {
  byId('to-side').textContent = t.studentsLink(state.members.length, state.corrections.length);
}

export function closeSideSheet(): void {
  setOpen(false, false);
}

const isOpen = (): boolean => document.body.dataset.sheet === 'open';

function setOpen(open: boolean, moveFocus: boolean): void {
  if (open === isOpen()) return;
  document.body.dataset.sheet = open ? 'open' : 'closed';
  byId('to-side').setAttribute('aria-expanded', String(open));
  byId('text').inert = open;
  if (moveFocus) byId(open ? 'close-side' : 'to-side').focus();
}
