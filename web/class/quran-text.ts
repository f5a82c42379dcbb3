/**
 * The Quran's text, as the build writes it into quran/ beside the page (scripts/build-quran.mjs):
 * the index of the 114 suras (small, loaded at start) and one file per sura, fetched the first time
 * that sura is shown and kept for the page's life.
 */

export interface SuraInfo {
  id: number;
  /** The sura's Arabic name. */
  name: string;
  transliteration: string;
  translation: string;
  type: 'meccan' | 'medinan';
  ayat: number;
}

export interface SuraText {
  id: number;
  /** Aya n is ayat[n - 1]. */
  ayat: string[];
}

const BASE = 'quran/';

let index: Promise<SuraInfo[]> | undefined;
let loaded: SuraInfo[] | null = null;
const texts = new Map<number, Promise<SuraText>>();

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(BASE + path);
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** The 114 suras (a failed load is tried again on the next call). */
export function suraIndex(): Promise<SuraInfo[]> {
  index ??= getJson<SuraInfo[]>('suras.json').then(
    (suras) => {
      loaded = suras;
      return suras;
    },
    (error: unknown) => {
      index = undefined;
      throw error;
    },
  );
  return index;
}

/** The text of sura `id`, fetched once (a failed load is tried again on the next call). */
export function suraText(id: number): Promise<SuraText> {
  let text = texts.get(id);
  if (!text) {
    text = getJson<SuraText>(`sura-${id}.json`).catch((error: unknown) => {
      texts.delete(id);
      throw error;
    });
    texts.set(id, text);
  }
  return text;
}

/** The index, once suraIndex() has loaded it. */
export const loadedSuras = (): readonly SuraInfo[] | null => loaded;

/** Sura `id`'s entry in the index, once loaded. */
export const suraInfo = (id: number): SuraInfo | undefined =>
  loaded?.[id - 1]?.id === id ? loaded[id - 1] : loaded?.find((sura) => sura.id === id);

/** The sura's name for sentences: its transliteration, or "Sura n" before the index is here. */
export const suraTitle = (id: number, fallback: (id: number) => string): string => suraInfo(id)?.transliteration ?? fallback(id);
