import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SdkError } from '../../sdk/src/errors.js';
import type { Environment } from '../../sdk/src/reconnect.js';
import { type ConnectionStatus, type DebugEntry, RoomClient, type RoomClientOptions, type StateChange } from '../../sdk/src/room-client.js';
import type { RoomSnapshot } from '../../sdk/src/room-state.js';
import type { TokenRequest } from '../../sdk/src/tokens.js';
import { fakeFetch, fakeJwt, fakeWebSocket, ManualClock, roomState, settle } from './support.js';

/** A client over scripted sockets, a manual clock and a fixed random number. */
function setup(options: Partial<RoomClientOptions> = {}, uuid = 'teacher') {
  const clock = new ManualClock();
  const ws = fakeWebSocket();
  const debug: DebugEntry[] = [];
  const random = { value: 0.5 };
  // By default the refusal probe learns nothing (as in a browser blocked by CORS).
  const unreachable = async () => {
    throw new Error('unreachable');
  };
  const client = new RoomClient({
    url: 'ws://node-a:6030',
    room: 'halaqa',
    uuid,
    WebSocket: ws.WebSocket,
    fetch: unreachable,
    clock,
    random: () => random.value,
    keepAlive: false,
    environment: {},
    debug: (entry) => debug.push(entry),
    ...options,
  });
  const statuses: ConnectionStatus[] = [];
  const changes: StateChange[] = [];
  client.on('connection', (status) => statuses.push(status));
  client.on('state', (_state, change) => changes.push(change));
  return { client, clock, ws, debug, random, statuses, changes };
}

type Setup = ReturnType<typeof setup>;

/** Joined: the first socket opened and sent `RoomState`. */
async function joined(options: Partial<RoomClientOptions> = {}, state: Record<string, unknown> = {}, uuid = 'teacher'): Promise<Setup> {
  const t = setup(options, uuid);
  const connected = t.client.connect();
  await settle();
  t.ws.last().open();
  t.ws.last().receive(roomState(state));
  await connected;
  return t;
}

const reconnecting = (statuses: ConnectionStatus[]) =>
  statuses.filter((status): status is Extract<ConnectionStatus, { status: 'reconnecting' }> => status.status === 'reconnecting');

async function rejection(promise: Promise<unknown>): Promise<SdkError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof SdkError, `an SdkError, not ${String(error)}`);
    return error;
  }
  assert.fail('expected a rejection');
}

describe('RoomClient: joining', () => {
  test('joins the room URL with its name, and builds the state from RoomState', async () => {
    const t = setup({ name: 'Ustadh Ahmad' });
    const connected = t.client.connect();
    await settle();
    const socket = t.ws.last();
    assert.equal(new URL(socket.url).pathname, '/api/room/join/halaqa/teacher');
    assert.equal(socket.query.get('name'), 'Ustadh Ahmad');
    assert.equal(socket.query.get('last_seq'), null);
    socket.open();
    socket.receive(roomState({ names: { teacher: 'Ustadh Ahmad' }, muted: ['ali'], id_quran: 2, aya: 255, corrections: ['ali'] }));
    const state = await connected;
    assert.deepEqual(state.members, [{ uuid: 'teacher', name: 'Ustadh Ahmad' }, { uuid: 'ali' }]);
    assert.equal(state.sura, 2);
    assert.equal(state.aya, 255);
    assert.deepEqual(state.muted, ['ali']);
    assert.deepEqual(state.corrections, ['ali']);
    assert.equal(state.seq, 2);
    assert.equal(t.client.state, state);
    assert.deepEqual(
      t.statuses.map((status) => status.status),
      ['connecting', 'connected'],
    );
    assert.deepEqual(t.statuses[1], { status: 'connected', via: 'join', url: 'ws://node-a:6030' });
  });

  test('an http(s) URL and a trailing slash are fine; names are URL-encoded', async () => {
    const t = setup({ url: 'https://class.example/', name: 'علي بن أحمد' }, 'ali');
    void t.client.connect();
    await settle();
    assert.ok(t.ws.last().url.startsWith('wss://class.example/api/room/join/halaqa/ali?name='));
    assert.equal(t.ws.last().query.get('name'), 'علي بن أحمد');
    t.client.close();
  });
});

