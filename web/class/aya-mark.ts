/**
 * The aya's number as the mushaf writes it: U+06DD ARABIC END OF AYAH followed by the number in
 * Arabic-Indic digits (U+0660–U+0669). Scheherazade New draws the digits inside the sign: the mark
 * is a prepended concatenation mark, which shapes around the digits that follow it.
 */

const ARABIC_INDIC_ZERO = 0x0660;
const END_OF_AYAH = '\u06DD';

export const arabicDigits = (n: number): string =>
  String(n).replace(/[0-9]/g, (digit) => String.fromCharCode(ARABIC_INDIC_ZERO + Number(digit)));

export const ayaMark = (n: number): string => `${END_OF_AYAH}${arabicDigits(n)}`;
