import { isMaster, isMuted, nameOf, type RoomAudio, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from './dom.js';
import { attempt } from './messages.js';

/**
 * The audio controls: a student's "mute myself" (the room's mute: the server drops a muted voice,
 * and RoomAudio disables the microphone track while the room has it muted), the audio's state, the
 * voices heard (one <audio> per receive slot), and "Play the class's audio" when the browser
 * refused to autoplay.
 */
export function setUpAudioControls(client: () => RoomClient | null, audio: () => RoomAudio | null): void {
  byId('mute-self').addEventListener('click', () => {
    const room = client();
    if (!room?.state) return;
    void attempt(isMuted(room.state) ? room.unmuteUser() : room.muteUser());
  });
  byId('start-audio').addEventListener('click', () => void audio()?.startAudio());
}

export function renderMediaStatus(state: string, text: string): void {
  const status = byId('media-status');
  status.dataset.state = state;
  status.textContent = `Audio: ${text}`;
}

export function renderPlayback(canPlay: boolean): void {
  byId('start-audio').classList.toggle('hidden', canPlay);
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

export function renderAudioControls(state: RoomSnapshot, slots: readonly (string | null)[]): void {
  const muted = isMuted(state);
  byId('student-controls').classList.toggle('hidden', isMaster(state));
  const muteSelf = byId('mute-self');
  muteSelf.textContent = muted ? 'Unmute myself' : 'Mute myself';
  muteSelf.setAttribute('aria-pressed', String(muted));

  const items = byId('slots').children;
  for (let slot = 0; slot < items.length; slot += 1) {
    const owner = slots[slot] ?? null;
    const label = items[slot]?.querySelector('.owner');
    // The uuid, as the slots have always shown it; the display name beside it when there is one.
    const name = owner === null ? undefined : nameOf(state, owner);
    if (label) label.textContent = `Voice ${slot + 1}: ${owner ?? '—'}${name ? ` (${name})` : ''}`;
  }
}