describe('RoomClient: commands', () => {
  test("the sender's own ClickAya is applied only when its Ack arrives", async () => {
    const t = await joined({}, { id_quran: 1 });
    const before = t.client.state;
    const answer = t.client.clickAya(5);
    const sent = t.ws.last().lastSent('ClickAya')!;
    assert.equal(sent.aya, 5);
    assert.equal(typeof sent.id, 'string');
    await settle();
    assert.equal(t.client.state, before, 'nothing applied before the Ack');
    t.ws.last().receive({ action: 'Ack', of: 'ClickAya', id: sent.id, seq: 3 });
    assert.deepEqual(await answer, { of: 'ClickAya', id: sent.id, seq: 3 });
    assert.equal(t.client.state!.aya, 5);
    assert.equal(t.client.state!.seq, 3);
    assert.deepEqual(t.changes.at(-1), { kind: 'event', event: { action: 'ClickAya', aya: 5, seq: 3 }, own: true });
  });

  test('when the command resolves, the state already has its change (MoveSura resets the aya)', async () => {
    const t = await joined({}, { id_quran: 1, aya: 3 });
    const answer = t.client.moveSura(2);
    const { id } = t.ws.last().lastSent('MoveSura')!;
    let seenInState: RoomSnapshot | null = null;
    const done = answer.then(() => {
      seenInState = t.client.state;
    });
    t.ws.last().receive({ action: 'Ack', of: 'MoveSura', id, seq: 3 });
    await done;
    assert.equal(seenInState!.sura, 2);
    assert.equal(seenInState!.aya, null);
  });

  test('a refused command rejects with the server code and changes nothing', async () => {
    const t = await joined({}, { id_quran: 1 });
    const before = t.client.state;
    const changes = t.changes.length;
    const answer = t.client.clickAya(8);
    const { id } = t.ws.last().lastSent('ClickAya')!;
    t.ws.last().receive({ action: 'Error', of: 'ClickAya', id, code: 'aya_out_of_range', message: 'sura 1 has 7 ayat' });
    const error = await rejection(answer);
    assert.equal(error.code, 'aya_out_of_range');
    assert.equal(error.of, 'ClickAya');
    assert.equal(error.id, id);
    assert.equal(error.message, 'sura 1 has 7 ayat');
    assert.equal(t.client.state, before, 'the very same snapshot');
    assert.equal(t.changes.length, changes, 'no state event');
  });

  test('an event that also reaches the sender (MuteUser) counts once: the Ack with the same seq is a position already had', async () => {
    const t = await joined();
    const answer = t.client.muteUser('ali');
    const { id } = t.ws.last().lastSent('MuteUser')!;
    t.ws.last().receive({ action: 'MuteUser', uuid: 'ali', result: true, seq: 3 });
    t.ws.last().receive({ action: 'Ack', of: 'MuteUser', id, seq: 3 });
    assert.deepEqual(await answer, { of: 'MuteUser', id, seq: 3 });
    assert.deepEqual(t.client.state!.muted, ['ali']);
    assert.equal(t.client.state!.seq, 3);
    assert.equal(t.changes.filter((change) => change.kind === 'event').length, 1);
  });

  test('a command that changed nothing resolves with an Ack without seq', async () => {
    const t = await joined({}, { corrections: ['ali'] }, 'ali');
    const before = t.client.state;
    const answer = t.client.offerCorrection();
    const { id } = t.ws.last().lastSent('OfferCorrection')!;
    t.ws.last().receive({ action: 'Ack', of: 'OfferCorrection', id });
    assert.deepEqual(await answer, { of: 'OfferCorrection', id });
    assert.equal(t.client.state, before);
  });

  test('commands reject at once with not_connected before connect, while reconnecting, and after close', async () => {
    const t = setup();
    assert.equal((await rejection(t.client.clickAya(1))).code, 'not_connected');
    const connected = t.client.connect();
    await settle();
    assert.equal((await rejection(t.client.moveSura(1))).code, 'not_connected', 'connecting');
    t.ws.last().open();
    assert.equal((await rejection(t.client.muteAll())).code, 'not_connected', 'open but no state yet');
    t.ws.last().receive(roomState());
    await connected;
    t.ws.last().serverClose(1006);
    assert.equal(t.client.status.status, 'reconnecting');
    const error = await rejection(t.client.unmuteAll());
    assert.equal(error.code, 'not_connected');
    assert.equal(error.of, 'MuteAll');
    t.client.close();
    assert.equal((await rejection(t.client.clickAya(1))).code, 'not_connected');
  });

  test('commands in flight when the socket drops reject with not_connected and are never sent again', async () => {
    const t = await joined({}, { id_quran: 1 });
    const first = t.ws.last();
    const answer = t.client.clickAya(2);
    first.serverClose(1006);
    assert.equal((await rejection(answer)).code, 'not_connected');
    await t.clock.advance(10_000);
    const second = t.ws.last();
    assert.notEqual(second, first);
    second.open();
    second.receive({ action: 'Resumed', last_seq: 2 });
    await settle();
    assert.deepEqual(second.sent, [], 'nothing replayed');
  });

  test('no answer in time rejects with timeout; an Ack that still comes still moves the state', async () => {
    const t = await joined({ commandTimeoutMs: 1000 }, { id_quran: 1 });
    const answer = t.client.clickAya(4);
    const { id } = t.ws.last().lastSent('ClickAya')!;
    const failed = rejection(answer);
    await t.clock.advance(1000);
    const error = await failed;
    assert.equal(error.code, 'timeout');
    t.ws.last().receive({ action: 'Ack', of: 'ClickAya', id, seq: 3 });
    assert.equal(t.client.state!.aya, 4);
    assert.equal(t.client.state!.seq, 3);
  });

  test('each command sends its own frame with a fresh id', async () => {
    const t = await joined();
    const calls = [
      t.client.clickAya(1),
      t.client.moveSura(2),
      t.client.answerCorrection('ali', true),
      t.client.muteUser('ali'),
      t.client.unmuteUser('ali'),
      t.client.muteAll(),
      t.client.unmuteAll(),
    ];
    const sent = t.ws.last().sent;
    assert.deepEqual(
      sent.map(({ id: _id, ...frame }) => frame),
      [
        { action: 'ClickAya', aya: 1 },
        { action: 'MoveSura', id_quran: 2 },
        { action: 'AnswerCorrection', uuid: 'ali', result: true },
        { action: 'MuteUser', uuid: 'ali', result: true },
        { action: 'MuteUser', uuid: 'ali', result: false },
        { action: 'MuteAll', result: true },
        { action: 'MuteAll', result: false },
      ],
    );
    assert.equal(new Set(sent.map((frame) => frame.id)).size, sent.length);
    for (const frame of sent) assert.ok(frame.id.length >= 1 && frame.id.length <= 64);
    t.client.close();
    for (const call of calls) assert.equal((await rejection(call)).code, 'closed');
  });

  test('a student withdraws a correction: applied from the room-wide event', async () => {
    const t = await joined({}, { corrections: ['ali'] }, 'ali');
    const answer = t.client.withdrawCorrection();
    const { id } = t.ws.last().lastSent('WithdrawCorrection')!;
    t.ws.last().receive({ action: 'WithdrawCorrection', uuid: 'ali', seq: 3 });
    t.ws.last().receive({ action: 'Ack', of: 'WithdrawCorrection', id, seq: 3 });
    await answer;
    assert.deepEqual(t.client.state!.corrections, []);
  });

  test('ping() resolves with the round trip', async () => {
    const t = await joined();
    const rtt = t.client.ping();
    const { id } = t.ws.last().lastSent('Ping')!;
    t.clock.time += 42;
    t.ws.last().receive({ action: 'Pong', id });
    assert.equal(await rtt, 42);
  });
});

