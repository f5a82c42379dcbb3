// `npm run screenshots`: the pictures in docs/screenshots/, made from a real class on this machine.
// It starts a closed server (the build in dist/, state in memory) on loopback, creates a room, mints
// join tokens as a school's backend would, and opens headless Chromium (the Debian package) on the
// links: the teacher on a desktop, a student on a 375×667 phone, two more students, and an operator
// signed in to the dashboard. The teacher moves to Al-Baqarah and points at aya 255; two students ask
// for a correction; the teacher mutes one. Then it takes three screenshots:
//   docs/screenshots/teacher.png        the teacher's view (1280×860)
//   docs/screenshots/student-phone.png  a student's view on a phone (375×667 at 2×)
//   docs/screenshots/dashboard.png      the operator dashboard, the room opened (1280×900)
// Options: --out <dir> (default docs/screenshots).
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config.js';
import { createServer } from '../dist/server.js';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const at = process.argv.indexOf('--out');
const outdir = at >= 0 && process.argv[at + 1] ? resolve(process.argv[at + 1]) : join(root, 'docs', 'screenshots');
const WAIT_MS = 20_000;
const API_KEY = 'screenshots-api-key-0123456789';
const ROOM = 'halaqa-1';
const TEACHER = { uuid: 'teacher-1', name: 'Ustadh Ahmad' };
const STUDENTS = [
  { uuid: 'aisha', name: 'Aisha' },
  { uuid: 'yusuf', name: 'Yusuf' },
  { uuid: 'maryam', name: 'Maryam' },
];

const config = loadConfig({
  HOST: '127.0.0.1',
  PORT: '0',
  MEDIA_PORT: '0',
  MEDIA_BIND_ADDRESS: '127.0.0.1',
  STUN_ADDRESS: 'stun:127.0.0.1:3478',
  LOG_LEVEL: 'warn',
  API_KEY,
  JOIN_TOKEN_SECRET: 'screenshots-join-token-secret-0123456789abcdef',
});
const server = await createServer(config);
const base = await server.listen();
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

/** One call of the HTTP API with the API key, as a school's backend makes it. */
async function api(path, body) {
  const response = await fetch(`${base}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const envelope = await response.json();
  if (!envelope.success) throw new Error(`${path}: ${envelope.error.code} ${envelope.error.message}`);
  return envelope.data;
}

/** A page in its own browser context (its own storage, so its own uuid), on the member's join link. */
async function joinByLink(member, contextOptions) {
  const { token } = await api('/api/token', { room: ROOM, uuid: member.uuid, name: member.name });
  const context = await browser.newContext(contextOptions);
  const page = await context.newPage();
  await page.goto(`${base}/?token=${encodeURIComponent(token)}`);
  await page.waitForFunction(() => window.wigglypuff?.client?.connected === true, null, { timeout: WAIT_MS });
  return page;
}

try {
  await mkdir(outdir, { recursive: true });
  await api('/api/room/create', { name: ROOM, master_uuid: TEACHER.uuid });
  const teacher = await joinByLink(TEACHER, { viewport: { width: 1280, height: 860 } });
  const phone = await joinByLink(STUDENTS[0], {
    viewport: { width: 375, height: 667 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const others = [];
  for (const student of STUDENTS.slice(1)) others.push(await joinByLink(student, { viewport: { width: 800, height: 600 } }));

  await teacher.evaluate(async () => {
    await window.wigglypuff.client.moveSura(2);
    await window.wigglypuff.client.clickAya(255);
  });
  for (const page of others) await page.evaluate(() => window.wigglypuff.client.offerCorrection());
  await teacher.evaluate(() => window.wigglypuff.client.muteUser('maryam', true));
  for (const page of [teacher, phone]) {
    await page.locator('[data-aya="255"][aria-current="true"]').waitFor({ timeout: WAIT_MS });
    await page.evaluate(() => document.fonts.ready);
  }
  // The text pane's scroll to the teacher's aya, settled (the same position two frames apart) before the picture.
  await phone.waitForFunction(
    async () => {
      const frame = () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
      const pane = document.getElementById('text');
      if (!pane) return false;
      const before = pane.scrollTop;
      await frame();
      const box = document.querySelector('[data-aya="255"]')?.getBoundingClientRect();
      const view = pane.getBoundingClientRect();
      return box !== undefined && pane.scrollTop === before && box.bottom > view.top && box.top < view.bottom;
    },
    null,
    { timeout: WAIT_MS, polling: 200 },
  );
  // Each student's signal, as the server measures it every 5 s, on the teacher's class list.
  for (const student of STUDENTS)
    await teacher
      .locator(`#members li[data-uuid="${student.uuid}"] .member-quality[data-level]:not([hidden])`)
      .waitFor({ timeout: WAIT_MS });
  await teacher.screenshot({ path: join(outdir, 'teacher.png') });
  await phone.screenshot({ path: join(outdir, 'student-phone.png') });

  const operator = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
  await operator.goto(`${base}/admin/`);
  await operator.getByLabel('API key').fill(API_KEY);
  await operator.getByRole('button', { name: 'Sign in' }).click();
  await operator.locator('#dashboard').waitFor({ timeout: WAIT_MS });
  await operator.getByRole('button', { name: `Open room ${ROOM}` }).click();
  await operator.locator('#tail-status', { hasText: 'Watching 1 room.' }).waitFor({ timeout: WAIT_MS });
  // A few events for the live tail: the teacher moves on.
  await teacher.evaluate(async () => {
    await window.wigglypuff.client.clickAya(256);
    await window.wigglypuff.client.clickAya(257);
  });
  await operator.locator('#tail-body tr', { hasText: 'ClickAya 257' }).waitFor({ timeout: WAIT_MS });
  await operator.screenshot({ path: join(outdir, 'dashboard.png'), fullPage: true });
  console.log(`screenshots: teacher.png, student-phone.png and dashboard.png in ${outdir}`);
} finally {
  await browser.close();
  await server.close();
}
