/**
 * The built SDK (sdk/dist) in real headless Chromium against a real server: the browser's own
 * WebSocket and fetch, no `terminate` (a given-up socket is left for the server to replace), and a
 * refused join diagnosed by the probe (a browser's WebSocket hides the HTTP status). A Node client
 * (the SDK over `ws`) is the other participant. Chromium is the Debian package, as in browser.test.ts.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { RoomClient } from '../../sdk/src/room-client.js';
import type { RoomSnapshot } from '../../sdk/src/room-state.js';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/browser.js';
import { createRoom, startServer, type TestServer } from '../support/server.js';
import { until } from './waits.js';

const sdk = resolve(fileURLToPath(new URL('../../sdk', import.meta.url)));
/** This test's own build (package.test.ts builds sdk/dist; the two may run at once). */
const dist = mkdtempSync(join(tmpdir(), 'wigglypuff-sdk-browser-'));

let s: TestServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

before(async () => {
  execFileSync(process.execPath, [join(sdk, 'scripts', 'build.mjs'), '--out', dist], { stdio: 'pipe' });
  s = await startServer({ RECONNECT_GRACE_MS: '10000' });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  page = await browser.newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  // The SDK's files, served on the server's origin (so the refusal probe is same-origin).
  await page.route(`${s.http}/sdk/**`, (route) =>
    route.fulfill({ path: join(dist, new URL(route.request().url()).pathname.slice('/sdk/'.length)), contentType: 'text/javascript' }),
  );
  await page.goto(`${s.http}/`);
});
after(async () => {
  await browser?.close();
  await s?.close();
  rmSync(dist, { recursive: true, force: true });
});

test('a teacher page runs the SDK in Chromium: joins, moves the class, drops and resumes gap-free', async () => {
  await createRoom(s.http, 'sdk-browser', 'teacher');
  const student = new RoomClient({ url: s.ws, room: 'sdk-browser', uuid: 'ali', name: 'علي', WebSocket });
  try {
    const members = await page.evaluate(async (ws) => {
      const sdk = await import('/sdk/index.js' as string);
      const teacher = new sdk.RoomClient({ url: ws, room: 'sdk-browser', uuid: 'teacher', name: 'Ustadh Ahmad' });
      const statuses: unknown[] = [];
      teacher.on('connection', (status: unknown) => statuses.push(status));
      Object.assign(window, { teacher, statuses });
      const state = await teacher.connect();
      return state.members;
    }, s.ws);
    assert.deepEqual(members, [{ uuid: 'teacher', name: 'Ustadh Ahmad' }]);
    await student.connect();

    const refused = await page.evaluate(async () => {
      const { teacher } = window as any;
      await new Promise<void>((done) => {
        if (teacher.state.members.length === 2) done();
        else teacher.on('state', (state: RoomSnapshot) => state.members.length === 2 && done());
      });
      await teacher.moveSura(2);
      await teacher.clickAya(255);
      try {
        await teacher.clickAya(287); // beyond the schema's bound (the longest sura has 286)
        return null;
      } catch (error: any) {
        return { code: error.code, of: error.of, aya: teacher.state.aya, names: teacher.state.members.map((m: any) => m.name) };
      }
    });
    assert.deepEqual(refused, { code: 'invalid_message', of: 'ClickAya', aya: 255, names: ['Ustadh Ahmad', 'علي'] });
    await until(student, (state) => state.sura === 2 && state.aya === 255);

    // The browser's WebSocket has no terminate: the given-up socket stays open until the new join replaces it.
    const resumed = await page.evaluate(async () => {
      const { teacher, statuses } = window as any;
      statuses.length = 0;
      teacher.simulateDrop();
      const back = new Promise((done) => teacher.once('connection', (status: any) => status.status === 'connected' && done(status)));
      const status = await Promise.race([back, new Promise((_, fail) => setTimeout(() => fail(new Error('no resume')), 5000))]);
      await teacher.clickAya(7);
      return { status, first: statuses[0].status, seq: teacher.state.seq };
    });
    assert.deepEqual((resumed as any).status, { status: 'connected', via: 'resumed', url: s.ws });
    assert.equal((resumed as any).first, 'reconnecting');
    const state = await until(student, (next) => next.aya === 7);
    assert.equal(state.seq, (resumed as any).seq);
    assert.deepEqual(
      state.members.map((member) => member.uuid),
      ['teacher', 'ali'],
      'the teacher never left',
    );
  } finally {
    student.close();
  }
});

test('in a browser, a refused join is diagnosed by the probe: a room that does not exist stops for good', async () => {
  const result = await page.evaluate(async (ws) => {
    const sdk = await import('/sdk/index.js' as string);
    const client = new sdk.RoomClient({ url: ws, room: 'sdk-nowhere', uuid: 'ali' });
    try {
      await client.connect();
      return null;
    } catch (error: any) {
      return { code: error.code, status: client.status };
    }
  }, s.ws);
  assert.deepEqual(result, {
    code: 'room_not_found',
    status: { status: 'closed', reason: 'room_not_found', message: 'room sdk-nowhere does not exist' },
  });
  assert.deepEqual(pageErrors, []);
});
