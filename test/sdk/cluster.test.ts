import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { AdminClient } from '../../sdk/src/admin-client.js';
import { type Clock, systemClock } from '../../sdk/src/clock.js';
import { type ConnectionStatus, joinUrl, RoomClient, type RoomClientOptions } from '../../sdk/src/room-client.js';
import type { RoomSnapshot } from '../../sdk/src/room-state.js';
import type { TokenReason } from '../../sdk/src/tokens.js';
import type { RoomEvent } from '../../sdk/src/wire.js';
import { startNodes, stopNodes, type WigglypuffNode } from '../support/cluster.js';
import { RedisServer } from '../support/redis.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { WsClient } from '../support/ws-client.js';
import { refusal, status, until } from './waits.js';

/*
 * The SDK's room client on a real cluster: redis-server and Wigglypuff node processes, `ws` as the
 * SDK's WebSocket. Every client's applied events are recorded, so "nothing lost, nothing twice" is
 * checked seq by seq, not only by the state it ends in.
 */

const NODE_ENV = {
  NODE_TIMEOUT_MS: '1000',
  // Long enough for a resume on another node under load; short enough that a dead node's eviction
  // (node timeout + grace) is seen within the test.
  RECONNECT_GRACE_MS: '5000',
  LOG_LEVEL: 'info', // the harness waits for the "listening" line
};
const WAIT_MS = 15_000;

const reconnecting = (client: RoomClient) => status(client, (next) => next.status === 'reconnecting');
const connected = (client: RoomClient) => status(client, (next) => next.status === 'connected');

/** What one client applied from the moment it is recorded. */
interface Log {
  client: RoomClient;
  /** The state's seq when the recording started. */
  startSeq: number;
  /** Every room-wide event applied, in the order applied (own commands included, applied on their Ack). */
  events: RoomEvent[];
  /** Snapshots that replaced the state after the start (a resume that was not gap-free). */
  snapshots: string[];
  connections: ConnectionStatus[];
}

function record(client: RoomClient): Log {
  assert.ok(client.state, `${client.uuid} has a state`);
  const log: Log = { client, startSeq: client.state.seq, events: [], snapshots: [], connections: [] };
  client.on('state', (_state, change) => {
    if (change.kind === 'event') log.events.push(change.event);
    else log.snapshots.push(change.via);
  });
  client.on('connection', (next) => log.connections.push(next));
  return log;
}

/** The same keys in the same order, so events from different clients compare as text. */
const canonical = (event: RoomEvent): string =>
  JSON.stringify(Object.fromEntries(Object.entries(event).sort(([a], [b]) => a.localeCompare(b))));

const range = (from: number, to: number): number[] => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/**
 * Every client applied every event from its start to `finalSeq` exactly once, in seq order (no
 * gap, no duplicate, no snapshot in between), each the same event at the same seq as the
 * reference log; every reconnect was a gap-free resume.
 */
function assertGapFree(logs: Log[], finalSeq: number): void {
  const reference = new Map<number, string>();
  for (const log of logs) {
    const uuid = log.client.uuid;
    assert.deepEqual(log.snapshots, [], `${uuid}: no snapshot replaced the state`);
    assert.deepEqual(
      log.events.map((event) => event.seq),
      range(log.startSeq + 1, finalSeq),
      `${uuid}: every event once, in seq order, without a gap`,
    );
    for (const event of log.events) {
      const seen = reference.get(event.seq);
      if (seen === undefined) reference.set(event.seq, canonical(event));
      else assert.equal(canonical(event), seen, `${uuid}: the same event at seq ${event.seq} as the others`);
    }
    const reconnects = log.connections.filter((next) => next.status === 'connected');
    assert.deepEqual(
      reconnects.map((next) => next.status === 'connected' && next.via),
      reconnects.map(() => 'resumed'),
      `${uuid}: every reconnect resumed gap-free`,
    );
  }
}

