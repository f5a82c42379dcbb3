/**
 * The operator dashboard (web/admin/, built on the SDK's AdminClient and bundled into
 * dist/public/admin/ by scripts/build-web.mjs, which runs once before these tests) in real headless
 * Chromium: against a closed two-node cluster on a real Redis, with a teacher and a student joined
 * through the SDK's RoomClient on different nodes, and against an open server. The page is driven
 * by its roles and labels, as an operator (or a screen reader) finds its way.
 */

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Browser, chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { AdminClient } from '../sdk/src/admin-client.js';
import { RoomClient } from '../sdk/src/room-client.js';
import { status, until } from './sdk/waits.js';
import { buildWeb, CHROMIUM, CHROMIUM_ARGS } from './support/browser.js';
import { startNodes, stopNodes, type WigglypuffNode } from './support/cluster.js';
import { RedisServer } from './support/redis.js';
import { startServer, type TestServer } from './support/server.js';
import { TcpProxy } from './support/tcp-proxy.js';
import { WsClient } from './support/ws-client.js';

const WAIT_MS = 15_000;
const API_KEY = 'dashboard-api-key-0123456789';
const SECRET = 'dashboard-join-token-secret-0123456789';

// A fresh clone has no build output: the server serves the dashboard from dist/public/admin/, built here once.
before(() => {
  buildWeb();
});

/** A browser page that records what it throws; the test fails on any. */
async function openPage(browser: Browser, url: string, viewport = { width: 1280, height: 900 }) {
  const page = await browser.newPage({ viewport });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(url);
  return { page, errors };
}

const memberRow = (page: Page, uuid: string) => page.locator(`#detail-members tr[data-uuid="${uuid}"]`);

