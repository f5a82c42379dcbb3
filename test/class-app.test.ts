/**
 * The class app at / (web/class/) as a class uses it, in real headless Chromium against a real
 * server: a teacher's page, two students' pages (each in a browser context of its own, so each has
 * its own localStorage and so its own uuid) and a student in Node (the SDK's RoomClient and
 * RoomAudio, listen-only, with real WebRTC: test/support/audio-participant.ts). The teacher moves
 * the class and points at ayat; the students ask for corrections; the teacher mutes, mutes all and
 * gives the floor, which the Node student hears (Chromium's fake microphone beeps); a student's
 * socket is cut; a phone-sized screen; join links on a closed server.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { AdminClient } from '../sdk/src/admin-client.js';
import { until } from './sdk/waits.js';
import { AudioParticipant } from './support/audio-participant.js';
import {
  type AppPage,
  ayaInView,
  buildWeb,
  currentAya,
  eventually,
  fillJoinForm,
  type JoinForm,
  launchBrowser,
  openAppPage,
  receivedPeakFrom,
  SILENCE_RMS,
  WAIT_MS,
  waitForAya,
  waitForAyaInView,
  waitForClass,
  waitForPageStats,
} from './support/browser.js';
import { request, startServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';

const PHONE: BrowserContextOptions = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };

before(() => buildWeb());

interface Member extends AppPage {
  uuid: string;
  name: string;
}

/** A page that joins through the form (at `base`, the server's by default) and waits for its room client and audio. */
async function joinPage(browser: Browser, base: string, form: JoinForm, options: BrowserContextOptions = {}): Promise<Member> {
  const app = await openAppPage(browser, `${base}/`, options);
  await fillJoinForm(app.page, form);
  await waitForClass(app.page);
  const uuid = await app.page.evaluate(() => window.wigglypuff.client!.uuid);
  return { ...app, uuid, name: form.name };
}

/** Every page's thrown errors, for the final check. */
const errorsOf = (pages: AppPage[]): string[] => pages.flatMap((page) => page.errors);

