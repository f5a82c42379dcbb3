/** How the dashboard writes durations, sizes, loads, times and passages. */
import { strings } from './strings.js';

/** `12 s`, `4 min 3 s`, `2 h 5 min`, `3 d 4 h`: the two largest units. */
export function duration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const units: [number, string][] = [
    [Math.floor(s / 86_400), 'd'],
    [Math.floor(s / 3600) % 24, 'h'],
    [Math.floor(s / 60) % 60, 'min'],
    [s % 60, 's'],
  ];
  const first = units.findIndex(([value]) => value > 0);
  if (first < 0) return '0 s';
  return units
    .slice(first, first + 2)
    .filter(([value]) => value > 0)
    .map(([value, unit]) => `${value} ${unit}`)
    .join(' ');
}

/** How long ago an ISO time was, as a duration; `–` when unknown. */
export function age(iso: string | null, now = Date.now()): string {
  if (iso === null) return strings.none;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? strings.none : duration((now - at) / 1000);
}

/** Bytes as mebibytes: `123.4 MB`. */
export const megabytes = (bytes: number): string => `${(bytes / 1_048_576).toFixed(1)} MB`;

/** A fraction of a core as a percentage: `12.5 %` (over 100 % when a node uses more than one core). */
export const percent = (fraction: number): string => `${(fraction * 100).toFixed(1)} %`;

/** `HH:MM:SS` in the browser's time zone. */
export function clock(at: Date): string {
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(at.getHours())}:${pad(at.getMinutes())}:${pad(at.getSeconds())}`;
}

/** A date and time in the browser's locale; `–` when unknown. */
export function dateTime(iso: string | null): string {
  if (iso === null) return strings.none;
  const at = new Date(iso);
  return Number.isNaN(at.getTime()) ? strings.none : at.toLocaleString();
}

/** Sura and aya as `2:255`, the sura alone as `2`, nothing as `–`. */
export function passage(sura: number | null, aya: number | null): string {
  if (sura === null) return strings.none;
  return aya === null ? String(sura) : `${sura}:${aya}`;
}
