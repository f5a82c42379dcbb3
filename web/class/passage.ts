import type { RoomSnapshot } from '../../sdk/src/index.js';
import { byId } from './dom.js';

/**
 * The text view: the room, and the sura and aya the class recites. It shows the room client's state
 * only, and that state moves on the server's word: another's command on its event, the page's own on
 * its Ack, a refused one never.
 */
export function renderPassage(state: RoomSnapshot): void {
  byId('room-name').textContent = state.room;
  byId('sura').textContent = state.sura === null ? '–' : String(state.sura);
  byId('aya').textContent = state.aya === null ? '–' : String(state.aya);
}
