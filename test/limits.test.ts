import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { describe, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRoom, type JsonResponse, request, startServer } from './support/server.js';
import { HandshakeRefused, WsClient } from './support/ws-client.js';

async function withServer(env: Record<string, string>, fn: (s: Awaited<ReturnType<typeof startServer>>) => Promise<void>) {
  const s = await startServer(env);
  try {
    await fn(s);
  } finally {
    await s.close();
  }
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((row) => row.startsWith(name));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('limits', () => {
  test('a client over its message rate gets rate_limited; a sustained flood is closed with 1008', () =>
    withServer({ WS_RATE_LIMIT_PER_SEC: '5', WS_RATE_LIMIT_BURST: '5' }, async (s) => {
      await createRoom(s.http, 'r', 'teacher');
      const { client } = await WsClient.join(s.ws, 'r', 'teacher');
      for (let i = 0; i < 8; i++) client.send({ action: 'Ping' });
      assert.equal((await client.next('Error')).code, 'rate_limited');
      assert.equal(client.received.filter((m) => m.action === 'Pong').length <= 5, true);
      for (let i = 0; i < 50; i++) client.send({ action: 'Ping' });
      assert.equal((await client.closed).code, 1008);
      assert.ok((await metric(s.http, 'wigglypuff_rate_limited_total{transport="websocket"}')) > 0);
    }));

  test('a rate_limited refusal names the command it refuses, with its id', () =>
    withServer({ WS_RATE_LIMIT_PER_SEC: '1', WS_RATE_LIMIT_BURST: '3' }, async (s) => {
      await createRoom(s.http, 'r', 'teacher');
      const { client } = await WsClient.join(s.ws, 'r', 'teacher');
      for (let i = 1; i <= 4; i++) client.send({ action: 'MoveSura', id_quran: i, id: `move-${i}` });
      client.send('not json');
      const refused = await client.next((m) => m.action === 'Error' && m.code === 'rate_limited');
      assert.equal(refused.of, 'MoveSura');
      assert.equal(refused.id, 'move-4', 'the fourth frame found no token');
      const unread = await client.next((m) => m.action === 'Error' && m.code === 'rate_limited');
      assert.equal(unread.of, undefined, 'a frame that is no command names none');
      assert.equal(unread.id, undefined);
      await client.next((m) => m.action === 'Ack' && m.id === 'move-3');
      assert.deepEqual(
        client.received.filter((m) => m.action === 'Ack').map((m) => m.id),
        ['move-1', 'move-2', 'move-3'],
      );
      await client.close();
    }));

  test('HTTP requests over the per-address rate get 429 rate_limited', () =>
    withServer({ HTTP_RATE_LIMIT_PER_MIN: '5' }, async (s) => {
      const statuses: number[] = [];
      let last: JsonResponse | undefined;
      for (let i = 0; i < 7; i++) {
        last = await request(s.http, 'GET', '/api/room/all');
        statuses.push(last.status);
      }
      assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429]);
      assert.equal(last!.body.error.code, 'rate_limited');
    }));

  test('guessing the API key is rate-limited like any request', () =>
    withServer({ HTTP_RATE_LIMIT_PER_MIN: '3', API_KEY: 'k'.repeat(16), JOIN_TOKEN_SECRET: 's'.repeat(32) }, async (s) => {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        statuses.push(
          (await request(s.http, 'GET', '/api/room/all', undefined, { authorization: `Bearer guess-${i}-guess-guess` })).status,
        );
      }
      assert.deepEqual(statuses, [401, 401, 401, 429]);
    }));

  test('caps: rooms, users per room, connections per address', () =>
    withServer({ MAX_ROOMS: '2', MAX_USERS_PER_ROOM: '2', MAX_CONNECTIONS_PER_ADDRESS: '3' }, async (s) => {
      await createRoom(s.http, 'one', 'teacher');
      await createRoom(s.http, 'two', 'teacher');
      const third = await request(s.http, 'POST', '/api/room/create', { name: 'three', master_uuid: 'm' });
      assert.equal(third.status, 403);
      assert.equal(third.body.error.code, 'too_many_rooms');

      const { client: a } = await WsClient.join(s.ws, 'one', 'a');
      const { client: b } = await WsClient.join(s.ws, 'one', 'b');
      const full = await WsClient.connect(`${s.ws}/api/room/join/one/c`).catch((error: unknown) => error);
      assert.ok(full instanceof HandshakeRefused);
      assert.equal(full.status, 403);
      assert.equal(full.body.error.code, 'room_full');
      const { client: again } = await WsClient.join(s.ws, 'one', 'b'); // a member replacing itself is not a newcomer
      await b.closed;

      const { client: d } = await WsClient.join(s.ws, 'two', 'd');
      const crowded = await WsClient.connect(`${s.ws}/api/room/join/two/e`).catch((error: unknown) => error);
      assert.ok(crowded instanceof HandshakeRefused);
      assert.equal(crowded.status, 429);
      assert.equal(crowded.body.error.code, 'too_many_connections');
      await Promise.all([a, again, d].map((client) => client.close()));
    }));

  test('a client that stops reading is dropped; the others keep receiving and memory stays bounded', () =>
    withServer(
      { WS_SEND_BUFFER_LIMIT_BYTES: '65536', WS_RATE_LIMIT_PER_SEC: '100000', WS_RATE_LIMIT_BURST: '100000', RECONNECT_GRACE_MS: '600000' },
      async (s) => {
        setFlagsFromString('--expose-gc');
        const gc = runInNewContext('gc') as () => void;
        const long = 'u'.repeat(128); // big events fill the stuck client's buffers sooner
        await createRoom(s.http, 'flood', 'teacher');
        const { client: master } = await WsClient.join(s.ws, 'flood', 'teacher');
        const { client: reader } = await WsClient.join(s.ws, 'flood', 'reader');
        const { client: member } = await WsClient.join(s.ws, 'flood', long);
        const { client: stuck, state } = await WsClient.join(s.ws, 'flood', 'stuck');
        (stuck.socket as unknown as { _socket: Socket })._socket.pause(); // never reads again
        gc();
        const heapBefore = process.memoryUsage().heapUsed;

        // The kernel's socket buffers take a few MB first; flood in batches until the server gives up on it.
        const BATCH = 2000;
        let sent = 0;
        while ((await metric(s.http, 'wigglypuff_slow_consumers_dropped_total')) === 0) {
          assert.ok(sent < 200_000, 'the stuck client was never dropped');
          for (let i = 0; i < BATCH; i++) master.send({ action: 'MuteUser', uuid: long, result: (sent + i) % 2 === 0 });
          sent += BATCH;
          const lastOfBatch = state.seq + 1 + sent; // + the NewUser of 'stuck' ... counted in state.seq
          await reader.next((m) => m.action === 'MuteUser' && m.seq === lastOfBatch - 1, 30_000);
        }
        const muteEvents = reader.received.filter((m) => m.action === 'MuteUser');
        assert.equal(muteEvents.length, sent, 'the reader got every event, in time');
        assert.deepEqual(
          (await request(s.http, 'GET', '/api/room/flood')).body.data.users,
          ['teacher', 'reader', long, 'stuck'],
          'the dropped client keeps its place for the grace period',
        );
        gc();
        const grown = process.memoryUsage().heapUsed - heapBefore;
        assert.ok(grown < 50 * 1024 * 1024, `the heap grew by ${Math.round(grown / 1024 / 1024)} MB`);

        // It comes back and resumes where it stopped (the history keeps the last 1000 events).
        stuck.socket.terminate();
        const back = await WsClient.connect(`${s.ws}/api/room/join/flood/stuck?last_seq=${state.seq}`);
        const first = await back.next();
        assert.equal(first.action, 'RoomState', 'too far behind for the kept history: a fresh RoomState');
        assert.equal(first.missed, true);
        await back.close();
        await Promise.all([master.close(), reader.close(), member.close()]);
      },
    ));

  test('/metrics counts connections, messages by action and errors by code', () =>
    withServer({}, async (s) => {
      await createRoom(s.http, 'm', 'teacher');
      const { client } = await WsClient.join(s.ws, 'm', 'teacher');
      client.send({ action: 'Ping' });
      await client.next('Pong');
      client.send({ action: 'Dance' });
      await client.next('Error');
      await request(s.http, 'GET', '/api/room/nope');
      const text = await (await fetch(`${s.http}/metrics`)).text();
      assert.match(text, /^wigglypuff_connections 1$/m);
      assert.match(text, /^wigglypuff_users 1$/m);
      assert.match(text, /^wigglypuff_messages_in_total\{action="Ping"\} 1$/m);
      assert.match(text, /^wigglypuff_messages_out_total\{action="RoomState"\} 1$/m);
      assert.match(text, /^wigglypuff_errors_total\{code="unknown_action",transport="websocket"\} 1$/m);
      assert.match(text, /^wigglypuff_errors_total\{code="room_not_found",transport="http"\} 1$/m);
      assert.match(text, /^wigglypuff_rooms 1$/m);
      assert.match(text, /wigglypuff_nodejs_eventloop_lag_seconds/);
      await client.close();
    }));
});