/** Records, in each page, when `aya` becomes highlighted there (performance.timeOrigin + now(): one clock for all pages). */
async function recordHighlight(page: Page, aya: number): Promise<void> {
  // No named functions in here: the test's transpiler would wrap them in a helper the page does not have.
  await page.evaluate((wanted) => {
    const state = window as unknown as { highlightedAt?: number };
    delete state.highlightedAt;
    new MutationObserver((_records, observer) => {
      if (!document.querySelector(`#ayat li[data-aya="${wanted}"][aria-current="true"]`)) return;
      state.highlightedAt = performance.timeOrigin + performance.now();
      observer.disconnect();
    }).observe(document.getElementById('ayat')!, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-current'] });
  }, aya);
}

async function recordClick(page: Page): Promise<void> {
  await page.evaluate(() => {
    document.addEventListener(
      'click',
      () => {
        (window as unknown as { clickedAt: number }).clickedAt = performance.timeOrigin + performance.now();
      },
      { capture: true, once: true },
    );
  });
}

const readTime = (page: Page, key: 'highlightedAt' | 'clickedAt'): Promise<number> =>
  page.evaluate((name) => (window as unknown as Record<string, number>)[name]!, key);

const queueOrder = (page: Page): Promise<string[]> =>
  page.locator('#corrections li').evaluateAll((items) => items.map((item) => (item as HTMLElement).dataset.uuid ?? ''));

const message = (page: Page, text: string | RegExp) => page.locator('#messages li', { hasText: text });

/**
 * The page stays put and only its text pane scrolls: the header (room, connection, Leave) and the
 * class's controls on screen, the window not scrolled.
 */
async function assertControlsOnScreen(page: Page, where: string): Promise<void> {
  // No named functions in here: the test's transpiler would wrap them in a helper the page does not have.
  const seen = await page.evaluate(() => {
    const [header, toolbar] = ['top', 'toolbar'].map((id) => {
      const { top, bottom, height } = document.getElementById(id)!.getBoundingClientRect();
      return { top, bottom, height };
    });
    return {
      header: header!,
      toolbar: toolbar!,
      height: window.innerHeight,
      scrollY: window.scrollY,
      pane: document.getElementById('text')!.scrollTop,
    };
  });
  const detail = `${where}: ${JSON.stringify(seen)}`;
  for (const part of [seen.header, seen.toolbar]) {
    assert.ok(part.height > 0 && part.top >= 0 && part.bottom <= seen.height, detail);
  }
  assert.equal(seen.scrollY, 0, detail);
  assert.ok(seen.pane > 0, `${detail}: the text pane scrolled to the aya`);
  await page.locator('#top').getByRole('button', { name: 'Leave' }).waitFor({ state: 'visible', timeout: WAIT_MS });
}

/**
 * Where the highlighted aya starts (the top of its first line, right to left) and its height,
 * against the text pane's top and height.
 */
const ayaStart = (page: Page) =>
  page.evaluate(() => {
    const pane = document.getElementById('text')!;
    const item = document.querySelector('#ayat li[aria-current="true"]')!;
    const paneBox = pane.getBoundingClientRect();
    return {
      start: item.getClientRects()[0]!.top - paneBox.top - pane.clientTop,
      height: item.getBoundingClientRect().height,
      pane: pane.clientHeight,
    };
  });

test('a class: the teacher points, every student follows; the queue in order across a reload; mute, mute all, the floor, heard; a cut socket resumes', async (t) => {
  const server = await startServer({ RECONNECT_GRACE_MS: '15000' });
  const proxy = await TcpProxy.start(server.http);
  const browser = await launchBrowser();
  const pages: AppPage[] = [];
  let listener: AudioParticipant | undefined;
  try {
    const room = 'halaqa-1';
    const teacher = await joinPage(browser, server.http, { room, name: 'Ustadh Ahmad', role: 'teacher' });
    pages.push(teacher);
    const amina = await joinPage(browser, server.http, { room, name: 'Amina', role: 'student' });
    pages.push(amina);
    // Bilal's page reaches the server through a TCP proxy, so a test can cut its connection as a network does.
    const bilal = await joinPage(browser, proxy.http, { room, name: 'بلال', role: 'student' });
    pages.push(bilal);
    listener = await AudioParticipant.join(server.ws, room, 'node-student');
    await listener.waitForConnected(WAIT_MS);
    const students = [amina, bilal];
    assert.notEqual(amina.uuid, bilal.uuid, 'each browser context has its own uuid');
    assert.equal((await request(server.http, 'GET', `/api/room/${room}`)).body.data.master_uuid, teacher.uuid);
    await teacher.page.locator('#members li').nth(3).waitFor({ timeout: WAIT_MS });

    await t.test('the teacher moves to a sura and points at an aya; every student shows it highlighted, in view', async () => {
      // The sura by its name in the searchable list: "baq" leaves al-Baqarah, Enter moves the class there.
      await teacher.page.getByLabel('Find a sura').fill('baq');
      assert.deepEqual(await teacher.page.locator('#sura-select option:not([disabled])').allTextContents(), ['2 · Al-Baqarah · البقرة']);
      await teacher.page.getByLabel('Find a sura').press('Enter');
      for (const student of students) {
        await student.page.locator('#ayat li[data-aya="286"]').waitFor({ timeout: WAIT_MS });
        assert.equal(await student.page.locator('#sura-title').textContent(), '2 · Al-Baqarah · The Cow');
        assert.equal(await student.page.locator('#sura-arabic').textContent(), 'البقرة');
      }
      // The aya's number in the end-of-aya sign, in Arabic-Indic digits; the text right to left, in Arabic.
      assert.equal(await teacher.page.locator('#ayat li[data-aya="255"] .aya-mark').textContent(), '\u06DD٢٥٥');
      assert.equal(await teacher.page.locator('#ayat').getAttribute('dir'), 'rtl');
      assert.equal(await teacher.page.locator('#ayat').getAttribute('lang'), 'ar');

      for (const student of students) await recordHighlight(student.page, 255);
      await recordClick(teacher.page);
      await teacher.page.getByRole('button', { name: 'Aya 255', exact: true }).click();
      const clickedAt = await readTime(teacher.page, 'clickedAt');
      for (const student of students) {
        await waitForAya(student.page, 255);
        const ms = (await readTime(student.page, 'highlightedAt')) - clickedAt;
        t.diagnostic(`click to highlight on ${student.name}'s page: ${ms.toFixed(1)} ms`);
        console.log(`class-app: the teacher's click to ${student.name}'s highlight of aya 255: ${ms.toFixed(1)} ms`);
        await waitForAyaInView(student.page);
        await student.page.locator('#announcer', { hasText: 'Now: Al-Baqarah, aya 255' }).waitFor({ timeout: WAIT_MS });
        await student.page.locator('#now', { hasText: 'Al-Baqarah · aya 255' }).waitFor({ timeout: WAIT_MS });
      }
      await waitForAya(teacher.page, 255);
      await until(listener!.client, (state) => state.sura === 2 && state.aya === 255);
      // Aya 255 is far down al-Baqarah: only the text's pane scrolled to it, the header and the controls stayed.
      for (const page of [teacher, ...students]) await assertControlsOnScreen(page.page, `${page.name}'s page at aya 255`);

      // The keys: ↓ and j forward, ↑ and k back, and in right-to-left text ← is forward.
      await teacher.page.keyboard.press('ArrowDown');
      for (const page of [teacher.page, ...students.map((s) => s.page)]) await waitForAya(page, 256);
      await teacher.page.keyboard.press('j');
      await waitForAya(amina.page, 257);
      await teacher.page.keyboard.press('ArrowLeft');
      await waitForAya(amina.page, 258);
      await teacher.page.keyboard.press('k');
      await teacher.page.keyboard.press('ArrowUp');
      for (const page of [teacher.page, ...students.map((s) => s.page)]) await waitForAya(page, 256);
      await until(listener!.client, (state) => state.aya === 256);
      assert.ok(await ayaInView(bilal.page));
    });

    await t.test(
      'two students ask for a correction: queued in order, each sees their place; the teacher reloads, sees the queue, answers',
      async () => {
        await amina.page.getByRole('button', { name: 'Ask for a correction' }).click();
        await amina.page.locator('#queue-place', { hasText: 'You are 1st in the queue' }).waitFor({ timeout: WAIT_MS });
        await bilal.page.getByRole('button', { name: 'Ask for a correction' }).click();
        await bilal.page.locator('#queue-place', { hasText: 'You are 2nd in the queue' }).waitFor({ timeout: WAIT_MS });
        await bilal.page.getByRole('button', { name: 'Withdraw' }).waitFor({ timeout: WAIT_MS });
        await eventually(
          "the queue on the teacher's page",
          async () => (await queueOrder(teacher.page)).join() === [amina.uuid, bilal.uuid].join(),
          () => 'not yet',
        );

        // A reload comes back as the same member (the uuid in localStorage) into the same class (sessionStorage).
        await teacher.page.reload();
        await waitForClass(teacher.page);
        assert.equal(await teacher.page.evaluate(() => window.wigglypuff.client!.uuid), teacher.uuid);
        await teacher.page.locator('#corrections li').nth(1).waitFor({ timeout: WAIT_MS });
        assert.deepEqual(await queueOrder(teacher.page), [amina.uuid, bilal.uuid]);
        await teacher.page.locator(`#members li[data-uuid="${bilal.uuid}"]`, { hasText: 'queue 2' }).waitFor({ timeout: WAIT_MS });
        await waitForAya(teacher.page, 256);

        await teacher.page.getByRole('button', { name: 'Accept the correction request of Amina', exact: true }).click();
        await message(amina.page, 'The teacher accepted your correction request').waitFor({ timeout: WAIT_MS });
        await amina.page.getByRole('button', { name: 'Ask for a correction' }).waitFor({ timeout: WAIT_MS });
        await bilal.page.locator('#queue-place', { hasText: 'You are 1st in the queue' }).waitFor({ timeout: WAIT_MS });
        await teacher.page.getByRole('button', { name: 'Decline the correction request of بلال', exact: true }).click();
        await message(bilal.page, 'The teacher declined your correction request').waitFor({ timeout: WAIT_MS });
        await teacher.page.locator('#queue-empty:not([hidden])').waitFor({ timeout: WAIT_MS });
        assert.deepEqual((await request(server.http, 'GET', `/api/room/${room}`)).body.data.corrections, []);
        await until(listener!.client, (state) => state.corrections.length === 0);
      },
    );

    await t.test('mute one, mute all, give the floor: the Node student hears whom the room lets speak', async () => {
      const node = listener!;
      const heard = (member: Member) =>
        eventually(
          `the Node student to hear ${member.name}`,
          () => receivedPeakFrom(node, member.uuid) > SILENCE_RMS,
          () => `peak ${receivedPeakFrom(node, member.uuid).toFixed(5)}; ${node.describe()}`,
        );
      const notHeard = async (member: Member) => {
        // The server drops a muted voice: it leaves the listener's slots, and the member's own microphone is off.
        await node.waitForActiveSpeakers((speakers) => !speakers.slots.includes(member.uuid), WAIT_MS);
        await member.page.waitForFunction(() => window.wigglypuff.audio?.microphone.enabled === false, null, { timeout: WAIT_MS });
        assert.equal(receivedPeakFrom(node, member.uuid), 0);
      };
      const roster = (member: Member, state: string) =>
        teacher.page.locator(`#members li[data-uuid="${member.uuid}"]${state}`).waitFor({ timeout: WAIT_MS });
      await heard(amina);
      await heard(bilal);

      await teacher.page.getByRole('button', { name: 'Mute Amina', exact: true }).click();
      await roster(amina, '[data-muted]');
      await notHeard(amina);
      await heard(bilal);
      await amina.page.getByRole('button', { name: 'Unmute myself' }).waitFor({ timeout: WAIT_MS });

      await teacher.page.getByRole('button', { name: 'Mute all', exact: true }).click();
      await roster(bilal, '[data-muted]');
      await notHeard(bilal);
      await notHeard(amina);
      await heard(teacher);

      await teacher.page.getByRole('button', { name: 'Give the floor to Amina', exact: true }).click();
      await roster(amina, '[data-floor]:not([data-muted])');
      await heard(amina);
      await notHeard(bilal);
      const view = (await request(server.http, 'GET', `/api/room/${room}`)).body.data;
      assert.equal(view.muted_all, true);
      // Every other student is muted, the Node one too.
      assert.deepEqual(view.muted, [bilal.uuid, node.uuid]);
      assert.match((await teacher.page.locator(`#members li[data-uuid="${amina.uuid}"]`).textContent()) ?? '', /has the floor/);

      // The floor to the other: everyone else muted again.
      await teacher.page.getByRole('button', { name: 'Give the floor to بلال', exact: true }).click();
      await roster(bilal, '[data-floor]:not([data-muted])');
      await roster(amina, '[data-muted]');
      await heard(bilal);
      await notHeard(amina);

      await teacher.page.getByRole('button', { name: 'Unmute all', exact: true }).click();
      await roster(amina, ':not([data-muted])');
      await heard(amina);
      await heard(bilal);
    });

    await t.test("the teacher's class list shows each student's signal as the server measured it", async () => {
      // ConnectionQuality comes every 5 s; on loopback every link is good.
      for (const member of [amina, bilal])
        await teacher.page
          .locator(`#members li[data-uuid="${member.uuid}"] .member-quality[data-level="good"]:not([hidden])`)
          .waitFor({ timeout: WAIT_MS });
      const label = await teacher.page.locator(`#members li[data-uuid="${amina.uuid}"] .member-quality`).getAttribute('aria-label');
      assert.match(label ?? '', /Amina/);
    });

    await t.test("a student's socket is cut: the banner says reconnecting, then the class goes on", async () => {
      const banner = bilal.page.locator('#banner');
      proxy.hold(); // the reconnect waits, so the banner surely shows
      assert.equal(
        proxy.cut((line) => line.includes('/api/room/join/')),
        1,
      );
      await bilal.page.locator('#banner:not([hidden])', { hasText: 'Reconnecting…' }).waitFor({ timeout: WAIT_MS });
      assert.equal(await banner.getAttribute('role'), 'status');
      // The class moves on while Bilal is away.
      await teacher.page.getByRole('button', { name: 'Aya 260', exact: true }).click();
      await waitForAya(amina.page, 260);
      proxy.release();
      await bilal.page.locator('#banner[hidden]').waitFor({ state: 'attached', timeout: WAIT_MS });
      await bilal.page.locator('#status', { hasText: /^Reconnected$/ }).waitFor({ timeout: WAIT_MS });
      await waitForAya(bilal.page, 260);
      // Bilal kept his place: nobody saw him leave.
      assert.equal(await teacher.page.locator(`#members li[data-uuid="${bilal.uuid}"]`).count(), 1);
      await recordHighlight(bilal.page, 261);
      await teacher.page.getByRole('button', { name: 'Aya 261', exact: true }).click();
      await waitForAya(bilal.page, 261);
      await waitForAyaInView(bilal.page);
      // The audio came back by itself, on a new PeerConnection.
      await waitForClass(bilal.page);
      await waitForPageStats(bilal.page, { packetsReceived: 50 });
    });

    assert.deepEqual(errorsOf(pages), [], 'a page threw');
  } finally {
    await listener?.close();
    await browser.close();
    await proxy.close();
    await server.close();
  }
});

test('on a phone (375×667): no sideways scroll, the teacher taps an aya, the student sees it; listen-only', async () => {
  const server = await startServer();
  const browser = await launchBrowser();
  const pages: AppPage[] = [];
  try {
    const room = 'halaqa-phone';
    const form = await openAppPage(browser, `${server.http}/?room=${room}&name=Ustadh%20Ahmad&role=teacher`, PHONE);
    pages.push(form);
    const noOverflow = async (page: Page, where: string) =>
      assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 375, `${where}: wider than the phone`);
    await noOverflow(form.page, 'the join form');
    // The link prefilled the form.
    assert.equal(await form.page.getByLabel('Room', { exact: true }).inputValue(), room);
    assert.equal(await form.page.getByLabel('Your name').inputValue(), 'Ustadh Ahmad');
    assert.equal(await form.page.getByLabel('The teacher (opens the room)').isChecked(), true);
    await form.page.getByRole('button', { name: 'Join', exact: true }).tap();
    await waitForClass(form.page);
    const teacher = form.page;

    const student = await joinPage(browser, server.http, { room, name: 'Yusuf', role: 'student', listenOnly: true }, PHONE);
    pages.push(student);
    await student.page.locator('#listening-only:not([hidden])').waitFor({ timeout: WAIT_MS });
    assert.equal(await student.page.locator('#mute-self').isHidden(), true);

    await teacher.getByLabel('Sura', { exact: true }).selectOption('18');
    await student.page.locator('#ayat li[data-aya="110"]').waitFor({ timeout: WAIT_MS });
    await teacher.locator('#ayat li[data-aya="110"]').waitFor({ timeout: WAIT_MS });
    await noOverflow(teacher, "the teacher's class");
    await noOverflow(student.page, "the student's class");

    await teacher.getByRole('button', { name: 'Aya 74', exact: true }).tap();
    await waitForAya(teacher, 74);
    await waitForAya(student.page, 74);
    await waitForAyaInView(student.page);
    assert.ok((await student.page.evaluate(() => document.getElementById('text')!.scrollTop)) > 0, 'the student was scrolled to the aya');
    for (const [page, who] of [
      [teacher, 'the teacher'],
      [student.page, 'the student'],
    ] as const) {
      await assertControlsOnScreen(page, `${who}'s phone`);
    }

    // The teacher's bar stays on the phone's screen, its targets big enough for a finger.
    const bar = await teacher
      .locator('#toolbar button:visible')
      .evaluateAll((buttons) => buttons.map((button) => ({ name: button.textContent, ...button.getBoundingClientRect().toJSON() })));
    for (const name of ['▲', '▼', 'Mute all', 'Unmute all', 'Class (2)']) {
      assert.ok(
        bar.some((button) => button.name === name),
        `${name} in the bar: ${JSON.stringify(bar)}`,
      );
    }
    for (const button of bar) assert.ok(button.width >= 44 && button.height >= 44 && button.right <= 375, JSON.stringify(button));
    await teacher.getByRole('button', { name: 'Next aya' }).tap();
    await waitForAya(teacher, 75);
    await waitForAya(student.page, 75);
    await teacher.locator('#sura-button', { hasText: 'Al-Kahf · aya 75' }).waitFor({ timeout: WAIT_MS });

    // A long aya (2:255, taller than the phone's pane): its start is shown, not its middle.
    const picker = teacher.getByRole('button', { name: /^Choose the sura or the aya/ });
    await picker.tap();
    await teacher.getByLabel('Sura', { exact: true }).selectOption('2');
    await student.page.locator('#ayat li[data-aya="286"]').waitFor({ timeout: WAIT_MS });
    assert.equal(await picker.getAttribute('aria-expanded'), 'false', 'a choice closes the picker');
    await picker.tap();
    await teacher.getByLabel('Go to aya').fill('255');
    await teacher.getByRole('button', { name: 'Go', exact: true }).tap();
    for (const page of [teacher, student.page]) {
      await waitForAya(page, 255);
      let last = await ayaStart(page);
      await eventually(
        'the start of aya 255 at the top of the pane',
        async () => {
          last = await ayaStart(page);
          return last.start >= 0 && last.start <= 40;
        },
        () => JSON.stringify(last),
      );
      assert.ok(last.height > last.pane, `aya 255 is taller than the pane: ${JSON.stringify(last)}`);
    }
    await noOverflow(teacher, "the teacher's bar");

    // The teacher's controls are reachable: the class list is a tap away, and Escape goes back to the text.
    const toSide = teacher.getByRole('button', { name: /^Class \(2\)/ });
    await toSide.tap();
    assert.equal(await toSide.getAttribute('aria-expanded'), 'true');
    const mute = teacher.getByRole('button', { name: 'Mute Yusuf', exact: true });
    await mute.tap();
    // (On the student's phone the roster is in the closed sheet: there, but not shown.)
    await student.page.locator(`#members li[data-uuid="${student.uuid}"][data-muted]`).waitFor({ state: 'attached', timeout: WAIT_MS });
    // Listen-only: the student sends nothing and still hears the teacher.
    await waitForPageStats(student.page, { packetsReceived: 50 });
    assert.equal((await student.page.evaluate(() => window.wigglypuff.stats())).packetsSent, 0);
    await noOverflow(teacher, "the teacher's class list");
    await teacher.keyboard.press('Escape');
    await teacher.locator('#side').waitFor({ state: 'hidden', timeout: WAIT_MS });
    assert.equal(await teacher.evaluate(() => document.activeElement?.id), 'to-side', 'focus back on the button that opened the sheet');
    await teacher.getByRole('button', { name: 'Aya 256', exact: true }).tap();
    await waitForAya(student.page, 256);
    assert.equal(await currentAya(student.page), 256);
    assert.deepEqual(errorsOf(pages), [], 'a page threw');
  } finally {
    await browser.close();
    await server.close();
  }
});

