import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRoom, request, startServer, type TestServer } from './support/server.js';
import { HandshakeRefused, type Message, WsClient } from './support/ws-client.js';

/** Drops the connection the way a lost network does: no close frame, the server sees 1006. */
function drop(client: WsClient): Promise<unknown> {
  client.socket.terminate();
  return client.closed;
}

const seqsOf = (messages: Message[]) => messages.filter((m) => m.seq !== undefined).map((m) => m.seq as number);

describe('resume and reconnect grace (one node)', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ RECONNECT_GRACE_MS: '400', HISTORY_SIZE: '10' });
  });
  after(() => s.close());

  test('a dropped student who resumes in time misses nothing and nobody sees them leave', async () => {
    await createRoom(s.http, 'resume-1', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'resume-1', 'teacher');
    const { client: student, state } = await WsClient.join(s.ws, 'resume-1', 'ali');
    await master.next('NewUser');
    master.send({ action: 'MoveSura', id_quran: 2 });
    master.send({ action: 'ClickAya', aya: 1 });
    const seen = await student.next('ClickAya');
    await drop(student);
    master.send({ action: 'ClickAya', aya: 2 });
    master.send({ action: 'MoveSura', id_quran: 3 });
    await master.next((m) => m.action === 'Ack' && m.of === 'MoveSura');

    const back = await WsClient.connect(`${s.ws}/api/room/join/resume-1/ali?last_seq=${seen.seq}`);
    assert.deepEqual(await back.next(), { action: 'Resumed', last_seq: seen.seq });
    assert.deepEqual(await back.next(), { action: 'ClickAya', aya: 2, seq: seen.seq + 1 });
    assert.deepEqual(await back.next(), { action: 'MoveSura', id_quran: 3, seq: seen.seq + 2 });
    master.send({ action: 'ClickAya', aya: 4 });
    assert.deepEqual(await back.next(), { action: 'ClickAya', aya: 4, seq: seen.seq + 3 }, 'then live');
    assert.equal(state.seq, 2);

    await master.barrier();
    assert.deepEqual(master.unreadOf('UserLeave'), []);
    assert.deepEqual(master.unreadOf('NewUser'), []);
    assert.deepEqual((await request(s.http, 'GET', '/api/room/resume-1')).body.data.users, ['teacher', 'ali']);
    await back.close();
    await master.close();
  });

  test('a resuming master gets its own replayed commands as the events themselves, not as Acks', async () => {
    await createRoom(s.http, 'resume-own', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'resume-own', 'teacher');
    const { client: student } = await WsClient.join(s.ws, 'resume-own', 'ali');
    await master.next('NewUser');
    master.send({ action: 'MoveSura', id_quran: 2 });
    const moved = await master.next((m) => m.action === 'Ack' && m.of === 'MoveSura');
    // The connection is lost with a command under way: its Ack never reaches this socket.
    master.send({ action: 'ClickAya', aya: 7 });
    await drop(master);
    await student.next((m) => m.action === 'ClickAya' && m.aya === 7);

    const back = await WsClient.connect(`${s.ws}/api/room/join/resume-own/teacher?last_seq=${moved.seq}`);
    assert.deepEqual(await back.next(), { action: 'Resumed', last_seq: moved.seq });
    assert.deepEqual(
      await back.next(),
      { action: 'ClickAya', aya: 7, seq: (moved.seq as number) + 1 },
      'the event, so the client learns the aya',
    );
    back.send({ action: 'ClickAya', aya: 8 });
    assert.deepEqual(await back.next(), { action: 'Ack', of: 'ClickAya', seq: (moved.seq as number) + 2 }, 'live commands are still acked');
    await back.close();
    await student.close();
  });

  test('a dropped student who does not come back leaves after the grace period', async () => {
    await createRoom(s.http, 'resume-2', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'resume-2', 'teacher');
    const { client: student } = await WsClient.join(s.ws, 'resume-2', 'ali');
    await master.next('NewUser');
    await drop(student);
    assert.deepEqual(
      (await request(s.http, 'GET', '/api/room/resume-2')).body.data.users,
      ['teacher', 'ali'],
      'still in the room during the grace period',
    );
    assert.equal((await master.next('UserLeave', 5000)).uuid, 'ali');
    assert.deepEqual((await request(s.http, 'GET', '/api/room/resume-2')).body.data.users, ['teacher']);
    await master.close();
  });

  test('a clean close leaves at once, without waiting for the grace period', async () => {
    const patient = await startServer({ RECONNECT_GRACE_MS: '600000' });
    try {
      await createRoom(patient.http, 'resume-3', 'teacher');
      const { client: master } = await WsClient.join(patient.ws, 'resume-3', 'teacher');
      const { client: student } = await WsClient.join(patient.ws, 'resume-3', 'ali');
      await master.next('NewUser');
      await student.close();
      assert.equal((await master.next('UserLeave')).uuid, 'ali');
      await master.close();
    } finally {
      await patient.close();
    }
  });

  test('resuming from a seq older than the kept history gives a fresh RoomState marked missed', async () => {
    await createRoom(s.http, 'resume-4', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'resume-4', 'teacher');
    const { client: student } = await WsClient.join(s.ws, 'resume-4', 'ali');
    await drop(student);
    master.send({ action: 'MoveSura', id_quran: 2 });
    for (let aya = 1; aya <= 12; aya++) master.send({ action: 'ClickAya', aya });
    await master.next((m) => m.action === 'Ack' && m.seq === 15);
    const { client: back, state } = await WsClient.join(s.ws, 'resume-4', 'ali', '?last_seq=1');
    assert.equal(state.missed, true);
    assert.equal(state.aya, 12);
    assert.equal(state.seq, 15);
    await back.close();
    await master.close();
  });

  test('resuming from the current seq resumes with nothing missed; from the future, a fresh RoomState', async () => {
    await createRoom(s.http, 'resume-5', 'teacher');
    const { client: master, state } = await WsClient.join(s.ws, 'resume-5', 'teacher');
    await drop(master);
    const back = await WsClient.connect(`${s.ws}/api/room/join/resume-5/teacher?last_seq=${state.seq}`);
    assert.deepEqual(await back.next(), { action: 'Resumed', last_seq: state.seq });
    await drop(back);
    const { state: fresh } = await WsClient.join(s.ws, 'resume-5', 'teacher', '?last_seq=999');
    assert.equal(fresh.missed, true);
  });

  test('an invalid last_seq is refused before the upgrade', async () => {
    await createRoom(s.http, 'resume-6', 'teacher');
    for (const value of ['abc', '-1', '1.5', '01', '9'.repeat(20), '']) {
      const refused = await WsClient.connect(`${s.ws}/api/room/join/resume-6/ali?last_seq=${value}`).catch((e: unknown) => e);
      assert.ok(refused instanceof HandshakeRefused, value);
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'invalid_request');
    }
  });

  test('every seq reaches a resuming client exactly once across several drops', async () => {
    await createRoom(s.http, 'resume-7', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'resume-7', 'teacher');
    let { client: student } = await WsClient.join(s.ws, 'resume-7', 'ali');
    const received: Message[] = [];
    master.send({ action: 'MoveSura', id_quran: 2 });
    let last = (await student.next('MoveSura')).seq as number;
    for (let round = 0; round < 3; round++) {
      master.send({ action: 'ClickAya', aya: round * 2 + 1 });
      received.push(await student.next('ClickAya'));
      last = received[received.length - 1]!.seq;
      await drop(student);
      master.send({ action: 'ClickAya', aya: round * 2 + 2 });
      await master.next((m) => m.action === 'Ack' && m.seq === last + 1);
      student = await WsClient.connect(`${s.ws}/api/room/join/resume-7/ali?last_seq=${last}`);
      await student.next('Resumed');
      received.push(await student.next('ClickAya'));
    }
    assert.deepEqual(
      received.map((m) => m.aya),
      [1, 2, 3, 4, 5, 6],
    );
    assert.deepEqual(seqsOf(received), [4, 5, 6, 7, 8, 9]);
    await student.close();
    await master.close();
  });
});
