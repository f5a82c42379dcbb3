import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRoom, request, startServer, type TestServer } from './support/server.js';
import { HandshakeRefused, WsClient } from './support/ws-client.js';

let roomCounter = 0;

describe('room WebSocket', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  /** A fresh room with its master and the given students connected, each past its own RoomState. */
  async function classroom(...students: string[]) {
    const room = `class-${++roomCounter}`;
    await createRoom(s.http, room, 'teacher');
    const { client: master } = await WsClient.join(s.ws, room, 'teacher');
    const clients: Record<string, WsClient> = {};
    for (const uuid of students) {
      clients[uuid] = (await WsClient.join(s.ws, room, uuid)).client;
    }
    for (const uuid of students) await master.next((m) => m.action === 'NewUser' && m.uuid === uuid);
    return { room, master, students: clients };
  }

  test('an unknown room is refused before the upgrade with 404 and a JSON body', async () => {
    const refused = await WsClient.connect(`${s.ws}/api/room/join/nowhere/u1`).catch((error: unknown) => error);
    assert.ok(refused instanceof HandshakeRefused);
    assert.equal(refused.status, 404);
    assert.equal(refused.body.error.code, 'room_not_found');
  });

  test('invalid names are refused before the upgrade with 400', async () => {
    await createRoom(s.http, 'names', 'm');
    for (const path of [
      '/api/room/join/bad%20room/u1',
      '/api/room/join/names/bad%20uuid',
      `/api/room/join/names/${'u'.repeat(129)}`,
      `/api/room/join/names/${'u'.repeat(300)}`,
      '/api/room/join/names/%E0%A4%A',
    ]) {
      const refused = await WsClient.connect(s.ws + path).catch((error: unknown) => error);
      assert.ok(refused instanceof HandshakeRefused, path);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'invalid_request');
    }
  });

  test('uuids of 128 characters and real UUIDs may join', async () => {
    const { room } = await classroom();
    for (const uuid of ['u'.repeat(128), '123e4567-e89b-12d3-a456-426614174000', 'a.b_c:d-e']) {
      const { client, state } = await WsClient.join(s.ws, room, uuid);
      assert.ok(state.users.includes(uuid));
      await client.close();
    }
  });

  test('join: the joiner gets RoomState, the others NewUser; leave: the others get UserLeave', async () => {
    const { room, master } = await classroom();
    const { client: student, state } = await WsClient.join(s.ws, room, 'student-a');
    assert.deepEqual(state, {
      action: 'RoomState',
      room,
      seq: 2,
      master_uuid: 'teacher',
      users: ['teacher', 'student-a'],
      names: {},
      id_quran: null,
      aya: null,
      muted: [],
      muted_all: false,
      corrections: [],
      audio_slots: 3,
    });
    assert.deepEqual(await master.next('NewUser'), { action: 'NewUser', uuid: 'student-a', seq: 2 });
    await student.close();
    assert.deepEqual(await master.next('UserLeave'), { action: 'UserLeave', uuid: 'student-a', seq: 3 });
    assert.deepEqual((await request(s.http, 'GET', `/api/room/${room}`)).body.data.users, ['teacher']);
  });

  test('a late joiner lands on the current sura, aya and mutes', async () => {
    const { room, master, students } = await classroom('early');
    master.send({ action: 'MoveSura', id_quran: 2 });
    master.send({ action: 'ClickAya', aya: 255 });
    master.send({ action: 'MuteAll' });
    await students.early!.next('MuteAll');
    const { state } = await WsClient.join(s.ws, room, 'late');
    assert.equal(state.id_quran, 2);
    assert.equal(state.aya, 255);
    assert.equal(state.muted_all, true);
    assert.deepEqual(state.muted, ['early', 'late']);
    assert.deepEqual(state.users, ['teacher', 'early', 'late']);
  });

  test('ClickAya: the master points, every other member follows, in order with seq', async () => {
    const { master, students } = await classroom('a', 'b');
    master.send({ action: 'MoveSura', id_quran: 2 });
    master.send({ action: 'ClickAya', aya: 1 });
    master.send({ action: 'ClickAya', aya: 2 });
    for (const student of Object.values(students)) {
      const first = await student.next('ClickAya');
      const second = await student.next('ClickAya');
      assert.deepEqual([first.aya, second.aya], [1, 2]);
      assert.equal(second.seq, first.seq + 1);
    }
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'MoveSura', seq: 4 });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'ClickAya', seq: 5 });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'ClickAya', seq: 6 });
    await master.barrier();
    assert.deepEqual(master.unreadOf('ClickAya'), [], 'the sender gets an Ack, not its own ClickAya');
  });

  test('every connected client sees every seq after its RoomState once, in order, without gaps', async () => {
    const { room, master, students } = await classroom('a', 'b');
    const { client: late, state } = await WsClient.join(s.ws, room, 'late');
    master.send({ action: 'MoveSura', id_quran: 3 });
    students.a!.send({ action: 'MuteUser', uuid: 'a' });
    master.send({ action: 'ClickAya', aya: 1 });
    master.send({ action: 'MuteAll' });
    students.b!.send({ action: 'OfferCorrection' });
    master.send({ action: 'MuteUser', uuid: 'b', result: false });
    await students.b!.close();
    master.send({ action: 'ClickAya', aya: 2 });
    // Eight room-wide events: OfferCorrection is one too; b's leave takes it out of the queue without another.
    const last = state.seq + 8;
    for (const [client, from] of [
      [master, 1],
      [students.a!, 2],
      [late, state.seq],
    ] as const) {
      await client.next((m) => m.seq === last);
      const seqs = client.received.filter((m) => m.seq !== undefined && m.action !== 'RoomState').map((m) => m.seq);
      const expected = Array.from({ length: last - from }, (_, i) => from + 1 + i);
      assert.deepEqual(seqs, expected);
    }
  });

  test('only the master may ClickAya, MoveSura, AnswerCorrection or MuteAll', async () => {
    const { students } = await classroom('a');
    const student = students.a!;
    for (const message of [
      { action: 'ClickAya', aya: 1 },
      { action: 'MoveSura', id_quran: 1 },
      { action: 'AnswerCorrection', uuid: 'a', result: true },
      { action: 'MuteAll' },
      { action: 'MuteAll', result: false },
    ]) {
      student.send(message);
      const error = await student.next('Error');
      assert.equal(error.code, 'forbidden', JSON.stringify(message));
    }
    await student.barrier();
    assert.equal(student.socket.readyState, student.socket.OPEN, 'errors never disconnect');
  });

  test('MoveSura: everyone else follows and aya resets', async () => {
    const { room, master, students } = await classroom('a');
    master.send({ action: 'MoveSura', id_quran: 1 });
    master.send({ action: 'ClickAya', aya: 5 });
    await students.a!.next('ClickAya');
    master.send({ action: 'MoveSura', id_quran: 114 });
    assert.deepEqual(await students.a!.next((m) => m.action === 'MoveSura' && m.id_quran === 114), {
      action: 'MoveSura',
      id_quran: 114,
      seq: 5,
    });
    const detail = (await request(s.http, 'GET', `/api/room/${room}`)).body.data;
    assert.equal(detail.id_quran, 114);
    assert.equal(detail.aya, null);
    assert.deepEqual(await master.next((m) => m.action === 'Ack' && m.of === 'MoveSura' && m.seq === 5), {
      action: 'Ack',
      of: 'MoveSura',
      seq: 5,
    });
    await master.barrier();
    assert.deepEqual(master.unreadOf('MoveSura'), []);
  });

  test('OfferCorrection reaches the whole room, stamped with the sender; the master offline is an error', async () => {
    const { room, master, students } = await classroom('a', 'b');
    students.a!.send({ action: 'OfferCorrection', uuid: 'b' });
    for (const client of [master, students.a!, students.b!]) {
      assert.deepEqual(await client.next('OfferCorrection'), { action: 'OfferCorrection', uuid: 'a', seq: 4 });
    }
    await students.a!.barrier();
    assert.deepEqual(students.a!.unreadOf('Ack'), [], 'the sender gets the event itself, and no Ack without an id');
    master.send({ action: 'OfferCorrection' });
    assert.equal((await master.next('Error')).code, 'forbidden');
    await master.close();
    await students.a!.next('UserLeave');
    students.a!.send({ action: 'OfferCorrection' });
    assert.equal((await students.a!.next('Error')).code, 'master_offline');
    assert.ok(room);
  });

  test('AnswerCorrection answers a queued student before the whole room; anyone else is not_queued', async () => {
    const { master, students } = await classroom('a', 'b');
    master.send({ action: 'AnswerCorrection', uuid: 'a', result: false });
    assert.equal((await master.next('Error')).code, 'not_queued', 'a has not asked');
    students.a!.send({ action: 'OfferCorrection' });
    await master.next('OfferCorrection');
    master.send({ action: 'AnswerCorrection', uuid: 'a', result: false });
    for (const client of [master, students.a!, students.b!]) {
      assert.deepEqual(await client.next('AnswerCorrection'), { action: 'AnswerCorrection', uuid: 'a', result: false, seq: 5 });
    }
    master.send({ action: 'AnswerCorrection', uuid: 'a', result: true });
    assert.equal((await master.next('Error')).code, 'not_queued', 'answered already');
    master.send({ action: 'AnswerCorrection', uuid: 'ghost', result: true });
    assert.equal((await master.next('Error')).code, 'not_queued');
  });

  test('MuteUser: everyone in the room is told; a student may only mute themself', async () => {
    const { master, students } = await classroom('a', 'b');
    master.send({ action: 'MuteUser', uuid: 'a' });
    for (const client of [master, students.a!, students.b!]) {
      assert.deepEqual(await client.next('MuteUser'), { action: 'MuteUser', uuid: 'a', result: true, seq: 4 });
    }
    students.a!.send({ action: 'MuteUser', uuid: 'a', result: false });
    assert.equal((await students.a!.next('Error')).code, 'forbidden', "the master's mute holds");
    students.b!.send({ action: 'MuteUser', uuid: 'a', result: false });
    assert.equal((await students.b!.next('Error')).code, 'forbidden');
    students.b!.send({ action: 'MuteUser', uuid: 'b' });
    assert.deepEqual(await master.next('MuteUser'), { action: 'MuteUser', uuid: 'b', result: true, seq: 5 });
    students.b!.send({ action: 'MuteUser', uuid: 'b', result: false });
    assert.deepEqual(await master.next('MuteUser'), { action: 'MuteUser', uuid: 'b', result: false, seq: 6 });
    master.send({ action: 'MuteUser', uuid: 'a', result: false });
    assert.equal((await students.a!.next((m) => m.action === 'MuteUser' && m.uuid === 'a' && m.seq === 7)).result, false);
    master.send({ action: 'MuteUser', uuid: 'nobody' });
    assert.equal((await master.next('Error')).code, 'user_not_found');
  });

  test('MuteAll mutes every student, latecomers too, until MuteAll false', async () => {
    const { room, master, students } = await classroom('a');
    master.send({ action: 'MuteAll' });
    assert.deepEqual(await students.a!.next('MuteAll'), { action: 'MuteAll', result: true, seq: 3 });
    const { client: late, state } = await WsClient.join(s.ws, room, 'late');
    assert.deepEqual(state.muted, ['a', 'late']);
    late.send({ action: 'MuteUser', uuid: 'late', result: false });
    assert.equal((await late.next('Error')).code, 'forbidden');
    master.send({ action: 'MuteAll', result: false });
    assert.deepEqual(await late.next('MuteAll'), { action: 'MuteAll', result: false, seq: 5 });
    assert.deepEqual((await request(s.http, 'GET', `/api/room/${room}`)).body.data.muted, []);
    assert.deepEqual(await master.next((m) => m.action === 'Ack' && m.seq === 5), { action: 'Ack', of: 'MuteAll', seq: 5 });
    await master.barrier();
    assert.deepEqual(master.unreadOf('MuteAll'), []);
  });

  test('Ping is answered with Pong', async () => {
    const { master } = await classroom();
    master.send({ action: 'Ping' });
    assert.deepEqual(await master.next('Pong'), { action: 'Pong' });
  });

  test('bad messages get an Error and the connection stays usable', async () => {
    const { master, students } = await classroom('a');
    const cases: [unknown, string][] = [
      ['not json', 'invalid_message'],
      ['[1,2]', 'invalid_message'],
      ['"ClickAya"', 'invalid_message'],
      ['null', 'invalid_message'],
      [{ aya: 3 }, 'invalid_message'],
      [{ action: 42 }, 'invalid_message'],
      [{ action: 'Dance' }, 'unknown_action'],
      [{ action: 'toString' }, 'unknown_action'],
      [{ action: 'ClickAya', aya: '2' }, 'invalid_message'],
      [{ action: 'ClickAya', aya: 0 }, 'invalid_message'],
      [{ action: 'ClickAya', aya: 1.5 }, 'invalid_message'],
      [{ action: 'ClickAya' }, 'invalid_message'],
      [{ action: 'MoveSura', id_quran: 115 }, 'invalid_message'],
      [{ action: 'MoveSura', id_quran: 0 }, 'invalid_message'],
      [{ action: 'MuteUser', uuid: 'a', result: 'true' }, 'invalid_message'],
      [{ action: 'MuteUser', uuid: 1 }, 'invalid_message'],
      [{ action: 'MuteAll', result: 1 }, 'invalid_message'],
      [{ action: 'AnswerCorrection', uuid: 'a', result: 1 }, 'invalid_message'],
    ];
    for (const [message, code] of cases) {
      master.send(message);
      const error = await master.next('Error');
      assert.equal(error.code, code, JSON.stringify(message));
      assert.equal(typeof error.message, 'string');
    }
    master.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    assert.equal((await master.next('Error')).code, 'invalid_message');
    master.send({ action: 'MoveSura', id_quran: 2 });
    master.send({ action: 'ClickAya', aya: 9 });
    assert.equal((await students.a!.next('ClickAya')).aya, 9, 'still works after the errors');
  });

  test('a frame over 64 KiB closes the connection with 1009', async () => {
    const { master } = await classroom();
    master.send(JSON.stringify({ action: 'Ping', pad: 'x'.repeat(65 * 1024) }));
    assert.equal((await master.closed).code, 1009);
  });

  test('the same uuid joining again replaces the old connection silently', async () => {
    const { room, master, students } = await classroom('a');
    const old = students.a!;
    const { client: fresh, state } = await WsClient.join(s.ws, room, 'a');
    assert.deepEqual(await old.next('Replaced'), { action: 'Replaced' });
    assert.equal((await old.closed).code, 4009);
    assert.deepEqual(state.users, ['teacher', 'a']);
    master.send({ action: 'MoveSura', id_quran: 3 });
    master.send({ action: 'ClickAya', aya: 3 });
    assert.equal((await fresh.next('ClickAya')).aya, 3, 'the new connection is live');
    await master.barrier();
    assert.deepEqual(master.unreadOf('UserLeave'), [], 'no UserLeave for the swap');
    assert.deepEqual(master.unreadOf('NewUser'), [], 'no NewUser for the swap');
    assert.deepEqual((await request(s.http, 'GET', `/api/room/${room}`)).body.data.users, ['teacher', 'a']);
  });
});