test('join links on a closed server: the teacher and a student join by link only; a kicked student joins again', async () => {
  const apiKey = 'class-app-api-key-0123456789';
  const server = await startServer({ API_KEY: apiKey, JOIN_TOKEN_SECRET: 'class-app-join-token-secret-0123456789abcdef' });
  const browser = await launchBrowser();
  const pages: AppPage[] = [];
  try {
    const admin = new AdminClient({ url: server.http, apiKey });
    const room = 'halaqa-closed';
    await admin.createRoom(room, 'teacher-7');
    const link = async (uuid: string, name: string) => {
      const { token } = await admin.mintJoinToken({ room, uuid, name });
      return `${server.http}/?token=${encodeURIComponent(token)}`;
    };
    const teacher = await openAppPage(browser, await link('teacher-7', 'Ustadha Maryam'));
    pages.push(teacher);
    await waitForClass(teacher.page);
    await teacher.page.locator('#teacher-nav:not([hidden])').waitFor({ timeout: WAIT_MS });
    const student = await openAppPage(browser, await link('khadija', 'خديجة'));
    pages.push(student);
    await waitForClass(student.page);
    await student.page.locator('#student-bar:not([hidden])').waitFor({ timeout: WAIT_MS });
    assert.equal(await student.page.locator('#join-view').isHidden(), true, 'no form: the link joined');
    // The names come from the tokens.
    await teacher.page.locator('#members li[data-uuid="khadija"]', { hasText: 'خديجة' }).waitFor({ timeout: WAIT_MS });
    await teacher.page.getByRole('button', { name: 'Mute خديجة', exact: true }).waitFor({ timeout: WAIT_MS });

    await teacher.page.getByLabel('Sura', { exact: true }).selectOption('1');
    await teacher.page.getByRole('button', { name: 'Aya 2', exact: true }).click();
    await waitForAya(student.page, 2);
    await waitForAyaInView(student.page);

    // Kicked: the class ends for this page, with a way back in.
    await admin.kick(room, 'khadija');
    const ended = student.page.locator('#ended:not([hidden])');
    await ended.waitFor({ timeout: WAIT_MS });
    assert.equal(await ended.getAttribute('role'), 'alert');
    assert.match((await ended.textContent()) ?? '', /The teacher removed you from the class/);
    await student.page.getByRole('button', { name: 'Join again' }).click();
    await waitForClass(student.page);
    await waitForAya(student.page, 2);
    await teacher.page.locator('#members li[data-uuid="khadija"]').waitFor({ timeout: WAIT_MS });
    assert.deepEqual(errorsOf(pages), [], 'a page threw');
  } finally {
    await browser.close();
    await server.close();
  }
});