/** Every client holds the same room (but for `self`), and so does the server. */
async function assertSameRoom(clients: RoomClient[], admin: AdminClient): Promise<RoomSnapshot> {
  const [first, ...rest] = clients.map((client) => {
    const { self: _self, ...room } = client.state!;
    return room;
  });
  for (const [i, room] of rest.entries()) assert.deepEqual(room, first, `${clients[i + 1]!.uuid} holds what ${clients[0]!.uuid} holds`);
  const state = clients[0]!.state!;
  const view = await admin.getRoom(state.room);
  assert.deepEqual(
    {
      users: view.users,
      sura: view.id_quran,
      aya: view.aya,
      muted: [...view.muted].sort(),
      mutedAll: view.muted_all,
      corrections: view.corrections,
    },
    {
      users: state.members.map((member) => member.uuid),
      sura: state.sura,
      aya: state.aya,
      muted: [...state.muted].sort(),
      mutedAll: state.mutedAll,
      corrections: state.corrections,
    },
    'the server holds the same room',
  );
  return state;
}

/** Everyone reaches `seq`. */
const allAt = (clients: RoomClient[], seq: number) => Promise.all(clients.map((client) => until(client, (state) => state.seq === seq)));

/** Matches the proxy's first line of `uuid`'s joins to `room` (`GET /api/room/join/{room}/{uuid}?... HTTP/1.1`). */
const joinOf = (room: string, uuid: string) => {
  const path = `GET /api/room/join/${room}/${uuid}`;
  return (line: string) => line.startsWith(path) && (line[path.length] === '?' || line[path.length] === ' ');
};

const membershipChanges = (log: Log) =>
  log.events.filter((event) => event.action === 'NewUser' || event.action === 'UserLeave').map((event) => `${event.action} ${event.uuid}`);