describe('RoomClient: events and listeners', () => {
  test("the others' events move the state in seq order; a stale one is ignored", async () => {
    const t = await joined();
    const socket = t.ws.last();
    socket.receive({ action: 'NewUser', uuid: 'bilal', name: 'Bilal', muted: true, seq: 3 });
    socket.receive({ action: 'OfferCorrection', uuid: 'bilal', seq: 4 });
    socket.receive({ action: 'MuteUser', uuid: 'bilal', result: true, seq: 4 });
    assert.deepEqual(t.client.state!.members.at(-1), { uuid: 'bilal', name: 'Bilal' });
    assert.deepEqual(t.client.state!.muted, ['bilal']);
    assert.deepEqual(t.client.state!.corrections, ['bilal']);
    assert.equal(t.client.state!.seq, 4);
    socket.receive({ action: 'UserLeave', uuid: 'bilal', seq: 5 });
    assert.deepEqual(t.client.state!.corrections, []);
    assert.deepEqual(t.client.state!.muted, []);
  });

  test('a listener that throws breaks neither the SDK nor the other listeners; its error goes to debug', async () => {
    const t = await joined();
    const seen: number[] = [];
    t.client.on('state', () => {
      throw new Error('a page bug');
    });
    t.client.on('state', (state) => seen.push(state.seq));
    t.client.on('event', () => {
      throw new Error('another page bug');
    });
    t.client.on('debug', () => {
      throw new Error('even the debug listener');
    });
    t.ws.last().receive({ action: 'NewUser', uuid: 'bilal', seq: 3 });
    t.ws.last().receive({ action: 'ClickAya', aya: 1, seq: 4 });
    assert.deepEqual(seen, [3, 4]);
    assert.equal(t.client.state!.seq, 4);
    const thrown = t.debug.filter((entry) => entry.message.includes('threw'));
    assert.ok(thrown.some((entry) => (entry.error as Error).message === 'a page bug'));
    assert.ok(thrown.some((entry) => (entry.error as Error).message === 'another page bug'));
    assert.ok(thrown.some((entry) => entry.message === 'a debug listener threw'));
    // Commands still work.
    const answer = t.client.muteAll();
    t.ws.last().receive({ action: 'Ack', of: 'MuteAll', id: t.ws.last().lastSent('MuteAll')!.id, seq: 5 });
    await answer;
    assert.deepEqual(t.client.state!.muted, ['ali', 'bilal']);
  });

  test('an unreadable frame is ignored (debug says so)', async () => {
    const t = await joined();
    (t.ws.last() as any).emit('message', { data: 'not json' });
    t.ws.last().receive({ nope: true });
    assert.equal(t.client.state!.seq, 2);
    assert.equal(t.debug.filter((entry) => entry.message.includes('unreadable')).length, 2);
  });

  test('a refusal no command waits for is an error event', async () => {
    const t = await joined();
    const errors: SdkError[] = [];
    t.client.on('error', (error) => errors.push(error));
    t.ws.last().receive({ action: 'Error', code: 'rate_limited', message: 'too many messages' });
    assert.equal(errors[0]?.code, 'rate_limited');
  });
});

