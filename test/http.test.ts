import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createRoom, request, startServer, type TestServer } from './support/server.js';
import { WsClient } from './support/ws-client.js';

function assertError(response: { status: number; body: any }, status: number, code: string): void {
  assert.equal(response.status, status, JSON.stringify(response.body));
  assert.equal(response.body.success, false);
  assert.equal(response.body.error.code, code);
  assert.equal(typeof response.body.error.message, 'string');
  assert.ok(response.body.error.message.length > 0);
  assert.ok(!/\n\s+at /.test(JSON.stringify(response.body)), 'no stack trace');
}

describe('HTTP API', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test('POST /api/room/create creates a room; a taken name is 409 room_exists', async () => {
    const created = await request(s.http, 'POST', '/api/room/create', { name: 'create-1', master_uuid: 'teacher' });
    assert.deepEqual(created.body, { success: true, data: 'room created' });
    assert.equal(created.status, 200);
    assert.match(created.headers.get('content-type')!, /application\/json/);
    const again = await request(s.http, 'POST', '/api/room/create', { name: 'create-1', master_uuid: 'x' });
    assertError(again, 409, 'room_exists');
  });

  test('GET /api/room/all lists every room', async () => {
    await createRoom(s.http, 'list-a', 'm');
    await createRoom(s.http, 'list-b', 'm');
    const all = await request(s.http, 'GET', '/api/room/all');
    assert.equal(all.status, 200);
    assert.equal(all.body.success, true);
    assert.ok(all.body.data.includes('list-a') && all.body.data.includes('list-b'));
  });

  test('GET /api/room/{name} shows the room state; unknown is 404', async () => {
    await createRoom(s.http, 'detail', 'teacher-uuid');
    const { client } = await WsClient.join(s.ws, 'detail', 'teacher-uuid');
    const { client: student } = await WsClient.join(s.ws, 'detail', 'student-1');
    client.send({ action: 'MoveSura', id_quran: 18 });
    await student.next('MoveSura');
    client.send({ action: 'ClickAya', aya: 10 });
    await student.next('ClickAya');
    client.send({ action: 'MuteUser', uuid: 'student-1' });
    await student.next('MuteUser');
    const detail = await request(s.http, 'GET', '/api/room/detail');
    const { created_at: createdAt, ...data } = detail.body.data;
    assert.ok(Math.abs(Date.parse(createdAt) - Date.now()) < 60_000, `created_at ${createdAt}`);
    assert.deepEqual(
      { ...detail.body, data },
      {
        success: true,
        data: {
          name: 'detail',
          master_uuid: 'teacher-uuid',
          users: ['teacher-uuid', 'student-1'],
          names: {},
          id_quran: 18,
          aya: 10,
          muted: ['student-1'],
          muted_all: false,
          corrections: [],
          media_node: null,
        },
      },
    );
    assertError(await request(s.http, 'GET', '/api/room/nope'), 404, 'room_not_found');
    await client.close();
    await student.close();
  });

  test('POST /api/room/delete deletes; everyone connected gets RoomDeleted and close 4004', async () => {
    await createRoom(s.http, 'doomed', 'm');
    const { client: master } = await WsClient.join(s.ws, 'doomed', 'm');
    const { client: student } = await WsClient.join(s.ws, 'doomed', 's');
    const deleted = await request(s.http, 'POST', '/api/room/delete', { name: 'doomed' });
    assert.deepEqual(deleted.body, { success: true, data: 'room deleted' });
    for (const client of [master, student]) {
      assert.equal((await client.next('RoomDeleted')).action, 'RoomDeleted');
      assert.equal((await client.closed).code, 4004);
    }
    const all = await request(s.http, 'GET', '/api/room/all');
    assert.ok(!all.body.data.includes('doomed'));
    assertError(await request(s.http, 'POST', '/api/room/delete', { name: 'doomed' }), 404, 'room_not_found');
  });

  test('POST /api/room/kick kicks: Kicked + 4001 for the user, UserLeave for the others', async () => {
    await createRoom(s.http, 'kick', 'm');
    const { client: master } = await WsClient.join(s.ws, 'kick', 'm');
    const { client: student } = await WsClient.join(s.ws, 'kick', 'bad-student');
    await master.next('NewUser');
    const kicked = await request(s.http, 'POST', '/api/room/kick', { uuid: 'bad-student', room_name: 'kick' });
    assert.deepEqual(kicked.body, { success: true, data: 'user kicked' });
    assert.deepEqual((await student.next('Kicked')).action, 'Kicked');
    assert.equal((await student.closed).code, 4001);
    assert.equal((await master.next('UserLeave')).uuid, 'bad-student');
    assert.deepEqual((await request(s.http, 'GET', '/api/room/kick')).body.data.users, ['m']);
    assertError(await request(s.http, 'POST', '/api/room/kick', { uuid: 'bad-student', room_name: 'kick' }), 404, 'user_not_found');
    assertError(await request(s.http, 'POST', '/api/room/kick', { uuid: 'x', room_name: 'no-room' }), 404, 'room_not_found');
    await master.close();
  });

  test('GET /api/fcm/token without FCM_SERVER_TOKEN is 503 fcm_not_configured', async () => {
    assertError(await request(s.http, 'GET', '/api/fcm/token'), 503, 'fcm_not_configured');
  });

  test('GET /network_transversal with no TURN servers gives the STUN address and no TURN', async () => {
    const response = await request(s.http, 'GET', '/network_transversal');
    assert.deepEqual(response.body, {
      success: true,
      data: { stun: { address: 'stun:127.0.0.1:3478' }, turn: [] },
    });
  });

  test('GET /healthz', async () => {
    const response = await request(s.http, 'GET', '/healthz');
    assert.equal(response.status, 200);
    assert.equal(response.body.success, true);
  });

  test('names: invalid room names and uuids are 400 invalid_request', async () => {
    const bad = [
      { name: '', master_uuid: 'm' },
      { name: 'a b', master_uuid: 'm' },
      { name: 'x'.repeat(65), master_uuid: 'm' },
      { name: 'ok', master_uuid: 'has space' },
      { name: 'ok', master_uuid: 'u'.repeat(129) },
      { name: 'ok/../x', master_uuid: 'm' },
      { name: 'all', master_uuid: 'm' },
      { name: 'ok' },
    ];
    for (const body of bad) {
      assertError(await request(s.http, 'POST', '/api/room/create', body), 400, 'invalid_request');
    }
    const fine = await request(s.http, 'POST', '/api/room/create', {
      name: 'Room_1.a-b',
      master_uuid: '123e4567-e89b-12d3-a456-426614174000',
    });
    assert.equal(fine.status, 200, 'a real UUID and every allowed character pass');
    assertError(await request(s.http, 'GET', '/api/room/bad%20name'), 400, 'invalid_request');
    assertError(await request(s.http, 'GET', `/api/room/${'r'.repeat(300)}`), 400, 'invalid_request');
    assertError(await request(s.http, 'GET', '/api/room/%E0%A4%A'), 400, 'invalid_request');
    assertError(await request(s.http, 'POST', '/api/room/kick', { uuid: 'a:b', room_name: 'x y' }), 400, 'invalid_request');
  });

  test('types are never coerced', async () => {
    const cases = [
      { name: 1, master_uuid: 'm' },
      { name: 'coerce', master_uuid: 1 },
      { name: ['coerce'], master_uuid: 'm' },
      { name: true, master_uuid: 'm' },
      { name: 'coerce', master_uuid: null },
    ];
    for (const body of cases) {
      assertError(await request(s.http, 'POST', '/api/room/create', body), 400, 'invalid_request');
    }
    assertError(await request(s.http, 'POST', '/api/room/delete', { name: 5 }), 400, 'invalid_request');
  });

  test('malformed JSON is 400 invalid_json; a body that is not JSON is 415', async () => {
    const headers = { 'content-type': 'application/json' };
    assertError(await request(s.http, 'POST', '/api/room/create', '{"name": "x",', headers), 400, 'invalid_json');
    assertError(await request(s.http, 'POST', '/api/room/create', '', headers), 400, 'invalid_json');
    assertError(
      await request(s.http, 'POST', '/api/room/create', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }),
      415,
      'unsupported_media_type',
    );
    assertError(
      await request(s.http, 'POST', '/api/room/create', 'hello', { 'content-type': 'text/plain' }),
      415,
      'unsupported_media_type',
    );
    assertError(await request(s.http, 'POST', '/api/room/create', '[1,2]', headers), 400, 'invalid_request');
  });

  test('a body over the limit is 413 payload_too_large', async () => {
    const huge = JSON.stringify({ name: 'big', master_uuid: 'm', pad: 'x'.repeat(70_000) });
    assertError(await request(s.http, 'POST', '/api/room/create', huge, { 'content-type': 'application/json' }), 413, 'payload_too_large');
  });

  test('unknown routes are 404 not_found; a plain GET on the join URL is 426 upgrade_required', async () => {
    assertError(await request(s.http, 'GET', '/api/nothing'), 404, 'not_found');
    assertError(await request(s.http, 'GET', '/api/room/create'), 404, 'room_not_found');
    await createRoom(s.http, 'plain', 'm');
    assertError(await request(s.http, 'GET', '/api/room/join/plain/u'), 426, 'upgrade_required');
  });
});

