import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ayatIn } from '../src/protocol/quran.js';
import { activeHandleCount, activeResources, MB, settledHeapUsed } from './support/heap.js';
import { request, startServer, type TestServer } from './support/server.js';
import { HandshakeRefused, type Message, WsClient } from './support/ws-client.js';

/**
 * Thousands of members come and go (clean leaves, replacements, dropped sockets, kicks, rooms
 * deleted under them); afterwards the rooms must be empty and the process (server and clients
 * both live in it) must be back near where it started: heap, sockets, timers.
 *
 * LEAK_CYCLES=<n> changes the number of cycles (3000); LEAK_SEED=<n> replays a run's choices.
 */

const CYCLES = Number(process.env.LEAK_CYCLES ?? 3000);
const WARMUP_CYCLES = 400;
const CONCURRENCY = 50;
const ROOMS = 20;
/** Every this many cycles, one room of the pool is deleted (with whoever is in it) and a new one created. */
const ROTATE_EVERY = 100;
const WAIT_MS = 5000;

const ENV: Record<string, string> = {
  // A dropped socket leaves at once, so "everyone has left" is a state the test can wait for.
  RECONNECT_GRACE_MS: '0',
  // Limits far above what the test does: the defaults would refuse this many messages, requests and sockets from one address.
  WS_RATE_LIMIT_PER_SEC: '100000',
  WS_RATE_LIMIT_BURST: '100000',
  HTTP_RATE_LIMIT_PER_MIN: '1000000',
  MAX_CONNECTIONS_PER_ADDRESS: '100000',
  MAX_USERS_PER_ROOM: '100000',
  MAX_ROOMS: '100000',
};

