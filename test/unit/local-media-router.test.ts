/**
 * LocalMediaRouter and HostedRoom over the memory store and the room service, with a real SFU on a
 * held loopback port and real offers from plain libdatachannel clients (no sockets, no libwebrtc).
 * The memory store publishes a commit's events before the commit resolves, so once a RoomService
 * call has resolved, everything the router says about it has been said.
 */

import assert from 'node:assert/strict';
import { after, describe, type TestContext, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import nodeDataChannel from 'node-datachannel';
import { pino } from 'pino';
import { LocalMediaRouter } from '../../src/cluster/local-media-router.js';
import { MemoryRoomStore } from '../../src/cluster/memory-room-store.js';
import { RoomEventStream } from '../../src/cluster/room-event-stream.js';
import { MediaEngine } from '../../src/media/media-engine.js';
import { MediaPorts } from '../../src/media/media-ports.js';
import type { ConnectionRef } from '../../src/protocol/connection.js';
import type { MediaMessage } from '../../src/protocol/server-messages.js';
import { RoomService } from '../../src/room/room-service.js';
import type { RoomEventListener } from '../../src/room/room-store.js';

const { Audio, PeerConnection } = nodeDataChannel;
type Track = ReturnType<InstanceType<typeof PeerConnection>['addTrack']>;

const silent = pino({ level: 'silent' });
const NODE = 'node-1';
const HISTORY = { size: 100, maxAgeMs: 60_000 };
const BAD_OFFER = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000\r\n';

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A participant's client, laid out as the recipe says: a sendonly Opus microphone, then two recvonly slots. */
class Client {
  private readonly pc: InstanceType<typeof PeerConnection>;
  readonly offer: string;
  /** Its own candidates, as gathered. */
  readonly candidates: [candidate: string, mid: string][] = [];
  private readonly tracks: Track[] = [];

  constructor(
    readonly room: string,
    readonly ref: ConnectionRef,
    ssrc: number,
  ) {
    this.pc = new PeerConnection(ref.conn, { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
    this.pc.onLocalCandidate((candidate, mid) => this.candidates.push([candidate, mid]));
    const mic = new Audio('0', 'SendOnly');
    mic.addOpusCodec(111);
    mic.addSSRC(ssrc, ref.uuid, ref.uuid, 'mic');
    this.tracks.push(this.pc.addTrack(mic));
    for (const mid of ['1', '2']) {
      const slot = new Audio(mid, 'RecvOnly');
      slot.addOpusCodec(111);
      this.tracks.push(this.pc.addTrack(slot));
    }
    this.pc.setLocalDescription('offer');
    this.offer = this.pc.localDescription()!.sdp;
  }

  close(): void {
    for (const track of this.tracks) track.close();
    this.pc.close();
  }
}

/** A memory store that can lose one published event (by seq) on its way to subscribers, and be told it reconnected. */
class LossyStore extends MemoryRoomStore {
  dropSeq: number | undefined;
  dropped = 0;
  private readonly reconnectListeners: (() => void)[] = [];

  override async subscribe(name: string, listener: RoomEventListener): Promise<() => void> {
    return super.subscribe(name, (event) => {
      if (event.seq !== undefined && event.seq === this.dropSeq) {
        this.dropped += 1;
        return;
      }
      listener(event);
    });
  }

  override onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  reconnected(): void {
    for (const listener of this.reconnectListeners) listener();
  }
}

type Said = { to: ConnectionRef; message: MediaMessage };

/** One node's media: store, room service, SFU on a held port and the router, closed after the test. */
async function node(t: TestContext, store: MemoryRoomStore = new MemoryRoomStore(HISTORY)) {
  const ports = await MediaPorts.open({ begin: 0, end: 0 }, '127.0.0.1');
  const engine = new MediaEngine({ slots: 2, dtx: true, network: { iceServers: () => [], bindAddress: '127.0.0.1' }, ports, log: silent });
  const router = new LocalMediaRouter('node-1', engine, store, new RoomEventStream(store, silent), silent);
  const rooms = new RoomService(store, silent);
  const said: Said[] = [];
  router.onMessage((to, message) => said.push({ to, message }));
  const clients: Client[] = [];
  let connections = 0;
  t.after(async () => {
    for (const client of clients.splice(0)) client.close();
    engine.close();
    await store.close();
  });

  /** What the router said to one connection, of one action. */
  function to<A extends MediaMessage['action']>(ref: ConnectionRef, action: A): Extract<MediaMessage, { action: A }>[] {
    return said
      .filter((entry) => entry.to.conn === ref.conn && entry.message.action === action)
      .map((entry) => entry.message as Extract<MediaMessage, { action: A }>);
  }

  /** Every MediaClosed the router said, by uuid. */
  const mediaClosed = () => said.filter((entry) => entry.message.action === 'MediaClosed').map((entry) => entry.to.uuid);

  function client(room: string, uuid: string): Client {
    const made = new Client(room, { uuid, conn: `${uuid}-conn-${++connections}`, node: NODE }, 1000 + connections);
    clients.push(made);
    return made;
  }

  /** A member who joined the room through the room service, with a client ready to offer. */
  async function member(room: string, uuid: string): Promise<Client> {
    const made = client(room, uuid);
    await rooms.join(room, uuid, made.ref.conn, NODE);
    return made;
  }

  /** Offers and resolves to the answer. */
  async function offer(made: Client): Promise<string> {
    const [errors, answers] = [to(made.ref, 'Error').length, to(made.ref, 'SessionDescription').length];
    await router.offer(made.room, made.ref, made.offer);
    assert.deepEqual(to(made.ref, 'Error').slice(errors), [], `${made.ref.uuid}'s offer was refused`);
    const answer = to(made.ref, 'SessionDescription').slice(answers);
    assert.equal(answer.length, 1, `${made.ref.uuid}'s offer was not answered once`);
    return answer[0]!.sdp;
  }

  return { ports, store, engine, router, rooms, said, to, mediaClosed, client, member, offer };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
// A closed PeerConnection or Track holds the event loop until its JS object is collected: without
// this the file would end only when V8 happens to collect them, which may be minutes later.
after(async () => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
});

describe('LocalMediaRouter and HostedRoom', () => {
  test('an offer is answered to its connection and hosts the room', async (t) => {
    const { ports, engine, router, rooms, said, to, member } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');

    await router.offer('r', teacher.ref, teacher.offer);
    const answers = said.filter((entry) => entry.message.action === 'SessionDescription');
    assert.equal(answers.length, 1);
    assert.deepEqual(answers[0]!.to, teacher.ref);
    const answer = answers[0]!.message as Extract<MediaMessage, { action: 'SessionDescription' }>;
    assert.equal(answer.type, 'answer');
    // The microphone received with DTX, the two slots sent, on the port the engine holds.
    const [, mic, ...slots] = answer.sdp.split(/\r\nm=/);
    assert.match(mic!, /a=mid:0\r\n(?:.*\r\n)*?a=recvonly/);
    assert.match(mic!, /usedtx=1/);
    assert.equal(slots.length, 2);
    for (const slot of slots) assert.match(slot, /a=sendonly\r\n(?:.*\r\n)*?a=ssrc:\d+ cname:wigglypuff/);
    assert.match(answer.sdp, new RegExp(`a=candidate:.* 127\\.0\\.0\\.1 ${ports.ports[0]} typ host`));
    assert.deepEqual(to(teacher.ref, 'Error'), []);
    assert.deepEqual(router.hostedRooms(), ['r']);
    assert.equal(engine.load, 1);
    assert.equal(router.load, 1);
    assert.ok(engine.room('r')!.has(teacher.ref));
  });

  test('an offer for a room that does not exist is room_not_found and hosts nothing; the room can be hosted once it exists', async (t) => {
    const { router, rooms, to, client, member, offer } = await node(t);
    const ghost = client('ghost', 'teacher');
    await router.offer('ghost', ghost.ref, ghost.offer);
    assert.deepEqual(
      to(ghost.ref, 'Error').map((error) => error.code),
      ['room_not_found'],
    );
    assert.deepEqual(to(ghost.ref, 'SessionDescription'), []);
    assert.deepEqual(router.hostedRooms(), []);

    await rooms.create('ghost', 'teacher');
    await offer(await member('ghost', 'teacher'));
    assert.deepEqual(router.hostedRooms(), ['ghost']);
  });

  test('a refused offer is invalid_message saying why; an empty room is not left hosted, an earlier peer stays', async (t) => {
    const { engine, router, rooms, to, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    const student = await member('r', 'student');

    await router.offer('r', student.ref, BAD_OFFER);
    const [refused, ...more] = to(student.ref, 'Error');
    assert.deepEqual(more, []);
    assert.equal(refused?.code, 'invalid_message');
    assert.match(refused.message, /the offer was refused: .*ICE user fragment/);
    assert.equal(refused.of, 'SessionDescription', 'the refusal names the command');
    assert.equal('id' in refused, false, 'no id given, none echoed');
    assert.deepEqual(router.hostedRooms(), []);

    await offer(student);
    await router.offer('r', student.ref, BAD_OFFER, 'offer-2');
    assert.equal(to(student.ref, 'Error').length, 2);
    assert.deepEqual(
      [to(student.ref, 'Error')[1]!.of, to(student.ref, 'Error')[1]!.id],
      ['SessionDescription', 'offer-2'],
      'the id is echoed',
    );
    assert.deepEqual(router.hostedRooms(), ['r']);
    assert.ok(engine.room('r')!.has(student.ref), 'the refused offer replaced the peer answered before');
  });

  test('a candidate from a connection that never offered is no_offer, whether the room is hosted or not', async (t) => {
    const { router, rooms, to, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    const student = await member('r', 'student');

    await router.candidate('r', student.ref, 'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', '0');
    assert.deepEqual(
      to(student.ref, 'Error').map((error) => error.code),
      ['no_offer'],
    );
    assert.deepEqual(router.hostedRooms(), []);

    await offer(teacher);
    await router.candidate('r', student.ref, 'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', '0', 'cand-1');
    const errors = to(student.ref, 'Error');
    assert.deepEqual(
      errors.map((error) => [error.code, error.of, error.id]),
      [
        ['no_offer', 'ICECandidate', undefined],
        ['no_offer', 'ICECandidate', 'cand-1'],
      ],
    );
    assert.match(errors[1]!.message, /before any SessionDescription offer/);
  });

  test('candidates trickled while the offer is being answered are kept and added after the answer', async (t) => {
    const { router, rooms, said, member } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    await until("the client's own candidates", () => teacher.candidates.length > 0);

    // Not awaited in between: the candidates arrive while the room is being opened for the offer.
    const offering = router.offer('r', teacher.ref, teacher.offer);
    const trickled = [...teacher.candidates, ['candidate:bogus', '0'] as [string, string]].map(([candidate, mid]) =>
      router.candidate('r', teacher.ref, candidate, mid),
    );
    await Promise.all([offering, ...trickled]);

    // The unreadable one shows they reached the peer, after the answer; the real ones were added silently.
    const replies = said
      .filter((entry) => entry.to.conn === teacher.ref.conn)
      .map((entry) => entry.message)
      .filter((message) => message.action === 'SessionDescription' || message.action === 'Error');
    const [answer, refused, ...more] = replies;
    assert.deepEqual(more, []);
    assert.ok(answer?.action === 'SessionDescription', 'the answer came first');
    assert.ok(refused?.action === 'Error', 'the unreadable candidate was not refused after the answer');
    assert.equal(refused.code, 'invalid_message');
    assert.match(refused.message, /ICECandidate refused/);
  });

  test('at most 64 early candidates are kept per connection', async (t) => {
    const { router, rooms, to, member } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    const offering = router.offer('r', teacher.ref, teacher.offer);
    const trickled = Array.from({ length: 70 }, (_, i) => router.candidate('r', teacher.ref, `candidate:bogus-${i}`, '0'));
    await Promise.all([offering, ...trickled]);
    assert.equal(to(teacher.ref, 'SessionDescription').length, 1);
    const errors = to(teacher.ref, 'Error');
    assert.equal(errors.length, 64);
    assert.ok(errors.every((error) => error.code === 'invalid_message'));
  });

  test('a candidate libdatachannel cannot read after the answer is invalid_message; the peer goes on', async (t) => {
    const { engine, router, rooms, to, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    await offer(teacher);
    await until("the client's own candidates", () => teacher.candidates.length > 0);

    await router.candidate('r', teacher.ref, 'candidate:bogus', '0');
    const [refused, ...more] = to(teacher.ref, 'Error');
    assert.deepEqual(more, []);
    assert.equal(refused?.code, 'invalid_message');
    assert.match(refused.message, /ICECandidate refused/);
    assert.ok(engine.room('r')!.has(teacher.ref));

    const [candidate, mid] = teacher.candidates[0]!;
    await router.candidate('r', teacher.ref, candidate, mid);
    assert.equal(to(teacher.ref, 'Error').length, 1, 'a readable candidate was refused');
  });

  test('connectionClosed closes that peer untold; the last one ends the hosting, and a new offer opens it again', async (t) => {
    const { engine, router, rooms, to, mediaClosed, client, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    const student = await member('r', 'student');
    await offer(teacher);
    await offer(student);
    assert.equal(engine.load, 2);

    // A connection of the same uuid that does not hold the peer closes nothing.
    await router.connectionClosed('r', client('r', 'student').ref);
    assert.ok(engine.room('r')!.has(student.ref));

    await router.connectionClosed('r', student.ref);
    assert.deepEqual(engine.room('r')!.uuids(), ['teacher']);
    assert.deepEqual(router.hostedRooms(), ['r']);
    await router.connectionClosed('r', teacher.ref);
    assert.deepEqual(router.hostedRooms(), []);
    assert.equal(engine.load, 0);
    assert.deepEqual(mediaClosed(), []);

    await router.candidate('r', teacher.ref, 'candidate:bogus', '0');
    assert.deepEqual(
      to(teacher.ref, 'Error').map((error) => error.code),
      ['no_offer'],
    );
    await offer(teacher);
    assert.deepEqual(router.hostedRooms(), ['r']);
  });

  test('connectionClosed while the offer is pending: no answer, nothing hosted, later candidates no_offer', async (t) => {
    const { router, rooms, said, to, member } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');

    const offering = router.offer('r', teacher.ref, teacher.offer);
    await router.connectionClosed('r', teacher.ref);
    await offering;
    assert.deepEqual(said, []);
    assert.deepEqual(router.hostedRooms(), []);

    await router.candidate('r', teacher.ref, 'candidate:bogus', '0');
    assert.deepEqual(
      to(teacher.ref, 'Error').map((error) => error.code),
      ['no_offer'],
    );
  });

  test('leaving or being kicked through the room service closes that media and tells them MediaClosed', async (t) => {
    const { engine, router, rooms, mediaClosed, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    const leaver = await member('r', 'leaver');
    const kicked = await member('r', 'kicked');
    for (const made of [teacher, leaver, kicked]) await offer(made);

    await rooms.leave('r', 'leaver', leaver.ref.conn);
    await until('MediaClosed to the leaver', () => mediaClosed().includes('leaver'));
    assert.ok(!engine.room('r')!.has(leaver.ref));

    await rooms.kick('r', 'kicked');
    await until('MediaClosed to the kicked', () => mediaClosed().includes('kicked'));
    assert.deepEqual(mediaClosed(), ['leaver', 'kicked']);
    assert.deepEqual(engine.room('r')!.uuids(), ['teacher']);
    assert.deepEqual(router.hostedRooms(), ['r']);
  });

  test("a mute decided by the room reaches the SFU: the muted voice leaves the listener's slots, and comes back on unmute", async (t) => {
    const { rooms, to, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    const student = await member('r', 'student');
    await offer(teacher);
    await offer(student);
    const teacherHearsStudent = () => to(teacher.ref, 'ActiveSpeakers').at(-1)?.slots.includes('student') ?? false;

    await until('the student on a slot of the teacher', teacherHearsStudent);
    await rooms.act('r', 'teacher', { action: 'MuteUser', uuid: 'student' });
    await until('the muted student off the slots of the teacher', () => !teacherHearsStudent());
    await rooms.act('r', 'teacher', { action: 'MuteUser', uuid: 'student', result: false });
    await until('the unmuted student back on a slot of the teacher', teacherHearsStudent);
  });

  test('deleting the room tells every participant MediaClosed and ends the hosting', async (t) => {
    const { engine, router, rooms, mediaClosed, member, offer } = await node(t);
    await rooms.create('r', 'teacher');
    await offer(await member('r', 'teacher'));
    await offer(await member('r', 'student'));

    await rooms.delete('r');
    await until('MediaClosed to both', () => mediaClosed().length === 2);
    assert.deepEqual(mediaClosed().sort(), ['student', 'teacher']);
    assert.deepEqual(router.hostedRooms(), []);
    assert.equal(engine.load, 0);
  });

  test('a seq gap makes the hosted room read the room again: a departure whose event was lost still closes its media', async (t) => {
    const store = new LossyStore(HISTORY);
    const { engine, rooms, mediaClosed, member, offer } = await node(t, store);
    await rooms.create('r', 'teacher');
    const teacher = await member('r', 'teacher');
    const leaver = await member('r', 'leaver');
    const stayer = await member('r', 'stayer');
    for (const made of [teacher, leaver, stayer]) await offer(made);

    store.dropSeq = (await store.load('r'))!.seq + 1;
    await rooms.leave('r', 'leaver', leaver.ref.conn);
    assert.equal(store.dropped, 1, 'the UserLeave was not the event dropped');
    assert.deepEqual(mediaClosed(), []);

    await rooms.act('r', 'teacher', { action: 'MoveSura', id_quran: 1 });
    await until('MediaClosed to the leaver', () => mediaClosed().includes('leaver'));
    assert.deepEqual(mediaClosed(), ['leaver']);
    assert.deepEqual(engine.room('r')!.uuids().sort(), ['stayer', 'teacher']);
  });

  test('a store reconnect makes every hosted room read its room again', async (t) => {
    const store = new LossyStore(HISTORY);
    const { engine, rooms, mediaClosed, member, offer } = await node(t, store);
    const leavers: Client[] = [];
    for (const room of ['r1', 'r2']) {
      await rooms.create(room, 'teacher');
      await offer(await member(room, 'teacher'));
      leavers.push(await member(room, 'leaver'));
      await offer(leavers.at(-1)!);
    }
    // Same history in both rooms: each leave is the same seq in its room.
    store.dropSeq = (await store.load('r1'))!.seq + 1;
    for (const leaver of leavers) await rooms.leave(leaver.room, 'leaver', leaver.ref.conn);
    assert.equal(store.dropped, 2);
    assert.deepEqual(mediaClosed(), []);

    store.reconnected();
    await until('MediaClosed to both leavers', () => mediaClosed().length === 2);
    assert.deepEqual(engine.room('r1')!.uuids(), ['teacher']);
    assert.deepEqual(engine.room('r2')!.uuids(), ['teacher']);
  });

  test('close() hands every room over: nobody is told MediaClosed, nothing stays hosted', async (t) => {
    const { engine, router, rooms, mediaClosed, member, offer } = await node(t);
    for (const room of ['r1', 'r2']) {
      await rooms.create(room, 'teacher');
      await offer(await member(room, 'teacher'));
      await offer(await member(room, 'student'));
    }
    assert.deepEqual(router.hostedRooms().sort(), ['r1', 'r2']);

    await router.close();
    assert.deepEqual(router.hostedRooms(), []);
    assert.equal(engine.load, 0);
    assert.equal(engine.room('r1'), undefined);
    assert.deepEqual(mediaClosed(), []);
  });
});
