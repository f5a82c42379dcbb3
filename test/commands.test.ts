import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRoom, request, startServer, type TestServer } from './support/server.js';
import { HandshakeRefused, type Message, WsClient } from './support/ws-client.js';

let roomCounter = 0;

/** The position of the first message matching `match` in everything a client received. */
const indexOf = (client: WsClient, match: (m: Message) => boolean): number => client.received.findIndex(match);

describe('request ids, Ack and Error', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  async function classroom(...students: string[]) {
    const room = `ids-${++roomCounter}`;
    await createRoom(s.http, room, 'teacher');
    const { client: master } = await WsClient.join(s.ws, room, 'teacher');
    const clients: Record<string, WsClient> = {};
    for (const uuid of students) clients[uuid] = (await WsClient.join(s.ws, room, uuid)).client;
    for (const uuid of students) await master.next((m) => m.action === 'NewUser' && m.uuid === uuid);
    return { room, master, students: clients };
  }

  test('a command with an id is answered by one Ack with its id and the seq of its event; without an id, as before', async () => {
    const { master, students } = await classroom('a');
    master.send({ action: 'MoveSura', id_quran: 2, id: 'move-1' });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'MoveSura', id: 'move-1', seq: 3 });
    master.send({ action: 'ClickAya', aya: 255, id: 'click-1' });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'ClickAya', id: 'click-1', seq: 4 });
    master.send({ action: 'MuteAll', id: 'x'.repeat(64) });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'MuteAll', id: 'x'.repeat(64), seq: 5 });
    master.send({ action: 'ClickAya', aya: 256 });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'ClickAya', seq: 6 }, 'no id: the Ack of today');
    // The others see the events as they always did, never the ids.
    for (const expected of [
      { action: 'MoveSura', id_quran: 2, seq: 3 },
      { action: 'ClickAya', aya: 255, seq: 4 },
      { action: 'MuteAll', result: true, seq: 5 },
      { action: 'ClickAya', aya: 256, seq: 6 },
    ]) {
      assert.deepEqual(await students.a!.next(), expected);
    }
    await master.barrier();
    assert.deepEqual(master.unreadOf('Ack'), [], 'exactly one Ack per command');
    assert.deepEqual(master.unreadOf('MoveSura'), []);
  });

  test('MuteUser with an id: the sender gets the event first, then the Ack with the same seq', async () => {
    const { master, students } = await classroom('a', 'b');
    master.send({ action: 'MuteUser', uuid: 'a', id: 'mute-a' });
    const ack = await master.next('Ack');
    assert.deepEqual(ack, { action: 'Ack', of: 'MuteUser', id: 'mute-a', seq: 4 });
    const event = indexOf(master, (m) => m.action === 'MuteUser' && m.seq === 4);
    assert.ok(event >= 0, 'the sender got the event');
    assert.ok(event < indexOf(master, (m) => m.action === 'Ack' && m.id === 'mute-a'), 'before its Ack');
    for (const student of [students.a!, students.b!]) {
      assert.deepEqual(await student.next('MuteUser'), { action: 'MuteUser', uuid: 'a', result: true, seq: 4 });
    }
    // A student muting themself with an id: the same order.
    students.b!.send({ action: 'MuteUser', uuid: 'b', id: 'self' });
    assert.deepEqual(await students.b!.next('Ack'), { action: 'Ack', of: 'MuteUser', id: 'self', seq: 5 });
    assert.ok(
      indexOf(students.b!, (m) => m.action === 'MuteUser' && m.seq === 5) <
        indexOf(students.b!, (m) => m.action === 'Ack' && m.id === 'self'),
    );
    await master.barrier();
    await students.a!.barrier();
    assert.deepEqual(students.a!.unreadOf('Ack'), [], 'only the sender is answered');
  });

  test('a refused command with an id: Error with of and id, and no Ack', async () => {
    const { master, students } = await classroom('a');
    students.a!.send({ action: 'ClickAya', aya: 1, id: 'not-mine' });
    assert.deepEqual(await students.a!.next('Error'), {
      action: 'Error',
      of: 'ClickAya',
      id: 'not-mine',
      code: 'forbidden',
      message: 'only the room master may send ClickAya',
    });
    master.send({ action: 'MuteUser', uuid: 'ghost', id: 'ghost-1' });
    const error = await master.next('Error');
    assert.deepEqual([error.of, error.id, error.code], ['MuteUser', 'ghost-1', 'user_not_found']);
    // Without an id the refusal still names the command.
    master.send({ action: 'AnswerCorrection', uuid: 'a', result: true });
    const unnamed = await master.next('Error');
    assert.deepEqual([unnamed.of, 'id' in unnamed, unnamed.code], ['AnswerCorrection', false, 'not_queued']);
    await master.barrier();
    await students.a!.barrier();
    assert.deepEqual([...master.unreadOf('Ack'), ...students.a!.unreadOf('Ack')], []);
  });

  test('an invalid message names its command and id when it can; a bad id is not echoed', async () => {
    const { master } = await classroom();
    const cases: [unknown, Record<string, unknown>][] = [
      [
        { action: 'ClickAya', aya: 0, id: 'c0' },
        { of: 'ClickAya', id: 'c0', code: 'invalid_message' },
      ],
      [
        { action: 'MoveSura', id_quran: 115, id: 'm' },
        { of: 'MoveSura', id: 'm', code: 'invalid_message' },
      ],
      [
        { action: 'MuteUser', id: 'no-uuid' },
        { of: 'MuteUser', id: 'no-uuid', code: 'invalid_message' },
      ],
      [
        { action: 'MoveSura', id_quran: 1, id: 'x'.repeat(65) },
        { of: 'MoveSura', code: 'invalid_message' },
      ],
      [
        { action: 'MoveSura', id_quran: 1, id: '' },
        { of: 'MoveSura', code: 'invalid_message' },
      ],
      [
        { action: 'Ping', id: 7 },
        { of: 'Ping', code: 'invalid_message' },
      ],
      [
        { action: 'ClickAya', aya: 3, id: { nested: true } },
        { of: 'ClickAya', code: 'invalid_message' },
      ],
      [
        { action: 'Dance', id: 'd1' },
        { id: 'd1', code: 'unknown_action' },
      ],
      [{ action: 'toString' }, { code: 'unknown_action' }],
      [{ id: 'no-action' }, { code: 'invalid_message' }],
      ['not json', { code: 'invalid_message' }],
    ];
    for (const [message, expected] of cases) {
      master.send(message);
      const { action, message: text, ...error } = await master.next('Error');
      assert.equal(action, 'Error');
      assert.deepEqual(error, expected, JSON.stringify(message));
      assert.equal(typeof text, 'string');
    }
    master.send({ action: 'MoveSura', id_quran: 1, id: 'x'.repeat(65) });
    assert.match((await master.next('Error')).message, /id must NOT have more than 64 characters/);
    // Nothing invalid changed the room.
    assert.equal((await request(s.http, 'GET', `/api/room/ids-${roomCounter}`)).body.data.id_quran, null);
  });

  test('a command that changes nothing is answered at once by an Ack without seq', async () => {
    const { master, students } = await classroom('a');
    students.a!.send({ action: 'WithdrawCorrection', id: 'w0' });
    assert.deepEqual(await students.a!.next('Ack'), { action: 'Ack', of: 'WithdrawCorrection', id: 'w0' });
    students.a!.send({ action: 'OfferCorrection', id: 'o1' });
    assert.deepEqual(await students.a!.next('Ack'), { action: 'Ack', of: 'OfferCorrection', id: 'o1', seq: 3 });
    students.a!.send({ action: 'OfferCorrection', id: 'o2' });
    assert.deepEqual(await students.a!.next('Ack'), { action: 'Ack', of: 'OfferCorrection', id: 'o2' }, 'already queued');
    students.a!.send({ action: 'OfferCorrection' });
    await students.a!.barrier();
    assert.deepEqual(students.a!.unreadOf('Ack'), [], 'a no-op without an id is not answered');
    await master.barrier();
    assert.deepEqual(
      master.received.filter((m) => m.action === 'OfferCorrection'),
      [{ action: 'OfferCorrection', uuid: 'a', seq: 3 }],
      'the room saw one OfferCorrection',
    );
  });

  test('a command sent before the RoomState arrives is answered too, after the RoomState', async () => {
    for (let round = 0; round < 5; round++) {
      const room = `early-${++roomCounter}`;
      await createRoom(s.http, room, 'teacher');
      const client = await WsClient.connect(`${s.ws}/api/room/join/${room}/teacher`);
      // At once: the command may commit before the join (then the snapshot holds it) or after it.
      client.send({ action: 'MoveSura', id_quran: 3, id: 'early' });
      const ack = await client.next('Ack');
      assert.deepEqual([ack.of, ack.id, typeof ack.seq], ['MoveSura', 'early', 'number']);
      const state = client.received.find((m) => m.action === 'RoomState')!;
      assert.ok(client.received.indexOf(state) < client.received.indexOf(ack), 'the RoomState first');
      assert.ok(ack.seq <= state.seq ? state.id_quran === 3 : state.id_quran === null, JSON.stringify([state, ack]));
      await client.close();
    }
  });

  test('Ping with an id is answered by Pong with the same id', async () => {
    const { master } = await classroom();
    master.send({ action: 'Ping', id: 'p-1' });
    assert.deepEqual(await master.next('Pong'), { action: 'Pong', id: 'p-1' });
    master.send({ action: 'Ping' });
    assert.deepEqual(await master.next('Pong'), { action: 'Pong' });
  });

  test('signaling with an id: a refusal is an Error with of and id', async () => {
    const { master } = await classroom();
    master.send({ action: 'ICECandidate', candidate: 'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', sdpMid: '0', id: 'ice-1' });
    const refused = await master.next('Error');
    assert.deepEqual([refused.of, refused.id, refused.code], ['ICECandidate', 'ice-1', 'no_offer']);
    master.send({ action: 'SessionDescription', type: 'offer', sdp: 'v=0\r\n', id: 'sdp-1' });
    const offer = await master.next('Error');
    assert.deepEqual([offer.of, offer.id, offer.code], ['SessionDescription', 'sdp-1', 'invalid_message']);
    master.send({ action: 'SessionDescription', type: 'offer', sdp: 'v=0\r\n' });
    const unnamed = await master.next('Error');
    assert.deepEqual([unnamed.of, 'id' in unnamed], ['SessionDescription', false]);
  });
});