describe('the dashboard of a closed cluster (two nodes, one Redis)', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  let a: WigglypuffNode;
  let b: WigglypuffNode;
  let browser: Browser;
  const clients: RoomClient[] = [];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(2, { REDIS_URL: redis.url, API_KEY, JOIN_TOKEN_SECRET: SECRET, NODE_TIMEOUT_MS: '2000' });
    [a, b] = nodes as [WigglypuffNode, WigglypuffNode];
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    for (const client of clients) client.close();
    await browser?.close();
    await stopNodes(nodes ?? []);
    await redis?.stop();
  });

  test('sign in (a wrong key refused first), both nodes, a room live: its events in the tail, a kick, read-only', async () => {
    const admin = new AdminClient({ url: a.http, apiKey: API_KEY });
    await admin.createRoom('halaqa-1', 'teacher');
    const join = async (node: WigglypuffNode, uuid: string, name: string) => {
      const { token } = await admin.mintJoinToken({ room: 'halaqa-1', uuid, name });
      const client = new RoomClient({ url: node.ws, room: 'halaqa-1', uuid, token, WebSocket });
      clients.push(client);
      await client.connect();
      return client;
    };
    const teacher = await join(b, 'teacher', 'Ustadh Ahmad');
    const student = await join(a, 'ali', 'Ali');
    await until(teacher, (state) => state.members.some((member) => member.uuid === 'ali'));

    const { page, errors } = await openPage(browser, `${a.http}/admin`); // redirected to /admin/
    assert.equal(new URL(page.url()).pathname, '/admin/');
    const keyField = page.getByLabel('API key');
    await keyField.waitFor({ timeout: WAIT_MS });
    await page.getByText(/reloading or closing the page signs you out/).waitFor();

    await keyField.fill('not-the-key-0123456789');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refusal = page.locator('#sign-in-error[data-kind="error"]');
    await refusal.waitFor({ timeout: WAIT_MS });
    assert.match((await refusal.textContent()) ?? '', /^The server refused the key: .+/);
    assert.equal(await refusal.getAttribute('role'), 'status');
    assert.ok(await keyField.isVisible(), 'still on the form');
    assert.ok(await page.locator('#dashboard').isHidden());

    await keyField.fill(API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#dashboard').waitFor({ timeout: WAIT_MS });
    assert.ok(await page.locator('#open-warning').isHidden(), 'no open-server warning on a closed server');
    assert.equal(await keyField.inputValue().catch(() => ''), '', 'the form does not keep the key');
    const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
    assert.deepEqual(stored, { local: 0, session: 0, cookie: '' }, 'the key is in memory only');

    // Both nodes, the one that served the page marked.
    const nodeRows = page.locator('#nodes-body tr[data-node]');
    await page.waitForFunction(() => document.querySelectorAll('#nodes-body tr[data-node]').length === 2, null, { timeout: WAIT_MS });
    const ids = await nodeRows.locator('th').allTextContents();
    assert.deepEqual(
      ids.map((id) => id.replace(/^(node-\d).*$/, '$1')),
      ['node-0', 'node-1'],
      `the nodes listed: ${ids.join(', ')}`,
    );
    const self = page.locator('#nodes-body tr.self');
    assert.equal(await self.count(), 1);
    assert.match((await self.locator('th').textContent()) ?? '', new RegExp(`^${a.id}`));
    assert.match((await self.textContent()) ?? '', /this node/);

    // The room, its members.
    const roomRow = page.locator('#rooms-body tr[data-room="halaqa-1"]');
    await roomRow.waitFor({ timeout: WAIT_MS });
    assert.equal(await roomRow.locator('td').first().textContent(), '2', 'two members');
    await page.getByRole('button', { name: 'Open room halaqa-1' }).click();
    await page.getByRole('heading', { name: 'Room halaqa-1' }).waitFor({ timeout: WAIT_MS });
    await memberRow(page, 'ali').waitFor({ timeout: WAIT_MS });
    assert.match((await memberRow(page, 'ali').textContent()) ?? '', /Ali/);
    assert.match((await memberRow(page, 'teacher').textContent()) ?? '', /Ustadh Ahmad/);
    await page.locator('#tail-status', { hasText: 'Watching 1 room.' }).waitFor({ timeout: WAIT_MS });

    // The teacher's commands (on the other node) in the tail, newest first, and in the detail.
    await teacher.moveSura(2);
    await teacher.clickAya(255);
    const click = page.locator('#tail-body tr[data-action="ClickAya"]', { hasText: 'ClickAya 255' });
    await click.waitFor({ timeout: WAIT_MS });
    assert.match((await click.textContent()) ?? '', /^\d\d:\d\d:\d\dhalaqa-1\d+ClickAya 255$/);
    const actions = await page.locator('#tail-body tr').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.action));
    assert.ok(actions.indexOf('ClickAya') < actions.indexOf('MoveSura'), `newest first: ${actions.join(', ')}`);
    await page.locator('#detail-passage', { hasText: '2:255' }).waitFor({ timeout: WAIT_MS });

    // Kick the student: confirmed in the page; their client is closed as kicked, the detail drops them.
    await page.getByRole('button', { name: 'Kick ali' }).click();
    await page.getByRole('group', { name: /^Kick ali\?/ }).waitFor();
    assert.equal(student.status.status, 'connected', 'nothing happens before the confirmation');
    await page.getByRole('button', { name: 'Yes, kick ali' }).click();
    const closed = await status(student, (next) => next.status === 'closed');
    assert.equal(closed.status === 'closed' && closed.reason, 'kicked');
    await memberRow(page, 'ali').waitFor({ state: 'detached', timeout: WAIT_MS });
    await page.locator('#notice', { hasText: 'Kicked ali from halaqa-1.' }).waitFor();
    await page.locator('#tail-body tr', { hasText: 'UserLeave ali' }).waitFor({ timeout: WAIT_MS });

    // Read-only: every action is gone, and back.
    const kickTeacher = page.getByRole('button', { name: 'Kick teacher' });
    const deleteRoom = page.getByRole('button', { name: 'Delete room halaqa-1' });
    assert.ok((await kickTeacher.isVisible()) && (await deleteRoom.isVisible()));
    await page.getByLabel('Read-only').check();
    await kickTeacher.waitFor({ state: 'hidden' });
    assert.ok(await deleteRoom.isHidden());
    assert.equal(await page.locator('.action:visible').count(), 0, 'no action visible');
    assert.equal(new URL(page.url()).searchParams.get('readonly'), '1', 'the address keeps the mode');
    await page.getByLabel('Read-only').uncheck();
    await kickTeacher.waitFor({ state: 'visible' });

    // Pause holds new lines until resumed.
    await page.getByRole('button', { name: 'Pause' }).click();
    await teacher.clickAya(256);
    await page.getByRole('button', { name: 'Resume (1 held)' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#tail-body tr', { hasText: 'ClickAya 256' }).count(), 0);
    await page.getByRole('button', { name: 'Resume (1 held)' }).click();
    await page.locator('#tail-body tr', { hasText: 'ClickAya 256' }).waitFor();

    // A reload signs out: the key was nowhere but in the page.
    await page.reload();
    await keyField.waitFor({ timeout: WAIT_MS });
    assert.ok(await page.locator('#dashboard').isHidden());
    assert.deepEqual(errors, [], 'the page threw');
    await page.close();
  });

  test('in a narrow window the tables stay readable: the page does not scroll sideways, the tables do', async () => {
    const { page, errors } = await openPage(browser, `${b.http}/admin/`, { width: 380, height: 800 });
    await page.getByLabel('API key').fill(API_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#nodes-body tr[data-node]').first().waitFor({ timeout: WAIT_MS });
    const widths = await page.evaluate(() => ({ page: document.documentElement.scrollWidth, window: window.innerWidth }));
    assert.ok(widths.page <= widths.window, `the page is ${widths.page} px wide in a ${widths.window} px window`);
    assert.deepEqual(errors, []);
    await page.close();
  });
});

