import { nameOf, type RoomAudio, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from '../shared/dom.js';
import { t } from './strings.js';

/**
 * The audio's face: its state, the voices heard (one <audio> per receive slot, labelled with who is
 * on it), "Play the class's audio" when the browser refused to autoplay, and the client's own signal
 * quality in the header (RoomAudio measures only its own; the server reports nobody else's).
 */
export function setUpAudioControls(audio: () => RoomAudio | null): void {
  byId('start-audio').addEventListener('click', () => void audio()?.startAudio());
}

export function renderMediaStatus(state: string, text: string): void {
  const status = byId('media-status');
  status.dataset.state = state;
  status.textContent = t.audioStatus(text);
}

export function renderPlayback(canPlay: boolean): void {
  byId('start-audio').hidden = canPlay;
}

export function renderQuality(level: string | null): void {
  const quality = byId('quality');
  quality.hidden = level === null;
  if (level === null) return;
  quality.dataset.level = level;
  // In a span of its own: a phone's header shows only the dot (style.css), the words are still read out.
  quality.replaceChildren(element('span', { className: 'quality-text', textContent: t.quality(t.qualityLevels[level] ?? level) }));
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

export function renderVoices(state: RoomSnapshot, slots: readonly (string | null)[]): void {
  const items = byId('slots').children;
  for (let slot = 0; slot < items.length; slot += 1) {
    const owner = slots[slot] ?? null;
    const label = items[slot]?.querySelector('.owner');
    const who = owner === null ? t.nobody : (nameOf(state, owner) ?? owner);
    if (label) label.textContent = t.voice(slot + 1, who);
    (items[slot] as HTMLElement).toggleAttribute('data-busy', owner !== null);
  }
}
