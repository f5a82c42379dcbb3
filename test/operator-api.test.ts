import assert from 'node:assert/strict';
import { get, type IncomingMessage } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { AdminClient } from '../sdk/src/admin-client.js';
import { SdkError } from '../sdk/src/errors.js';
import { type ServerSentEvent, ServerSentEventParser } from '../sdk/src/server-sent-events.js';
import type { OperatorEvent } from '../sdk/src/wire.js';
import { RedisKeys } from '../src/cluster/redis/redis-keys.js';
import { AudioParticipant } from './support/audio-participant.js';
import { startNode, startNodes, stopNodes, type WigglypuffNode } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { RedisServer } from './support/redis.js';
import { createRoom, request, startServer, type TestServer } from './support/server.js';
import { WsClient } from './support/ws-client.js';

const API_KEY = 'operator-test-key-0123456789';
const CLOSED = { API_KEY, JOIN_TOKEN_SECRET: 'operator-test-secret-0123456789abcdef' };
const WAIT_MS = 10_000;

/** Reads an operator event stream through the SDK, one event at a time, each with a timeout. */
class EventReader {
  private readonly iterator: AsyncIterator<OperatorEvent>;
  readonly controller = new AbortController();

  constructor(admin: AdminClient, rooms: string[]) {
    this.iterator = admin.events(rooms, { signal: this.controller.signal })[Symbol.asyncIterator]();
  }

  /** The next event; rejects after `timeoutMs`. `done`: the stream ended. */
  async next(timeoutMs = WAIT_MS): Promise<OperatorEvent | 'done'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no operator event in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const step = await Promise.race([this.iterator.next(), timeout]);
      return step.done ? 'done' : step.value;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Skips events until one satisfies `predicate`. */
  async until(predicate: (event: OperatorEvent) => boolean, timeoutMs = WAIT_MS): Promise<OperatorEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const event = await this.next(Math.max(1, deadline - Date.now()));
      if (event === 'done') throw new Error('the stream ended first');
      if (predicate(event)) return event;
    }
  }

  close(): void {
    this.controller.abort();
  }
}

/** What an event stream that must be refused rejects with, before its first event. */
const refusalOfEvents = (client: AdminClient, rooms: string[]): Promise<unknown> =>
  client
    .events(rooms)
    [Symbol.asyncIterator]()
    .next()
    .then(
      () => assert.fail('expected a refusal'),
      (error: unknown) => error,
    );

const metric = async (base: string, name: string, headers: Record<string, string> = {}): Promise<number> => {
  const text = await (await fetch(`${base}/metrics`, { headers })).text();
  const line = text.split('\n').find((row) => row.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : Number.NaN;
};

const assertError = (response: { status: number; body: any }, status: number, code: string) => {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.success, false);
  assert.equal(response.body.error.code, code);
};

const isoNear = (text: unknown, from: number, to: number): void => {
  assert.equal(typeof text, 'string');
  const at = Date.parse(text as string);
  assert.ok(at >= from - 1 && at <= to + 1, `${text} is between ${new Date(from).toISOString()} and ${new Date(to).toISOString()}`);
  assert.equal(new Date(at).toISOString(), text, 'ISO 8601');
};

