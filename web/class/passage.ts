import { ayatIn, isMaster, type RoomClient, type RoomSnapshot } from '../../sdk/src/index.js';
import { byId, element } from '../shared/dom.js';
import { announce } from './announcer.js';
import { ayaMark } from './aya-mark.js';
import { attempt } from './messages.js';
import { type SuraText, suraInfo, suraText, suraTitle } from './quran-text.js';
import { t, uiLanguage } from './strings.js';
import { revealInPane, scrollPaneToTop } from './text-pane.js';

/**
 * The text view: the sura the class is in (the room's `sura`), its ayat in the mushaf's way, each
 * followed by its number in the end-of-aya sign, and the room's `aya` highlighted (`aria-current`)
 * and kept in view in the text's own pane (text-pane.ts). The teacher points at an aya with a
 * click, a tap, Enter, or the keys (↓ / j / ← next, ↑ / k / → previous: in right-to-left text, left
 * is forward). What is highlighted is the room client's state only: the teacher's own pointing
 * shows once the server accepted it (its Ack).
 *
 * The page's own state here is the UI's: which sura's text is built, the one being fetched, and the
 * aya the teacher last asked for while its answer is on its way (so ↓ ↓ ↓ moves three ayat).
 */

let latest: RoomSnapshot | null = null;
let client: () => RoomClient | null = () => null;
/** The sura whose ayat are in the list, and for whom (the teacher's are buttons). */
let built: { sura: number; teacher: boolean } | null = null;
let loading: number | null = null;
let highlighted: number | null = null;
/** The aya the teacher asked for last, until the server answers. */
let asked: number | null = null;

export function setUpPassage(roomClient: () => RoomClient | null): void {
  client = roomClient;
  const list = byId('ayat');
  list.addEventListener('click', (event) => {
    const target = (event.target as Element).closest<HTMLElement>('[role="button"][data-aya]');
    if (target) point(Number(target.dataset.aya));
  });
  list.addEventListener('keydown', (event) => {
    const target = (event.target as Element).closest<HTMLElement>('[role="button"][data-aya]');
    if (target && (event.key === 'Enter' || event.key === ' ')) {
      event.preventDefault();
      point(Number(target.dataset.aya));
    }
  });
  document.addEventListener('keydown', onKey);
  byId('text-retry').addEventListener('click', () => {
    built = null;
    if (latest) renderPassage(latest);
  });
}

/** Forgets the class (another one is joined next). */
export function resetPassage(): void {
  latest = null;
  built = null;
  loading = null;
  highlighted = null;
  asked = null;
  byId('ayat').replaceChildren();
  byId('sura-title').textContent = '';
  byId('sura-arabic').textContent = '';
  byId('bismillah').hidden = true;
  byId('text-status').textContent = '';
}

export function renderPassage(state: RoomSnapshot): void {
  const previous = latest;
  latest = state;
  const teacher = isMaster(state);
  renderHeading(state.sura);
  if (state.sura === null) {
    built = null;
    highlighted = null;
    byId('ayat').replaceChildren();
    status(teacher ? t.noSuraYetTeacher : t.noSuraYet);
    return;
  }
  if (built?.sura !== state.sura || built.teacher !== teacher) {
    if (!teacher && previous?.sura !== state.sura && previous !== null) announce(t.nowSura(suraTitle(state.sura, t.suraName)));
    void load(state.sura, teacher);
    return;
  }
  highlight(state, false);
}

/** Points the class at `aya` (the teacher): the server decides, a refusal is told. */
export function point(aya: number): void {
  const room = client();
  if (!room || !latest || !isMaster(latest)) return;
  asked = aya;
  void attempt(room.clickAya(aya)).finally(() => {
    if (asked === aya) asked = null;
  });
}

/** The teacher's next (+1) or previous (-1) aya, from the one last asked for. */
export function step(delta: 1 | -1): void {
  const state = latest;
  if (!state || state.sura === null || !isMaster(state)) return;
  const from = asked ?? state.aya;
  const to = from === null ? (delta > 0 ? 1 : null) : Math.min(Math.max(from + delta, 1), ayatIn(state.sura));
  if (to !== null && to !== from) point(to);
}

function onKey(event: KeyboardEvent): void {
  if (!latest || !isMaster(latest) || event.altKey || event.ctrlKey || event.metaKey) return;
  const target = event.target as HTMLElement | null;
  if (target?.closest('input, select, textarea, [contenteditable="true"]') || byId('class-view').hidden) return;
  const delta = { ArrowDown: 1, j: 1, ArrowLeft: 1, ArrowUp: -1, k: -1, ArrowRight: -1 }[event.key] as 1 | -1 | undefined;
  if (delta === undefined) return;
  event.preventDefault();
  step(delta);
}