describe('SDK on three nodes with Redis', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  let a: WigglypuffNode, b: WigglypuffNode, c: WigglypuffNode;
  let admin: AdminClient;
  // Each client of the first tests reaches its node through a proxy, so the test can cut its TCP
  // connection (the server sees it lost, without a close frame) or keep it away while the others act.
  let pa: TcpProxy, pb: TcpProxy, pc: TcpProxy;
  const clients: RoomClient[] = [];
  const client = (url: string[], options: Omit<RoomClientOptions, 'url' | 'WebSocket'>) => {
    const created = new RoomClient({ url, WebSocket, ...options });
    clients.push(created);
    return created;
  };

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(3, { ...NODE_ENV, REDIS_URL: redis.url });
    [a, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
    admin = new AdminClient({ url: a.http });
    [pa, pb, pc] = (await Promise.all([a, b, c].map((node) => TcpProxy.start(node.http)))) as [TcpProxy, TcpProxy, TcpProxy];
  });
  after(async () => {
    for (const created of clients) created.close();
    await Promise.all([pa, pb, pc].map((proxy) => proxy?.close()));
    await stopNodes(nodes);
    await redis.stop();
  });

  test('sockets cut by the SDK and by the network: every client resumes by itself, and every event is applied once, in order', async () => {
    const through = (...order: TcpProxy[]) => order.map((proxy) => proxy.ws);
    await admin.createRoom('sdk-cluster', 'teacher');
    const teacher = client(through(pa, pb, pc), { room: 'sdk-cluster', uuid: 'teacher', name: 'Ustadh Ahmad' });
    const ali = client(through(pb, pc, pa), { room: 'sdk-cluster', uuid: 'ali', name: 'علي' });
    const bilal = client(through(pc, pa, pb), { room: 'sdk-cluster', uuid: 'bilal' });
    const omar = client(through(pa, pb, pc), { room: 'sdk-cluster', uuid: 'omar' });
    const everyone = [teacher, ali, bilal, omar];
    await teacher.connect();
    for (const student of [ali, bilal, omar]) await student.connect(); // in turn: the members' order is known
    await until(teacher, (state) => state.members.length === 4);
    await allAt(everyone, teacher.state!.seq);
    const logs = everyone.map(record);

    await teacher.moveSura(2);
    await teacher.clickAya(1);
    await ali.offerCorrection();
    await bilal.offerCorrection();

    // 1. The teacher and a student lose their sockets (the SDK's hook) and are kept away while the others act.
    pa.hold();
    pb.hold();
    teacher.simulateDrop();
    ali.simulateDrop();
    await omar.muteUser();
    await bilal.withdrawCorrection();
    await omar.offerCorrection();
    assert.equal(teacher.status.status, 'reconnecting');
    assert.equal(ali.status.status, 'reconnecting');
    pa.release();
    pb.release();
    await Promise.all([connected(teacher), connected(ali)]);
    await allAt(everyone, omar.state!.seq);

    // 2. The network cuts the teacher's and another student's connections (reset, the server's side first).
    await teacher.clickAya(2);
    pa.hold();
    pc.hold();
    assert.equal(pa.cut(joinOf('sdk-cluster', 'teacher')), 1, "the teacher's connection");
    assert.equal(pc.cut(), 1, "bilal's connection");
    await Promise.all([reconnecting(teacher), reconnecting(bilal)]);
    await omar.unmuteUser();
    await ali.withdrawCorrection();
    pa.release();
    pc.release();
    await Promise.all([connected(teacher), connected(bilal)]);

    // 3. A student cut by the network while the teacher moves the class on.
    pb.hold();
    assert.equal(pb.cut(), 1, "ali's connection");
    await reconnecting(ali);
    await teacher.moveSura(3);
    await teacher.clickAya(4);
    await teacher.answerCorrection('omar', true);
    await teacher.muteAll();
    pb.release();
    await connected(ali);

    // 4. A student dropped by the hook while the teacher acts.
    pc.hold();
    bilal.simulateDrop();
    await teacher.unmuteUser('bilal');
    await teacher.clickAya(5);
    pc.release();
    await connected(bilal);

    const finalSeq = teacher.state!.seq;
    await allAt(everyone, finalSeq);
    assertGapFree(logs, finalSeq);
    const state = await assertSameRoom(everyone, admin);
    assert.deepEqual([state.sura, state.aya, state.mutedAll, state.corrections], [3, 5, true, []]);
    assert.deepEqual(state.muted, ['ali', 'omar']);
    assert.deepEqual(state.members, [
      { uuid: 'teacher', name: 'Ustadh Ahmad' },
      { uuid: 'ali', name: 'علي' },
      { uuid: 'bilal' },
      { uuid: 'omar' },
    ]);
    for (const log of logs) assert.deepEqual(membershipChanges(log), [], `${log.client.uuid}: nobody seen leaving or joining again`);
    // Each dropped client reconnected as often as it was cut, and only that.
    const reconnects = (log: Log) => log.connections.filter((next) => next.status === 'connected').length;
    assert.deepEqual(logs.map(reconnects), [2, 2, 2, 0]);
  });

  test("a master's command in flight when its socket is cut rejects with not_connected and is never sent again; the state after the resume says whether it was applied", async () => {
    await admin.createRoom('sdk-cluster-flight', 'teacher');
    const teacher = client([pa.ws, pb.ws], { room: 'sdk-cluster-flight', uuid: 'teacher' });
    const ali = client([pb.ws, pc.ws], { room: 'sdk-cluster-flight', uuid: 'ali' });
    await teacher.connect();
    await ali.connect();
    await until(teacher, (state) => state.members.length === 2);
    await teacher.moveSura(2);
    await teacher.clickAya(1);
    await allAt([teacher, ali], teacher.state!.seq);
    const [teacherLog, aliLog] = [teacher, ali].map(record) as [Log, Log];
    const teacherLine = joinOf('sdk-cluster-flight', 'teacher');

    // Applied, its Ack lost: the server took the ClickAya, the teacher never hears back before the cut.
    assert.equal(pa.freeze(teacherLine, 'down'), 1);
    const applied = teacher.clickAya(7);
    await until(ali, (state) => state.aya === 7);
    assert.equal(pa.cut(teacherLine), 1);
    assert.equal((await refusal(applied)).code, 'not_connected');
    // The resume replays the teacher's own ClickAya as the event itself (it never saw it live), so the
    // teacher learns what its command changed without a fresh snapshot.
    assert.deepEqual(await status(teacher, (next) => next.status === 'connected'), { status: 'connected', via: 'resumed', url: pa.ws });
    await until(teacher, (state) => state.aya === 7);
    const replayed = teacherLog.events.at(-1);
    assert.deepEqual(replayed, { action: 'ClickAya', aya: 7, seq: ali.state!.seq });

    // Never sent: the server never got it, the class stays where it was.
    assert.equal(pa.freeze(teacherLine, 'up'), 1);
    const lost = teacher.clickAya(8);
    assert.equal(pa.cut(teacherLine), 1);
    assert.equal((await refusal(lost)).code, 'not_connected');
    assert.deepEqual(await status(teacher, (next) => next.status === 'connected'), { status: 'connected', via: 'resumed', url: pa.ws });
    await teacher.ping(); // the replay, if any, has arrived
    assert.equal(teacher.state!.aya, 7);

    await teacher.clickAya(9);
    const finalSeq = teacher.state!.seq;
    await allAt([teacher, ali], finalSeq);
    assertGapFree([teacherLog, aliLog], finalSeq);
    assert.deepEqual(
      aliLog.events.filter((event) => event.action === 'ClickAya').map((event) => event.action === 'ClickAya' && event.aya),
      [7, 9],
      'the student saw the applied one once, and never the lost one',
    );
    assert.deepEqual(membershipChanges(aliLog), [], 'the student never saw the teacher leave or come back');
    await assertSameRoom([teacher, ali], admin);
  });

  test('a student away beyond the grace period: the others see it leave and come back once each, and its state ends equal to theirs', async () => {
    const room = 'sdk-cluster-long';
    await admin.createRoom(room, 'teacher');
    const teacher = client([pa.ws, pc.ws], { room, uuid: 'teacher' });
    const ali = client([pb.ws, pc.ws], { room, uuid: 'ali', name: 'Ali', connectTimeoutMs: 60_000 });
    const bilal = client([pc.ws, pa.ws], { room, uuid: 'bilal' });
    const everyone = [teacher, ali, bilal];
    await teacher.connect();
    await ali.connect();
    await bilal.connect();
    await until(teacher, (state) => state.members.length === 3);
    await teacher.moveSura(2);
    await ali.offerCorrection();
    await allAt(everyone, ali.state!.seq);
    const logs = everyone.map(record);

    pb.hold();
    assert.equal(pb.cut(joinOf(room, 'ali')), 1);
    await reconnecting(ali);
    await teacher.clickAya(10);
    // Kept away until the grace (5 s) is over: the others see ali leave, and the queue lose it.
    await until(teacher, (state) => !state.members.some((member) => member.uuid === 'ali'), 20_000);
    assert.deepEqual(teacher.state!.corrections, []);
    await teacher.clickAya(11);
    pb.release();
    await until(teacher, (state) => state.members.some((member) => member.uuid === 'ali'));
    await status(ali, (next) => next.status === 'connected');
    await teacher.clickAya(12);
    const finalSeq = teacher.state!.seq;
    await allAt(everyone, finalSeq);

    assertGapFree([logs[0]!, logs[2]!], finalSeq);
    for (const log of [logs[0]!, logs[2]!]) {
      assert.deepEqual(membershipChanges(log), ['UserLeave ali', 'NewUser ali'], `${log.client.uuid}: ali left once and came back once`);
    }
    const seqs = logs[1]!.events.map((event) => event.seq);
    assert.deepEqual(
      seqs,
      [...new Set(seqs)].sort((x, y) => x - y),
      'ali: nothing applied twice, nothing out of order',
    );
    assert.equal(ali.state!.aya, 12);
    await assertSameRoom(everyone, admin);
    assert.deepEqual(ali.state!.members.at(-1), { uuid: 'ali', name: 'Ali' }, 'back at the end of the members, with its name');
  });

  test('a node killed mid-class: its clients move to other nodes by themselves and the class goes on; a graceful stop moves them at once', async () => {
    await admin.createRoom('sdk-cluster-kill', 'teacher');
    const teacher = client([a.ws, c.ws, b.ws], { room: 'sdk-cluster-kill', uuid: 'teacher' });
    const ali = client([b.ws, c.ws, a.ws], { room: 'sdk-cluster-kill', uuid: 'ali' });
    const bilal = client([b.ws, a.ws, c.ws], { room: 'sdk-cluster-kill', uuid: 'bilal' });
    const omar = client([c.ws, a.ws, b.ws], { room: 'sdk-cluster-kill', uuid: 'omar' });
    const everyone = [teacher, ali, bilal, omar];
    await teacher.connect();
    for (const student of [ali, bilal, omar]) await student.connect(); // in turn: the members' order is known
    // A plain client on node b that never comes back: its leave shows the dead node's users were evicted.
    const { client: zaid } = await WsClient.join(b.ws, 'sdk-cluster-kill', 'zaid');
    await until(teacher, (state) => state.members.length === 5);
    await teacher.moveSura(18);
    await teacher.clickAya(1);
    await allAt(everyone, teacher.state!.seq);
    const logs = everyone.map(record);

    await b.kill('SIGKILL');
    await zaid.closed;
    const [aliBack, bilalBack] = await Promise.all([connected(ali), connected(bilal)]);
    assert.deepEqual(aliBack, { status: 'connected', via: 'resumed', url: c.ws }, 'ali: the next node of its list');
    assert.deepEqual(bilalBack, { status: 'connected', via: 'resumed', url: a.ws }, 'bilal: the next node of its list');
    await teacher.clickAya(2);
    await allAt(everyone, teacher.state!.seq);
    assert.ok(
      everyone.every((one) => one.state!.aya === 2),
      "the teacher's ClickAya reached everyone",
    );

    // The dead node's users are evicted after the node timeout and the grace: zaid, not the ones who moved.
    await until(teacher, (state) => !state.members.some((member) => member.uuid === 'zaid'), 20_000);
    await teacher.clickAya(3);
    await allAt(everyone, teacher.state!.seq);
    assert.deepEqual((await admin.getRoom('sdk-cluster-kill')).users, ['teacher', 'ali', 'bilal', 'omar']);

    // A graceful stop of node c: Reconnect and 1012, the clients on it go to their next node at once.
    await c.stop();
    const [aliMoved, omarMoved] = await Promise.all([
      status(ali, (next) => next.status === 'connected' && next.url !== c.ws),
      status(omar, (next) => next.status === 'connected' && next.url !== c.ws),
    ]);
    assert.deepEqual(aliMoved, { status: 'connected', via: 'resumed', url: a.ws });
    assert.deepEqual(omarMoved, { status: 'connected', via: 'resumed', url: a.ws });
    const restart = logs[3]!.connections.find((next) => next.status === 'reconnecting');
    assert.equal(restart?.status === 'reconnecting' && restart.cause.kind, 'service_restart');
    assert.equal(restart?.status === 'reconnecting' && restart.delayMs, 0, 'at once');
    await teacher.clickAya(4);
    await teacher.muteUser('omar');

    const finalSeq = teacher.state!.seq;
    await allAt(everyone, finalSeq);
    assertGapFree(logs, finalSeq);
    const state = await assertSameRoom(everyone, admin);
    assert.deepEqual([state.sura, state.aya, state.muted], [18, 4, ['omar']]);
    for (const log of logs) assert.deepEqual(membershipChanges(log), ['UserLeave zaid'], `${log.client.uuid}: only zaid left`);
  });
});

