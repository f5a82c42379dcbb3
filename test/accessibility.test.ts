/**
 * The two web apps checked with axe-core (WCAG 2.0 / 2.1, levels A and AA) in real headless
 * Chromium against a real server, screen by screen, each in a browser context of its own: the class
 * app's join form (desktop and phone), the teacher's class (desktop, and a phone with the class
 * sheet open), a student's phone with the teacher's aya highlighted, the end notice of a kicked
 * student, and the dashboard (its sign-in form, and signed in with a room open). A failure lists
 * each rule broken, its impact, what to fix and where. Then the keyboard: on the teacher's desktop,
 * Tab from the top reaches the sura search, the aya list and the first student's Mute button, each
 * with a focus indicator that shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import axe from 'axe-core';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import WebSocket from 'ws';
import { AdminClient } from '../sdk/src/admin-client.js';
import { RoomClient } from '../sdk/src/room-client.js';
import { until } from './sdk/waits.js';
import {
  type AppPage,
  buildWeb,
  fillJoinForm,
  type JoinForm,
  launchBrowser,
  openAppPage,
  WAIT_MS,
  waitForAya,
  waitForAyaInView,
  waitForClass,
} from './support/browser.js';
import { request, startServer, type TestServer } from './support/server.js';

const DESKTOP: BrowserContextOptions = { viewport: { width: 1280, height: 860 } };
const PHONE: BrowserContextOptions = { viewport: { width: 375, height: 667 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const WCAG_AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
  count: number;
}

/**
 * The page settled as a person sees it: its fonts loaded and no transition or animation running
 * (a colour half-way through a transition is not the colour to check).
 */
async function settle(page: Page): Promise<void> {
  await page.evaluate(() => document.fonts.ready.then(() => undefined));
  await page.waitForFunction(() => document.getAnimations().every((animation) => animation.playState !== 'running'), null, {
    timeout: WAIT_MS,
  });
}

/** One axe rule left out on some elements only, and why it does not apply there. */
interface Exception {
  rule: string;
  selector: string;
  why: string;
}

/**
 * The teacher's ayat are buttons named by their number ("Aya 255", the number the end-of-aya sign
 * shows in Arabic-Indic digits); what they show is the verse itself, the text being recited, not a
 * label. Label in Name (WCAG 2.5.3) is about a control's visible label, and naming each aya by its
 * whole verse would have a screen reader read the verse at every step of the teacher's ↓.
 */
const AYA_BUTTONS: Exception = {
  rule: 'label-content-name-mismatch',
  selector: '#ayat [role="button"]',
  why: "an aya's visible text is the verse, not a label; its name is its number",
};

/**
 * axe-core's WCAG A/AA violations on the page as it is now: every rule on the whole page, but an
 * exception's rule, which is run apart on the page without the exception's elements.
 */
async function violations(page: Page, exceptions: Exception[] = []): Promise<Violation[]> {
  await settle(page);
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axe.source });
  // No named functions in here: the test's transpiler would wrap them in a helper the page does not have.
  return page.evaluate(
    async ({ tags, except }) => {
      const engine = (window as unknown as { axe: typeof axe }).axe;
      const rules = [...new Set(except.map((exception) => exception.rule))];
      const all = await engine.run(document, {
        runOnly: { type: 'tag', values: tags },
        rules: Object.fromEntries(rules.map((rule) => [rule, { enabled: false }])),
      });
      const found = [...all.violations];
      for (const rule of rules) {
        const exclude = except.filter((exception) => exception.rule === rule).map((exception) => [exception.selector]);
        const apart = await engine.run({ exclude }, { runOnly: { type: 'rule', values: [rule] } });
        found.push(...apart.violations);
      }
      return found.map((violation) => ({
        id: violation.id,
        impact: violation.impact ?? null,
        help: violation.help,
        targets: violation.nodes.slice(0, 4).map((node) => node.target.join(' ')),
        count: violation.nodes.length,
      }));
    },
    { tags: WCAG_AA, except: exceptions },
  );
}

async function assertAccessible(page: Page, screen: string, exceptions: Exception[] = []): Promise<void> {
  const found = await violations(page, exceptions);
  const list = found
    .map((v) => `- ${v.id} (${v.impact}): ${v.help}; ${v.count} element(s): ${v.targets.join(' | ')}${v.count > 4 ? ' …' : ''}`)
    .join('\n');
  assert.deepEqual(
    found.map((v) => v.id),
    [],
    `${screen}: ${found.length} axe violation(s)\n${list}`,
  );
}

before(() => buildWeb());

