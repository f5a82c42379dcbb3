import { isSdkError } from '../../sdk/src/index.js';
import { byId, element } from '../shared/dom.js';
import { t } from './strings.js';

/**
 * Short messages at the bottom of the screen (a live region): what happened, newest last, each gone
 * after a while. A refusal is marked `data-testid="error"` and carries the server's code in `data-code`.
 */

const KEPT = 4;
const SHOWN_MS = 8000;

export function note(text: string, kind: 'info' | 'error' = 'info', code?: string): void {
  const list = byId('messages');
  const item = element('li', { className: kind, textContent: text });
  if (kind === 'error') item.dataset.testid = 'error';
  if (code) item.dataset.code = code;
  list.append(item);
  while (list.children.length > KEPT) list.firstElementChild?.remove();
  setTimeout(() => item.remove(), SHOWN_MS);
}

/** A command's refusal (the server's code, or the SDK's not_connected / timeout / closed), in words. */
export function noteFailure(error: unknown): void {
  if (!isSdkError(error)) {
    note(error instanceof Error ? error.message : String(error), 'error');
    return;
  }
  note(t.failure(error.code, t.errors[error.code] ?? error.message), 'error', error.code);
}

/** Runs a command of the page; a refusal becomes a message. Resolves with whether it was accepted. */
export async function attempt(command: Promise<unknown>, onRefusal: (error: unknown) => boolean = () => false): Promise<boolean> {
  try {
    await command;
    return true;
  } catch (error) {
    if (!onRefusal(error)) noteFailure(error);
    return false;
  }
}
