/**
 * How many ayat each sura has, in the Hafs numbering: the server's own table (src/protocol/quran.ts),
 * shipped in the package as it is (sdk/scripts/build.mjs), so a page offers only the ayat the server
 * accepts.
 */
export { AYAT_PER_SURA, ayatIn, SURA_COUNT } from '../../src/protocol/quran.js';
