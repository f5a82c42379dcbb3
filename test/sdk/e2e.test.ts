import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { AdminClient } from '../../sdk/src/admin-client.js';
import { RoomClient, type RoomClientOptions } from '../../sdk/src/room-client.js';
import type { TokenRequest } from '../../sdk/src/tokens.js';
import { startServer, type TestServer } from '../support/server.js';
import { refusal, status, until } from './waits.js';

describe('SDK against a real server (open)', () => {
  let s: TestServer;
  let admin: AdminClient;
  const clients: RoomClient[] = [];
  const client = (options: Omit<RoomClientOptions, 'url' | 'WebSocket'>) => {
    const created = new RoomClient({ url: s.ws, WebSocket, ...options });
    clients.push(created);
    return created;
  };

  before(async () => {
    s = await startServer({ RECONNECT_GRACE_MS: '10000' });
    admin = new AdminClient({ url: s.http });
  });
  after(async () => {
    for (const created of clients) created.close();
    await s.close();
  });

  test('a class: names, MoveSura and ClickAya reach the student, refusals carry the server code, the queue and MuteAll are shared', async () => {
    await admin.createRoom('sdk-class', 'teacher');
    assert.ok((await admin.listRooms()).includes('sdk-class'));
    const teacher = client({ room: 'sdk-class', uuid: 'teacher', name: 'Ustadh Ahmad' });
    const student = client({ room: 'sdk-class', uuid: 'ali', name: 'علي' });
    await teacher.connect();
    const joined = await student.connect();
    assert.deepEqual(joined.members, [
      { uuid: 'teacher', name: 'Ustadh Ahmad' },
      { uuid: 'ali', name: 'علي' },
    ]);
    await until(teacher, (state) => state.members.some((member) => member.uuid === 'ali' && member.name === 'علي'));

    const moved = await teacher.moveSura(1);
    assert.equal(moved.of, 'MoveSura');
    assert.equal(teacher.state!.sura, 1, 'the own command is in the state when it resolves');
    assert.equal(teacher.state!.seq, moved.seq);
    await teacher.clickAya(5);
    const seen = await until(student, (state) => state.aya === 5);
    assert.equal(seen.sura, 1);
    assert.equal(seen.seq, teacher.state!.seq, 'both at the same position');

    const outOfRange = await refusal(teacher.clickAya(8));
    assert.equal(outOfRange.code, 'aya_out_of_range');
    assert.equal(outOfRange.of, 'ClickAya');
    assert.match(outOfRange.message, /sura 1 has 7 ayat/);
    assert.equal(teacher.state!.aya, 5, 'a refused command changes nothing');
    assert.equal((await refusal(student.clickAya(1))).code, 'forbidden');
    assert.equal((await refusal(teacher.answerCorrection('ali', true))).code, 'not_queued');

    await student.offerCorrection();
    assert.deepEqual(student.state!.corrections, ['ali']);
    await until(teacher, (state) => state.corrections.includes('ali'));
    const again = await student.offerCorrection();
    assert.equal(again.seq, undefined, 'already queued: an Ack without seq');
    await teacher.answerCorrection('ali', true);
    assert.deepEqual(teacher.state!.corrections, []);
    await until(student, (state) => state.corrections.length === 0);

    await teacher.muteAll();
    assert.deepEqual(teacher.state!.muted, ['ali']);
    await until(student, (state) => state.mutedAll && state.muted.includes('ali'));
    assert.equal((await refusal(student.unmuteUser())).code, 'forbidden');
    await teacher.unmuteUser('ali');
    await until(student, (state) => !state.muted.includes('ali') && state.mutedAll);
    await student.muteUser();
    await student.unmuteUser();
    assert.deepEqual(student.state!.muted, [], 'under MuteAll, unmuted one by one: the self-mute can be lifted');

    const view = await admin.getRoom('sdk-class');
    assert.deepEqual(view.users, ['teacher', 'ali']);
    assert.deepEqual(view.names, { teacher: 'Ustadh Ahmad', ali: 'علي' });
    assert.equal(view.aya, 5);
    assert.ok((await teacher.ping()) >= 0);
  });

  test('a student whose socket is cut resumes gap-free, with what happened meanwhile; the teacher never sees them leave', async () => {
    await admin.createRoom('sdk-resume', 'teacher');
    const teacher = client({ room: 'sdk-resume', uuid: 'teacher' });
    // A long first retry, so the teacher's commands surely land while the student is away.
    const student = client({ room: 'sdk-resume', uuid: 'ali', reconnect: { initialDelayMs: 600, jitter: 0 } });
    await teacher.connect();
    await student.connect();
    await until(teacher, (state) => state.members.length === 2);
    const seenByTeacher: string[] = [];
    teacher.on('event', (frame) => seenByTeacher.push(frame.action));
    await teacher.moveSura(2);
    await until(student, (state) => state.sura === 2);

    student.simulateDrop();
    assert.equal(student.status.status, 'reconnecting');
    assert.equal((await refusal(student.offerCorrection())).code, 'not_connected');
    await teacher.clickAya(255);
    await teacher.moveSura(3);
    await teacher.clickAya(7);
    const resumed = await status(student, (next) => next.status === 'connected');
    assert.deepEqual(resumed, { status: 'connected', via: 'resumed', url: s.ws });
    const state = await until(student, (next) => next.seq === teacher.state!.seq);
    assert.equal(state.sura, 3);
    assert.equal(state.aya, 7);
    assert.deepEqual(
      seenByTeacher.filter((action) => action === 'UserLeave' || action === 'NewUser'),
      [],
    );
  });

  test('the server cutting the socket (a lost connection, 1006) is resumed the same way', async () => {
    await admin.createRoom('sdk-cut', 'teacher');
    const opened: WebSocket[] = [];
    class Recording extends WebSocket {
      constructor(url: string) {
        super(url);
        opened.push(this);
      }
    }
    const teacher = client({ room: 'sdk-cut', uuid: 'teacher' });
    const student = new RoomClient({ url: s.ws, room: 'sdk-cut', uuid: 'ali', WebSocket: Recording });
    clients.push(student);
    await teacher.connect();
    await student.connect();
    await teacher.moveSura(4);
    await until(student, (state) => state.sura === 4);
    // The server's side of the student's socket, cut without a close frame.
    const port = (opened.at(-1) as any)._socket.localPort;
    const serverSide = [...(s.server.app as any).websocketServer.clients].find((socket: any) => socket._socket.remotePort === port);
    assert.ok(serverSide);
    serverSide.terminate();
    const drop = await status(student, (next) => next.status === 'reconnecting');
    assert.equal(drop.status === 'reconnecting' && drop.cause.code, 1006);
    const back = await status(student, (next) => next.status === 'connected');
    assert.equal(back.status === 'connected' && back.via, 'resumed');
    await teacher.clickAya(9);
    await until(student, (state) => state.aya === 9 && state.seq === teacher.state!.seq);
  });

  test('kicked and room deleted end the class for good', async () => {
    await admin.createRoom('sdk-end', 'teacher');
    const teacher = client({ room: 'sdk-end', uuid: 'teacher' });
    const student = client({ room: 'sdk-end', uuid: 'ali' });
    await teacher.connect();
    await student.connect();
    await admin.kick('sdk-end', 'ali');
    assert.deepEqual(await status(student, (next) => next.status === 'closed'), {
      status: 'closed',
      reason: 'kicked',
      message: 'you were removed from the room',
    });
    await until(teacher, (state) => state.members.length === 1);
    await admin.deleteRoom('sdk-end');
    const closed = await status(teacher, (next) => next.status === 'closed');
    assert.equal(closed.status === 'closed' && closed.reason, 'room_deleted');
    assert.equal(teacher.state!.deleted, true);
    const gone = await refusal(admin.getRoom('sdk-end'));
    assert.equal(gone.code, 'room_not_found');
    assert.equal(gone.status, 404);
  });

  test('joining a room that does not exist rejects connect() with room_not_found', async () => {
    const lost = client({ room: 'sdk-nowhere', uuid: 'ali' });
    assert.equal((await refusal(lost.connect())).code, 'room_not_found');
    assert.equal(lost.status.status === 'closed' && lost.status.reason, 'room_not_found');
  });

  test('the ICE servers, and the HTTP errors with their codes', async () => {
    const servers = await admin.networkTraversal({ uuid: 'ali' });
    assert.equal(servers.stun.address, 'stun:127.0.0.1:3478');
    assert.deepEqual(servers.turn, []);
    assert.equal((await refusal(admin.createRoom('all', 'teacher'))).code, 'invalid_request');
    await admin.createRoom('sdk-twice', 'teacher');
    const twice = await refusal(admin.createRoom('sdk-twice', 'teacher'));
    assert.equal(twice.code, 'room_exists');
    assert.equal(twice.status, 409);
    assert.deepEqual(await admin.health(), { status: 'ok', node: (await admin.health()).node, store: 'memory', auth: 'open' });
    assert.equal(await admin.ready(), true);
  });
});

