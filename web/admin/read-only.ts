/**
 * Read-only mode: every action (kick, delete, their confirmations) is hidden, for a screen on the
 * wall or an operator who only watches. Set by the toggle or by `?readonly=1` in the address, which
 * the toggle keeps in step so a reload (or a shared link) keeps the mode.
 */
import { byId } from './dom.js';

let readOnly = false;

export const isReadOnly = (): boolean => readOnly;

export function setUpReadOnly(): void {
  const toggle = byId<HTMLInputElement>('readonly');
  const fromAddress = new URLSearchParams(location.search).get('readonly');
  apply(fromAddress === '1' || fromAddress === 'true');
  toggle.addEventListener('change', () => {
    apply(toggle.checked);
    const url = new URL(location.href);
    if (readOnly) url.searchParams.set('readonly', '1');
    else url.searchParams.delete('readonly');
    history.replaceState(null, '', url);
  });
}

function apply(on: boolean): void {
  readOnly = on;
  byId<HTMLInputElement>('readonly').checked = on;
  // The stylesheet hides every .action under [data-readonly]; views also refuse to act (isReadOnly).
  if (on) document.body.dataset.readonly = '';
  else delete document.body.dataset.readonly;
  byId('readonly-note').hidden = !on;
}