describe('the aya is checked against the sura', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test('ClickAya before any MoveSura, or beyond the sura, is aya_out_of_range; inside it is accepted', async () => {
    await createRoom(s.http, 'ayat', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'ayat', 'teacher');
    const { client: student } = await WsClient.join(s.ws, 'ayat', 'a');
    master.send({ action: 'ClickAya', aya: 1, id: 'early' });
    assert.deepEqual(await master.next('Error'), {
      action: 'Error',
      of: 'ClickAya',
      id: 'early',
      code: 'aya_out_of_range',
      message: 'no sura yet: send MoveSura first',
    });
    master.send({ action: 'MoveSura', id_quran: 1 });
    master.send({ action: 'ClickAya', aya: 8 });
    const beyond = await master.next('Error');
    assert.equal(beyond.code, 'aya_out_of_range');
    assert.match(beyond.message, /sura 1 has 7 ayat/);
    master.send({ action: 'ClickAya', aya: 7 });
    assert.deepEqual(await student.next('ClickAya'), { action: 'ClickAya', aya: 7, seq: 4 });
    master.send({ action: 'MoveSura', id_quran: 114 });
    master.send({ action: 'ClickAya', aya: 7 });
    assert.match((await master.next('Error')).message, /sura 114 has 6 ayat/);
    master.send({ action: 'MoveSura', id_quran: 2 });
    master.send({ action: 'ClickAya', aya: 286 });
    assert.deepEqual(await student.next('ClickAya'), { action: 'ClickAya', aya: 286, seq: 7 });
    const room = (await request(s.http, 'GET', '/api/room/ayat')).body.data;
    assert.deepEqual([room.id_quran, room.aya], [2, 286]);
    await student.barrier();
    assert.deepEqual(
      student.received.filter((m) => m.action === 'ClickAya').map((m) => m.aya),
      [7, 286],
      'refused ayas reach nobody',
    );
  });
});

