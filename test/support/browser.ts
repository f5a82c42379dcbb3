/**
 * The class app (web/class/, bundled into dist/public/ by scripts/build-web.mjs) in real headless
 * Chromium, for the browser tests: the browser, a page per member (each in its own context, so each
 * has its own localStorage and so its own uuid), joining through the form, and the audio checks
 * (the page's WebRTC stats, and what a Node participant hears). Chromium is the Debian package
 * (/usr/bin/chromium, installed by scripts/install-deps.sh); its fake microphone plays a beep.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/chromium.mjs';
import type { AudioParticipant } from './audio-participant.js';

export { CHROMIUM, CHROMIUM_ARGS };

export const WAIT_MS = 15_000;
/** -40 dBFS: well above the silence (digital zeros, or comfort noise) of an idle stream. */
export const SILENCE_RMS = 0.01;

export interface Stats {
  packetsReceived: number;
  audioLevel: number;
  packetsSent: number;
}

/** A fresh clone has no build output: the server serves the app from dist/public/; build it once per test file. */
export function buildWeb(): void {
  execFileSync(process.execPath, [fileURLToPath(new URL('../../scripts/build-web.mjs', import.meta.url))], { stdio: 'pipe' });
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** A page in a context of its own, recording what it throws (`errors`). */
export interface AppPage {
  page: Page;
  context: BrowserContext;
  errors: string[];
}

export async function openAppPage(browser: Browser, url: string, options: BrowserContextOptions = {}): Promise<AppPage> {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { page, context, errors };
}

export interface JoinForm {
  room: string;
  name: string;
  role: 'teacher' | 'student';
  listenOnly?: boolean;
}

/** Fills the join form and joins. */
export async function fillJoinForm(page: Page, form: JoinForm): Promise<void> {
  await page.getByLabel('Room', { exact: true }).fill(form.room);
  await page.getByLabel('Your name').fill(form.name);
  await page.getByLabel(form.role === 'teacher' ? 'The teacher (opens the room)' : 'A student').check();
  if (form.listenOnly) await page.getByLabel('Listen only (no microphone)').check();
  await page.getByRole('button', { name: 'Join', exact: true }).click();
}

/** Waits until the page's room client and PeerConnection are connected. */
export async function waitForClass(page: Page, timeoutMs = WAIT_MS): Promise<void> {
  await page.locator('#status[data-state="connected"]').waitFor({ timeout: timeoutMs });
  await page.waitForFunction(() => window.wigglypuff.pc?.connectionState === 'connected', null, { timeout: timeoutMs });
}

/** The aya the page highlights (`aria-current`), or null. */
export const currentAya = (page: Page): Promise<number | null> =>
  page.evaluate(() => {
    const item = document.querySelector<HTMLElement>('#ayat li[aria-current="true"]');
    return item ? Number(item.dataset.aya) : null;
  });

/** Waits until the page highlights `aya` (and only it). */
export async function waitForAya(page: Page, aya: number, timeoutMs = WAIT_MS): Promise<void> {
  await page.locator(`#ayat li[data-aya="${aya}"][aria-current="true"]`).waitFor({ timeout: timeoutMs });
  await page.waitForFunction(() => document.querySelectorAll('#ayat li[aria-current="true"]').length === 1, null, {
    timeout: timeoutMs,
  });
}

/** Whether the page's highlighted aya is on screen (some of it: a long aya can be taller than a phone). */
export const ayaInView = (page: Page): Promise<boolean> =>
  page.evaluate(() => {
    const item = document.querySelector('#ayat li[aria-current="true"]');
    if (!item) return false;
    const box = item.getBoundingClientRect();
    return box.bottom > 0 && box.top < window.innerHeight && box.height > 0;
  });

/** Waits until the highlighted aya is on screen (it scrolls there smoothly). */
export async function waitForAyaInView(page: Page, timeoutMs = WAIT_MS): Promise<void> {
  await eventually(
    'the highlighted aya to be on screen',
    () => ayaInView(page),
    () => 'not on screen',
    timeoutMs,
  );
}

export const pageStats = (page: Page): Promise<Stats> => page.evaluate(() => window.wigglypuff.stats());

/** Waits until the page's stats exceed `above` (each given field strictly), polling getStats() in the page. */
export async function waitForPageStats(page: Page, above: Partial<Stats>, timeoutMs = WAIT_MS): Promise<Stats> {
  let last = await pageStats(page);
  const exceeds = () => Object.entries(above).every(([key, min]) => last[key as keyof Stats] > min);
  await eventually(
    `page stats above ${JSON.stringify(above)}`,
    async () => {
      if (exceeds()) return true;
      last = await pageStats(page);
      return exceeds();
    },
    () => `last ${JSON.stringify(last)}`,
    timeoutMs,
  );
  return last;
}

/**
 * The loudest 20 ms of `samples` as RMS (fraction of full scale). Chromium's fake microphone beeps
 * briefly a few times a second, so the loudest stretch, not the average, tells sound from silence.
 */
export function peakRms(samples: Int16Array, sampleRate: number, windowMs = 20): number {
  const window = Math.max(1, Math.round((sampleRate * windowMs) / 1000));
  let peak = 0;
  for (let start = 0; start + window <= samples.length; start += window) {
    let sum = 0;
    for (let i = start; i < start + window; i++) sum += (samples[i]! / 32768) ** 2;
    peak = Math.max(peak, Math.sqrt(sum / window));
  }
  return peak;
}

/** The loudest 20 ms a participant received in the last `windowMs`, over all its receive slots. */
export function receivedPeak(participant: AudioParticipant, windowMs = 1500): number {
  let peak = 0;
  for (let slot = 0; slot < participant.detector.slotCount; slot++) {
    const { samples, sampleRate } = participant.detector.recent(slot, windowMs);
    peak = Math.max(peak, peakRms(samples, sampleRate));
  }
  return peak;
}

/** The loudest 20 ms a participant received in the last `windowMs` on the slot `uuid` is on (0 when on none). */
export function receivedPeakFrom(participant: AudioParticipant, uuid: string, windowMs = 1500): number {
  const slot = participant.slotOf(uuid);
  if (slot === undefined) return 0;
  const { samples, sampleRate } = participant.detector.recent(slot, windowMs);
  return peakRms(samples, sampleRate);
}

/** Polls `check` every 50 ms until it is true; fails with `describe()` after `timeoutMs`. */
export async function eventually(
  what: string,
  check: () => boolean | Promise<boolean>,
  describe: () => string,
  timeoutMs = WAIT_MS,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

declare global {
  interface Window {
    /** The class app's test hooks (web/class/main.ts). */
    wigglypuff: {
      pc: RTCPeerConnection | null;
      /** The page's room client (the SDK's RoomClient), once the page joined. */
      client: {
        clickAya(aya: number): Promise<unknown>;
        simulateDrop(): void;
        uuid: string;
      } | null;
      /** The page's RoomAudio. */
      audio: { microphone: { enabled: boolean; published: boolean } } | null;
      state: {
        seq: number;
        sura: number | null;
        aya: number | null;
        slots: (string | null)[];
        speaking: string[];
        users: string[];
        muted: string[];
        corrections: string[];
        status: string;
      };
      stats(): Promise<Stats>;
    };
  }
}
