import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CommandTracker } from '../../sdk/src/commands.js';
import { Emitter } from '../../sdk/src/emitter.js';
import { SdkError } from '../../sdk/src/errors.js';
import { backoffDelay, DEFAULT_BACKOFF, defaultEnvironment, RetryTimer } from '../../sdk/src/reconnect.js';
import { diagnoseRefusal, jwtExpiry, TokenSource } from '../../sdk/src/tokens.js';
import { fakeFetch, fakeJwt, ManualClock } from './support.js';

describe('backoff', () => {
  test('doubles from 250 ms, capped at 10 s (60 s hidden), jittered within [half, all]', () => {
    const top = () => 0.999_999_9;
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => backoffDelay(attempt, DEFAULT_BACKOFF, top)),
      [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000],
    );
    assert.equal(backoffDelay(20, DEFAULT_BACKOFF, top, true), 60_000);
    assert.equal(
      backoffDelay(3, DEFAULT_BACKOFF, () => 0),
      1000,
    );
    const spread = new Set(Array.from({ length: 50 }, (_, i) => backoffDelay(4, DEFAULT_BACKOFF, () => i / 50)));
    assert.ok(spread.size > 40, 'random numbers spread the delay');
    for (const delay of spread) assert.ok(delay >= 2000 && delay <= 4000);
    assert.equal(
      backoffDelay(2, { ...DEFAULT_BACKOFF, jitter: 0 }, () => 0.3),
      1000,
      'no jitter: the plain delay',
    );
  });
});

describe('RetryTimer', () => {
  test('runs once after its delay, or at once on wake; dispose stops the environment listeners', async () => {
    const clock = new ManualClock();
    const wakes: (() => void)[] = [];
    let stopped = 0;
    const timer = new RetryTimer(clock, {
      onOnline: (callback) => {
        wakes.push(callback);
        return () => stopped++;
      },
    });
    let runs = 0;
    timer.schedule(1000, () => runs++);
    await clock.advance(999);
    assert.equal(runs, 0);
    await clock.advance(1);
    assert.equal(runs, 1);
    wakes[0]!();
    assert.equal(runs, 1, 'nothing scheduled: a wake does nothing');
    timer.schedule(5000, () => runs++);
    wakes[0]!();
    assert.equal(runs, 2);
    await clock.advance(10_000);
    assert.equal(runs, 2, 'the woken attempt does not run again');
    timer.dispose();
    assert.equal(stopped, 1);
  });

  test("the browser's window online event and document visibility", () => {
    const listeners: Record<string, (() => void)[]> = {};
    const target = (name: string) => ({
      addEventListener: (type: string, listener: () => void) => {
        listeners[`${name}:${type}`] = [...(listeners[`${name}:${type}`] ?? []), listener];
      },
      removeEventListener: (type: string, listener: () => void) => {
        listeners[`${name}:${type}`] = listeners[`${name}:${type}`]!.filter((other) => other !== listener);
      },
    });
    const document = { ...target('document'), visibilityState: 'hidden' };
    const scope = globalThis as any;
    scope.window = target('window');
    scope.document = document;
    try {
      const environment = defaultEnvironment();
      assert.equal(environment.isHidden?.(), true);
      let calls = 0;
      const stopOnline = environment.onOnline!(() => calls++);
      const stopVisible = environment.onVisible!(() => calls++);
      listeners['window:online']![0]!();
      listeners['document:visibilitychange']![0]!();
      assert.equal(calls, 1, 'still hidden: no wake');
      document.visibilityState = 'visible';
      listeners['document:visibilitychange']![0]!();
      assert.equal(calls, 2);
      stopOnline();
      stopVisible();
      assert.deepEqual(listeners['window:online'], []);
      assert.deepEqual(listeners['document:visibilitychange'], []);
    } finally {
      delete scope.window;
      delete scope.document;
    }
    assert.deepEqual(defaultEnvironment(), {}, 'in Node: no browser environment');
  });
});

