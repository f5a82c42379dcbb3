// Placeholder, replaced by the Quran data build (issue 12): writes dist/public/quran/.
import { mkdir } from 'node:fs/promises';

export async function buildQuran(outdir) {
  await mkdir(outdir, { recursive: true });
}