/** A small seeded generator (mulberry32), so a failing run can be replayed with LEAK_SEED. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Kind = 'leave' | 'replace' | 'terminate' | 'kick' | 'offer' | 'master';

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT_MS): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

class Churn {
  readonly pool: string[] = [];
  private generation = 0;
  stats: Record<string, number> = {};

  constructor(
    private readonly s: TestServer,
    private readonly random: () => number,
  ) {}

  private count(what: string): void {
    this.stats[what] = (this.stats[what] ?? 0) + 1;
  }

  private pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  async newRoom(): Promise<string> {
    const name = `lk-${++this.generation}`;
    const created = await request(this.s.http, 'POST', '/api/room/create', { name, master_uuid: `${name}-master` });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    return name;
  }

  async fill(): Promise<void> {
    while (this.pool.length < ROOMS) this.pool.push(await this.newRoom());
  }

  /** Deletes one room of the pool (members get RoomDeleted and 4004) and puts a new one in its place. */
  async rotate(): Promise<void> {
    const index = Math.floor(this.random() * this.pool.length);
    const doomed = this.pool[index]!;
    this.pool[index] = await this.newRoom();
    const deleted = await request(this.s.http, 'POST', '/api/room/delete', { name: doomed });
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    this.count('room deleted');
  }

  /**
   * Joins and waits for RoomState; null when the room is gone (refused with 404, or deleted during
   * the join: Error room_not_found and close 4004).
   */
  private async join(room: string, uuid: string): Promise<WsClient | null> {
    let client: WsClient;
    try {
      client = await withTimeout(WsClient.connect(`${this.s.ws}/api/room/join/${room}/${uuid}`), `connect ${room}/${uuid}`);
    } catch (error) {
      if (error instanceof HandshakeRefused && error.status === 404 && error.body?.error?.code === 'room_not_found') {
        this.count('refused: room gone');
        return null;
      }
      throw error;
    }
    const first = await withTimeout(
      Promise.race([client.next('RoomState', WAIT_MS * 2), client.closed.then((closed) => ({ closed }))]),
      `RoomState for ${room}/${uuid}`,
    );
    if ('closed' in first) {
      assert.equal((first as { closed: { code: number } }).closed.code, 4004, `join ${room}/${uuid}`);
      this.count('join raced a delete');
      return null;
    }
    return client;
  }

  /** Waits for the server to close `client`; the codes it may use here. */
  private async closedBy(client: WsClient, what: string, codes: number[]): Promise<void> {
    const { code } = await withTimeout(client.closed, what);
    // 4004: the room was deleted meanwhile, which may always happen.
    assert.ok([...codes, 4004].includes(code), `${what}: closed with ${code}`);
  }

  async cycle(kind: Kind): Promise<void> {
    const room = this.pick(this.pool);
    const uuid = kind === 'master' ? `${room}-master` : randomUUID();
    const client = await this.join(room, uuid);
    if (!client) return;
    this.count(kind);
    switch (kind) {
      case 'leave': {
        // A little traffic first: a Ping, a self-mute, or a correction request.
        const action = this.pick<Message>([
          { action: 'Ping' },
          { action: 'MuteUser', uuid },
          { action: 'OfferCorrection' },
          { action: 'Dance' },
        ]);
        client.send(action);
        await client.close();
        break;
      }
      case 'master': {
        const sura = 1 + Math.floor(this.random() * 114);
        client.send({ action: 'MoveSura', id_quran: sura });
        // An aya of that sura (the server refuses any other).
        client.send({ action: 'ClickAya', aya: 1 + Math.floor(this.random() * ayatIn(sura)) });
        client.send({ action: 'MuteAll', result: this.random() < 0.5 });
        await withTimeout(
          Promise.race([client.next((m) => m.action === 'Ack' && m.of === 'MuteAll', WAIT_MS * 2), client.closed]),
          'Ack of MuteAll',
        );
        await client.close();
        break;
      }
      case 'replace': {
        const second = await this.join(room, uuid);
        await this.closedBy(client, 'the replaced connection', [4009]);
        if (second) await second.close();
        break;
      }
      case 'terminate': {
        // A dropped connection (no close frame): with RECONNECT_GRACE_MS=0 it leaves at once.
        client.socket.terminate();
        await withTimeout(client.closed, 'terminate');
        break;
      }
      case 'kick': {
        const kicked = await request(this.s.http, 'POST', '/api/room/kick', { uuid, room_name: room });
        if (kicked.status === 200) await this.closedBy(client, 'the kicked connection', [4001]);
        else {
          assert.equal(kicked.body.error.code, 'room_not_found', JSON.stringify(kicked.body));
          await this.closedBy(client, 'a member of a deleted room', []);
        }
        break;
      }
      case 'offer': {
        // An offer without Opus: refused, but it makes the SFU host the room for a moment.
        client.send({ action: 'SessionDescription', type: 'offer', sdp: 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=sendonly\r\n' });
        await withTimeout(Promise.race([client.next('Error', WAIT_MS * 2), client.closed]), 'Error for the offer');
        await client.close();
        break;
      }
    }
  }

  private chooseKind(): Kind {
    const r = this.random();
    if (r < 0.45) return 'leave';
    if (r < 0.7) return 'replace';
    if (r < 0.85) return 'terminate';
    if (r < 0.9) return 'kick';
    if (r < 0.95) return 'offer';
    return 'master';
  }

  /** `cycles` cycles, at most CONCURRENCY at a time, rotating a room every ROTATE_EVERY cycles. */
  async run(cycles: number): Promise<void> {
    let next = 0;
    const worker = async () => {
      while (next < cycles) {
        const i = next++;
        if (i > 0 && i % ROTATE_EVERY === 0) await this.rotate();
        await this.cycle(this.chooseKind());
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  /** Waits until every room of the pool reports no users, then deletes them all. */
  async drain(): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (const name of this.pool) {
      for (;;) {
        const room = await request(this.s.http, 'GET', `/api/room/${name}`);
        assert.equal(room.status, 200, JSON.stringify(room.body));
        if (room.body.data.users.length === 0) break;
        assert.ok(Date.now() < deadline, `room ${name} still has users ${JSON.stringify(room.body.data.users)} after every client closed`);
        await sleep(50);
      }
    }
    for (const name of this.pool.splice(0)) {
      const deleted = await request(this.s.http, 'POST', '/api/room/delete', { name });
      assert.equal(deleted.status, 200);
    }
  }
}

/** The unlabelled gauges of GET /metrics, or null when the server has no such endpoint. */
async function metricGauges(base: string): Promise<Record<string, number> | null> {
  const response = await fetch(`${base}/metrics`);
  const text = await response.text();
  if (response.status !== 200 || !/text\/plain/.test(response.headers.get('content-type') ?? '')) return null;
  const gauges: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const match = /^(wigglypuff_[a-z_]+) (\S+)$/.exec(line);
    if (match) gauges[match[1]!] = Number(match[2]);
  }
  return gauges;
}

/** Waits (up to `ms`) for `read()` to come down to `limit`; returns the last value read. */
async function settle(read: () => number, limit: number, ms = 10_000): Promise<number> {
  const deadline = Date.now() + ms;
  let value = read();
  while (value > limit && Date.now() < deadline) {
    await sleep(100);
    value = read();
  }
  return value;
}

test(`${CYCLES} join/leave/replace/drop/kick cycles leave no users, rooms, memory, sockets or timers behind`, {
  timeout: 180_000,
}, async (t) => {
  const seed = Number(process.env.LEAK_SEED ?? Math.floor(Math.random() * 2 ** 31));
  t.diagnostic(`LEAK_SEED=${seed}`);
  const s = await startServer(ENV);
  try {
    const churn = new Churn(s, prng(seed));

    // Warm up through the same paths (JIT, pools, lazily built things), then take the baseline.
    await churn.fill();
    await churn.run(WARMUP_CYCLES);
    await churn.drain();
    await sleep(200);
    const baseline = {
      heap: await settledHeapUsed(),
      handles: activeHandleCount(),
      resources: activeResources(),
    };

    churn.stats = {};
    const started = Date.now();
    // Two halves, with the heap measured in between: a one-time cost shows in the first half only,
    // a leak in both.
    const half = Math.floor(CYCLES / 2);
    await churn.fill();
    await churn.run(half);
    await churn.drain();
    const middle = await settledHeapUsed();
    await churn.fill();
    await churn.run(CYCLES - half);
    const elapsed = Date.now() - started;
    await churn.drain();
    t.diagnostic(`${CYCLES} cycles in ${elapsed} ms: ${JSON.stringify(churn.stats)}`);

    // The server's own account: no rooms left, hence no users.
    const all = await request(s.http, 'GET', '/api/room/all');
    assert.deepEqual(all.body.data, [], 'every room was deleted');
    // And its gauges, where it has them (GET /metrics, Prometheus text): no socket, no room held.
    const gauges = await metricGauges(s.http);
    if (gauges) {
      const names = ['wigglypuff_connections', 'wigglypuff_users', 'wigglypuff_active_rooms', 'wigglypuff_rooms'].filter(
        (name) => name in gauges,
      );
      t.diagnostic(`gauges: ${names.map((name) => `${name}=${gauges[name]}`).join(' ')}`);
      for (const name of names) assert.equal(gauges[name], 0, `${name} after every client left and every room was deleted`);
    }

    // Sockets (client and server ends, and fetch's idle keep-alive ones) and timers come back down.
    const HANDLE_SLACK = 6;
    const handles = await settle(activeHandleCount, baseline.handles + HANDLE_SLACK);
    const resources = activeResources();
    t.diagnostic(
      `handles ${baseline.handles} -> ${handles}; resources ${JSON.stringify(baseline.resources)} -> ${JSON.stringify(resources)}`,
    );
    assert.ok(handles <= baseline.handles + HANDLE_SLACK, `active handles ${baseline.handles} -> ${handles}`);
    for (const kind of ['TCPSocketWrap', 'Timeout', 'TCPServerWrap', 'UDPWrap']) {
      const before = baseline.resources[kind] ?? 0;
      const now = resources[kind] ?? 0;
      assert.ok(now <= before + HANDLE_SLACK, `${kind}: ${before} -> ${now}`);
    }

    const heap = await settledHeapUsed(6);
    const growth = heap - baseline.heap;
    const secondHalf = heap - middle;
    const mb = (bytes: number) => `${bytes >= 0 ? '+' : ''}${(bytes / MB).toFixed(1)} MB`;
    t.diagnostic(
      `heap after forced GC: baseline ${(baseline.heap / MB).toFixed(1)} MB, middle ${mb(middle - baseline.heap)}, end ${mb(growth)} (${Math.round(growth / CYCLES)} bytes per cycle; second half ${mb(secondHalf)})`,
    );
    // A healthy run grows ~1.5 MB once (1000 to 12000 cycles alike) and ~0.5 MB in its second half.
    // Keeping each closed session alive (~8 KB) would add ~24 MB.
    assert.ok(growth < 10 * MB, `heap grew by ${mb(growth)} over ${CYCLES} cycles`);
    assert.ok(secondHalf < 4 * MB, `heap grew by ${mb(secondHalf)} over the second ${CYCLES - half} cycles: it keeps growing`);
  } finally {
    await s.close();
  }
});
