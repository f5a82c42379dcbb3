/**
 * The class app (web/class/, built on the SDK and bundled into dist/public/ by
 * scripts/build-web.mjs, which runs once before these tests) in real headless Chromium against a
 * real server, with a real WebRTC peer in Node (AudioParticipant, libwebrtc) on the other side of
 * the SFU. Chromium is the Debian package (/usr/bin/chromium, installed by scripts/install-deps.sh);
 * its fake microphone plays a beep. Everything runs on loopback. The class app's own walk-through
 * (several pages, the text, the queue, the floor, the phone, join links) is class-app.test.ts.
 */

import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { AudioParticipant } from './support/audio-participant.js';
import {
  buildWeb,
  currentAya,
  eventually,
  fillJoinForm,
  launchBrowser,
  openAppPage,
  pageStats,
  receivedPeak,
  SILENCE_RMS,
  WAIT_MS,
  waitForAya,
  waitForClass,
  waitForPageStats,
} from './support/browser.js';
import { request, startServer, type TestServer } from './support/server.js';

const TEACHER = 'teacher-1';
const STUDENT = 'ali';

interface Class {
  server: TestServer;
  page: Page;
  room: string;
  /** Another page (a context of its own), joined to the room through its form (closed with the class). */
  openPage(uuid: string, role: 'teacher' | 'student'): Promise<Page>;
  /** A Node WebRTC participant in the room; closed with the class. */
  participant(uuid: string, options?: Parameters<typeof AudioParticipant.join>[3]): Promise<AudioParticipant>;
}

let rooms = 0;

// A fresh clone has no build output: the server serves the page from dist/public/, built here once.
before(() => buildWeb());

