/*
 * `npm run bench:page`: how fast the class app's first screens come up on a phone. Headless Chromium
 * (the Debian package) on a 375×667 touch screen, throttled through the DevTools protocol to a
 * mid-range phone on a slow mobile link (CPU 4× slower, 150 ms round trip, 1.6 Mbit/s down, 750 kbit/s
 * up), with a cold cache every run, against a real server (the build in dist/public) on loopback.
 *
 * Two screens, timed from the navigation's start:
 *   join form   the join form can be used (its button is on screen): what a student first sees
 *   class       a student's join link opens straight into the class: the teacher's aya of Al-Baqarah
 *               (the longest sura, 286 ayat) highlighted, drawn in Scheherazade New
 * and the bytes on the wire (encoded, headers included) and requests each took.
 *
 * Then how fast the class follows the teacher: the teacher's page (unthrottled) taps ayat one after
 * another, and each of three student pages (the throttled phone among them) records when the aya
 * shows highlighted; the figure is tap to highlight, per student page (both clocks are this machine's).
 *
 * Each screen figure is measured twice in the same invocation, alternating: as browsers fetch it
 * (brotli, from the .br files the build leaves beside each text file) and with
 * `Accept-Encoding: identity` (every byte as it is): the ratio is what precompression buys.
 *
 * Options: --runs N (default 5, per variant), --cpu-slowdown X (4), --rtt-ms (150), --down-kbps (1600),
 * --taps N (default 60).
 */
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { CHROMIUM, CHROMIUM_ARGS } from '../scripts/chromium.mjs';
import { AdminClient, RoomClient } from '../sdk/src/index.js';
import { loadConfig } from '../src/config.js';
import { createServer } from '../src/server.js';

interface Options {
  runs: number;
  cpuSlowdown: number;
  rttMs: number;
  downKbps: number;
  upKbps: number;
  taps: number;
}

interface Sample {
  ms: number;
  bytes: number;
  requests: number;
}

type Variant = 'brotli' | 'identity';

const API_KEY = 'bench-page-api-key-0123456789';
const ROOM = 'halaqa-1';
const WAIT_MS = 60_000;

