/**
 * The Quran text the class app shows (scripts/build-quran.mjs, from quran-json) and the font it is
 * drawn with (Scheherazade New from @fontsource, as web/class/style.css imports it): the text agrees
 * with the aya counts the server enforces, and the font draws every character the text uses.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import * as fontkit from 'fontkit';
import { buildQuran } from '../../scripts/build-quran.mjs';
import { ayatIn, SURA_COUNT } from '../../src/protocol/quran.js';

interface SuraEntry {
  id: number;
  name: string;
  transliteration: string;
  translation: string;
  type: string;
  ayat: number;
}

interface SuraText {
  id: number;
  ayat: string[];
}

/** The stylesheet web/class/style.css imports: one @font-face, the arabic subset at weight 400. */
const FONT_CSS = '@fontsource/scheherazade-new/arabic-400.css';
/** Characters the app writes beside the text: U+06DD ARABIC END OF AYAH and the Arabic-Indic digits of its number. */
const APP_CHARACTERS = [0x06dd, ...Array.from({ length: 10 }, (_, digit) => 0x0660 + digit)];
/**
 * Characters of the text the font has no glyph for, which the browser draws from another font
 * without harm: whitespace and invisible format characters only (checked below), each one present
 * in the text (so this list cannot outlive the data).
 */
const NOT_IN_FONT = new Map([[0x2009, 'THIN SPACE (once, in 2:72, inside the word فَٱدَّـٰرَ ٰٔتُمۡ)']]);
const FATHA_WITH_TWO_DOTS = 0x065e;
/** Ayat of quran-json 3.1.2 that use U+065E: a new text that changes it shows here first. */
const AYAT_WITH_FATHA_WITH_TWO_DOTS = 1241;

let outdir = '';
let suras: SuraEntry[] = [];
let texts: SuraText[] = [];

before(async () => {
  outdir = mkdtempSync(join(tmpdir(), 'wigglypuff-quran-'));
  await buildQuran(outdir);
  const readJson = (name: string): unknown => JSON.parse(readFileSync(join(outdir, name), 'utf8'));
  suras = readJson('suras.json') as SuraEntry[];
  texts = suras.map((sura) => readJson(`sura-${sura.id}.json`) as SuraText);
});

after(() => {
  rmSync(outdir, { recursive: true, force: true });
});

const hex = (codePoint: number) => `U+${codePoint.toString(16).toUpperCase().padStart(4, '0')}`;

/** Every code point of the ayat and the sura names, with how often each occurs. */
function codePointsOfText(): Map<number, number> {
  const counts = new Map<number, number>();
  const strings = [...suras.map((sura) => sura.name), ...texts.flatMap((text) => text.ayat)];
  for (const string of strings) {
    for (const character of string) {
      const codePoint = character.codePointAt(0)!;
      counts.set(codePoint, (counts.get(codePoint) ?? 0) + 1);
    }
  }
  return counts;
}