async function load(sura: number, teacher: boolean): Promise<void> {
  if (loading === sura) return;
  loading = sura;
  built = null;
  highlighted = null;
  byId('ayat').replaceChildren();
  byId('text-retry').hidden = true;
  status(t.loadingText);
  try {
    const text = await suraText(sura);
    if (latest?.sura !== sura) return;
    build(text, teacher);
    built = { sura, teacher };
    status('');
    void showBismillah(sura);
    highlight(latest, true);
    // The Arabic font is fetched once its text is laid out; its glyphs change every line's height.
    if (document.fonts.status === 'loading') {
      void document.fonts.ready.then(() => {
        const item = built?.sura === sura ? currentItem() : null;
        if (item) revealInPane(item, 'auto', false);
      });
    }
  } catch {
    if (latest?.sura !== sura) return;
    status(t.textFailed);
    byId('text-retry').hidden = false;
  } finally {
    if (loading === sura) loading = null;
  }
}

function build(text: SuraText, teacher: boolean): void {
  const items = text.ayat.map((words, index) => {
    const aya = index + 1;
    const label = element('span', { className: 'visually-hidden', textContent: `${t.ayaLabel(aya)} ` });
    label.lang = uiLanguage;
    label.dir = 'ltr';
    const content: (Node | string)[] = [
      element('span', { className: 'aya-text', textContent: words }),
      '\u00A0',
      element('span', { className: 'aya-mark', textContent: ayaMark(aya) }),
    ];
    const item = element('li', { className: 'aya' });
    item.dataset.aya = String(aya);
    if (teacher) {
      const button = element('span', { className: 'aya-button', tabIndex: -1 }, content);
      button.setAttribute('role', 'button');
      button.setAttribute('aria-label', t.ayaLabel(aya));
      button.dataset.aya = String(aya);
      item.append(button, ' ');
    } else {
      item.tabIndex = -1;
      item.append(label, ...content, ' ');
    }
    return item;
  });
  byId('ayat').replaceChildren(...items);
  scrollPaneToTop();
}

/** Marks the room's aya (and only it) current, keeps it in view, and tells a student's screen reader. */
function highlight(state: RoomSnapshot, fresh: boolean): void {
  const teacher = isMaster(state);
  if (state.aya === highlighted && !fresh) return;
  const list = byId('ayat');
  const focused = list.contains(document.activeElement);
  const old = highlighted === null ? null : list.querySelector<HTMLElement>(`li[data-aya="${highlighted}"]`);
  old?.removeAttribute('aria-current');
  setTabStop(old, teacher, false);
  highlighted = state.aya;
  const item = state.aya === null ? null : list.querySelector<HTMLElement>(`li[data-aya="${state.aya}"]`);
  // The teacher's tab stop is the current aya, or the first before any.
  setTabStop(item ?? (teacher ? list.querySelector<HTMLElement>('li[data-aya="1"]') : null), teacher, true);
  if (!item) return;
  item.setAttribute('aria-current', 'true');
  // The teacher's pane moves only when the aya is not already shown well (it may be the one just clicked).
  revealInPane(item, fresh ? 'auto' : 'smooth', teacher && !fresh);
  if (teacher) {
    if (focused) focusable(item, true)?.focus({ preventScroll: true });
  } else {
    if (state.sura !== null) announce(t.nowAt(suraTitle(state.sura, t.suraName), state.aya ?? 0));
  }
}

const currentItem = (): HTMLElement | null =>
  highlighted === null ? null : byId('ayat').querySelector<HTMLElement>(`li[data-aya="${highlighted}"]`);

function focusable(item: HTMLElement | null, teacher: boolean): HTMLElement | null {
  return teacher ? (item?.querySelector<HTMLElement>('[role="button"]') ?? null) : item;
}

function setTabStop(item: HTMLElement | null, teacher: boolean, on: boolean): void {
  const target = focusable(item, teacher);
  if (target) target.tabIndex = on ? 0 : -1;
}

function renderHeading(sura: number | null): void {
  const info = sura === null ? undefined : suraInfo(sura);
  byId('sura-title').textContent =
    sura === null ? '' : info ? t.suraHeading(sura, info.transliteration, info.translation) : t.suraName(sura);
  byId('sura-arabic').textContent = info?.name ?? '';
  if (sura === null) byId('bismillah').hidden = true;
}

/** Every sura but al-Fatiha (whose first aya it is) and at-Tawba opens with the basmala, taken from al-Fatiha's text. */
async function showBismillah(sura: number): Promise<void> {
  const bismillah = byId('bismillah');
  if (sura === 1 || sura === 9) {
    bismillah.hidden = true;
    return;
  }
  try {
    const fatiha = await suraText(1);
    if (latest?.sura !== sura) return;
    bismillah.textContent = fatiha.ayat[0] ?? '';
    bismillah.hidden = false;
  } catch {
    bismillah.hidden = true;
  }
}

function status(text: string): void {
  byId('text-status').textContent = text;
}
