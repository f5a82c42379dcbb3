/** The dashboard's status line (role=status): the last error or confirmation, in words. */
import { byId } from './dom.js';
import { strings } from './strings.js';

export type NoticeKind = 'info' | 'error';

/** `source`: the refresh that failed, so its next success clears the notice (and no one else's). */
export function notify(text: string, kind: NoticeKind = 'info', source = ''): void {
  const notice = byId('notice');
  notice.dataset.kind = kind;
  notice.dataset.source = source;
  notice.textContent = text;
  notice.hidden = false;
}

export function clearNotice(): void {
  const notice = byId('notice');
  notice.textContent = '';
  notice.dataset.source = '';
  notice.hidden = true;
}

/** The warning of an open server (no API_KEY): shown for as long as the dashboard is. */
export function showOpenWarning(shown: boolean): void {
  const warning = byId('open-warning');
  warning.hidden = !shown;
  // Written as it appears, so a screen reader announces the status (a text already there is not).
  warning.textContent = shown ? strings.openServer : '';
}