describe('shutdown', () => {
  test('a graceful shutdown turns not ready, tells every client to Reconnect and closes with 1012', async () => {
    const s = await startServer();
    await createRoom(s.http, 'closing', 'teacher');
    const { client } = await WsClient.join(s.ws, 'closing', 'teacher');
    const closing = s.close();
    assert.deepEqual(await client.next('Reconnect'), { action: 'Reconnect' });
    assert.equal((await client.closed).code, 1012);
    await closing;
  });
});

describe('heartbeat', () => {
  test('a client that stops answering pings is dropped and counted as a leave', async () => {
    const s = await startServer({ HEARTBEAT_INTERVAL_MS: '100', RECONNECT_GRACE_MS: '0' });
    try {
      await createRoom(s.http, 'hb', 'teacher');
      const { client: master } = await WsClient.join(s.ws, 'hb', 'teacher');
      const silent = await WsClient.connect(`${s.ws}/api/room/join/hb/sleepy`, { autoPong: false });
      await silent.next('RoomState');
      await master.next('NewUser');
      assert.deepEqual(await master.next('UserLeave', 5000), { action: 'UserLeave', uuid: 'sleepy', seq: 3 });
      assert.equal((await silent.closed).code, 1006, 'terminated without a close frame');
      assert.equal(master.socket.readyState, master.socket.OPEN, 'a client that answers pings stays');
      await master.close();
    } finally {
      await s.close();
    }
  });
});
