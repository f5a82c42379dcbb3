// Builds the Quran text the class app loads lazily (issue 12) from the quran-json package into
// <outdir> (dist/public/quran/ from scripts/build-web.mjs):
//   suras.json     [{"id","name","transliteration","translation","type","ayat"}, ...]  all 114 suwar
//   sura-<n>.json  {"id":n,"ayat":["text of aya 1", ...]}                             n = 1..114
//   ATTRIBUTION.txt  where the text comes from and its licence (CC BY-SA 4.0 asks for it)
// Every count and id is checked as it goes: a malformed or different package fails the build.
// test/unit/quran-text.test.ts checks the counts against src/protocol/quran.ts and the font's glyphs.
// docs/quran-text.md says where things come from and how to swap the text.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SURA_COUNT = 114;
const AYA_COUNT = 6236;

const packageDir = dirname(createRequire(import.meta.url).resolve('quran-json/package.json'));

function fail(message) {
  throw new Error(`build-quran: quran-json ${message}`);
}

function check(condition, message) {
  if (!condition) fail(message);
}

const nonEmptyString = (value) => typeof value === 'string' && value.trim() !== '';

async function readJson(path) {
  return JSON.parse(await readFile(join(packageDir, path), 'utf8'));
}

/** One sura of quran-json (dist/chapters/<n>.json), checked, as its entry in suras.json and its ayat. */
async function readSura(id, englishEntry) {
  const chapter = await readJson(`dist/chapters/${id}.json`);
  check(chapter.id === id, `dist/chapters/${id}.json has id ${chapter.id}`);
  check(nonEmptyString(chapter.name) && nonEmptyString(chapter.transliteration), `sura ${id} has no name or transliteration`);
  check(chapter.type === 'meccan' || chapter.type === 'medinan', `sura ${id} has type ${chapter.type}`);
  check(Array.isArray(chapter.verses), `sura ${id} has no verses`);
  check(
    chapter.verses.length === chapter.total_verses,
    `sura ${id} has ${chapter.verses.length} verses, total_verses ${chapter.total_verses}`,
  );
  const ayat = chapter.verses.map((verse, index) => {
    check(verse.id === index + 1, `sura ${id}: verse ${index + 1} has id ${verse.id}`);
    check(nonEmptyString(verse.text), `sura ${id}: verse ${verse.id} has no text`);
    return verse.text;
  });
  check(englishEntry?.id === id, `dist/chapters/en/index.json: entry ${id} has id ${englishEntry?.id}`);
  check(englishEntry.total_verses === ayat.length, `sura ${id}: the English index says ${englishEntry.total_verses} verses`);
  check(nonEmptyString(englishEntry.translation), `sura ${id} has no English name`);
  const entry = {
    id,
    name: chapter.name,
    transliteration: chapter.transliteration,
    translation: englishEntry.translation,
    type: chapter.type,
    ayat: ayat.length,
  };
  return { entry, ayat };
}

function attribution(version) {
  return `The Quran text in this folder (suras.json and sura-1.json .. sura-114.json)

Source: quran-json ${version} by Risan Bagja Pradana, https://github.com/risan/quran-json
  (npm: https://www.npmjs.com/package/quran-json), which takes the Uthmani text from
  The Noble Qur'an Encyclopedia, https://quranenc.com/
Licence: Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0),
  https://creativecommons.org/licenses/by-sa/4.0/
  (the package's LICENSE.txt and README say CC BY-SA 4.0; its package.json says CC-BY-4.0:
  this adaptation follows the stricter CC BY-SA 4.0.)

Changes: this is an adaptation of quran-json's dist/chapters/ files. The transliteration of the
ayat is dropped, the text is split into one file per sura with the sura list (names, English
names, type, aya count) in suras.json, and the JSON is reshaped. The text of every aya is as
quran-json has it, unchanged.
This adaptation is licensed under the same licence, CC BY-SA 4.0.

Built by Wigglypuff's scripts/build-quran.mjs.
`;
}

/**
 * Writes the Quran text into `outdir` (see the top of this file); throws, naming the mismatch, when
 * quran-json is not the 114 suwar and 6,236 ayat it should be. It takes about 0.1 s, so it always
 * rewrites. Resolves to `outdir`.
 */
export async function buildQuran(outdir) {
  const { version } = await readJson('package.json');
  const english = await readJson('dist/chapters/en/index.json');
  check(
    Array.isArray(english) && english.length === SURA_COUNT,
    `dist/chapters/en/index.json has ${english?.length} suwar, not ${SURA_COUNT}`,
  );
  const suras = await Promise.all(english.map((entry, index) => readSura(index + 1, entry)));
  const total = suras.reduce((sum, sura) => sum + sura.ayat.length, 0);
  check(total === AYA_COUNT, `has ${total} ayat, not ${AYA_COUNT}`);

  await mkdir(outdir, { recursive: true });
  await Promise.all(
    suras.map(({ entry, ayat }) => writeFile(join(outdir, `sura-${entry.id}.json`), JSON.stringify({ id: entry.id, ayat }))),
  );
  await writeFile(join(outdir, 'ATTRIBUTION.txt'), attribution(version));
  await writeFile(join(outdir, 'suras.json'), JSON.stringify(suras.map((sura) => sura.entry)));
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outdir =
    at >= 0 && process.argv[at + 1]
      ? resolve(process.argv[at + 1])
      : resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'public', 'quran');
  console.log(`build-quran: the Quran text in ${await buildQuran(outdir)}`);
}
