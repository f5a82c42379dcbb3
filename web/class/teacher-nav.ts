import { ayatIn, isMaster, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from '../shared/dom.js';
import { phoneLayout } from './layout.js';
import { attempt } from './messages.js';
import { point, step } from './passage.js';
import { type SuraInfo, suraTitle } from './quran-text.js';
import { t } from './strings.js';

/**
 * The teacher's toolbar: the sura (a list of the 114, narrowed by a search for a name or a number:
 * "2 · Al-Baqarah · البقرة"), an aya by its number, the previous and next aya, and mute all / unmute
 * all. Choosing a sura moves the class to it (MoveSura); the list shows the room's sura once the
 * server accepted the move.
 *
 * On a phone it is a compact bar: previous aya, the sura and aya (a button that opens the picker:
 * the search, the list and "Go to aya", closed again by a choice or Escape), next aya, mute all,
 * unmute all, and the class sheet's button (side-sheet.ts). The picker is open while the class has
 * no sura, and closes when it has one.
 */

let suras: readonly SuraInfo[] = [];
let shownSura: number | null | undefined;

export function setUpTeacherNav(client: () => RoomClient | null): void {
  const search = byId<HTMLInputElement>('sura-search');
  const select = byId<HTMLSelectElement>('sura-select');
  search.addEventListener('input', () => fillOptions(search.value));
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const first = matching(search.value)[0];
    if (first) moveTo(client, first.id);
  });
  select.addEventListener('change', () => {
    const sura = Number(select.value);
    if (sura > 0) moveTo(client, sura);
  });
  byId('sura-button').addEventListener('click', (event) => {
    setPicker(!pickerOpen());
    // Opened from the keyboard (a click of detail 0): into the picker, which follows ▼ in the tab order.
    if (pickerOpen() && event.detail === 0) search.focus();
  });
  byId('teacher-nav').addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !phoneLayout.matches || !pickerOpen()) return;
    event.preventDefault();
    setPicker(false);
  });
  byId('aya-jump').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('aya-input');
    const aya = Number(input.value);
    // The server decides (the aya rule); the range beside the field says what it will accept.
    if (Number.isInteger(aya) && aya > 0) {
      point(aya);
      if (phoneLayout.matches) setPicker(false);
    }
  });
  byId('previous-aya').addEventListener('click', () => step(-1));
  byId('next-aya').addEventListener('click', () => step(1));
  byId('mute-all').addEventListener('click', () => {
    const room = client();
    if (room) void attempt(room.muteAll());
  });
  byId('unmute-all').addEventListener('click', () => {
    const room = client();
    if (room) void attempt(room.unmuteAll());
  });
}

function moveTo(client: () => RoomClient | null, sura: number): void {
  const room = client();
  if (!room) return;
  if (phoneLayout.matches) setPicker(false);
  void attempt(room.moveSura(sura)).then((moved) => {
    if (!moved) showSura(room.state?.sura ?? null, true);
  });
}

/** The index arrived: the list of suras can be filled. */
export function setSuraIndex(index: readonly SuraInfo[]): void {
  suras = index;
  fillOptions(byId<HTMLInputElement>('sura-search').value);
}

export function resetTeacherNav(): void {
  shownSura = undefined;
  setPicker(false);
  byId<HTMLInputElement>('sura-search').value = '';
  byId<HTMLInputElement>('aya-input').value = '';
}

export function renderTeacherNav(state: RoomSnapshot): void {
  const teacher = isMaster(state);
  byId('teacher-nav').hidden = !teacher;
  if (!teacher) return;
  if (state.sura !== shownSura) {
    showSura(state.sura, true);
    setPicker(state.sura === null);
  }
  const where = state.sura === null ? null : suraTitle(state.sura, t.suraName);
  byId('sura-button-text').textContent = where === null ? t.suraPlaceholder : state.aya === null ? where : t.place(where, state.aya);
  const input = byId<HTMLInputElement>('aya-input');
  if (document.activeElement !== input) input.value = state.aya === null ? '' : String(state.aya);
  byId('aya-range').textContent = state.sura === null ? '' : t.ayaRange(ayatIn(state.sura));
  byId<HTMLButtonElement>('previous-aya').disabled = state.sura === null || state.aya === 1;
  byId<HTMLButtonElement>('next-aya').disabled = state.sura === null || state.aya === ayatIn(state.sura);
  byId<HTMLButtonElement>('go-aya').disabled = state.sura === null;
  input.disabled = state.sura === null;
  byId<HTMLButtonElement>('mute-all').setAttribute('aria-pressed', String(state.mutedAll));
}

const pickerOpen = (): boolean => byId('teacher-nav').dataset.picker === 'open';

/** Opens or closes the phone's picker (a desktop always shows it); focus left in a closing one goes back to its button. */
function setPicker(open: boolean): void {
  const nav = byId('teacher-nav');
  const button = byId('sura-button');
  nav.dataset.picker = open ? 'open' : 'closed';
  button.setAttribute('aria-expanded', String(open));
  if (!open && phoneLayout.matches && byId('sura-picker').contains(document.activeElement)) button.focus();
}

/** Shows the room's sura in the list (the search cleared, so it is there). */
function showSura(sura: number | null, clearSearch: boolean): void {
  shownSura = sura;
  if (clearSearch) byId<HTMLInputElement>('sura-search').value = '';
  fillOptions(byId<HTMLInputElement>('sura-search').value);
}

/** Suras whose number starts with the query, or whose names contain it. */
function matching(query: string): readonly SuraInfo[] {
  const wanted = simplify(query);
  if (wanted === '') return suras;
  return suras.filter(
    (sura) =>
      String(sura.id).startsWith(wanted) ||
      simplify(sura.transliteration).includes(wanted) ||
      simplify(sura.translation).includes(wanted) ||
      sura.name.includes(query.trim()),
  );
}

/** Lower case, without the transliteration's marks ("Al-Fatihah", "al fatiha", "alfatihah" meet). */
const simplify = (text: string): string =>
  text
    .toLowerCase()
    .normalize('NFD')
    .replace(/[\u0300-\u036f'’`\-\s]/g, '');

function fillOptions(query: string): void {
  const select = byId<HTMLSelectElement>('sura-select');
  const found = matching(query);
  const options = found.map((sura) =>
    element('option', { value: String(sura.id), textContent: t.suraOption(sura.id, sura.transliteration, sura.name) }),
  );
  const current = shownSura ?? null;
  // A placeholder when the class has no sura yet, or the room's sura is not among the matches.
  if (current === null || !found.some((sura) => sura.id === current)) {
    const placeholder = element('option', {
      value: '',
      textContent: found.length === 0 ? t.noSuraMatches : t.suraPlaceholder,
      disabled: true,
    });
    options.unshift(placeholder);
  }
  select.replaceChildren(...options);
  select.value = current !== null && found.some((sura) => sura.id === current) ? String(current) : '';
}