describe('display names', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(() => s.close());

  test('?name= is shown in RoomState.names, NewUser.name and GET /api/room/{name}; Arabic included', async () => {
    await createRoom(s.http, 'names', 'teacher');
    const { client: master, state: first } = await WsClient.join(s.ws, 'names', 'teacher', `?name=${encodeURIComponent('الشيخ أحمد')}`);
    assert.deepEqual(first.names, { teacher: 'الشيخ أحمد' });
    const arabic = 'عبد الرحمن بن عوف';
    const { state } = await WsClient.join(s.ws, 'names', 'ali', `?name=${encodeURIComponent(arabic)}`);
    assert.deepEqual(state.names, { teacher: 'الشيخ أحمد', ali: arabic });
    assert.deepEqual(await master.next('NewUser'), { action: 'NewUser', uuid: 'ali', name: arabic, seq: 2 });
    // No name: no entry, and NewUser as before.
    const { state: third } = await WsClient.join(s.ws, 'names', 'bilal');
    assert.deepEqual(third.names, { teacher: 'الشيخ أحمد', ali: arabic });
    assert.deepEqual(await master.next('NewUser'), { action: 'NewUser', uuid: 'bilal', seq: 3 });
    // 64 characters (code points) is the limit, in any script.
    const longest = `${'ع'.repeat(63)}😀`;
    const { client: long } = await WsClient.join(s.ws, 'names', 'long', `?name=${encodeURIComponent(longest)}`);
    assert.equal((await master.next('NewUser')).name, longest);
    const view = (await request(s.http, 'GET', '/api/room/names')).body.data;
    assert.deepEqual(view.names, { teacher: 'الشيخ أحمد', ali: arabic, long: longest });
    await long.close();
    await master.next('UserLeave');
    assert.deepEqual(
      Object.keys((await request(s.http, 'GET', '/api/room/names')).body.data.names),
      ['teacher', 'ali'],
      'a name leaves with its member',
    );
  });

  test('a name too long, empty or with control characters is refused before the upgrade', async () => {
    await createRoom(s.http, 'bad-names', 'teacher');
    for (const name of ['ع'.repeat(65), 'x'.repeat(65), '', 'line\nbreak', 'nul\u0000', 'tab\there']) {
      const refused = await WsClient.connect(`${s.ws}/api/room/join/bad-names/u?name=${encodeURIComponent(name)}`).catch(
        (error: unknown) => error,
      );
      assert.ok(refused instanceof HandshakeRefused, JSON.stringify(name));
      assert.equal(refused.status, 400);
      assert.equal(refused.body.error.code, 'invalid_request');
      assert.match(refused.body.error.message, /querystring\.name/);
    }
    assert.deepEqual((await request(s.http, 'GET', '/api/room/bad-names')).body.data.users, []);
  });

  test('a replacement keeps the name the member joined with', async () => {
    await createRoom(s.http, 'rename', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'rename', 'teacher');
    const { client: old } = await WsClient.join(s.ws, 'rename', 'a', '?name=First');
    await master.next('NewUser');
    const { state } = await WsClient.join(s.ws, 'rename', 'a', '?name=Second');
    await old.closed;
    assert.deepEqual(state.names, { a: 'First' });
    await master.barrier();
    assert.deepEqual(master.unreadOf('NewUser'), [], 'the others are told nothing');
  });
});