describe('tokens', () => {
  test('jwtExpiry reads exp, and nothing from what is not a JWT', () => {
    assert.equal(jwtExpiry(fakeJwt(1_767_229_200)), 1_767_229_200_000);
    assert.equal(jwtExpiry('opaque-token'), undefined);
    assert.equal(jwtExpiry('a.!!!.c'), undefined);
  });

  test('TokenSource: asks at join, keeps a good token, asks again when expired or refused', async () => {
    const clock = new ManualClock();
    const reasons: string[] = [];
    const source = new TokenSource(
      ({ reason }) => {
        reasons.push(reason);
        return fakeJwt(Math.floor(clock.now() / 1000) + 3600);
      },
      'halaqa',
      'ali',
      clock,
    );
    const first = await source.get();
    assert.equal(await source.get(), first);
    clock.time += 3600_000 - 29_000;
    await source.get();
    source.refused();
    await source.get();
    assert.deepEqual(reasons, ['join', 'expired', 'unauthorized']);
  });

  test('a fixed token is used as it is; none on an open server', async () => {
    const clock = new ManualClock();
    const fixed = new TokenSource('tok', 'r', 'u', clock);
    fixed.refused();
    assert.equal(await fixed.get(), 'tok');
    assert.equal(fixed.renewable, false);
    assert.equal(await new TokenSource(undefined, 'r', 'u', clock).get(), undefined);
  });

  test('diagnoseRefusal: from the error message, else from a GET of the join URL, else unknown', async () => {
    assert.deepEqual(await diagnoseRefusal('ws://h/x', 'Unexpected server response: 503', undefined), { status: 503 });
    const probe = fakeFetch(() => ({ status: 404, body: { success: false, error: { code: 'room_not_found', message: 'gone' } } }));
    assert.deepEqual(await diagnoseRefusal('wss://h/api/room/join/r/u?token=t', undefined, probe.fetch), {
      status: 404,
      code: 'room_not_found',
      message: 'gone',
    });
    assert.deepEqual(probe.urls, ['https://h/api/room/join/r/u?token=t']);
    const accepted = fakeFetch(() => ({ status: 426, body: { success: false, error: { code: 'upgrade_required', message: 'ws only' } } }));
    assert.equal((await diagnoseRefusal('ws://h/x', undefined, accepted.fetch)).code, 'upgrade_required');
    const broken = async () => {
      throw new TypeError('Failed to fetch');
    };
    assert.deepEqual(await diagnoseRefusal('ws://h/x', undefined, broken), {});
    assert.deepEqual(await diagnoseRefusal('ws://h/x', undefined, undefined), {});
  });
});

describe('Emitter', () => {
  test('isolates throwing listeners, supports once and off', () => {
    const errors: unknown[] = [];
    const emitter = new Emitter<{ tick: [n: number] }>((error) => errors.push(error));
    const seen: number[] = [];
    emitter.on('tick', () => {
      throw new Error('boom');
    });
    const off = emitter.on('tick', (n) => seen.push(n));
    emitter.once('tick', (n) => seen.push(n * 10));
    emitter.emit('tick', 1);
    emitter.emit('tick', 2);
    off();
    emitter.emit('tick', 3);
    assert.deepEqual(seen, [1, 10, 2]);
    assert.equal(errors.length, 3);
    assert.equal(emitter.listenerCount('tick'), 1);
  });

  test('an error hook that throws is swallowed', () => {
    const emitter = new Emitter<{ tick: [] }>(() => {
      throw new Error('hook');
    });
    emitter.on('tick', () => {
      throw new Error('listener');
    });
    assert.doesNotThrow(() => emitter.emit('tick'));
  });
});

describe('CommandTracker', () => {
  test('ids are unique and within 1..64 characters; a transmit that throws rejects with not_connected', async () => {
    const tracker = new CommandTracker(new ManualClock(), 1000, 'abcd-');
    const ids = new Set(Array.from({ length: 1000 }, () => tracker.nextId()));
    assert.equal(ids.size, 1000);
    for (const id of ids) assert.ok(id.length <= 64);
    await assert.rejects(
      tracker.send({ action: 'MuteAll' }, () => {
        throw new Error('socket gone');
      }),
      (error: unknown) => error instanceof SdkError && error.code === 'not_connected' && error.of === 'MuteAll',
    );
    assert.equal(tracker.size, 0);
  });

  test('an Error answering a command rejects it with the server code; failAll rejects the rest', async () => {
    const tracker = new CommandTracker(new ManualClock(), 1000, 'x-');
    const sent: { id?: string }[] = [];
    const refused = tracker.send({ action: 'MoveSura', id_quran: 3 }, (frame) => sent.push(frame));
    const dropped = tracker.send({ action: 'ClickAya', aya: 3 }, (frame) => sent.push(frame));
    const pinged = tracker.ping((frame) => sent.push(frame));
    assert.equal(tracker.refuse({ action: 'Error', of: 'MoveSura', id: sent[0]!.id!, code: 'forbidden', message: 'no' }), true);
    assert.equal(tracker.refuse({ action: 'Error', code: 'rate_limited', message: 'slow down' }), false);
    await assert.rejects(refused, (error: unknown) => error instanceof SdkError && error.code === 'forbidden' && error.message === 'no');
    tracker.failAll('not_connected');
    await assert.rejects(dropped, (error: unknown) => error instanceof SdkError && error.code === 'not_connected');
    await assert.rejects(pinged, (error: unknown) => error instanceof SdkError && error.code === 'not_connected');
    assert.equal(tracker.size, 0);
  });
});
