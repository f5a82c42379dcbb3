import { isMaster, isMuted, nameOf, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import type { MediaState } from './audio.js';
import { byId, element } from './dom.js';
import { attempt } from './messages.js';

/**
 * The audio controls: a student's "mute myself", the audio's state, and the voices heard (one
 * <audio> per receive slot). Mutes are the server's (it drops a muted microphone's packets); the
 * page also silences its own microphone while muted.
 */
export function setUpAudioControls(client: () => RoomClient | null): void {
  byId('mute-self').addEventListener('click', () => {
    const room = client();
    if (!room?.state) return;
    void attempt(isMuted(room.state) ? room.unmuteUser() : room.muteUser());
  });
}

export function renderMediaStatus(state: MediaState): void {
  const status = byId('media-status');
  status.dataset.state = state;
  status.textContent = `Audio: ${state}`;
}

/** The <audio> of receive slot `slot` (created on first use). */
export function slotAudio(slot: number): HTMLAudioElement {
  const slots = byId('slots');
  let item = slots.children[slot];
  if (!item) {
    item = element('li', {}, [element('span', { className: 'owner' }), element('audio', { autoplay: true })]);
    (item as HTMLElement).dataset.slot = String(slot);
    slots.append(item);
  }
  return item.querySelector('audio')!;
}

export function renderAudioControls(state: RoomSnapshot, slots: readonly (string | null)[], mic: MediaStream | null): void {
  const muted = isMuted(state);
  byId('student-controls').classList.toggle('hidden', isMaster(state));
  const muteSelf = byId('mute-self');
  muteSelf.textContent = muted ? 'Unmute myself' : 'Mute myself';
  muteSelf.setAttribute('aria-pressed', String(muted));
  for (const track of mic?.getAudioTracks() ?? []) track.enabled = !muted;

  for (let slot = 0; slot < state.audioSlots; slot += 1) {
    const owner = slots[slot] ?? null;
    const label = slotAudio(slot).parentElement?.querySelector('.owner');
    // The uuid, as the slots have always shown it; the display name beside it when there is one.
    const name = owner === null ? undefined : nameOf(state, owner);
    if (label) label.textContent = `Voice ${slot + 1}: ${owner ?? '—'}${name ? ` (${name})` : ''}`;
  }
}
