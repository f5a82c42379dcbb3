/**
 * The class page (web/class/, built on the SDK and bundled into dist/public/ by
 * scripts/build-web.mjs, which runs once before these tests) in real headless Chromium against a
 * real server, with a real WebRTC peer in Node (AudioParticipant, libwebrtc) on the other side of
 * the SFU. Chromium is the Debian package (/usr/bin/chromium, installed by scripts/install-deps.sh);
 * its fake microphone plays a beep. Everything runs on loopback.
 */

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import type { Socket } from 'node:net';
import { before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { AudioParticipant } from './support/audio-participant.js';
import { request, startServer, type TestServer } from './support/server.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
];
const WAIT_MS = 15_000;
const TEACHER = 'teacher-1';
const STUDENT = 'ali';
/** -40 dBFS: well above the silence (digital zeros, or comfort noise) of an idle stream. */
const SILENCE_RMS = 0.01;

interface Stats {
  packetsReceived: number;
  audioLevel: number;
  packetsSent: number;
}

interface Class {
  server: TestServer;
  page: Page;
  room: string;
  /** Another page of the same browser, joined to the room through its form (closed with the class). */
  openPage(uuid: string, role: 'teacher' | 'student'): Promise<Page>;
  /** A Node WebRTC participant in the room; closed with the class. */
  participant(uuid: string, options?: Parameters<typeof AudioParticipant.join>[3]): Promise<AudioParticipant>;
}

let rooms = 0;

// A fresh clone has no build output: the server serves the page from dist/public/, built here once.
before(() => {
  execFileSync(process.execPath, [fileURLToPath(new URL('../scripts/build-web.mjs', import.meta.url))], { stdio: 'pipe' });
});

/** A server (`env`: its configuration), a browser on the class page joined as the teacher of a fresh room, and cleanup. */
async function withClass(run: (room: Class) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const server = await startServer(env);
  const participants: AudioParticipant[] = [];
  let browser: Browser | undefined;
  try {
    const started = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    browser = started;
    const pageErrors: string[] = [];
    const newPage = async () => {
      const page = await started.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      return page;
    };
    const page = await newPage();
    const room = `class-${++rooms}`;
    await joinPage(page, server, room, TEACHER, 'teacher');
    await run({
      server,
      page,
      room,
      openPage: async (uuid, role) => {
        const other = await newPage();
        await joinPage(other, server, room, uuid, role);
        return other;
      },
      participant: async (uuid, options) => {
        const participant = await AudioParticipant.join(server.ws, room, uuid, options);
        participants.push(participant);
        await participant.waitForConnected(WAIT_MS);
        return participant;
      },
    });
    assert.deepEqual(pageErrors, [], 'the page threw');
  } finally {
    await Promise.allSettled(participants.map((participant) => participant.close()));
    await browser?.close();
    await server.close();
  }
}

/** Fills the join form, joins, and waits until the page's socket and PeerConnection are connected. */
async function joinPage(page: Page, server: TestServer, room: string, uuid: string, role: 'teacher' | 'student') {
  await page.goto(`${server.http}/`);
  await page.getByLabel('Room name').fill(room);
  await page.getByLabel('Your name').fill(uuid);
  await page.getByLabel('Role').selectOption(role);
  await page.getByRole('button', { name: 'Join' }).click();
  await page.locator('#status[data-state="connected"]').waitFor({ timeout: WAIT_MS });
  await page.waitForFunction(() => window.wigglypuff.pc?.connectionState === 'connected', null, { timeout: WAIT_MS });
}

const pageStats = (page: Page): Promise<Stats> => page.evaluate(() => window.wigglypuff.stats());

