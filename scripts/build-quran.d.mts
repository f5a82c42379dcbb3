/** Writes the Quran text (suras.json, sura-<n>.json, ATTRIBUTION.txt) into `outdir`; resolves to `outdir`. */
export function buildQuran(outdir: string): Promise<string>;
