/**
 * Who this browser is in every class: a uuid made once and kept in localStorage, so a reload (or a
 * return tomorrow) comes back as the same member and resumes its place. `?uuid=` overrides it (tests,
 * or a second identity on one machine). crypto.getRandomValues, not randomUUID: a page on a LAN
 * address over http is no secure context.
 */

const KEY = 'wigglypuff.uuid';
const UUID = /^(?!\.{1,2}$)[A-Za-z0-9._:-]{1,128}$/;

function fresh(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(12));
  return `u-${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

function stored(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null; // storage refused (private mode, a sandbox): a uuid for this page's life
  }
}

export function browserUuid(override: string | null = new URLSearchParams(location.search).get('uuid')): string {
  if (override && UUID.test(override)) return override;
  const known = stored();
  if (known && UUID.test(known)) return known;
  const uuid = fresh();
  try {
    localStorage.setItem(KEY, uuid);
  } catch {
    // kept in memory only
  }
  return uuid;
}