describe('HTTP API with configuration', () => {
  test('FCM token from FCM_SERVER_TOKEN', async () => {
    const s = await startServer({ FCM_SERVER_TOKEN: 'fcm-secret-token' });
    try {
      const response = await request(s.http, 'GET', '/api/fcm/token');
      assert.deepEqual(response.body, { success: true, data: { token: 'fcm-secret-token' } });
    } finally {
      await s.close();
    }
  });

  test('network_transversal with static TURN credentials', async () => {
    const s = await startServer({
      STUN_ADDRESS: 'stun:stun.example.org:3478',
      TURN_SERVERS: 'turn:turn.example.org:3478?transport=udp, turns:turn.example.org:5349',
      TURN_USERNAME: 'class',
      TURN_CREDENTIAL: 'pw',
    });
    try {
      const response = await request(s.http, 'GET', '/network_transversal');
      assert.deepEqual(response.body, {
        success: true,
        data: {
          stun: { address: 'stun:stun.example.org:3478' },
          turn: [
            { address: 'turn:turn.example.org:3478?transport=udp', username: 'class', credential: 'pw' },
            { address: 'turns:turn.example.org:5349', username: 'class', credential: 'pw' },
          ],
        },
      });
    } finally {
      await s.close();
    }
  });

  test('network_transversal with TURN_SECRET mints fresh time-limited credentials each call', async () => {
    const s = await startServer({ TURN_SERVERS: 'turn:127.0.0.1:3478', TURN_SECRET: 's3cret', TURN_TTL: '600' });
    try {
      const before = Math.floor(Date.now() / 1000);
      const first = (await request(s.http, 'GET', '/network_transversal?uuid=student-7')).body.data;
      assert.equal(first.ttl, 600);
      const [entry] = first.turn;
      const [expiry, id] = entry.username.split(':');
      assert.equal(id, 'student-7');
      assert.ok(Number(expiry) >= before + 600 && Number(expiry) <= before + 602);
      assert.equal(entry.credential, createHmac('sha1', 's3cret').update(entry.username).digest('base64'));
      const second = (await request(s.http, 'GET', '/network_transversal')).body.data;
      assert.notEqual(second.turn[0].username, entry.username, 'each call mints its own credentials');
      assertError(await request(s.http, 'GET', '/network_transversal?uuid=bad%20id'), 400, 'invalid_request');
    } finally {
      await s.close();
    }
  });
});
