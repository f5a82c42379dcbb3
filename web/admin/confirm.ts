/**
 * A confirmation inside the page (not window.confirm, which blocks the page and which a test cannot
 * answer): the question and two buttons, in place of the button that asked. The buttons are actions,
 * so read-only mode hides them too.
 */
import { actionButton, element } from './dom.js';
import { strings } from './strings.js';

export function confirmInPlace(
  host: HTMLElement,
  question: string,
  confirmText: string,
  onConfirm: () => Promise<void>,
  restore: () => void,
  focus = true,
): void {
  const box = element('div', { className: 'confirm action' });
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', question);
  const yes = actionButton(
    confirmText,
    () => {
      yes.disabled = true;
      no.disabled = true;
      void onConfirm().finally(restore);
    },
    'action danger',
  );
  const no = actionButton(strings.detail.cancel, restore, 'action secondary');
  box.append(element('span', { textContent: question }), yes, no);
  host.replaceChildren(box);
  if (focus) no.focus(); // not when a refresh redraws a question already asked
}
