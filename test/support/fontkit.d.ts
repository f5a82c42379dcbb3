// fontkit 2 ships no types: the little of it the tests use.
declare module 'fontkit' {
  export interface Font {
    readonly familyName: string;
    readonly characterSet: number[];
    hasGlyphForCodePoint(codePoint: number): boolean;
  }
  export function openSync(path: string): Font;
}
