// Builds the class page (web/class/) into dist/public/ (or --out <dir>): its TypeScript and the SDK
// it imports (sdk/src) bundled by esbuild into one ES module, app.js, beside index.html and style.css.
// The server serves that folder at / (src/transport/http/page-routes.ts). `npm run build` runs it.
import { copyFile, mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'web', 'class');
const STATIC_FILES = ['index.html', 'style.css'];

/** Builds the page into `outdir` (default dist/public). */
export async function buildWeb(outdir = join(root, 'dist', 'public')) {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(source, 'main.ts')],
    outfile: join(outdir, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  await Promise.all(STATIC_FILES.map((file) => copyFile(join(source, file), join(outdir, file))));
  return outdir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf('--out');
  const outdir = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : undefined;
  console.log(`build-web: the class page in ${await buildWeb(outdir)}`);
}
