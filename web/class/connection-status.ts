import type { ConnectionStatus, DropCause } from '../../sdk/src/index.js';
import { byId } from '../shared/dom.js';
import { t } from './strings.js';

/**
 * The room client's connection, in the header (`#status`, `data-state`) and, while it is away, as a
 * full-width banner under it ("Reconnecting…"). The end of the class is end-notice.ts.
 */

export type StatusState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export function showStatus(state: StatusState, text: string): void {
  const status = byId('status');
  status.dataset.state = state;
  status.textContent = text;
  const banner = byId('banner');
  banner.hidden = state !== 'reconnecting';
  banner.dataset.state = state;
  banner.textContent = state === 'reconnecting' ? text : '';
}

export function showConnection(status: ConnectionStatus): void {
  switch (status.status) {
    case 'idle':
      showStatus('idle', t.notConnected);
      return;
    case 'connecting':
      showStatus('connecting', t.connecting);
      return;
    case 'connected':
      showStatus('connected', status.via === 'join' ? t.connected : status.via === 'resumed' ? t.reconnected : t.reconnectedMissed);
      return;
    case 'reconnecting':
      showStatus('reconnecting', t.reconnectingWhy(describeCause(status.cause)));
      return;
    case 'closed':
      showStatus('closed', t.notConnected);
      return;
  }
}

function describeCause(cause: DropCause): string {
  switch (cause.kind) {
    case 'lost':
      return t.causeLost;
    case 'service_restart':
      return t.causeRestart;
    case 'refused':
      return t.causeRefused(String(cause.errorCode ?? cause.status ?? '?'));
    case 'timeout':
      return t.causeTimeout;
    case 'keepalive':
      return t.causeKeepalive;
    case 'gap':
    case 'resync':
      return t.causeCatchingUp;
    case 'token':
      return t.causeToken;
    case 'simulated':
      return t.causeSimulated;
  }
}