describe('operator API on one node', () => {
  let s: TestServer;
  let admin: AdminClient;
  const startedBefore = Date.now();

  before(async () => {
    s = await startServer();
    admin = new AdminClient({ url: s.http });
  });
  after(async () => {
    await s.close();
  });

  test('GET /api/nodes lists this node alone, with its address, rooms, sockets and sane figures', async () => {
    await createRoom(s.http, 'nodes-1', 'teacher');
    const { client } = await WsClient.join(s.ws, 'nodes-1', 'teacher');
    try {
      const nodes = await admin.nodes();
      assert.equal(nodes.length, 1);
      const [self] = nodes;
      assert.equal(self!.node, s.server.node);
      assert.equal(self!.self, true);
      assert.equal(self!.address, `127.0.0.1:${new URL(s.http).port}`, 'the bound port, not PORT=0');
      isoNear(self!.started_at, startedBefore, Date.now());
      assert.ok(Number.isInteger(self!.uptime_s) && self!.uptime_s >= 0);
      assert.equal(self!.rooms, 1);
      assert.equal(self!.sockets, 1);
      assert.equal(self!.media_peers, 0);
      assert.ok(Number.isFinite(self!.cpu) && self!.cpu >= 0, `cpu ${self!.cpu}`);
      assert.ok(self!.memory.heap_used > 0 && self!.memory.rss > self!.memory.heap_used, JSON.stringify(self!.memory));
      const raw = await request(s.http, 'GET', '/api/nodes');
      assert.equal(raw.status, 200);
      assert.equal(raw.body.success, true);
    } finally {
      await client.close();
    }
    await eventually(async () => assert.equal((await admin.nodes())[0]!.sockets, 0));
  });

  test('GET /api/room/{name} is a summary: created_at, and media_node once someone offered audio', async () => {
    const from = Date.now();
    await admin.createRoom('summary-1', 'teacher');
    const to = Date.now();
    const fresh = await admin.getRoom('summary-1');
    isoNear(fresh.created_at, from, to);
    assert.equal(fresh.media_node, null, 'nobody has offered audio');
    assert.deepEqual(fresh.users, []);

    const teacher = await AudioParticipant.join(s.ws, 'summary-1', 'teacher', { toneHz: 440 });
    try {
      await teacher.waitForConnected();
      const hosted = await admin.getRoom('summary-1');
      assert.equal(hosted.media_node, s.server.node);
      assert.equal(hosted.created_at, fresh.created_at);
      assert.deepEqual(hosted.users, ['teacher']);
      assert.equal((await admin.nodes())[0]!.media_peers, 1);
    } finally {
      await teacher.close();
    }
    await eventually(async () => assert.equal((await admin.getRoom('summary-1')).media_node, null));
  });

  test('SSE: commands of a real WebSocket client arrive as `event: room`, without the internal fields', async () => {
    await admin.createRoom('sse-1', 'teacher');
    await admin.createRoom('sse-2', 'teacher');
    const head = await fetch(`${s.http}/api/events?rooms=sse-1`);
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), 'text/event-stream');
    assert.equal(head.headers.get('cache-control'), 'no-cache');
    const reader = head.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('\n\n')) text += decoder.decode((await reader.read()).value, { stream: true });
    assert.equal(text, 'event: ready\ndata: {"rooms":["sse-1"]}\n\n', 'the first event, as it is on the wire');
    await reader.cancel();

    const events = new EventReader(admin, ['sse-1', 'sse-2', 'sse-1']);
    try {
      assert.deepEqual(await events.next(), { type: 'ready', rooms: ['sse-1', 'sse-2'] });
      const { client: teacher } = await WsClient.join(s.ws, 'sse-1', 'teacher');
      const { client: student } = await WsClient.join(s.ws, 'sse-1', 'ali');
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-1',
        seq: 1,
        to: 'room',
        message: { action: 'NewUser', uuid: 'teacher', seq: 1 },
      });
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-1',
        seq: 2,
        to: 'room',
        message: { action: 'NewUser', uuid: 'ali', seq: 2 },
      });
      teacher.send({ action: 'MoveSura', id_quran: 2 });
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-1',
        seq: 3,
        to: 'room',
        message: { action: 'MoveSura', id_quran: 2, seq: 3 },
      });
      // A request id (reply) and a mute change (mutes) travel with this event inside the server only.
      teacher.send({ action: 'MuteUser', uuid: 'ali', id: 'm1' });
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-1',
        seq: 4,
        to: 'room',
        message: { action: 'MuteUser', uuid: 'ali', result: true, seq: 4 },
      });
      teacher.send({ action: 'ClickAya', aya: 255 });
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-1',
        seq: 5,
        to: 'room',
        message: { action: 'ClickAya', aya: 255, seq: 5 },
      });
      // An event for one connection: no seq.
      await admin.kick('sse-1', 'ali');
      assert.deepEqual(await events.next(), { type: 'room', room: 'sse-1', seq: null, to: 'connection', message: { action: 'Kicked' } });
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-1',
        seq: 6,
        to: 'room',
        message: { action: 'UserLeave', uuid: 'ali', seq: 6 },
      });
      // The other room followed on the same stream.
      const { client: other } = await WsClient.join(s.ws, 'sse-2', 'teacher');
      assert.deepEqual(await events.next(), {
        type: 'room',
        room: 'sse-2',
        seq: 1,
        to: 'room',
        message: { action: 'NewUser', uuid: 'teacher', seq: 1 },
      });
      await Promise.all([teacher.close(), student.close(), other.close()]);
    } finally {
      events.close();
    }
    assert.equal(await events.next(), 'done', 'aborting ends the iteration');
    await eventually(async () => assert.equal(await metric(s.http, 'wigglypuff_operator_streams'), 0), WAIT_MS);
  });

  test('SSE: every room must exist (JSON 404 before any stream); a bad list is 400', async () => {
    await admin.createRoom('sse-exists', 'teacher');
    assertError(await request(s.http, 'GET', '/api/events?rooms=sse-exists,nope'), 404, 'room_not_found');
    const refused = await refusalOfEvents(admin, ['nope']);
    assert.ok(refused instanceof SdkError);
    assert.equal(refused.code, 'room_not_found');
    assert.equal(refused.status, 404);
    const tooMany = Array.from({ length: 51 }, (_, i) => `r${i}`).join(',');
    for (const query of ['', '?rooms=', '?rooms=a,,b', '?rooms=a,', '?rooms=a%20b', `?rooms=${tooMany}`, '?rooms=a&rooms=b']) {
      assertError(await request(s.http, 'GET', `/api/events${query}`), 400, 'invalid_request');
    }
    assertError(await request(s.http, 'GET', '/api/events?rooms=..'), 404, 'room_not_found');
  });

  test('SSE: a reader that stops reading costs bounded memory; once it reads again, `dropped` says how many it lost', async () => {
    await admin.createRoom('flood', 'teacher');
    const { rooms } = s.server;
    // A member without a socket: nothing else on this node reads the flood.
    await rooms.join('flood', 'teacher', 'conn-flood', s.server.node);
    await rooms.act('flood', 'teacher', { action: 'MoveSura', id_quran: 2 });

    const seen: ServerSentEvent[] = [];
    const parser = new ServerSentEventParser();
    let response!: IncomingMessage;
    let wake: () => void = () => undefined;
    await new Promise<void>((resolve, reject) => {
      get(`${s.http}/api/events?rooms=flood`, (res) => {
        response = res;
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          seen.push(...parser.push(chunk));
          if (seen.length > 0) {
            // Ready: stop reading. The socket stops too, once Node's and the kernel's buffers are full.
            if (seen.length === 1) res.pause();
            resolve();
          }
          wake();
        });
      }).on('error', reject);
    });
    assert.equal(seen[0]!.event, 'ready');

    // Flood until the server says it dropped events for this reader, however large the buffers in between are.
    let seq = 2;
    let dropped = 0;
    for (let batch = 0; dropped === 0; batch++) {
      assert.ok(batch < 400, 'the server never dropped an event for a reader that does not read');
      for (let i = 0; i < 1000; i++) {
        await rooms.act('flood', 'teacher', { action: 'ClickAya', aya: (seq % 2) + 1 });
        seq += 1;
      }
      dropped = await metric(s.http, 'wigglypuff_operator_events_dropped_total');
    }
    const lastSeq = seq;

    response.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`seq ${lastSeq} never arrived; last: ${seen.at(-1)?.data}`)), 30_000);
      const check = () => {
        if (seen.some((event) => event.event === 'room' && JSON.parse(event.data).seq === lastSeq)) {
          clearTimeout(timer);
          resolve();
        }
      };
      wake = check;
      check();
    });
    response.destroy();

    const notices = seen.filter((event) => event.event === 'dropped');
    assert.ok(notices.length >= 1, 'a `dropped` event');
    const at = seen.findIndex((event) => event.event === 'dropped');
    const seqs = (events: ServerSentEvent[]): number[] =>
      events.filter((event) => event.event === 'room').map((event) => JSON.parse(event.data).seq);
    const before = seqs(seen.slice(0, at));
    const afterwards = seqs(seen.slice(at + 1));
    const count = JSON.parse(notices[0]!.data).count as number;
    assert.equal(notices.length, 1, 'one stall, one notice');
    assert.equal(count, dropped, 'the count is what the server dropped');
    assert.ok(afterwards.length <= 256, `at most 256 events held for the reader, got ${afterwards.length}`);
    // Nothing is lost unannounced: the events before the notice, `count` missing ones, then the rest, in order.
    // (seq 1 and 2, the join and MoveSura, came before the stream.)
    assert.deepEqual(
      before,
      Array.from({ length: before.length }, (_, i) => i + 3),
    );
    assert.equal(afterwards[0], (before.at(-1) ?? 2) + count + 1, 'the gap is exactly the dropped count');
    assert.deepEqual(
      afterwards,
      Array.from({ length: afterwards.length }, (_, i) => afterwards[0]! + i),
    );
    assert.equal(afterwards.at(-1), lastSeq);
    await eventually(async () => assert.equal(await metric(s.http, 'wigglypuff_operator_streams'), 0));
  });
});

