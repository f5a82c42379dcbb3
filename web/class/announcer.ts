import { byId } from '../shared/dom.js';

/** A polite live region: what a screen reader should say as the class moves ("Now: Al-Baqarah, aya 255"). */
export function announce(text: string): void {
  byId('announcer').textContent = text;
}