/** A server (`env`: its configuration), a browser on the class page joined as the teacher of a fresh room, and cleanup. */
async function withClass(run: (room: Class) => Promise<void>, env: Record<string, string> = {}): Promise<void> {
  const server = await startServer(env);
  const participants: AudioParticipant[] = [];
  let browser: Browser | undefined;
  try {
    const started = await launchBrowser();
    browser = started;
    const pageErrors: string[][] = [];
    const room = `class-${++rooms}`;
    const newPage = async (uuid: string, role: 'teacher' | 'student') => {
      // ?uuid= gives the page its member id (otherwise the one its localStorage keeps); the name is the uuid.
      const { page, errors } = await openAppPage(started, `${server.http}/?uuid=${uuid}`);
      pageErrors.push(errors);
      await fillJoinForm(page, { room, name: uuid, role });
      await waitForClass(page);
      return page;
    };
    const page = await newPage(TEACHER, 'teacher');
    await run({
      server,
      page,
      room,
      openPage: newPage,
      participant: async (uuid, options) => {
        const participant = await AudioParticipant.join(server.ws, room, uuid, options);
        participants.push(participant);
        await participant.waitForConnected(WAIT_MS);
        return participant;
      },
    });
    assert.deepEqual(pageErrors.flat(), [], 'the page threw');
  } finally {
    await Promise.allSettled(participants.map((participant) => participant.close()));
    await browser?.close();
    await server.close();
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

    // The class moves on: the teacher chooses the sura and clicks the aya in its text; both reach the student.
    await page.getByLabel('Sura', { exact: true }).selectOption('2');
    await page.getByRole('button', { name: 'Aya 255', exact: true }).click();
    assert.equal((await student.ws.next('MoveSura')).id_quran, 2);
    assert.equal((await student.ws.next('ClickAya')).aya, 255);
    await waitForAya(page, 255);
    assert.equal(await page.getByLabel('Sura', { exact: true }).inputValue(), '2');
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

    // The teacher moves to al-Fatiha (7 ayat) and points at its aya 3, in its text.
    await page.getByLabel('Sura', { exact: true }).selectOption('1');
    await page.getByRole('button', { name: 'Aya 3', exact: true }).click();
    for (const each of pages) await ayaShown(each, '3');

    // Aya 8 is beyond al-Fatiha (typed into "Go to aya", which leaves the rule to the server): refused, and the teacher sees why.
    await page.getByLabel('Go to aya').fill('8');
    await page.getByRole('button', { name: 'Go', exact: true }).click();
    await page.locator('#messages [data-testid="error"][data-code="aya_out_of_range"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await currentAya(page), 3);
    // The same refusal through the page's room client: its promise rejects with the server's code.
    const refused = await page.evaluate(() =>
      window.wigglypuff.client!.clickAya(99).then(
        () => 'accepted',
        (error: { code: string }) => error.code,
      ),
    );
    assert.equal(refused, 'aya_out_of_range');

    // The next command is accepted: its Ack moves the teacher's page to it, and only to it.
    await page.getByRole('button', { name: 'Aya 5', exact: true }).click();
    for (const each of pages) await ayaShown(each, '5');
    assert.equal((await request(server.http, 'GET', `/api/room/${room}`)).body.data.aya, 5);
    assert.equal(await page.evaluate(() => window.wigglypuff.state.aya), 5);

    // Nothing refused was ever on screen, on either page.
    assert.deepEqual(await shownAyas(page), ['–', '3', '5']);
    assert.deepEqual(await shownAyas(studentPage), ['–', '3', '5']);
    assert.equal(
      await studentPage.locator('#messages li[data-code="aya_out_of_range"]').count(),
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
      await page.getByLabel('Sura', { exact: true }).selectOption('2');
      await page.getByRole('button', { name: 'Aya 3', exact: true }).click();
      for (const each of [page, studentPage]) await ayaShown(each, '3');

      // 24 clicks at once on aya 6, past the connection's burst of 20: some are refused.
      await page.evaluate(() => {
        const aya = document.querySelector<HTMLElement>('#ayat [role="button"][data-aya="6"]')!;
        for (let i = 0; i < 24; i++) aya.click();
      });
      await page.locator('#messages [data-testid="error"][data-code="rate_limited"]').first().waitFor({ timeout: WAIT_MS });
      for (const each of [page, studentPage]) await ayaShown(each, '6');

      // The bucket refills at 50 a second: the next command is accepted, and the page shows it.
      await recordAyas(page);
      await page.getByRole('button', { name: 'Aya 5', exact: true }).click();
      for (const each of [page, studentPage]) await ayaShown(each, '5');
      assert.equal((await request(server.http, 'GET', `/api/room/${room}`)).body.data.aya, 5);
      assert.deepEqual(await shownAyas(page), ['6', '5']);
    },
    { WS_RATE_LIMIT_PER_SEC: '50', WS_RATE_LIMIT_BURST: '20' },
  );
});

/** Records every aya the page highlights from now on (its current one first, '–' for none), for shownAyas(). */
async function recordAyas(page: Page): Promise<void> {
  // No named functions in here: the test's transpiler would wrap them in a helper the page does not have.
  await page.evaluate(() => {
    const list = document.getElementById('ayat')!;
    const shown = [list.querySelector<HTMLElement>('li[aria-current="true"]')?.dataset.aya ?? '–'];
    (window as unknown as { ayasShown: string[] }).ayasShown = shown;
    new MutationObserver(() => {
      const aya = list.querySelector<HTMLElement>('li[aria-current="true"]')?.dataset.aya ?? '–';
      if (shown.at(-1) !== aya) shown.push(aya);
    }).observe(list, { childList: true, subtree: true, attributes: true, attributeFilter: ['aria-current'] });
  });
}

const shownAyas = (page: Page): Promise<string[]> => page.evaluate(() => (window as unknown as { ayasShown: string[] }).ayasShown);

/** Waits until the page highlights exactly this aya. */
const ayaShown = (page: Page, aya: string) => waitForAya(page, Number(aya));

/** The TCP socket under a `ws` WebSocket (not in its public types). */
const socketOf = (socket: object) => (socket as { _socket: Socket })._socket;
