import { isSdkError } from '../../sdk/src/index.js';
import { byId, element } from './dom.js';

/** The Messages card: what happened, newest first; errors (refusals among them) marked `data-testid="error"`. */

const KEPT = 30;

export function note(text: string, kind: 'info' | 'error' = 'info'): void {
  const list = byId('messages');
  const item = element('li', { className: kind, textContent: `${new Date().toLocaleTimeString()} ${text}` });
  if (kind === 'error') item.dataset.testid = 'error';
  list.prepend(item);
  while (list.children.length > KEPT) list.lastElementChild?.remove();
}

/** A command's refusal (the server's code, or the SDK's not_connected / timeout / closed), told to the user. */
export function noteFailure(error: unknown): void {
  if (!isSdkError(error)) {
    note(`Failed: ${error instanceof Error ? error.message : String(error)}`, 'error');
    return;
  }
  if (error.code === 'not_connected') note('Not connected: try again in a moment', 'error');
  else note(`${error.code}: ${error.message}`, 'error');
}

/** Runs a command of the page; a refusal becomes a message. Resolves with whether it was accepted. */
export async function attempt(command: Promise<unknown>): Promise<boolean> {
  try {
    await command;
    return true;
  } catch (error) {
    noteFailure(error);
    return false;
  }
}