/** Waits until the page's stats exceed `above` (each given field strictly), polling getStats() in the page. */
async function waitForPageStats(page: Page, above: Partial<Stats>, timeoutMs = WAIT_MS): Promise<Stats> {
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
function peakRms(samples: Int16Array, sampleRate: number, windowMs = 20): number {
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
function receivedPeak(participant: AudioParticipant, windowMs = 1500): number {
  let peak = 0;
  for (let slot = 0; slot < participant.detector.slotCount; slot++) {
    const { samples, sampleRate } = participant.detector.recent(slot, windowMs);
    peak = Math.max(peak, peakRms(samples, sampleRate));
  }
  return peak;
}

/** Polls `check` every 50 ms until it is true; fails with `describe()` after `timeoutMs`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, describe: () => string, timeoutMs = WAIT_MS) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const member = (page: Page, uuid: string) => page.locator(`#members li[data-uuid="${uuid}"]`);

test('the teacher publishes the browser microphone; a student in Node receives it and hears sound', async () => {
  await withClass(async ({ page, participant }) => {
    const student = await participant(STUDENT); // listen-only
    await student.waitForActiveSpeakers((speakers) => speakers.slots.includes(TEACHER), WAIT_MS);

    const first = await student.inboundStats();
    await eventually(
      "the student to receive the teacher's packets",
      async () => (await student.inboundStats()).packetsReceived >= first.packetsReceived + 50,
      () => `inbound ${JSON.stringify(first)} at first`,
    );
    await eventually(
      'the student to hear more than silence',
      () => receivedPeak(student) > SILENCE_RMS,
      () => `peak ${receivedPeak(student).toFixed(5)}; ${student.describe()}`,
    );
    assert.ok((await pageStats(page)).packetsSent > 0, 'the page sends its microphone');
  });
});

test('a student in Node sends a 660 Hz tone; the browser page receives it and plays it', async () => {
  await withClass(async ({ page, participant }) => {
    await participant(STUDENT, { toneHz: 660, amplitude: 0.5 });
    const stats = await waitForPageStats(page, { packetsReceived: 50, audioLevel: 0.01 });
    assert.ok(stats.audioLevel > 0.01, JSON.stringify(stats));
    await page.waitForFunction((uuid) => window.wigglypuff.state.slots.includes(uuid), STUDENT, { timeout: WAIT_MS });
    await page.locator('#slots li', { hasText: `Voice 1: ${STUDENT}` }).waitFor({ timeout: WAIT_MS });
  });
});

test('the member list shows the Node student and marks it speaking only while its tone plays', async () => {
  await withClass(async ({ page, participant }) => {
    const student = await participant(STUDENT, { toneHz: 660, amplitude: 0.5 });
    await member(page, STUDENT).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await page.locator('#members li').evaluateAll((items) => items.map((item) => item.getAttribute('data-uuid'))), [
      TEACHER,
      STUDENT,
    ]);
    await page.locator(`#members li[data-uuid="${STUDENT}"][data-speaking]`).waitFor({ timeout: WAIT_MS });
    assert.match((await member(page, STUDENT).textContent()) ?? '', /speaking/);

    student.setTone(null);
    await page.locator(`#members li[data-uuid="${STUDENT}"]:not([data-speaking])`).waitFor({ timeout: WAIT_MS });
    student.setTone(660);
    await page.locator(`#members li[data-uuid="${STUDENT}"][data-speaking]`).waitFor({ timeout: WAIT_MS });
  });
});

test('the teacher mutes and unmutes the student from the page; the server drops and restores its voice', async () => {
  await withClass(async ({ server, page, room, participant }) => {
    const student = await participant(STUDENT, { toneHz: 660, amplitude: 0.5 });
    const speaking = page.locator(`#members li[data-uuid="${STUDENT}"][data-speaking]`);
    await speaking.waitFor({ timeout: WAIT_MS });

    // The class moves on: sura and aya from the teacher's controls reach the student.
    await page.getByLabel('Sura (1–114)').fill('2');
    await page.getByRole('button', { name: 'Move to sura' }).click();
    await page.getByLabel('Aya').fill('255');
    await page.getByRole('button', { name: 'Point at aya' }).click();
    assert.equal((await student.ws.next('MoveSura')).id_quran, 2);
    assert.equal((await student.ws.next('ClickAya')).aya, 255);
    await page.locator('#aya', { hasText: '255' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#sura').textContent(), '2');
    await page.screenshot({ path: '/tmp/wigglypuff-page.png', fullPage: true });

    await page.getByRole('button', { name: `Mute ${STUDENT}` }).click();
    await page.locator(`#members li[data-uuid="${STUDENT}"][data-muted]`).waitFor({ timeout: WAIT_MS });
    assert.match((await member(page, STUDENT).textContent()) ?? '', /muted/);
    assert.deepEqual((await student.ws.next('MuteUser')) as object, { action: 'MuteUser', uuid: STUDENT, result: true, seq: 5 });
    assert.deepEqual((await request(server.http, 'GET', `/api/room/${room}`)).body.data.muted, [STUDENT]);
    // Its packets are dropped: it leaves the teacher's slots and is no longer speaking.
    await page.waitForFunction((uuid) => !window.wigglypuff.state.slots.includes(uuid), STUDENT, { timeout: WAIT_MS });
    await page.locator(`#members li[data-uuid="${STUDENT}"]:not([data-speaking])`).waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: `Unmute ${STUDENT}` }).click();
    await page.locator(`#members li[data-uuid="${STUDENT}"]:not([data-muted])`).waitFor({ timeout: WAIT_MS });
    await speaking.waitFor({ timeout: WAIT_MS });
    await waitForPageStats(page, { audioLevel: 0.01 });
  });
});

test('after its WebSocket drops, the page resumes from its last seq, catches up and offers its audio again', async () => {
  await withClass(async ({ server, page, participant }) => {
    const student = await participant(STUDENT, { toneHz: 660, amplitude: 0.5 });
    await waitForPageStats(page, { packetsReceived: 50 });
    const seq = await page.evaluate(() => window.wigglypuff.state.seq);
    const firstPc = await page.evaluateHandle(() => window.wigglypuff.pc);

    // Drop the page's socket without a close frame (as a network loss does); keep the student's.
    const studentPort = socketOf(student.ws.socket).localPort;
    const dropped = [...server.server.app.websocketServer.clients].filter((client) => socketOf(client).remotePort !== studentPort);
    assert.equal(dropped.length, 1);
    dropped[0]!.terminate();
    // A room-wide event the page misses while it is away.
    student.ws.send({ action: 'MuteUser', uuid: STUDENT, result: true });

    await page.locator('#status', { hasText: /^Reconnected$/ }).waitFor({ timeout: WAIT_MS });
    await page.locator(`#members li[data-uuid="${STUDENT}"][data-muted]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.evaluate(() => window.wigglypuff.state.seq), seq + 1);
    await page.waitForFunction((old) => window.wigglypuff.pc !== old && window.wigglypuff.pc?.connectionState === 'connected', firstPc, {
      timeout: WAIT_MS,
    });
    // The new PeerConnection publishes again: the student receives the teacher.
    const before = await student.inboundStats();
    await eventually(
      'the student to receive the teacher again',
      async () => (await student.inboundStats()).packetsReceived >= before.packetsReceived + 50,
      () => `${JSON.stringify(before)}; ${student.describe()}`,
    );
  });
});

// Issue 11: the page once kept a refused command in its queue of commands waiting for their Ack, and
// the next Ack applied the refused value. It now shows the room client's state (own commands applied
// on their Ack, a refused one never).
test("a refused command never shows: the teacher's page and a student's page keep the last aya the server accepted", async () => {
  await withClass(async ({ server, page, room, openPage }) => {
    const studentPage = await openPage('bilal', 'student');
    await member(page, 'bilal').waitFor({ timeout: WAIT_MS });
    const pages = [page, studentPage];
    for (const each of pages) await recordAyas(each);

    // The teacher moves to al-Fatiha (7 ayat) and points at its aya 3, from the page's controls.
    await page.getByLabel('Sura (1–114)').fill('1');
    await page.getByRole('button', { name: 'Move to sura' }).click();
    await page.getByLabel('Aya').fill('3');
    await page.getByRole('button', { name: 'Point at aya' }).click();
    for (const each of pages) await ayaShown(each, '3');

    // Aya 8 is beyond al-Fatiha: the server refuses it, and the teacher sees why.
    await page.getByLabel('Aya').fill('8');
    await page.getByRole('button', { name: 'Point at aya' }).click();
    await page.locator('#messages [data-testid="error"]', { hasText: 'aya_out_of_range' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#aya').textContent(), '3');
    // The same refusal through the page's room client: its promise rejects with the server's code.
    const refused = await page.evaluate(() =>
      window.wigglypuff.client!.clickAya(99).then(
        () => 'accepted',
        (error: { code: string }) => error.code,
      ),
    );
    assert.equal(refused, 'aya_out_of_range');

    // The next command is accepted: its Ack moves the teacher's page to it, and only to it.
    await page.getByLabel('Aya').fill('5');
    await page.getByRole('button', { name: 'Point at aya' }).click();
    for (const each of pages) await ayaShown(each, '5');
    assert.equal((await request(server.http, 'GET', `/api/room/${room}`)).body.data.aya, 5);
    assert.equal(await page.evaluate(() => window.wigglypuff.state.aya), 5);

    // Nothing refused was ever on screen, on either page.
    assert.deepEqual(await shownAyas(page), ['–', '3', '5']);
    assert.deepEqual(await shownAyas(studentPage), ['–', '3', '5']);
    assert.equal(
      await studentPage.locator('#messages li', { hasText: 'aya_out_of_range' }).count(),
      0,
      "the teacher's refusal is the teacher's",
    );
  });
});

// The refusal the old page got most wrong: `rate_limited` answers a flood without naming the command
// it refuses, so a page that matched answers to its commands by kind could not tell which one it was.
test('a flood of ClickAya, partly refused as rate_limited, never shows a refused one: the next Ack moves the page to its own aya', async () => {
  await withClass(
    async ({ server, page, room, openPage }) => {
      const studentPage = await openPage('bilal', 'student');
      await member(page, 'bilal').waitFor({ timeout: WAIT_MS });
      await page.getByLabel('Sura (1–114)').fill('2');
      await page.getByRole('button', { name: 'Move to sura' }).click();
      await page.getByLabel('Aya').fill('3');
      await page.getByRole('button', { name: 'Point at aya' }).click();
      for (const each of [page, studentPage]) await ayaShown(each, '3');

      // 24 clicks at once on "Point at aya" with aya 6, past the connection's burst of 20: some are refused.
      await page.getByLabel('Aya').fill('6');
      await page.evaluate(() => {
        for (let i = 0; i < 24; i++) document.getElementById('click-aya')!.click();
      });
      await page.locator('#messages [data-testid="error"]', { hasText: 'rate_limited' }).first().waitFor({ timeout: WAIT_MS });
      for (const each of [page, studentPage]) await ayaShown(each, '6');

      // The bucket refills at 50 a second: the next command is accepted, and the page shows it.
      await recordAyas(page);
      await page.getByLabel('Aya').fill('5');
      await page.getByRole('button', { name: 'Point at aya' }).click();
      for (const each of [page, studentPage]) await ayaShown(each, '5');
      assert.equal((await request(server.http, 'GET', `/api/room/${room}`)).body.data.aya, 5);
      assert.deepEqual(await shownAyas(page), ['6', '5']);
    },
    { WS_RATE_LIMIT_PER_SEC: '50', WS_RATE_LIMIT_BURST: '20' },
  );
});

/** Records every aya the page shows from now on (its current one first), for shownAyas(). */
async function recordAyas(page: Page): Promise<void> {
  await page.evaluate(() => {
    const aya = document.getElementById('aya')!;
    const shown = [aya.textContent ?? ''];
    (window as unknown as { ayasShown: string[] }).ayasShown = shown;
    new MutationObserver(() => {
      const text = aya.textContent ?? '';
      if (shown.at(-1) !== text) shown.push(text);
    }).observe(aya, { childList: true, characterData: true, subtree: true });
  });
}

const shownAyas = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { ayasShown: string[] }).ayasShown);

/** Waits until the page shows exactly this aya. */
const ayaShown = (page: Page, aya: string) => page.locator('#aya', { hasText: new RegExp(`^${aya}$`) }).waitFor({ timeout: WAIT_MS });

/** The TCP socket under a `ws` WebSocket (not in its public types). */
const socketOf = (socket: object) => (socket as { _socket: Socket })._socket;

declare global {
  interface Window {
    wigglypuff: {
      pc: RTCPeerConnection | null;
      /** The page's room client (the SDK's RoomClient), once the page joined. */
      client: { clickAya(aya: number): Promise<unknown> } | null;
      state: { seq: number; aya: number | null; slots: (string | null)[]; speaking: string[]; users: string[]; muted: string[] };
      stats(): Promise<Stats>;
    };
  }
}