describe('the correction queue', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer({ RECONNECT_GRACE_MS: '0' });
  });
  after(() => s.close());

  async function classroom(room: string, ...students: string[]) {
    await createRoom(s.http, room, 'teacher');
    const { client: master } = await WsClient.join(s.ws, room, 'teacher');
    const clients: Record<string, WsClient> = {};
    for (const uuid of students) clients[uuid] = (await WsClient.join(s.ws, room, uuid)).client;
    for (const uuid of students) await master.next((m) => m.action === 'NewUser' && m.uuid === uuid);
    return { master, students: clients };
  }

  const queueOf = async (room: string): Promise<string[]> => (await request(s.http, 'GET', `/api/room/${room}`)).body.data.corrections;

  test('students queue in the order they ask, once each; withdraw and answer take them out; every member sees it', async () => {
    const { master, students } = await classroom('queue', 'a', 'b', 'c');
    const everyone = [master, students.a!, students.b!, students.c!];
    students.b!.send({ action: 'OfferCorrection' });
    for (const client of everyone) assert.deepEqual(await client.next('OfferCorrection'), { action: 'OfferCorrection', uuid: 'b', seq: 5 });
    students.a!.send({ action: 'OfferCorrection' });
    for (const client of everyone) assert.deepEqual(await client.next('OfferCorrection'), { action: 'OfferCorrection', uuid: 'a', seq: 6 });
    students.c!.send({ action: 'OfferCorrection' });
    students.b!.send({ action: 'OfferCorrection', id: 'again' });
    assert.deepEqual(await students.b!.next('Ack'), { action: 'Ack', of: 'OfferCorrection', id: 'again' }, 'no duplicate');
    await master.next((m) => m.action === 'OfferCorrection' && m.uuid === 'c');
    assert.deepEqual(await queueOf('queue'), ['b', 'a', 'c']);

    students.a!.send({ action: 'WithdrawCorrection', id: 'w' });
    assert.deepEqual(await students.a!.next('WithdrawCorrection'), { action: 'WithdrawCorrection', uuid: 'a', seq: 8 });
    assert.deepEqual(await students.a!.next('Ack'), { action: 'Ack', of: 'WithdrawCorrection', id: 'w', seq: 8 });
    for (const client of [master, students.b!, students.c!]) {
      assert.deepEqual(await client.next('WithdrawCorrection'), { action: 'WithdrawCorrection', uuid: 'a', seq: 8 });
    }
    assert.deepEqual(await queueOf('queue'), ['b', 'c']);

    master.send({ action: 'AnswerCorrection', uuid: 'c', result: true, id: 'answer-c' });
    assert.deepEqual(await master.next('AnswerCorrection'), { action: 'AnswerCorrection', uuid: 'c', result: true, seq: 9 });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'AnswerCorrection', id: 'answer-c', seq: 9 });
    for (const client of [students.a!, students.b!, students.c!]) {
      assert.deepEqual(await client.next('AnswerCorrection'), { action: 'AnswerCorrection', uuid: 'c', result: true, seq: 9 });
    }
    master.send({ action: 'AnswerCorrection', uuid: 'c', result: false, id: 'twice' });
    const error = await master.next('Error');
    assert.deepEqual([error.of, error.id, error.code], ['AnswerCorrection', 'twice', 'not_queued']);
    assert.deepEqual(await queueOf('queue'), ['b']);
    master.send({ action: 'WithdrawCorrection' });
    assert.equal((await master.next('Error')).code, 'forbidden', 'the master is never in the queue');

    // A late joiner sees the queue as it is.
    const { state } = await WsClient.join(s.ws, 'queue', 'late');
    assert.deepEqual(state.corrections, ['b']);
  });

  test('leaving and being kicked take a student out of the queue, told by UserLeave alone', async () => {
    const { master, students } = await classroom('queue-leave', 'a', 'b', 'c');
    for (const uuid of ['a', 'b', 'c']) {
      students[uuid]!.send({ action: 'OfferCorrection' });
      await master.next((m) => m.action === 'OfferCorrection' && m.uuid === uuid);
    }
    await students.b!.close();
    assert.deepEqual(await master.next('UserLeave'), { action: 'UserLeave', uuid: 'b', seq: 8 });
    assert.deepEqual(await queueOf('queue-leave'), ['a', 'c']);
    const kicked = await request(s.http, 'POST', '/api/room/kick', { uuid: 'a', room_name: 'queue-leave' });
    assert.equal(kicked.status, 200);
    assert.deepEqual(await master.next('UserLeave'), { action: 'UserLeave', uuid: 'a', seq: 9 });
    assert.deepEqual(await queueOf('queue-leave'), ['c']);
    const { state } = await WsClient.join(s.ws, 'queue-leave', 'late');
    assert.deepEqual(state.corrections, ['c']);
    await master.barrier();
    assert.deepEqual(
      master.received.filter((m) => m.action === 'WithdrawCorrection' || m.action === 'AnswerCorrection'),
      [],
      'no other event for the removal',
    );
    // Someone who left and came back asks again from the end of the queue.
    const { client: back } = await WsClient.join(s.ws, 'queue-leave', 'a');
    back.send({ action: 'OfferCorrection', id: 'back' });
    assert.equal((await back.next('Ack')).seq, 12);
    assert.deepEqual(await queueOf('queue-leave'), ['c', 'a']);
  });

  test('OfferCorrection while the master is away is master_offline; the queue stays, withdrawing still works', async () => {
    const { master, students } = await classroom('queue-away', 'a');
    students.a!.send({ action: 'OfferCorrection' });
    await master.next('OfferCorrection');
    await master.close();
    await students.a!.next('UserLeave');
    assert.deepEqual(await queueOf('queue-away'), ['a'], "the master's leave does not empty the queue");
    students.a!.send({ action: 'OfferCorrection', id: 'o' });
    const refused = await students.a!.next('Error');
    assert.deepEqual([refused.of, refused.id, refused.code], ['OfferCorrection', 'o', 'master_offline']);
    students.a!.send({ action: 'WithdrawCorrection', id: 'w' });
    assert.deepEqual(await students.a!.next('Ack'), { action: 'Ack', of: 'WithdrawCorrection', id: 'w', seq: 5 });
    assert.deepEqual(await queueOf('queue-away'), []);
  });
});
