/**
 * The rooms, a page at a time (the server's cursor: `after` is the last name of the page before).
 * The view keeps the cursors of the pages it went through, so Previous goes back without the server
 * knowing pages.
 */
import type { RoomSummary, RoomsPage } from './api.js';
import { byId, element, emptyRow } from './dom.js';
import { age, passage } from './format.js';
import { strings } from './strings.js';

export const PAGE_SIZE = 20;

export interface RoomsView {
  /** The cursor of the page shown (undefined: the first). */
  readonly after: string | undefined;
  render(page: RoomsPage): void;
}

/** `load`: refreshes the page at the view's cursor; `open`: a room's name was clicked. */
export function setUpRooms(load: () => void, open: (name: string) => void): RoomsView {
  /** The cursors of the pages before the one shown, and the one shown last. */
  const cursors: (string | undefined)[] = [];
  let after: string | undefined;
  let next: string | null = null;
  const previousButton = byId<HTMLButtonElement>('rooms-previous');
  const nextButton = byId<HTMLButtonElement>('rooms-next');
  previousButton.addEventListener('click', () => {
    if (cursors.length === 0) return;
    after = cursors.pop();
    load();
  });
  nextButton.addEventListener('click', () => {
    if (next === null) return;
    cursors.push(after);
    after = next;
    load();
  });
  return {
    get after() {
      return after;
    },
    render(page) {
      if (page.rooms.length === 0 && cursors.length > 0) {
        // The rooms of this page are all gone: back to the one before.
        after = cursors.pop();
        load();
        return;
      }
      next = page.next;
      const body = byId('rooms-body');
      body.replaceChildren(
        ...(page.rooms.length === 0
          ? [emptyRow(strings.rooms.none, strings.rooms.columns.length)]
          : page.rooms.map((room) => roomRow(room, open))),
      );
      const first = cursors.length * PAGE_SIZE + 1;
      byId('rooms-range').textContent = strings.rooms.range(first, first + page.rooms.length - 1, page.total);
      previousButton.disabled = cursors.length === 0;
      nextButton.disabled = next === null;
    },
  };
}

function roomRow(room: RoomSummary, open: (name: string) => void): HTMLTableRowElement {
  const button = element('button', { type: 'button', className: 'link', textContent: room.name });
  button.setAttribute('aria-label', strings.rooms.open(room.name));
  button.addEventListener('click', () => open(room.name));
  const tr = element('tr');
  tr.dataset.room = room.name;
  tr.append(
    element('th', { scope: 'row' }, [button]),
    ...[String(room.users.length), passage(room.id_quran, room.aya), room.media_node ?? strings.none, age(room.created_at)].map((text) =>
      element('td', { textContent: text }),
    ),
  );
  return tr;
}