describe('RoomClient: resume', () => {
  test('a gap in seq resumes from the last seq applied, gap-free', async () => {
    const t = await joined();
    const first = t.ws.last();
    first.receive({ action: 'ClickAya', aya: 1, seq: 3 });
    first.receive({ action: 'ClickAya', aya: 9, seq: 6 });
    assert.ok(first.terminated, 'the socket with the gap is given up without a close frame');
    assert.equal(t.client.state!.seq, 3, 'the event past the gap is not applied');
    assert.deepEqual(reconnecting(t.statuses).at(-1)?.cause.kind, 'gap');
    await t.clock.advance(0);
    const second = t.ws.last();
    assert.notEqual(second, first);
    assert.equal(second.query.get('last_seq'), '3');
    second.open();
    second.receive({ action: 'Resumed', last_seq: 3 });
    second.receive({ action: 'ClickAya', aya: 7, seq: 4 });
    second.receive({ action: 'MoveSura', id_quran: 2, seq: 5 });
    second.receive({ action: 'ClickAya', aya: 9, seq: 6 });
    assert.deepEqual(t.statuses.at(-1), { status: 'connected', via: 'resumed', url: 'ws://node-a:6030' });
    assert.equal(t.client.state!.seq, 6);
    assert.equal(t.client.state!.sura, 2);
    assert.equal(t.client.state!.aya, 9);
  });

  test('a server that keeps skipping seqs cannot spin the client: only the first resume is immediate until a stable connection', async () => {
    const t = await joined();
    t.ws.last().receive({ action: 'ClickAya', aya: 1, seq: 9 });
    assert.equal(reconnecting(t.statuses).at(-1)?.delayMs, 0);
    await t.clock.advance(0);
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    t.ws.last().receive({ action: 'ClickAya', aya: 1, seq: 9 });
    assert.ok(reconnecting(t.statuses).at(-1)!.delayMs > 0, 'the second one waits for the backoff');
    await t.clock.advance(10_000);
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    await t.clock.advance(5000);
    t.ws.last().receive({ action: 'ClickAya', aya: 1, seq: 9 });
    assert.equal(reconnecting(t.statuses).at(-1)?.delayMs, 0, 'after a stable connection: at once again');
  });

  test('a lost connection resumes with last_seq after the backoff; the others never see a gap', async () => {
    const t = await joined();
    t.ws.last().receive({ action: 'NewUser', uuid: 'bilal', seq: 3 });
    t.ws.last().serverClose(1006);
    const [status] = reconnecting(t.statuses);
    assert.equal(status?.cause.kind, 'lost');
    assert.equal(status?.cause.code, 1006);
    await t.clock.advance(status!.delayMs);
    assert.equal(t.ws.last().query.get('last_seq'), '3');
  });

  test('a resume the server cannot make gap-free gives a fresh RoomState: state replaced, missed', async () => {
    const t = await joined();
    t.ws.last().serverClose(1006);
    await t.clock.advance(10_000);
    const socket = t.ws.last();
    socket.open();
    socket.receive(roomState({ seq: 1290, missed: true, users: ['teacher', 'ali', 'bilal'], id_quran: 2, aya: 7 }));
    assert.deepEqual(t.statuses.at(-1), { status: 'connected', via: 'missed', url: 'ws://node-a:6030' });
    assert.equal(t.client.state!.seq, 1290);
    assert.equal(t.client.state!.members.length, 3);
    assert.deepEqual(t.changes.at(-1), { kind: 'snapshot', via: 'missed' });
  });

  test('an own event replayed as a bare Ack cannot be rebuilt: the client rejoins fresh (no last_seq)', async () => {
    const t = await joined({}, { id_quran: 1 });
    t.ws.last().serverClose(1006);
    await t.clock.advance(10_000);
    const resumed = t.ws.last();
    resumed.open();
    resumed.receive({ action: 'Resumed', last_seq: 2 });
    // The ClickAya this master sent just before the drop: replayed to it as an Ack without id.
    resumed.receive({ action: 'Ack', of: 'ClickAya', seq: 3 });
    assert.equal(t.client.state!.seq, 2);
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.kind, 'resync');
    await t.clock.advance(0);
    const fresh = t.ws.last();
    assert.notEqual(fresh, resumed);
    assert.equal(fresh.query.get('last_seq'), null);
    fresh.open();
    fresh.receive(roomState({ seq: 3, id_quran: 1, aya: 6 }));
    assert.equal(t.client.state!.aya, 6);
    assert.deepEqual(t.statuses.at(-1), { status: 'connected', via: 'missed', url: 'ws://node-a:6030' });
  });

  test('an own UserLeave replayed as a bare Ack is applied (the user left during a long drop)', async () => {
    const t = await joined({}, {}, 'ali');
    t.ws.last().serverClose(1006);
    await t.clock.advance(10_000);
    const socket = t.ws.last();
    socket.open();
    socket.receive({ action: 'Resumed', last_seq: 2 });
    socket.receive({ action: 'Ack', of: 'UserLeave', seq: 3 });
    assert.deepEqual(
      t.client.state!.members.map((member) => member.uuid),
      ['teacher'],
    );
    assert.equal(t.client.state!.seq, 3);
  });

  test('close 1012 and Reconnect: at once, to the next node of the list', async () => {
    const t = await joined({ url: ['ws://node-a:6030', 'ws://node-b:6030'] });
    t.ws.last().receive({ action: 'Reconnect' });
    t.ws.last().serverClose(1012);
    const status = reconnecting(t.statuses).at(-1)!;
    assert.equal(status.delayMs, 0);
    assert.equal(status.cause.kind, 'service_restart');
    await t.clock.advance(0);
    assert.ok(t.ws.last().url.startsWith('ws://node-b:6030/api/room/join/halaqa/teacher?last_seq=2'));
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    assert.deepEqual(t.statuses.at(-1), { status: 'connected', via: 'resumed', url: 'ws://node-b:6030' });
  });

  for (const [code, reason, frame] of [
    [4001, 'kicked', 'Kicked'],
    [4004, 'room_deleted', 'RoomDeleted'],
    [4009, 'replaced', 'Replaced'],
  ] as const) {
    test(`close ${code} stops for good: closed, ${reason}`, async () => {
      const t = await joined();
      const sockets = t.ws.sockets.length;
      t.ws.last().receive(frame === 'RoomDeleted' ? { action: frame, seq: 3 } : { action: frame });
      t.ws.last().serverClose(code);
      const status = t.statuses.at(-1);
      assert.equal(status?.status, 'closed');
      assert.equal(status?.status === 'closed' && status.reason, reason);
      await t.clock.advance(600_000);
      assert.equal(t.ws.sockets.length, sockets, 'no reconnect, ever');
      assert.equal(reconnecting(t.statuses).length, 0);
      assert.equal((await rejection(t.client.connect())).code, 'closed');
    });

    test(`close ${code} alone (no frame before it) stops for good too`, async () => {
      const t = await joined();
      t.ws.last().serverClose(code);
      const status = t.statuses.at(-1);
      assert.equal(status?.status === 'closed' && status.reason, reason);
    });
  }

  test('a Kicked frame wins even when the close frame is lost (1006)', async () => {
    const t = await joined();
    t.ws.last().receive({ action: 'Kicked' });
    t.ws.last().serverClose(1006);
    const status = t.statuses.at(-1);
    assert.equal(status?.status === 'closed' && status.reason, 'kicked');
  });

  for (const code of [1006, 1011, 1013, 4008, 1008]) {
    test(`close ${code} is resumed`, async () => {
      const t = await joined();
      t.ws.last().serverClose(code);
      assert.equal(t.client.status.status, 'reconnecting');
      await t.clock.advance(10_000);
      assert.equal(t.ws.last().query.get('last_seq'), '2');
    });
  }

  test('the keep-alive takes a connection without Pong as lost and resumes', async () => {
    const t = await joined({ keepAlive: { intervalMs: 1000, timeoutMs: 500 } });
    const first = t.ws.last();
    await t.clock.advance(1000);
    const ping = first.lastSent('Ping')!;
    first.receive({ action: 'Pong', id: ping.id });
    await t.clock.advance(1000);
    assert.equal(first.sent.filter((frame) => frame.action === 'Ping').length, 2, 'answered: pinged again');
    await t.clock.advance(500);
    assert.ok(first.terminated);
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.kind, 'keepalive');
    await t.clock.advance(10_000);
    assert.equal(t.ws.last().query.get('last_seq'), '2');
  });

  test('after a keep-alive failure the client resumes on the next node of the list (the silent one may hang)', async () => {
    const t = await joined({ url: ['ws://node-a:6030', 'ws://node-b:6030'], keepAlive: { intervalMs: 1000, timeoutMs: 500 } });
    await t.clock.advance(1500);
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.kind, 'keepalive');
    await t.clock.advance(10_000);
    assert.ok(t.ws.last().url.startsWith('ws://node-b:6030/api/room/join/halaqa/teacher?last_seq=2'));
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    assert.deepEqual(t.statuses.at(-1), { status: 'connected', via: 'resumed', url: 'ws://node-b:6030' });
  });

  test('a Pong without id (a server older than request ids) still answers the keep-alive', async () => {
    const t = await joined({ keepAlive: { intervalMs: 1000, timeoutMs: 500 } });
    await t.clock.advance(1000);
    t.ws.last().receive({ action: 'Pong' });
    await t.clock.advance(900);
    assert.equal(t.client.status.status, 'connected');
  });

  test('simulateDrop() loses the connection like a network would, and the client resumes', async () => {
    const t = await joined();
    const first = t.ws.last();
    t.client.simulateDrop();
    assert.ok(first.terminated);
    assert.equal(first.closedWith, undefined, 'no close frame (that would be a leave)');
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.kind, 'simulated');
    await t.clock.advance(10_000);
    assert.equal(t.ws.last().query.get('last_seq'), '2');
  });

  test('a socket without terminate is left to the server to replace, and closed only by close()', async () => {
    const t = await joined();
    const first = t.ws.last();
    (first as any).terminate = undefined;
    first.receive({ action: 'ClickAya', aya: 1, seq: 9 });
    assert.equal(first.closedWith, undefined);
    assert.equal(first.readyState, 1, 'still open: the next join replaces it');
    // The server replacing it: its Replaced and 4009 do not end the client.
    first.receive({ action: 'Replaced' });
    first.serverClose(4009);
    assert.equal(t.client.status.status, 'reconnecting');
    t.client.close();
  });
});