/** The font files and unicode-range of the one @font-face in FONT_CSS. */
function fontFace(): { files: string[]; ranges: [number, number][] } {
  const cssPath = createRequire(import.meta.url).resolve(FONT_CSS);
  const css = readFileSync(cssPath, 'utf8');
  const faces = css.match(/@font-face\s*\{[^}]*\}/g) ?? [];
  assert.equal(faces.length, 1, `${FONT_CSS} has one @font-face`);
  const face = faces[0]!;
  const files = [...face.matchAll(/url\(([^)]+)\)/g)].map((match) => join(dirname(cssPath), match[1]!.replace(/^['"]|['"]$/g, '')));
  const range = /unicode-range:\s*([^;}]+)/.exec(face);
  // Without a unicode-range descriptor, a face serves every code point (the CSS initial value).
  const ranges = (range ? range[1]!.split(',') : ['U+0-10FFFF']).map((part): [number, number] => {
    const match = /^U\+([0-9A-F?]+)(?:-([0-9A-F]+))?$/i.exec(part.trim());
    assert.ok(match, `unicode-range part ${part}`);
    const [low, high] = match[1]!.includes('?')
      ? [match[1]!.replace(/\?/g, '0'), match[1]!.replace(/\?/g, 'F')]
      : [match[1]!, match[2] ?? match[1]!];
    return [Number.parseInt(low, 16), Number.parseInt(high, 16)];
  });
  return { files, ranges };
}

test('the text has the 114 suwar and, in each, the ayat the server counts (src/protocol/quran.ts)', () => {
  assert.equal(suras.length, SURA_COUNT);
  let total = 0;
  suras.forEach((sura, index) => {
    assert.equal(sura.id, index + 1);
    assert.equal(sura.ayat, ayatIn(sura.id), `sura ${sura.id} in suras.json`);
    const text = texts[index]!;
    assert.equal(text.id, sura.id);
    assert.equal(text.ayat.length, ayatIn(sura.id), `sura ${sura.id} in sura-${sura.id}.json`);
    for (const aya of text.ayat) assert.ok(typeof aya === 'string' && aya.trim() !== '', `an aya of sura ${sura.id} is empty`);
    for (const name of [sura.name, sura.transliteration, sura.translation]) assert.ok(name.trim() !== '', `sura ${sura.id} has a name`);
    assert.match(sura.type, /^(meccan|medinan)$/);
    total += text.ayat.length;
  });
  assert.equal(total, 6236);
  assert.deepEqual(suras[0], { id: 1, name: 'الفاتحة', transliteration: 'Al-Fatihah', translation: 'The Opener', type: 'meccan', ayat: 7 });
  assert.ok(texts[0]!.ayat[0]!.startsWith('بِسۡمِ'), texts[0]!.ayat[0]);
  assert.equal(texts[1]!.ayat[0], 'الٓمٓ');
});

test('the text carries its attribution and licence (CC BY-SA 4.0)', () => {
  const attribution = readFileSync(join(outdir, 'ATTRIBUTION.txt'), 'utf8');
  for (const needed of [
    'quran-json',
    'https://quranenc.com/',
    'CC BY-SA 4.0',
    'https://creativecommons.org/licenses/by-sa/4.0/',
    'adaptation',
  ]) {
    assert.ok(attribution.includes(needed), `ATTRIBUTION.txt names ${needed}`);
  }
});

test(`U+065E ARABIC FATHA WITH TWO DOTS is in ${AYAT_WITH_FATHA_WITH_TWO_DOTS} ayat (a font must have it)`, () => {
  const ayat = texts.flatMap((text) => text.ayat).filter((aya) => aya.includes(String.fromCodePoint(FATHA_WITH_TWO_DOTS)));
  assert.equal(ayat.length, AYAT_WITH_FATHA_WITH_TWO_DOTS);
});

test('Scheherazade New (the face the app imports) has a glyph for every character of the text, in its unicode-range', () => {
  const used = codePointsOfText();
  const needed = new Set([...used.keys(), ...APP_CHARACTERS]);
  const { files, ranges } = fontFace();
  assert.deepEqual(
    files.map((file) => file.replace(/.*\./, '')),
    ['woff2', 'woff'],
  );
  for (const [codePoint, why] of NOT_IN_FONT) {
    assert.match(
      String.fromCodePoint(codePoint),
      /^[\p{White_Space}\p{Cf}]$/u,
      `${hex(codePoint)} ${why} is whitespace or a format character`,
    );
    assert.ok(used.has(codePoint), `${hex(codePoint)} ${why} still occurs in the text`);
  }
  for (const file of files) {
    const font = fontkit.openSync(file);
    assert.equal(font.familyName, 'Scheherazade New');
    const missing = [...needed].filter((codePoint) => !NOT_IN_FONT.has(codePoint) && !font.hasGlyphForCodePoint(codePoint));
    assert.deepEqual(missing.map(hex), [], `${file} lacks glyphs`);
    for (const codePoint of NOT_IN_FONT.keys())
      assert.equal(font.hasGlyphForCodePoint(codePoint), false, `${hex(codePoint)} is in ${file} now`);
  }
  const outOfRange = [...needed].filter(
    (codePoint) => !NOT_IN_FONT.has(codePoint) && !ranges.some(([low, high]) => low <= codePoint && codePoint <= high),
  );
  assert.deepEqual(outOfRange.map(hex), [], `outside the unicode-range of ${FONT_CSS}`);
});