describe('the dashboard of an open server', () => {
  let s: TestServer;
  let browser: Browser;

  before(async () => {
    s = await startServer();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('opens without a key and warns that the server is open; a room deleted after a confirmation; ?readonly=1 hides the actions', async () => {
    const admin = new AdminClient({ url: s.http });
    await admin.createRoom('open-room', 'teacher');
    const teacher = new RoomClient({ url: s.ws, room: 'open-room', uuid: 'teacher', WebSocket });
    await teacher.connect();

    const { page, errors } = await openPage(browser, `${s.http}/admin/`);
    const warning = page
      .getByRole('status')
      .filter({ hasText: 'This server is open: anyone can manage rooms. Set API_KEY and JOIN_TOKEN_SECRET.' });
    await warning.waitFor({ timeout: WAIT_MS });
    assert.ok(await page.getByLabel('API key').isHidden(), 'no sign-in on an open server');
    assert.ok(await page.getByRole('button', { name: 'Sign out' }).isHidden());
    await page.getByRole('button', { name: 'Open room open-room' }).click({ timeout: WAIT_MS });
    await memberRow(page, 'teacher').waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: 'Delete room open-room' }).click();
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Delete room open-room' }).click();
    await page.getByRole('button', { name: 'Yes, delete open-room' }).click();
    const closed = await status(teacher, (next) => next.status === 'closed');
    assert.equal(closed.status === 'closed' && closed.reason, 'room_deleted');
    await page.locator('#notice', { hasText: 'Deleted room open-room.' }).waitFor({ timeout: WAIT_MS });
    await page.locator('#rooms-body tr[data-room="open-room"]').waitFor({ state: 'detached', timeout: WAIT_MS });
    assert.ok(await page.locator('#detail').isHidden());
    assert.deepEqual(await admin.listRooms(), []);
    await page.close();

    await admin.createRoom('watched', 'teacher');
    const { page: readOnly, errors: readOnlyErrors } = await openPage(browser, `${s.http}/admin?readonly=1`);
    await readOnly.getByRole('button', { name: 'Open room watched' }).click({ timeout: WAIT_MS });
    await readOnly.getByRole('heading', { name: 'Room watched' }).waitFor();
    await readOnly.locator('#detail-master', { hasText: 'teacher' }).waitFor({ timeout: WAIT_MS });
    assert.ok(await readOnly.getByLabel('Read-only').isChecked());
    assert.ok(await readOnly.getByRole('button', { name: 'Delete room watched' }).isHidden());
    assert.equal(await readOnly.locator('.action:visible').count(), 0);
    teacher.close();
    assert.deepEqual([...errors, ...readOnlyErrors], [], 'the page threw');
  });

  test('the tail follows again, after a short wait, when its stream is cut', async () => {
    const admin = new AdminClient({ url: s.http });
    await admin.createRoom('cut', 'teacher');
    const teacher = new RoomClient({ url: s.ws, room: 'cut', uuid: 'teacher', WebSocket });
    await teacher.connect();
    await teacher.moveSura(1);
    const proxy = await TcpProxy.start(s.http);
    try {
      const { page, errors } = await openPage(browser, `${proxy.http}/admin/`);
      const tailStatus = page.locator('#tail-status');
      await page.locator('#tail-status[data-state="ready"]').waitFor({ timeout: WAIT_MS });
      await teacher.clickAya(2);
      await page.locator('#tail-body tr', { hasText: 'ClickAya 2' }).waitFor({ timeout: WAIT_MS });

      proxy.cut(); // every connection of the page, its event stream's among them
      await page.locator('#tail-status[data-state="waiting"]').waitFor({ timeout: WAIT_MS });
      assert.match((await tailStatus.textContent()) ?? '', /^The event stream ended; reconnecting in 1 s…$/);
      await page.locator('#tail-status[data-state="ready"]').waitFor({ timeout: WAIT_MS });
      await teacher.clickAya(3);
      await page.locator('#tail-body tr', { hasText: 'ClickAya 3' }).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(errors, [], 'the page threw');
      await page.close();
    } finally {
      teacher.close();
      await proxy.close();
      await admin.deleteRoom('cut');
    }
  });

  test('rooms come a page of 20 at a time; the tail follows the rooms of the page shown', async () => {
    const admin = new AdminClient({ url: s.http });
    const names = Array.from({ length: 25 }, (_, index) => `page-${String(index).padStart(2, '0')}`);
    for (const name of names) await admin.createRoom(name, 'teacher');
    const before = (await admin.roomsPage({ limit: 100 })).rooms.map((room) => room.name);
    const firstPage = before.slice(0, 20);
    const onFirst = names.find((name) => firstPage.includes(name));
    const onSecond = names.find((name) => !firstPage.includes(name));
    assert.ok(onFirst && onSecond);
    const teachers = await Promise.all(
      [onFirst, onSecond].map(async (room) => {
        const client = new RoomClient({ url: s.ws, room, uuid: 'teacher', WebSocket });
        await client.connect();
        await client.moveSura(1);
        return client;
      }),
    );
    const [first, second] = teachers as [RoomClient, RoomClient];
    try {
      const { page, errors } = await openPage(browser, `${s.http}/admin/`);
      const range = page.locator('#rooms-range');
      await range.filter({ hasText: `Rooms 1–20 of ${before.length}` }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#rooms-body tr[data-room]').count(), 20);
      assert.ok(await page.getByRole('button', { name: 'Previous page' }).isDisabled());
      await page.locator('#tail-status', { hasText: 'Watching 20 rooms.' }).waitFor({ timeout: WAIT_MS });
      await first.clickAya(4);
      await page.locator('#tail-body tr', { hasText: 'ClickAya 4' }).waitFor({ timeout: WAIT_MS });

      await page.getByRole('navigation', { name: 'Room pages' }).getByRole('button', { name: 'Next page' }).click();
      await range.filter({ hasText: `Rooms 21–${before.length} of ${before.length}` }).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(
        await page.locator('#rooms-body tr[data-room]').evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.room)),
        before.slice(20),
      );
      await page.locator('#tail-status', { hasText: `Watching ${before.length - 20} room` }).waitFor({ timeout: WAIT_MS });
      await first.clickAya(5); // no longer followed
      await second.clickAya(6);
      await page.locator('#tail-body tr', { hasText: 'ClickAya 6' }).waitFor({ timeout: WAIT_MS });
      assert.equal(await page.locator('#tail-body tr', { hasText: 'ClickAya 5' }).count(), 0, 'the first page is no longer followed');

      await page.getByRole('button', { name: 'Previous page' }).click();
      await range.filter({ hasText: `Rooms 1–20 of ${before.length}` }).waitFor({ timeout: WAIT_MS });
      assert.deepEqual(errors, [], 'the page threw');
      await page.close();
    } finally {
      for (const teacher of teachers) teacher.close();
      for (const name of names) await admin.deleteRoom(name);
    }
  });

  test('the tail keeps the newest 200 lines of a busy room', async () => {
    const admin = new AdminClient({ url: s.http });
    await admin.createRoom('busy', 'teacher');
    const { page, errors } = await openPage(browser, `${s.http}/admin/`);
    await page.getByRole('button', { name: 'Open room busy' }).click({ timeout: WAIT_MS });
    await page.locator('#tail-status', { hasText: /^Watching \d+ rooms?\.$/ }).waitFor({ timeout: WAIT_MS });
    const join = async (uuid: string) => {
      const client = new RoomClient({ url: s.ws, room: 'busy', uuid, WebSocket });
      await client.connect();
      return client;
    };
    const teacher = await join('teacher');
    const students = await Promise.all(['s1', 's2', 's3', 's4', 's5', 's6'].map(join));
    // 6 × 40 queue events (each student within its rate limit's burst), then the teacher's last word.
    await Promise.all(
      students.map(async (student) => {
        for (let round = 0; round < 20; round++) {
          await student.offerCorrection();
          await student.withdrawCorrection();
        }
      }),
    );
    await teacher.moveSura(1);
    await teacher.clickAya(7);
    const newest = page.locator('#tail-body tr').first();
    await page.locator('#tail-body tr', { hasText: 'ClickAya 7' }).waitFor({ timeout: WAIT_MS });
    assert.match((await newest.textContent()) ?? '', /ClickAya 7$/);
    assert.equal(await page.locator('#tail-body tr').count(), 200);
    for (const client of [teacher, ...students]) client.close();
    assert.deepEqual(errors, [], 'the page threw');
    await page.close();
  });
});