describe('operator API: pages of rooms', () => {
  let s: TestServer;
  let admin: AdminClient;
  const names = ['r-a', 'r-b', 'r-c', 'r-d', 'r-e', 'r-f', 'r-g'];

  before(async () => {
    s = await startServer();
    admin = new AdminClient({ url: s.http });
    // Created out of order: pages are by name.
    for (const name of [...names].reverse()) await admin.createRoom(name, 'teacher');
  });
  after(async () => {
    await s.close();
  });

  test('GET /api/rooms pages by name: limit, after, next, total', async () => {
    const first = await admin.roomsPage({ limit: 3 });
    assert.deepEqual(
      first.rooms.map((room) => room.name),
      ['r-a', 'r-b', 'r-c'],
    );
    assert.equal(first.next, 'r-c');
    assert.equal(first.total, 7);
    const second = await admin.roomsPage({ limit: 3, after: first.next! });
    assert.deepEqual(
      second.rooms.map((room) => room.name),
      ['r-d', 'r-e', 'r-f'],
    );
    assert.equal(second.next, 'r-f');
    const last = await admin.roomsPage({ limit: 3, after: second.next! });
    assert.deepEqual(
      last.rooms.map((room) => room.name),
      ['r-g'],
    );
    assert.equal(last.next, null);
    assert.equal(last.total, 7);

    const all = await admin.roomsPage();
    assert.deepEqual(
      all.rooms.map((room) => room.name),
      names,
    );
    assert.equal(all.next, null);
    assert.deepEqual((await admin.roomsPage({ limit: 7 })).next, null, 'exactly `limit` rooms left: no next page');
    assert.deepEqual((await admin.roomsPage({ after: 'r-c1', limit: 1 })).rooms[0]!.name, 'r-d', '`after` need not be a room');
    assert.deepEqual(await admin.roomsPage({ after: 'z' }), { rooms: [], next: null, total: 7 });

    const [summary] = first.rooms;
    assert.equal(summary!.master_uuid, 'teacher');
    assert.equal(summary!.media_node, null);
    assert.equal(typeof summary!.created_at, 'string');
    assert.deepEqual(summary, await admin.getRoom('r-a'), 'each entry is the room summary');

    const raw = await request(s.http, 'GET', '/api/rooms?limit=100');
    assert.equal(raw.status, 200);
    assert.equal(raw.body.data.rooms.length, 7);
    for (const query of ['limit=0', 'limit=101', 'limit=x', 'limit=1.5', 'limit=-1', 'limit=', 'limit=03', 'after=a%20b', 'after=..']) {
      assertError(await request(s.http, 'GET', `/api/rooms?${query}`), 400, 'invalid_request');
    }
    const sdkRefusal = await admin.roomsPage({ limit: 0 }).then(
      () => assert.fail('expected a refusal'),
      (error: unknown) => error,
    );
    assert.ok(sdkRefusal instanceof SdkError);
    assert.equal(sdkRefusal.code, 'invalid_request');
  });
});