describe('the class app', () => {
  let server: TestServer;
  let browser: Browser;
  const pages: AppPage[] = [];
  const clients: RoomClient[] = [];

  before(async () => {
    server = await startServer();
    browser = await launchBrowser();
  });
  after(async () => {
    for (const client of clients) client.close();
    await browser?.close();
    await server?.close();
  });

  async function open(options: BrowserContextOptions, path = '/'): Promise<AppPage> {
    const app = await openAppPage(browser, `${server.http}${path}`, options);
    pages.push(app);
    return app;
  }

  async function join(form: JoinForm, options: BrowserContextOptions): Promise<AppPage & { uuid: string }> {
    const app = await open(options);
    await fillJoinForm(app.page, form);
    await waitForClass(app.page);
    return { ...app, uuid: await app.page.evaluate(() => window.wigglypuff.client!.uuid) };
  }

  /** A student in Node (the SDK's RoomClient, no audio), for the teacher's roster. */
  async function nodeStudent(room: string, uuid: string, name: string): Promise<RoomClient> {
    const client = new RoomClient({ url: server.ws, room, uuid, name, WebSocket });
    clients.push(client);
    await client.connect();
    return client;
  }

  test('the join form, on a desktop and on a phone', async () => {
    for (const [options, where] of [
      [DESKTOP, 'desktop'],
      [PHONE, 'phone'],
    ] as const) {
      const { page } = await open(options);
      await page.getByLabel('Your name').waitFor({ timeout: WAIT_MS });
      await assertAccessible(page, `the join form (${where})`);
    }
  });

  test("the teacher's class on a desktop, a student's phone, the end notice; the teacher's keyboard path", async (t) => {
    const room = 'a11y-desktop';
    const teacher = await join({ room, name: 'Ustadh Ahmad', role: 'teacher' }, DESKTOP);
    const student = await join({ room, name: 'Amina', role: 'student' }, PHONE);
    await teacher.page.getByLabel('Find a sura').fill('baq');
    await teacher.page.getByLabel('Find a sura').press('Enter');
    await teacher.page.locator('#ayat li[data-aya="286"]').waitFor({ timeout: WAIT_MS });
    await teacher.page.getByRole('button', { name: 'Aya 255', exact: true }).click();
    await waitForAya(teacher.page, 255);
    await student.page.getByRole('button', { name: 'Ask for a correction' }).click();
    await teacher.page.getByRole('button', { name: 'Accept the correction request of Amina', exact: true }).waitFor({ timeout: WAIT_MS });
    await teacher.page.getByRole('button', { name: 'Mute Amina', exact: true }).waitFor({ timeout: WAIT_MS });

    await t.test('the teacher on a desktop: a sura, an aya pointed at, a student in the queue', async () => {
      await assertAccessible(teacher.page, "the teacher's class (desktop)", [AYA_BUTTONS]);
    });

    await t.test("a student's phone, the teacher's aya highlighted", async () => {
      await waitForAya(student.page, 255);
      await waitForAyaInView(student.page);
      await student.page.locator('#queue-place', { hasText: 'You are 1st in the queue' }).waitFor({ timeout: WAIT_MS });
      await assertAccessible(student.page, "a student's class (phone)");
    });

    await t.test(
      "Tab from the top of the teacher's page reaches the sura search, the aya list and Mute, each with a visible focus",
      async () => {
        const page = teacher.page;
        await page.evaluate(() => {
          (document.activeElement as HTMLElement | null)?.blur();
          window.scrollTo(0, 0);
        });
        const wanted = new Map<string, string | null>([
          ['the sura search', null],
          ['the aya list', null],
          ["Amina's Mute button", null],
        ]);
        const path: string[] = [];
        for (let presses = 0; presses < 60 && [...wanted.values()].some((found) => found === null); presses++) {
          await page.keyboard.press('Tab');
          // No named functions in here: the test's transpiler would wrap them in a helper the page does not have.
          const focused = await page.evaluate(() => {
            const element = document.activeElement as HTMLElement | null;
            if (!element || element === document.body) return null;
            const style = getComputedStyle(element);
            const outline = style.outlineStyle !== 'none' && Number.parseFloat(style.outlineWidth) > 0;
            return {
              what: element.id ? `#${element.id}` : `${element.tagName.toLowerCase()}[${element.getAttribute('aria-label') ?? ''}]`,
              place:
                element.id === 'sura-search'
                  ? 'the sura search'
                  : element.closest('#ayat')
                    ? 'the aya list'
                    : element.matches('#members li:not([data-master]) button.mute')
                      ? "Amina's Mute button"
                      : null,
              indicator: outline ? `outline ${style.outlineStyle} ${style.outlineWidth}` : style.boxShadow !== 'none' ? 'box-shadow' : null,
            };
          });
          if (!focused) continue;
          path.push(focused.what);
          if (focused.place && wanted.get(focused.place) === null) {
            assert.ok(focused.indicator, `${focused.place} (${focused.what}) has focus but no outline or box-shadow shows it`);
            wanted.set(focused.place, focused.indicator);
          }
        }
        for (const [place, indicator] of wanted) t.diagnostic(`${place}: ${indicator}`);
        const missed = [...wanted].filter(([, found]) => found === null).map(([place]) => place);
        assert.deepEqual(missed, [], `Tab never reached these; the path was ${path.join(' → ')}`);
      },
    );

    await t.test('the end notice: the student kicked', async () => {
      const kicked = await request(server.http, 'POST', '/api/room/kick', { uuid: student.uuid, room_name: room });
      assert.equal(kicked.status, 200, JSON.stringify(kicked.body));
      await student.page.locator('#ended:not([hidden])').waitFor({ timeout: WAIT_MS });
      await assertAccessible(student.page, 'the end notice (phone)');
    });
  });

  test('the teacher on a phone, the class sheet open', async () => {
    const room = 'a11y-phone';
    const teacher = await join({ room, name: 'Ustadha Maryam', role: 'teacher' }, PHONE);
    const yusuf = await nodeStudent(room, 'yusuf', 'Yusuf');
    await teacher.page.getByLabel('Sura', { exact: true }).selectOption('18');
    await teacher.page.locator('#ayat li[data-aya="110"]').waitFor({ timeout: WAIT_MS });
    await teacher.page.getByRole('button', { name: 'Aya 10', exact: true }).tap();
    await waitForAya(teacher.page, 10);
    await yusuf.offerCorrection();
    await until(yusuf, (state) => state.corrections.includes('yusuf'));
    await teacher.page.getByRole('button', { name: /^Class \(2\)/ }).tap();
    await teacher.page.getByRole('button', { name: 'Accept the correction request of Yusuf', exact: true }).waitFor({ timeout: WAIT_MS });
    await teacher.page.getByRole('button', { name: 'Mute Yusuf', exact: true }).waitFor({ timeout: WAIT_MS });
    await assertAccessible(teacher.page, "the teacher's class sheet (phone)");
  });

  test('no page threw', () => {
    assert.deepEqual(
      pages.flatMap((page) => page.errors),
      [],
    );
  });
});