describe('the dashboard when it falls behind the events', () => {
  let s: TestServer;
  let browser: Browser;

  before(async () => {
    // Without the rate limits, one teacher can send events faster than a page that stopped reading takes them.
    s = await startServer({ WS_RATE_LIMIT_PER_SEC: '1000000', WS_RATE_LIMIT_BURST: '1000000' });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await s?.close();
  });

  test('events the server left out are one line: "N events dropped (the dashboard fell behind)"', async () => {
    await new AdminClient({ url: s.http }).createRoom('flood', 'teacher');
    const { client: teacher } = await WsClient.join(s.ws, 'flood', 'teacher');
    teacher.send({ action: 'MoveSura', id_quran: 2 });
    const { page, errors } = await openPage(browser, `${s.http}/admin/`);
    await page.getByRole('button', { name: 'Open room flood' }).click({ timeout: WAIT_MS });
    await page.locator('#tail-status[data-state="ready"]').waitFor({ timeout: WAIT_MS });

    // Every line the tail ever shows (the dropped one is soon pushed out by the events after it).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { lines: string[] }).lines = seen;
      new MutationObserver((records) => {
        for (const record of records)
          for (const node of record.addedNodes) seen.push(`${(node as HTMLElement).className}|${node.textContent}`);
      }).observe(document.getElementById('tail-body')!, { childList: true });
    });

    // The page's thread is held (its stream unread) until the server counts a drop, asked by a
    // synchronous request, which runs no script of the page meanwhile.
    const held = page.evaluate((timeoutMs) => {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const request = new XMLHttpRequest();
        request.open('GET', '/metrics', false);
        request.send();
        const dropped = /^wigglypuff_operator_events_dropped_total (\d+)/m.exec(request.responseText);
        if (dropped && Number(dropped[1]) > 0) return true;
        if (Date.now() > end) return false;
      }
    }, 30_000);
    let settled = false;
    void held.finally(() => (settled = true));
    for (let sent = 0; !settled && sent < 200_000; sent++) {
      teacher.send({ action: 'ClickAya', aya: 1 + (sent % 280) });
      if (sent % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await held, true, 'the server dropped events for the page that did not read');
    const status = page.locator('#tail-status', { hasText: / \d+ events? dropped since sign-in\.$/ });
    await status.waitFor({ timeout: WAIT_MS });
    const lines = await page.evaluate(() => (window as unknown as { lines: string[] }).lines.filter((line) => line.startsWith('dropped|')));
    assert.ok(lines.length > 0, 'a dropped line was shown');
    assert.match(lines[0] ?? '', /^dropped\|\d\d:\d\d:\d\d\d+ events? dropped \(the dashboard fell behind\)$/);
    const total = lines.reduce((sum, line) => sum + Number(/\|\d\d:\d\d:\d\d(\d+) event/.exec(line)?.[1]), 0);
    assert.match((await status.textContent()) ?? '', new RegExp(` ${total} events? dropped since sign-in\\.$`), 'the status adds them up');
    assert.ok((await page.locator('#tail-body tr').count()) <= 200);
    await teacher.close();
    assert.deepEqual(errors, [], 'the page threw');
  });
});