function parseOptions(argv: string[]): Options {
  const value = (name: string, fallback: number): number => {
    const at = argv.indexOf(`--${name}`);
    if (at < 0) return fallback;
    const parsed = Number(argv[at + 1]);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} needs a positive number`);
    return parsed;
  };
  return {
    runs: Math.round(value('runs', 5)),
    cpuSlowdown: value('cpu-slowdown', 4),
    rttMs: value('rtt-ms', 150),
    downKbps: value('down-kbps', 1600),
    upKbps: value('up-kbps', 750),
    taps: Math.round(value('taps', 60)),
  };
}

/** A fresh context (cold cache, no storage) on a throttled phone, counting the bytes it receives. */
async function phonePage(browser: Browser, options: Options, variant: Variant) {
  const context: BrowserContext = await browser.newContext({
    viewport: { width: 375, height: 667 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
  });
  const page: Page = await context.newPage();
  const cdp: CDPSession = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
  await cdp.send('Network.emulateNetworkConditions', {
    offline: false,
    latency: options.rttMs,
    downloadThroughput: (options.downKbps * 1000) / 8,
    uploadThroughput: (options.upKbps * 1000) / 8,
  });
  await cdp.send('Emulation.setCPUThrottlingRate', { rate: options.cpuSlowdown });
  if (variant === 'identity') await cdp.send('Network.setExtraHTTPHeaders', { headers: { 'Accept-Encoding': 'identity' } });
  const traffic = { bytes: 0, requests: 0 };
  cdp.on('Network.loadingFinished', (event) => {
    traffic.bytes += event.encodedDataLength;
    traffic.requests++;
  });
  return { context, page, traffic };
}

/** Milliseconds from the navigation's start to now, in the page's own clock. */
const sinceNavigation = (page: Page): Promise<number> => page.evaluate(() => performance.now());

async function joinFormScreen(browser: Browser, base: string, options: Options, variant: Variant): Promise<Sample> {
  const { context, page, traffic } = await phonePage(browser, options, variant);
  try {
    await page.goto(`${base}/`, { waitUntil: 'commit' });
    await page.locator('#join').waitFor({ state: 'visible', timeout: WAIT_MS });
    return { ms: await sinceNavigation(page), ...traffic };
  } finally {
    await context.close();
  }
}

async function classScreen(browser: Browser, base: string, token: string, options: Options, variant: Variant): Promise<Sample> {
  const { context, page, traffic } = await phonePage(browser, options, variant);
  try {
    await page.goto(`${base}/?token=${encodeURIComponent(token)}`, { waitUntil: 'commit' });
    await page.locator('[data-aya="255"][aria-current="true"]').waitFor({ state: 'attached', timeout: WAIT_MS });
    await page.waitForFunction(() => document.fonts.check('1em "Scheherazade New"', 'بسم'), null, { timeout: WAIT_MS });
    await page.evaluate(() => document.fonts.ready);
    return { ms: await sinceNavigation(page), ...traffic };
  } finally {
    await context.close();
  }
}

/** A page on `link` whose highlighted ayat are timestamped (wall clock, ms) as they appear. */
async function watchingStudent(page: Page, link: string): Promise<void> {
  await page.goto(link);
  await page.locator('#ayat li[data-aya]').first().waitFor({ timeout: WAIT_MS });
  await page.evaluate(() => {
    const seen: Record<string, number> = {};
    (window as unknown as { seen: Record<string, number> }).seen = seen;
    new MutationObserver((records) => {
      const now = performance.timeOrigin + performance.now();
      for (const record of records) {
        const item = record.target as HTMLElement;
        if (item.getAttribute('aria-current') === 'true' && item.dataset.aya && !(item.dataset.aya in seen)) seen[item.dataset.aya] = now;
      }
    }).observe(document.getElementById('ayat') as Node, { subtree: true, attributes: true, attributeFilter: ['aria-current'] });
  });
}

/** The teacher taps ayat 1..taps of the sura shown; tap-to-highlight times on each student page, in ms. */
async function follow(teacher: Page, students: Page[], taps: number): Promise<number[][]> {
  await teacher.evaluate(() => {
    const tapped: Record<string, number> = {};
    (window as unknown as { tapped: Record<string, number> }).tapped = tapped;
    document.addEventListener(
      'pointerdown',
      (event) => {
        const aya = (event.target as Element).closest<HTMLElement>('[data-aya]')?.dataset.aya;
        if (aya && !(aya in tapped)) tapped[aya] = performance.timeOrigin + performance.now();
      },
      { capture: true },
    );
  });
  const delays: number[][] = students.map(() => []);
  for (let aya = 1; aya <= taps; aya++) {
    await teacher.locator(`#ayat li[data-aya="${aya}"]`).click();
    const tappedAt = await teacher.evaluate((n) => (window as unknown as { tapped: Record<string, number> }).tapped[n], aya);
    for (const [i, student] of students.entries()) {
      const handle = await student.waitForFunction((n) => (window as unknown as { seen: Record<string, number> }).seen[n], aya, {
        timeout: WAIT_MS,
        polling: 'raf',
      });
      const seenAt = (await handle.jsonValue()) as number;
      if (tappedAt === undefined) throw new Error(`the tap on aya ${aya} was not seen by the teacher's page`);
      delays[i]?.push(seenAt - tappedAt);
    }
  }
  return delays;
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function report(name: string, samples: Record<Variant, Sample[]>): void {
  const figure = (variant: Variant) => ({
    ms: median(samples[variant].map((sample) => sample.ms)),
    kb: median(samples[variant].map((sample) => sample.bytes)) / 1024,
    requests: median(samples[variant].map((sample) => sample.requests)),
  });
  const brotli = figure('brotli');
  const identity = figure('identity');
  console.log(
    `${name.padEnd(10)} | ${brotli.ms.toFixed(0).padStart(6)} ms ${brotli.kb.toFixed(1).padStart(7)} KB ${String(brotli.requests).padStart(3)} req` +
      ` | ${identity.ms.toFixed(0).padStart(6)} ms ${identity.kb.toFixed(1).padStart(7)} KB ${String(identity.requests).padStart(3)} req` +
      ` | ${(brotli.ms / identity.ms).toFixed(2)}× time, ${(brotli.kb / identity.kb).toFixed(2)}× bytes`,
  );
  for (const variant of ['brotli', 'identity'] as const)
    console.log(`  ${variant}: ${samples[variant].map((sample) => `${sample.ms.toFixed(0)} ms`).join(', ')}`);
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const server = await createServer(
    loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      MEDIA_PORT: '0',
      MEDIA_BIND_ADDRESS: '127.0.0.1',
      STUN_ADDRESS: 'stun:127.0.0.1:3478',
      LOG_LEVEL: 'warn',
      API_KEY,
      JOIN_TOKEN_SECRET: 'bench-page-join-token-secret-0123456789abcdef',
      // Every run joins anew from one address.
      HTTP_RATE_LIMIT_PER_MIN: '100000',
    }),
  );
  const base = await server.listen();
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const admin = new AdminClient({ url: base, apiKey: API_KEY });
  let teacher: RoomClient | undefined;
  try {
    await admin.createRoom(ROOM, 'teacher-1');
    const teacherToken = await admin.mintJoinToken({ room: ROOM, uuid: 'teacher-1', name: 'Ustadh Ahmad' });
    teacher = new RoomClient({ url: base, room: ROOM, uuid: 'teacher-1', token: teacherToken.token, WebSocket });
    await teacher.connect();
    await teacher.moveSura(2);
    await teacher.clickAya(255);
    console.log(
      `bench:page: phone 375×667, CPU ${options.cpuSlowdown}× slower, ${options.rttMs} ms round trip, ` +
        `${options.downKbps} kbit/s down, ${options.upKbps} kbit/s up; cold cache; ${options.runs} runs per variant, alternating; medians`,
    );
    const joinForm: Record<Variant, Sample[]> = { brotli: [], identity: [] };
    const classView: Record<Variant, Sample[]> = { brotli: [], identity: [] };
    for (let run = 0; run < options.runs; run++) {
      const order: Variant[] = run % 2 === 0 ? ['brotli', 'identity'] : ['identity', 'brotli'];
      for (const variant of order) {
        joinForm[variant].push(await joinFormScreen(browser, base, options, variant));
        const uuid = `student-${variant}-${run}`;
        const { token } = await admin.mintJoinToken({ room: ROOM, uuid, name: `Student ${run}` });
        classView[variant].push(await classScreen(browser, base, token, options, variant));
      }
    }
    console.log(`screen     | as browsers fetch it (br)       | Accept-Encoding: identity       | br / identity`);
    report('join form', joinForm);
    report('class', classView);

    // The class follows the teacher: one teacher page and three students, one of them the throttled phone.
    const pages: BrowserContext[] = [];
    const link = async (uuid: string) =>
      `${base}/?token=${encodeURIComponent((await admin.mintJoinToken({ room: ROOM, uuid, name: uuid })).token)}`;
    try {
      teacher.close();
      teacher = undefined;
      const teacherContext = await browser.newContext({ viewport: { width: 1280, height: 860 } });
      pages.push(teacherContext);
      const teacherPage = await teacherContext.newPage();
      await teacherPage.goto(await link('teacher-1'));
      await teacherPage.locator('#ayat li[data-aya="255"][aria-current="true"]').waitFor({ timeout: WAIT_MS });
      const phone = await phonePage(browser, options, 'brotli');
      pages.push(phone.context);
      const students = [phone.page];
      for (let desk = 0; desk < 2; desk++) {
        const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
        pages.push(context);
        students.push(await context.newPage());
      }
      for (const [i, page] of students.entries()) await watchingStudent(page, await link(`watcher-${i}`));
      const delays = await follow(teacherPage, students, options.taps);
      console.log(`\nfollow: the teacher taps ${options.taps} ayat; tap to highlight on each student page`);
      for (const [i, values] of delays.entries())
        console.log(
          `  ${i === 0 ? 'phone (throttled)' : `desktop ${i}`.padEnd(17)} | p50 ${percentile(values, 50).toFixed(1)} ms` +
            ` | p95 ${percentile(values, 95).toFixed(1)} ms | max ${Math.max(...values).toFixed(1)} ms`,
        );
    } finally {
      await Promise.all(pages.map((context) => context.close()));
    }
  } finally {
    teacher?.close();
    await browser.close();
    await server.close();
  }
}

await main();