describe('RoomClient: the backoff', () => {
  /** Runs `n` attempts that fail before opening, returning the delays the client chose. */
  async function failingAttempts(t: Setup, n: number): Promise<number[]> {
    for (let i = 0; i < n; i++) {
      const status = reconnecting(t.statuses).at(-1)!;
      await t.clock.advance(status.delayMs);
      t.ws.last().refuse();
      await settle();
    }
    return reconnecting(t.statuses).map((status) => status.delayMs);
  }

  test('grows from 250 ms doubling to 10 s, and stays there, never giving up', async () => {
    const t = await joined();
    t.random.value = 0.999_999;
    t.ws.last().serverClose(1006);
    const delays = await failingAttempts(t, 9);
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000]);
    assert.deepEqual(
      reconnecting(t.statuses).map((status) => status.attempt),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  test('is jittered: between half and all of the delay', async () => {
    const low = await joined();
    low.random.value = 0;
    low.ws.last().serverClose(1006);
    assert.deepEqual(await failingAttempts(low, 3), [125, 250, 500, 1000]);
    const mid = await joined();
    mid.random.value = 0.5;
    mid.ws.last().serverClose(1006);
    assert.deepEqual(await failingAttempts(mid, 3), [188, 375, 750, 1500]);
  });

  test('is slower while the page is hidden, and retries at once when the network comes back or the page shows', async () => {
    let hidden = true;
    const wake: (() => void)[] = [];
    const environment: Environment = {
      isHidden: () => hidden,
      onOnline: (callback) => {
        wake.push(callback);
        return () => undefined;
      },
      onVisible: (callback) => {
        wake.push(callback);
        return () => undefined;
      },
    };
    const t = await joined({ environment });
    t.random.value = 0.999_999;
    t.ws.last().serverClose(1006);
    const delays = await failingAttempts(t, 9);
    assert.deepEqual(delays, [250, 500, 1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
    const sockets = t.ws.sockets.length;
    hidden = false;
    wake[1]!(); // visible
    await settle();
    assert.equal(t.ws.sockets.length, sockets + 1, 'retried at once');
    t.ws.last().refuse();
    await settle();
    wake[0]!(); // online
    await settle();
    assert.equal(t.ws.sockets.length, sockets + 2, 'retried at once');
  });

  test('a connection that stayed up starts the backoff over; one that flaps does not', async () => {
    const t = await joined();
    t.random.value = 0.999_999;
    t.ws.last().serverClose(1006);
    await failingAttempts(t, 3);
    await t.clock.advance(reconnecting(t.statuses).at(-1)!.delayMs);
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    t.ws.last().serverClose(1006);
    assert.equal(reconnecting(t.statuses).at(-1)!.delayMs, 4000, 'flapping: the backoff goes on growing');
    await t.clock.advance(4000);
    t.ws.last().open();
    t.ws.last().receive({ action: 'Resumed', last_seq: 2 });
    await t.clock.advance(5000);
    t.ws.last().serverClose(1006);
    assert.equal(reconnecting(t.statuses).at(-1)!.delayMs, 250, 'stable for 5 s: back to the start');
  });

  test('an attempt that never opens is given up after the connect timeout', async () => {
    const t = await joined({ connectTimeoutMs: 3000 });
    t.ws.last().serverClose(1006);
    await t.clock.advance(reconnecting(t.statuses).at(-1)!.delayMs);
    const hanging = t.ws.last();
    await t.clock.advance(3000);
    assert.ok(hanging.terminated);
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.kind, 'timeout');
  });
});

describe('RoomClient: refused joins and tokens', () => {
  test('the token provider is called at join, and again when a reconnect is refused with 401', async () => {
    const requests: TokenRequest[] = [];
    const probe = fakeFetch(() => ({
      status: 401,
      body: { success: false, error: { code: 'unauthorized', message: 'the join token has expired' } },
    }));
    const t = await joined({
      token: (request) => {
        requests.push(request);
        return `token-${requests.length}`;
      },
      fetch: probe.fetch,
    });
    assert.deepEqual(requests, [{ room: 'halaqa', uuid: 'teacher', reason: 'join' }]);
    assert.equal(t.ws.sockets[0]!.query.get('token'), 'token-1');
    t.ws.last().serverClose(1006);
    await t.clock.advance(10_000);
    assert.equal(t.ws.last().query.get('token'), 'token-1', 'a reconnect reuses a good token');
    t.ws.last().refuse();
    await settle();
    assert.equal(probe.urls.length, 1);
    assert.ok(probe.urls[0]!.startsWith('http://node-a:6030/api/room/join/halaqa/teacher?'), 'probed the join URL over HTTP');
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.status, 401);
    assert.equal(reconnecting(t.statuses).at(-1)?.delayMs, 0, 'retried at once with a new token');
    await t.clock.advance(0);
    assert.deepEqual(requests.at(-1), { room: 'halaqa', uuid: 'teacher', reason: 'unauthorized' });
    assert.equal(t.ws.last().query.get('token'), 'token-2');
    assert.equal(t.ws.last().query.get('last_seq'), '2');
    // Refused again: now with the backoff, and a new token each time.
    t.ws.last().refuse();
    await settle();
    assert.ok(reconnecting(t.statuses).at(-1)!.delayMs > 0);
    await t.clock.advance(10_000);
    assert.equal(t.ws.last().query.get('token'), 'token-3');
  });

  test("ws's error message gives the status without a probe", async () => {
    const requests: TokenRequest[] = [];
    const probe = fakeFetch(() => ({ status: 426, body: {} }));
    const t = await joined({
      token: (request) => {
        requests.push(request);
        return 'tok';
      },
      fetch: probe.fetch,
    });
    t.ws.last().serverClose(1006);
    await t.clock.advance(10_000);
    t.ws.last().refuse('Unexpected server response: 401');
    await t.clock.advance(0);
    assert.equal(probe.urls.length, 0);
    assert.equal(requests.at(-1)?.reason, 'unauthorized');
  });

  test('an expired JWT is renewed before a reconnect', async () => {
    const clockStart = new ManualClock().time;
    const requests: TokenRequest[] = [];
    const t = await joined({
      token: (request) => {
        requests.push(request);
        return fakeJwt(Math.floor(clockStart / 1000) + 60 * requests.length);
      },
    });
    t.clock.time += 120_000;
    t.ws.last().serverClose(1006);
    await t.clock.advance(10_000);
    assert.deepEqual(
      requests.map((request) => request.reason),
      ['join', 'expired'],
    );
  });

  test('a provider that fails is reported and retried with the backoff', async () => {
    let calls = 0;
    const t = setup({
      token: () => {
        calls += 1;
        if (calls === 1) throw new Error('backend down');
        return 'tok';
      },
    });
    const errors: SdkError[] = [];
    t.client.on('error', (error) => errors.push(error));
    void t.client.connect();
    await settle();
    assert.equal(errors.length, 1);
    assert.equal(reconnecting(t.statuses).at(-1)?.cause.kind, 'token');
    await t.clock.advance(10_000);
    assert.equal(t.ws.last().query.get('token'), 'tok');
  });

  test('a join refused with 404 room_not_found stops for good and connect() rejects', async () => {
    const probe = fakeFetch(() => ({
      status: 404,
      body: { success: false, error: { code: 'room_not_found', message: 'room halaqa does not exist' } },
    }));
    const t = setup({ fetch: probe.fetch });
    const connected = t.client.connect();
    await settle();
    t.ws.last().refuse();
    const error = await rejection(connected);
    assert.equal(error.code, 'room_not_found');
    assert.deepEqual(t.statuses.at(-1), { status: 'closed', reason: 'room_not_found', message: 'room halaqa does not exist' });
  });

  test('a join refused with 400 invalid_request stops for good', async () => {
    const probe = fakeFetch(() => ({
      status: 400,
      body: { success: false, error: { code: 'invalid_request', message: 'querystring.name must match' } },
    }));
    const t = setup({ fetch: probe.fetch });
    const connected = t.client.connect();
    await settle();
    t.ws.last().refuse();
    assert.equal((await rejection(connected)).code, 'invalid_request');
  });

  test('a refusal that says "try again" (503, 429, 403 room_full, unknown) is retried on the next node', async () => {
    const answers = [
      { status: 503, body: { success: false, error: { code: 'unavailable', message: 'this node is shutting down; use another' } } },
      { status: 429, body: { success: false, error: { code: 'rate_limited', message: 'too many' } } },
      { status: 403, body: { success: false, error: { code: 'room_full', message: 'full' } } },
    ];
    const probe = fakeFetch(() => answers.shift() ?? { status: 426, body: {} });
    const t = setup({ fetch: probe.fetch, url: ['ws://a', 'ws://b'] });
    void t.client.connect();
    for (const expected of ['unavailable', 'rate_limited', 'room_full', undefined]) {
      await settle();
      t.ws.last().refuse();
      await settle();
      const status = reconnecting(t.statuses).at(-1)!;
      assert.equal(status.cause.errorCode, expected);
      await t.clock.advance(status.delayMs);
    }
    assert.deepEqual(
      t.ws.sockets.map((socket) => new URL(socket.url).host),
      ['a', 'b', 'a', 'b', 'a'],
    );
    t.client.close();
  });

  test('a refusal probe that hangs is given up after the connect timeout: the cause is unknown, the client retries', async () => {
    const t = setup({ fetch: () => new Promise(() => undefined), connectTimeoutMs: 2000 });
    void t.client.connect();
    await settle();
    t.ws.last().refuse();
    await t.clock.advance(1999);
    assert.equal(reconnecting(t.statuses).length, 0);
    await t.clock.advance(1);
    const status = reconnecting(t.statuses).at(-1)!;
    assert.deepEqual(status.cause, { kind: 'refused' });
    await t.clock.advance(status.delayMs);
    assert.equal(t.ws.sockets.length, 2);
    t.client.close();
  });

  test('a URL the WebSocket refuses stops for good (invalid_request)', async () => {
    class Refusing {
      constructor(url: string) {
        throw new SyntaxError(`invalid URL ${url}`);
      }
    }
    const t = setup({ WebSocket: Refusing as never, url: 'not a url' });
    assert.equal((await rejection(t.client.connect())).code, 'invalid_request');
    assert.equal(t.client.status.status === 'closed' && t.client.status.reason, 'invalid_request');
  });

  test('a join that fails after the upgrade (Error, then 1013) is retried', async () => {
    const t = setup();
    void t.client.connect();
    await settle();
    t.ws.last().open();
    t.ws.last().receive({ action: 'Error', code: 'unavailable', message: 'the room store is unreachable' });
    t.ws.last().serverClose(1013);
    const status = reconnecting(t.statuses).at(-1)!;
    assert.equal(status.cause.errorCode, 'unavailable');
  });
});

describe('RoomClient: close and the audio seam', () => {
  test('close() leaves with a clean close and rejects what is in flight with closed', async () => {
    const t = await joined();
    const socket = t.ws.last();
    const answer = t.client.muteAll();
    t.client.close();
    assert.equal(socket.closedWith, 1000);
    assert.equal((await rejection(answer)).code, 'closed');
    assert.deepEqual(t.statuses.at(-1), { status: 'closed', reason: 'closed', message: 'closed by the app' });
    await t.clock.advance(600_000);
    assert.equal(t.ws.sockets.length, 1);
  });

  test('close() while connecting rejects connect()', async () => {
    const t = setup();
    const connected = t.client.connect();
    await settle();
    t.client.close();
    assert.equal((await rejection(connected)).code, 'closed');
  });

  test('signaling goes out with an id; answers, speakers and refused signaling come as media events', async () => {
    const t = await joined();
    const media: unknown[] = [];
    const errors: unknown[] = [];
    t.client.on('media', (message) => media.push(message));
    t.client.on('error', (error) => errors.push(error));
    const id = t.client.sendSignal({ action: 'SessionDescription', type: 'offer', sdp: 'v=0' });
    assert.deepEqual(t.ws.last().lastSent('SessionDescription'), { action: 'SessionDescription', type: 'offer', sdp: 'v=0', id });
    t.client.sendSignal({ action: 'ICECandidate', candidate: 'candidate:1', sdpMid: '0', sdpMLineIndex: 0 });
    const socket = t.ws.last();
    socket.receive({ action: 'SessionDescription', type: 'answer', sdp: 'v=0 answer' });
    socket.receive({ action: 'ActiveSpeakers', uuids: ['ali'], slots: ['ali', null, null] });
    socket.receive({ action: 'Error', of: 'ICECandidate', code: 'no_offer', message: 'send the offer first' });
    socket.receive({ action: 'MediaReconnect' });
    assert.deepEqual(
      media.map((message) => (message as { action: string }).action),
      ['SessionDescription', 'ActiveSpeakers', 'Error', 'MediaReconnect'],
    );
    assert.equal(errors.length, 0);
    assert.equal(t.client.state!.audioSlots, 3);
    t.client.simulateDrop();
    assert.throws(
      () => t.client.sendSignal({ action: 'ICECandidate', candidate: '' }),
      (error: unknown) => {
        return error instanceof SdkError && error.code === 'not_connected';
      },
    );
  });
});