describe('SDK on a closed cluster: join tokens that expire mid-class', () => {
  const API_KEY = 'sdk-cluster-api-key-0123456789';
  const TTL_S = 10; // the smallest POST /api/token accepts
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  let admin: AdminClient;
  const clients: RoomClient[] = [];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(2, {
      ...NODE_ENV,
      REDIS_URL: redis.url,
      API_KEY,
      JOIN_TOKEN_SECRET: 'sdk-cluster-join-token-secret-0123456789abcdef',
    });
    admin = new AdminClient({ url: nodes[0]!.http, apiKey: API_KEY });
  });
  after(async () => {
    for (const created of clients) created.close();
    await stopNodes(nodes);
    await redis.stop();
  });

  test('after the tokens expired, dropped sockets reconnect through the provider (renewed ahead, or after the 401) and the class goes on', async () => {
    const [a, b] = nodes as [WigglypuffNode, WigglypuffNode];
    const room = 'sdk-tokens';
    await admin.createRoom(room, 'teacher');
    const issued: Record<string, { reason: TokenReason; token: string }[]> = { ali: [], bilal: [] };
    const provider =
      (uuid: 'ali' | 'bilal') =>
      async ({ reason }: { reason: TokenReason }): Promise<string> => {
        const { token } = await admin.mintJoinToken({ room, uuid, ttl: TTL_S });
        issued[uuid]!.push({ reason, token });
        return token;
      };
    // Its device's clock is five minutes behind: it takes an expired token for a good one, so only
    // the server's 401 tells it.
    const behind: Clock = { ...systemClock, now: () => Date.now() - 5 * 60_000 };
    const { token: teacherToken } = await admin.mintJoinToken({ room, uuid: 'teacher', ttl: 3600 });
    const make = (options: RoomClientOptions) => {
      const created = new RoomClient(options);
      clients.push(created);
      return created;
    };
    const teacher = make({ url: [a.ws, b.ws], room, uuid: 'teacher', token: teacherToken, WebSocket });
    const ali = make({ url: [a.ws, b.ws], room, uuid: 'ali', token: provider('ali'), WebSocket });
    const bilal = make({ url: [b.ws, a.ws], room, uuid: 'bilal', token: provider('bilal'), WebSocket, clock: behind });
    const everyone = [teacher, ali, bilal];
    await teacher.connect();
    await Promise.all([ali.connect(), bilal.connect()]);
    await until(teacher, (state) => state.members.length === 3);
    await teacher.moveSura(2);
    await teacher.clickAya(1);
    await allAt(everyone, teacher.state!.seq);
    const logs = everyone.map(record);

    // Wait for the real expiry: until the server refuses the students' first tokens (a plain GET of
    // the join URL runs the upgrade's checks: 426 while the token is good, 401 once it expired).
    const refusal = async (node: WigglypuffNode, uuid: string, token: string) => {
      const response = await fetch(joinUrl(node.http, room, uuid, { token }).replace(/^ws/, 'http'));
      return { status: response.status, body: (await response.json()) as { error?: { message: string } } };
    };
    const deadline = Date.now() + (TTL_S + 10) * 1000;
    for (;;) {
      const answers = await Promise.all([refusal(a, 'ali', issued.ali![0]!.token), refusal(b, 'bilal', issued.bilal![0]!.token)]);
      if (answers.every((answer) => answer.status === 401)) {
        for (const answer of answers) assert.equal(answer.body.error?.message, 'the join token has expired');
        break;
      }
      for (const answer of answers) assert.equal(answer.status, 426, 'good until it expires');
      assert.ok(Date.now() < deadline, 'the tokens expire within their ttl');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    // Open connections outlive their tokens.
    await teacher.clickAya(2);
    await allAt(everyone, teacher.state!.seq);

    ali.simulateDrop();
    bilal.simulateDrop();
    await teacher.clickAya(3);
    await Promise.all([connected(ali), connected(bilal)]);
    await teacher.clickAya(4);

    const finalSeq = teacher.state!.seq;
    await allAt(everyone, finalSeq);
    assertGapFree(logs, finalSeq);
    const state = await assertSameRoom(everyone, admin);
    assert.equal(state.aya, 4);
    assert.deepEqual(
      issued.ali!.map((entry) => entry.reason),
      ['join', 'expired'],
      'ali: renewed before the reconnect, its clock saying the token expired',
    );
    assert.deepEqual(
      issued.bilal!.map((entry) => entry.reason),
      ['join', 'unauthorized'],
      'bilal: renewed after the server refused the expired token',
    );
    const refused = logs[2]!.connections.find((next) => next.status === 'reconnecting' && next.cause.kind === 'refused');
    assert.equal(refused?.status === 'reconnecting' && refused.cause.status, 401);
    assert.equal(refused?.status === 'reconnecting' && refused.delayMs, 0, 'the first 401 is retried at once');
    assert.ok(
      !logs[1]!.connections.some((next) => next.status === 'reconnecting' && next.cause.kind === 'refused'),
      'ali was never refused',
    );
  });
});