describe('operator API on a closed server', () => {
  let s: TestServer;

  before(async () => {
    s = await startServer(CLOSED);
  });
  after(async () => {
    await s.close();
  });

  test('nodes, rooms and events need the API key', async () => {
    const admin = new AdminClient({ url: s.http, apiKey: API_KEY });
    await admin.createRoom('closed-1', 'teacher');
    for (const path of ['/api/nodes', '/api/rooms', '/api/events?rooms=closed-1', '/api/room/closed-1']) {
      assertError(await request(s.http, 'GET', path), 401, 'unauthorized');
      assertError(await request(s.http, 'GET', path, undefined, { authorization: 'Bearer wrong-key-0123456789' }), 401, 'unauthorized');
    }
    // Without the key, even a bad query is refused for the key first.
    assertError(await request(s.http, 'GET', '/api/rooms?limit=0'), 401, 'unauthorized');
    assert.equal((await admin.nodes()).length, 1);
    assert.equal((await admin.roomsPage()).total, 1);
    const events = new EventReader(admin, ['closed-1']);
    try {
      assert.deepEqual(await events.next(), { type: 'ready', rooms: ['closed-1'] });
    } finally {
      events.close();
    }
    const anonymous = await refusalOfEvents(new AdminClient({ url: s.http }), ['closed-1']);
    assert.ok(anonymous instanceof SdkError);
    assert.equal(anonymous.code, 'unauthorized');
  });
});

