import type { ConnectionStatus, DropCause } from '../../sdk/src/index.js';
import { byId } from './dom.js';

/** The connection banner in the header: the room client's connection status, in words. */

export type BannerState = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

export function showStatus(state: BannerState, text: string): void {
  const banner = byId('status');
  banner.dataset.state = state;
  banner.textContent = text;
}

/** What the banner says for a status of the room client. */
export function showConnection(status: ConnectionStatus): void {
  switch (status.status) {
    case 'idle':
      showStatus('idle', 'Not connected');
      return;
    case 'connecting':
      showStatus('connecting', 'Connecting…');
      return;
    case 'connected':
      if (status.via === 'join') showStatus('connected', 'Connected');
      else if (status.via === 'resumed') showStatus('connected', 'Reconnected');
      else showStatus('connected', 'Reconnected (missed events: view refreshed)');
      return;
    case 'reconnecting':
      showStatus('reconnecting', `${describeCause(status.cause)}; reconnecting${retryIn(status.delayMs)}…`);
      return;
    case 'closed':
      showStatus('closed', capitalize(status.message));
      return;
  }
}

function describeCause(cause: DropCause): string {
  switch (cause.kind) {
    case 'lost':
      return `Connection lost (${cause.code ?? 'no close code'})`;
    case 'service_restart':
      return 'The server is restarting';
    case 'refused':
      return `The server refused the join (${cause.errorCode ?? cause.status ?? 'unreachable'})`;
    case 'timeout':
      return 'The server did not answer';
    case 'keepalive':
      return 'The connection went silent';
    case 'gap':
    case 'resync':
      return 'Catching up with the class';
    case 'token':
      return 'No join token';
    case 'simulated':
      return 'Connection dropped (test)';
  }
}

const retryIn = (delayMs: number): string => (delayMs >= 1000 ? ` in ${Math.round(delayMs / 1000)} s` : '');
const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