describe('SDK on two nodes, one of which hangs', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  const clients: RoomClient[] = [];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(2, { ...NODE_ENV, REDIS_URL: redis.url });
  });
  after(async () => {
    for (const created of clients) created.close();
    for (const node of nodes) node.process.child.kill('SIGCONT');
    await stopNodes(nodes);
    await redis.stop();
  });

  test('a node frozen mid-class (SIGSTOP: its connections open and silent): the keep-alive notices, the client moves on, and the class goes on', async () => {
    const [a, b] = nodes as [WigglypuffNode, WigglypuffNode];
    const admin = new AdminClient({ url: a.http });
    const room = 'sdk-frozen';
    await admin.createRoom(room, 'teacher');
    const make = (options: Omit<RoomClientOptions, 'WebSocket'>) => {
      const created = new RoomClient({ WebSocket, ...options });
      clients.push(created);
      return created;
    };
    const teacher = make({ url: [a.ws, b.ws], room, uuid: 'teacher' });
    const ali = make({ url: [b.ws, a.ws], room, uuid: 'ali', keepAlive: { intervalMs: 500, timeoutMs: 1000 } });
    await teacher.connect();
    await ali.connect();
    await until(teacher, (state) => state.members.length === 2);
    await teacher.moveSura(36);
    await teacher.clickAya(1);
    await allAt([teacher, ali], teacher.state!.seq);
    const [teacherLog, aliLog] = [teacher, ali].map(record) as [Log, Log];

    b.process.child.kill('SIGSTOP');
    await reconnecting(ali);
    assert.deepEqual(await connected(ali), { status: 'connected', via: 'resumed', url: a.ws });
    assert.deepEqual(
      aliLog.connections.flatMap((next) => (next.status === 'reconnecting' ? [next.cause.kind] : [])),
      ['keepalive'],
      'the silent connection is noticed by the keep-alive, and the next attempt goes to the next node (not the hung one)',
    );
    await teacher.clickAya(2);
    await allAt([teacher, ali], teacher.state!.seq);
    assert.equal(ali.state!.aya, 2);

    // The frozen node wakes up: it finds its connections gone; the class is not disturbed.
    b.process.child.kill('SIGCONT');
    await eventuallyReady(b);
    await teacher.clickAya(3);
    const finalSeq = teacher.state!.seq;
    await allAt([teacher, ali], finalSeq);
    assertGapFree([teacherLog, aliLog], finalSeq);
    for (const log of [teacherLog, aliLog]) assert.deepEqual(membershipChanges(log), [], `${log.client.uuid}: nobody left`);
    await assertSameRoom([teacher, ali], admin);
  });
});

/** Polls the node's /readyz until it answers 200 (bounded). */
async function eventuallyReady(node: WigglypuffNode, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ready = await fetch(`${node.http}/readyz`).then(
      (response) => response.status === 200,
      () => false,
    );
    if (ready) return;
    assert.ok(Date.now() < deadline, `${node.id} ready again`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