describe('operator event streams and shutdown', () => {
  test('open streams end when the server closes, and the close does not wait for them', async () => {
    const s = await startServer();
    const admin = new AdminClient({ url: s.http });
    await admin.createRoom('ending', 'teacher');
    const events = new EventReader(admin, ['ending']);
    try {
      assert.equal(((await events.next()) as OperatorEvent).type, 'ready');
      await s.close();
      assert.equal(await events.next(), 'done');
    } finally {
      events.close();
      await s.close();
    }
  });
});

describe('operator API over two nodes on one Redis', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  let a: WigglypuffNode;
  let b: WigglypuffNode;
  const env = () => ({ REDIS_URL: redis.url, NODE_TIMEOUT_MS: '1000', RECONNECT_GRACE_MS: '1000' });
  const adminOf = (node: WigglypuffNode) => new AdminClient({ url: node.http });
  const nodeIdOf = async (node: WigglypuffNode) => (await adminOf(node).health()).node;

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(2, env());
    [a, b] = nodes as [WigglypuffNode, WigglypuffNode];
  });
  after(async () => {
    await stopNodes(nodes);
    await redis.stop();
  });

  test('GET /api/nodes on either node shows both; a killed node disappears once its heartbeat lapses', async () => {
    const ids = [await nodeIdOf(a), await nodeIdOf(b)];
    for (const [i, node] of [a, b].entries()) {
      await eventually(async () => {
        const listed = await adminOf(node).nodes();
        assert.deepEqual(
          listed.map((status) => status.node),
          [...ids].sort(),
        );
        for (const status of listed) {
          assert.equal(status.self, status.node === ids[i]);
          const owner = status.node === ids[0] ? a : b;
          assert.equal(status.address, `127.0.0.1:${new URL(owner.http).port}`);
          assert.ok(status.memory.rss > 0);
        }
      });
    }

    const c = await startNode('node-2', env());
    nodes.push(c);
    const idC = await nodeIdOf(c);
    await eventually(async () => assert.ok((await adminOf(a).nodes()).some((status) => status.node === idC)));
    await c.kill();
    // NODE_TIMEOUT_MS is 1 s: its key lapses within it.
    await eventually(async () => assert.deepEqual((await adminOf(a).nodes()).map((status) => status.node).sort(), [...ids].sort()), 5000);
    assert.deepEqual(
      (await adminOf(b).nodes()).map((status) => status.node),
      [...ids].sort(),
    );
  });

  test('a room stored before rooms kept their creation time shows created_at null, and still works', async () => {
    const keys = new RedisKeys('wp:');
    // Its settings as an earlier version wrote them: no createdAt.
    const settings = {
      name: 'old-room',
      masterUuid: 'teacher',
      idQuran: null,
      aya: null,
      muted: {},
      unmuted: [],
      mutedAll: false,
      corrections: [],
    };
    await redis.command('HSET', keys.roomState('old-room'), 'room', JSON.stringify(settings), 'members', '[]', 'seq', '0', 'version', '0');
    await redis.command('SADD', keys.rooms, 'old-room');
    const summary = await adminOf(a).getRoom('old-room');
    assert.equal(summary.created_at, null);
    assert.equal(summary.master_uuid, 'teacher');
    assert.ok((await adminOf(b).roomsPage()).rooms.some((room) => room.name === 'old-room' && room.created_at === null));
    const { client } = await WsClient.join(b.ws, 'old-room', 'teacher');
    client.send({ action: 'MoveSura', id_quran: 1 });
    await client.next('Ack');
    assert.equal((await adminOf(a).getRoom('old-room')).id_quran, 1);
    assert.equal((await adminOf(a).getRoom('old-room')).created_at, null, 'a commit keeps it unknown');
    await client.close();
  });

  test('an event stream on node A sees the events committed through node B', async () => {
    await adminOf(b).createRoom('across-sse', 'teacher');
    const events = new EventReader(adminOf(a), ['across-sse']);
    try {
      assert.deepEqual(await events.next(), { type: 'ready', rooms: ['across-sse'] });
      const { client: teacher } = await WsClient.join(b.ws, 'across-sse', 'teacher');
      teacher.send({ action: 'MoveSura', id_quran: 36 });
      assert.deepEqual(await events.until((event) => event.type === 'room' && event.message.action === 'MoveSura'), {
        type: 'room',
        room: 'across-sse',
        seq: 2,
        to: 'room',
        message: { action: 'MoveSura', id_quran: 36, seq: 2 },
      });
      const summary = await adminOf(a).getRoom('across-sse');
      assert.deepEqual(summary.users, ['teacher']);
      assert.equal(summary.media_node, null);
      await teacher.close();
    } finally {
      events.close();
    }
  });
});