describe('the dashboard', () => {
  const API_KEY = 'a11y-api-key-0123456789';
  let server: TestServer;
  let browser: Browser;
  let teacher: RoomClient | undefined;

  before(async () => {
    server = await startServer({ API_KEY, JOIN_TOKEN_SECRET: 'a11y-join-token-secret-0123456789abcdef' });
    browser = await launchBrowser();
  });
  after(async () => {
    teacher?.close();
    await browser?.close();
    await server?.close();
  });

  test('the sign-in form of a closed server, then signed in with a room open', async (t) => {
    const admin = new AdminClient({ url: server.http, apiKey: API_KEY });
    await admin.createRoom('halaqa-1', 'teacher');
    const { token } = await admin.mintJoinToken({ room: 'halaqa-1', uuid: 'teacher', name: 'Ustadh Ahmad' });
    teacher = new RoomClient({ url: server.ws, room: 'halaqa-1', uuid: 'teacher', token, WebSocket });
    await teacher.connect();
    const { page, errors } = await openAppPage(browser, `${server.http}/admin/`, DESKTOP);

    await t.test('the sign-in form', async () => {
      await page.getByLabel('API key').waitFor({ timeout: WAIT_MS });
      await assertAccessible(page, "the dashboard's sign-in form");
    });

    await t.test('signed in, a room open: its members, the tail with a line', async () => {
      await page.getByLabel('API key').fill(API_KEY);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Open room halaqa-1' }).click({ timeout: WAIT_MS });
      await page.locator('#detail-members tr[data-uuid="teacher"]').waitFor({ timeout: WAIT_MS });
      await page.locator('#tail-status[data-state="ready"]').waitFor({ timeout: WAIT_MS });
      await teacher!.moveSura(2);
      await page.locator('#tail-body tr[data-action="MoveSura"]').waitFor({ timeout: WAIT_MS });
      await page.locator('#nodes-body tr[data-node]').first().waitFor({ timeout: WAIT_MS });
      await assertAccessible(page, 'the signed-in dashboard, a room open');
    });
    assert.deepEqual(errors, [], 'the page threw');
  });
});