describe('SDK against a real server (closed: join tokens)', () => {
  const API_KEY = 'sdk-test-api-key-0123456789';
  let s: TestServer;
  let admin: AdminClient;

  before(async () => {
    s = await startServer({ API_KEY, JOIN_TOKEN_SECRET: 'sdk-test-join-token-secret-0123456789abcdef' });
    admin = new AdminClient({ url: s.http, apiKey: API_KEY });
  });
  after(() => s.close());

  test('a refused token (401) makes the SDK ask its provider again; the token names the student', async () => {
    await admin.createRoom('sdk-closed', 'teacher');
    const requests: TokenRequest[] = [];
    const student = new RoomClient({
      url: s.ws,
      room: 'sdk-closed',
      uuid: 'ali',
      WebSocket,
      token: async (request) => {
        requests.push(request);
        if (request.reason === 'join') return 'not-a-valid-token';
        return (await admin.mintJoinToken({ room: request.room, uuid: request.uuid, ttl: 60, name: 'Ali from the token' })).token;
      },
    });
    try {
      const state = await student.connect();
      assert.deepEqual(
        requests.map((request) => request.reason),
        ['join', 'unauthorized'],
      );
      assert.deepEqual(state.members, [{ uuid: 'ali', name: 'Ali from the token' }]);
      const servers = await student.iceServers();
      assert.equal(servers.stun.address, 'stun:127.0.0.1:3478');
    } finally {
      student.close();
    }
    const anonymous = new AdminClient({ url: s.http });
    const unauthorized = await refusal(anonymous.listRooms());
    assert.equal(unauthorized.code, 'unauthorized');
    assert.equal(unauthorized.status, 401);
  });
});
