import { byId } from '../shared/dom.js';

/**
 * The text pane (`#text`): the Quran's text scrolls in it, by itself, while the header and the
 * class's controls stay on screen. The pane is scrolled here (its own scrollTo), never with
 * scrollIntoView, which would also scroll every scrollable box around it.
 *
 * An aya that fits the pane is centred in it; a longer one (2:255 on a phone) is scrolled to its
 * start: the top of its first line (right to left, so its top right), a small margin below the
 * pane's top edge.
 */

/** The gap kept between the pane's edge and an aya's start. */
const MARGIN_PX = 12;

const pane = (): HTMLElement => byId('text');

/** Back to the top (a new sura). */
export function scrollPaneToTop(): void {
  pane().scrollTop = 0;
}

/**
 * Brings `item` into the pane: centred if it fits, else its start at the top. With `onlyIfNeeded`,
 * an aya already shown well (all of it, or a long one's start near the top) is left where it is.
 */
export function revealInPane(item: HTMLElement, behavior: ScrollBehavior, onlyIfNeeded: boolean): void {
  const scroller = pane();
  const view = scroller.getBoundingClientRect();
  const box = item.getBoundingClientRect();
  // The pane's inner height (its borders and a horizontal scrollbar left out).
  const height = scroller.clientHeight;
  const top = view.top + scroller.clientTop;
  const fits = box.height <= height - 2 * MARGIN_PX;
  if (onlyIfNeeded && shownWell(box, top, height, fits)) return;
  const offset = fits ? (height - box.height) / 2 : MARGIN_PX;
  scroller.scrollTo({ top: scroller.scrollTop + box.top - top - offset, behavior });
}

function shownWell(box: DOMRect, top: number, height: number, fits: boolean): boolean {
  if (fits) return box.top >= top && box.bottom <= top + height;
  // A long aya: its start in the top quarter of the pane.
  return box.top >= top && box.top <= top + height / 4;
}
