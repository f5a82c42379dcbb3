// Builds the web apps into dist/public/ (or --out <dir>), each an ES module and a stylesheet bundled
// by esbuild with the SDK they import (sdk/src), beside their index.html:
//   web/class/  -> dist/public/          the class app, served at /
//   web/admin/  -> dist/public/admin/    the operator dashboard, served at /admin/
// and the Quran text the class app loads lazily, one file per sura, into dist/public/quran/
// (scripts/build-quran.mjs). Fonts the stylesheets import (from @fontsource) are emitted beside
// them. The server serves that folder (src/transport/http/page-routes.ts). `npm run build` runs it.
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import { build } from 'esbuild';
import { buildQuran } from './build-quran.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Each app: its source folder under web/ and its folder under the output. */
const APPS = [
  { source: 'class', out: '.' },
  { source: 'admin', out: 'admin' },
];

async function buildApp(source, outdir) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(source, 'main.ts'), style: join(source, 'style.css') },
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome100', 'safari15', 'firefox100'],
    sourcemap: true,
    minify: true,
    legalComments: 'none',
    // Fonts keep a content hash in their name, so a new font never meets an old cache.
    loader: { '.woff2': 'file', '.woff': 'file' },
    assetNames: 'fonts/[name]-[hash]',
    logLevel: 'warning',
  });
  await copyFile(join(source, 'index.html'), join(outdir, 'index.html'));
}

/** The font's licence (OFL 1.1) travels with the font files. */
async function copyFontLicence(outdir) {
  const font = dirname(createRequire(import.meta.url).resolve('@fontsource/scheherazade-new/package.json'));
  await mkdir(join(outdir, 'fonts'), { recursive: true });
  await copyFile(join(font, 'LICENSE'), join(outdir, 'fonts', 'OFL.txt'));
}

/** Text files worth compressing; fonts are compressed already (woff2 is brotli inside). */
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.json', '.txt', '.map']);

/**
 * A .br and a .gz beside every text file, made once here, so the server sends them as they are
 * (@fastify/static's preCompressed) and spends no CPU per request: a phone on a slow link gets the
 * largest sura in about a fifth of its bytes.
 */
async function precompress(dir) {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter(
    (entry) => entry.isFile() && COMPRESSIBLE.has(extname(entry.name)),
  );
  await Promise.all(
    files.map(async (entry) => {
      const path = join(entry.parentPath, entry.name);
      const content = await readFile(path);
      const [br, gz] = await Promise.all([
        promisify(brotliCompress)(content, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }),
        promisify(gzip)(content, { level: 9 }),
      ]);
      await Promise.all([writeFile(`${path}.br`, br), writeFile(`${path}.gz`, gz)]);
    }),
  );
}

/** Builds every app and the Quran text into `outdir` (default dist/public). */
export async function buildWeb(outdir = join(root, 'dist', 'public')) {
  for (const app of APPS) await buildApp(join(root, 'web', app.source), join(outdir, app.out));
  await buildQuran(join(outdir, 'quran'));
  await copyFontLicence(outdir);
  await precompress(outdir);
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outdir = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : undefined;
  console.log(`build-web: the class app, the dashboard and the Quran text in ${await buildWeb(outdir)}`);
}
