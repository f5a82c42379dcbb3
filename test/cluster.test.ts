import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startNode, startNodes, stopNodes, type WigglypuffNode } from './support/cluster.js';
import { eventually } from './support/eventually.js';
import { RedisCluster, RedisServer } from './support/redis.js';
import { createRoom, request } from './support/server.js';
import { type Message, WsClient } from './support/ws-client.js';

const NODE_ENV = {
  NODE_TIMEOUT_MS: '1000',
  RECONNECT_GRACE_MS: '1500',
  LOG_LEVEL: 'info',
};

const sequenced = (messages: Message[]) => messages.filter((m) => m.seq !== undefined && m.action !== 'RoomState');

describe('three nodes on one Redis', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  let a: WigglypuffNode, b: WigglypuffNode, c: WigglypuffNode;

  before(async () => {
    redis = await RedisServer.start({ appendonly: true });
    await redis.command('CONFIG', 'SET', 'appendfsync', 'always');
    nodes = await startNodes(3, { ...NODE_ENV, REDIS_URL: redis.url });
    [a, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
  });
  after(async () => {
    await stopNodes(nodes);
    await redis.stop();
  });

  test("a room created on one node is listed by another and joinable on a third; state shows every node's members", async () => {
    await createRoom(a.http, 'across', 'teacher');
    assert.ok((await request(b.http, 'GET', '/api/room/all')).body.data.includes('across'));
    const { client: master } = await WsClient.join(c.ws, 'across', 'teacher');
    const { client: student } = await WsClient.join(a.ws, 'across', 'ali');
    assert.deepEqual(await master.next('NewUser'), { action: 'NewUser', uuid: 'ali', seq: 2 });
    master.send({ action: 'MoveSura', id_quran: 36 });
    assert.deepEqual(await student.next('MoveSura'), { action: 'MoveSura', id_quran: 36, seq: 3 });
    const detail = (await request(b.http, 'GET', '/api/room/across')).body.data;
    assert.deepEqual(detail.users, ['teacher', 'ali']);
    assert.equal(detail.id_quran, 36);
    await master.close();
    await student.close();
  });

  test('create is unique across the cluster when nodes race for one name', async () => {
    for (let round = 0; round < 5; round++) {
      const name = `race-${round}`;
      const answers = await Promise.all(
        nodes.map((node) => request(node.http, 'POST', '/api/room/create', { name, master_uuid: `m-${node.id}` })),
      );
      assert.deepEqual(answers.map((answer) => answer.status).sort(), [200, 409, 409], name);
    }
  });

  test('delete and kick reach members wherever they are connected', async () => {
    await createRoom(a.http, 'reach', 'teacher');
    const { client: master } = await WsClient.join(a.ws, 'reach', 'teacher');
    const { client: onB } = await WsClient.join(b.ws, 'reach', 'on-b');
    const { client: onC } = await WsClient.join(c.ws, 'reach', 'on-c');
    await master.next((m) => m.action === 'NewUser' && m.uuid === 'on-c');

    const kicked = await request(c.http, 'POST', '/api/room/kick', { uuid: 'on-b', room_name: 'reach' });
    assert.equal(kicked.status, 200);
    assert.deepEqual(await onB.next('Kicked'), { action: 'Kicked' });
    assert.equal((await onB.closed).code, 4001);
    assert.equal((await onC.next('UserLeave')).uuid, 'on-b');
    assert.equal((await master.next('UserLeave')).uuid, 'on-b');

    assert.equal((await request(b.http, 'POST', '/api/room/delete', { name: 'reach' })).status, 200);
    for (const client of [master, onC]) {
      await client.next('RoomDeleted');
      assert.equal((await client.closed).code, 4004);
    }
    assert.ok(!(await request(c.http, 'GET', '/api/room/all')).body.data.includes('reach'));
  });

  test('the correction queue and display names one node wrote are seen by the others; Acks reach their sender across nodes', async () => {
    await createRoom(a.http, 'queue', 'teacher');
    const { client: master } = await WsClient.join(a.ws, 'queue', 'teacher', `?name=${encodeURIComponent('الأستاذ')}`);
    const { client: ali } = await WsClient.join(b.ws, 'queue', 'ali', `?name=${encodeURIComponent('علي')}`);
    const { client: bilal } = await WsClient.join(c.ws, 'queue', 'bilal');
    assert.deepEqual(await master.next('NewUser'), { action: 'NewUser', uuid: 'ali', name: 'علي', seq: 2 });
    await master.next((m) => m.action === 'NewUser' && m.uuid === 'bilal');

    ali.send({ action: 'OfferCorrection', id: 'ali-1' });
    assert.deepEqual(await ali.next('OfferCorrection'), { action: 'OfferCorrection', uuid: 'ali', seq: 4 });
    assert.deepEqual(await ali.next('Ack'), { action: 'Ack', of: 'OfferCorrection', id: 'ali-1', seq: 4 });
    bilal.send({ action: 'OfferCorrection' });
    for (const client of [master, ali]) await client.next((m) => m.action === 'OfferCorrection' && m.uuid === 'bilal');
    bilal.send({ action: 'OfferCorrection', id: 'again' });
    assert.deepEqual(await bilal.next('Ack'), { action: 'Ack', of: 'OfferCorrection', id: 'again' }, 'no duplicate, decided on node c');
    for (const node of [a, b, c]) {
      const room = (await request(node.http, 'GET', '/api/room/queue')).body.data;
      assert.deepEqual(room.corrections, ['ali', 'bilal'], node.id);
      assert.deepEqual(room.names, { teacher: 'الأستاذ', ali: 'علي' }, node.id);
    }
    const { client: late, state } = await WsClient.join(c.ws, 'queue', 'late');
    assert.deepEqual([state.corrections, state.names], [['ali', 'bilal'], { teacher: 'الأستاذ', ali: 'علي' }]);

    master.send({ action: 'AnswerCorrection', uuid: 'ali', result: true, id: 'answer' });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'AnswerCorrection', id: 'answer', seq: 7 });
    for (const client of [ali, bilal, late]) {
      assert.deepEqual(await client.next('AnswerCorrection'), { action: 'AnswerCorrection', uuid: 'ali', result: true, seq: 7 });
    }
    master.send({ action: 'AnswerCorrection', uuid: 'ali', result: true, id: 'twice' });
    const refused = await master.next('Error');
    assert.deepEqual([refused.of, refused.id, refused.code], ['AnswerCorrection', 'twice', 'not_queued']);
    await bilal.close();
    await late.next((m) => m.action === 'UserLeave' && m.uuid === 'bilal');
    assert.deepEqual(
      (await request(b.http, 'GET', '/api/room/queue')).body.data.corrections,
      [],
      'the leave on node c emptied it for node b',
    );
    await Promise.all([master, ali, late].map((client) => client.close()));
  });

  test('events from concurrent senders on different nodes reach everyone once, in one gap-free order', async () => {
    await createRoom(a.http, 'order', 'teacher');
    const { client: master } = await WsClient.join(a.ws, 'order', 'teacher');
    const students = await Promise.all(
      ['s0', 's1', 's2', 's3', 's4', 's5'].map(async (uuid, i) => (await WsClient.join(nodes[i % 3]!.ws, 'order', uuid)).client),
    );
    const everyone = [master, ...students];
    await master.next((m) => m.action === 'NewUser' && m.uuid === 's5');
    master.send({ action: 'MoveSura', id_quran: 2 });
    assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'MoveSura', seq: 8 });
    const startSeq = 8;

    const ROUNDS = 15;
    for (let round = 0; round < ROUNDS; round++) {
      master.send({ action: 'ClickAya', aya: round + 1 });
      for (const [i, student] of students.entries()) student.send({ action: 'MuteUser', uuid: `s${i}`, result: round % 2 === 0 });
    }
    const total = ROUNDS * (1 + students.length);
    const lastSeq = startSeq + total;
    await Promise.all(everyone.map((client) => client.next((m) => m.seq === lastSeq, 15_000)));

    const reference = sequenced(students[0]!.received).filter((m) => m.seq > startSeq);
    assert.deepEqual(
      reference.map((m) => m.seq),
      Array.from({ length: total }, (_, i) => startSeq + 1 + i),
      'consecutive, no gap, no duplicate',
    );
    for (const client of everyone) {
      const seen = sequenced(client.received).filter((m) => m.seq > startSeq);
      assert.deepEqual(
        seen.map((m) => m.seq),
        reference.map((m) => m.seq),
      );
      // Everyone saw the same event at each seq (the master as an Ack for its own ClickAya).
      seen.forEach((message, i) => {
        const expected = reference[i]!;
        if (message.action === 'Ack') assert.equal(expected.action, message.of);
        else if (expected.action !== 'Ack') assert.deepEqual(message, expected);
      });
    }
    await Promise.all(everyone.map((client) => client.close()));
  });
});

describe('a node dies', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(3, { ...NODE_ENV, REDIS_URL: redis.url });
  });
  after(async () => {
    await stopNodes(nodes);
    await redis.stop();
  });

  test('a client resumes on another node with last_seq and ends with every event once; the room survives', async () => {
    const [a, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
    await createRoom(b.http, 'survive', 'teacher');
    const { client: master } = await WsClient.join(b.ws, 'survive', 'teacher');
    const { client: onA } = await WsClient.join(a.ws, 'survive', 'ali');
    const { client: stays } = await WsClient.join(c.ws, 'survive', 'bilal');
    await master.next((m) => m.action === 'NewUser' && m.uuid === 'bilal');
    master.send({ action: 'MoveSura', id_quran: 18 });
    master.send({ action: 'MuteUser', uuid: 'bilal' });
    master.send({ action: 'ClickAya', aya: 1 });
    const last = (await onA.next('ClickAya')).seq as number;

    await a.kill('SIGKILL');
    await onA.closed;
    for (let aya = 2; aya <= 4; aya++) master.send({ action: 'ClickAya', aya });
    await stays.next((m) => m.action === 'ClickAya' && m.aya === 4);

    const resumed = await WsClient.connect(`${c.ws}/api/room/join/survive/ali?last_seq=${last}`);
    assert.deepEqual(await resumed.next(), { action: 'Resumed', last_seq: last });
    const replay = [await resumed.next(), await resumed.next(), await resumed.next()];
    assert.deepEqual(
      replay.map((m) => [m.aya, m.seq]),
      [
        [2, last + 1],
        [3, last + 2],
        [4, last + 3],
      ],
    );
    master.send({ action: 'ClickAya', aya: 5 });
    assert.deepEqual(await resumed.next('ClickAya'), { action: 'ClickAya', aya: 5, seq: last + 4 });
    const all = sequenced([...onA.received, ...resumed.received]).map((m) => m.seq);
    assert.deepEqual(all, [...new Set(all)], 'nothing twice');

    const room = (await request(b.http, 'GET', '/api/room/survive')).body.data;
    assert.equal(room.master_uuid, 'teacher');
    assert.equal(room.id_quran, 18);
    assert.equal(room.aya, 5);
    assert.deepEqual(room.muted, ['bilal']);
    assert.deepEqual(room.users, ['teacher', 'ali', 'bilal']);

    // ali resumed elsewhere, so the dead node's eviction must leave ali alone.
    await master.barrier();
    assert.deepEqual(master.unreadOf('UserLeave'), []);
    nodes[0] = await startNode('node-0b', { ...NODE_ENV, REDIS_URL: redis.url });
    await Promise.all([master, resumed, stays].map((client) => client.close()));
  });

  test('the users of a killed node leave after the node timeout and the grace period', async () => {
    const [, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
    await createRoom(b.http, 'orphans', 'teacher');
    const { client: master } = await WsClient.join(b.ws, 'orphans', 'teacher');
    await WsClient.join(c.ws, 'orphans', 'on-c');
    await master.next('NewUser');
    const startedAt = Date.now();
    await c.kill('SIGKILL');
    // Detected within NODE_TIMEOUT_MS (1 s), then RECONNECT_GRACE_MS (1.5 s) before the leave.
    const leave = await master.next('UserLeave', 10_000);
    assert.equal(leave.uuid, 'on-c');
    assert.ok(Date.now() - startedAt >= 1500, 'not before the grace period');
    assert.deepEqual((await request(b.http, 'GET', '/api/room/orphans')).body.data.users, ['teacher']);
    nodes[2] = await startNode('node-2b', { ...NODE_ENV, REDIS_URL: redis.url });
    await master.close();
  });
});

describe('Redis restarts under the nodes', () => {
  test('nodes stay up, report unavailable, and serve again by themselves when Redis is back', async () => {
    const redis = await RedisServer.start({ appendonly: true });
    await redis.command('CONFIG', 'SET', 'appendfsync', 'always');
    const nodes = await startNodes(2, { ...NODE_ENV, REDIS_URL: redis.url });
    const [a, b] = nodes as [WigglypuffNode, WigglypuffNode];
    try {
      await createRoom(a.http, 'outage', 'teacher');
      const { client: master } = await WsClient.join(a.ws, 'outage', 'teacher');
      const { client: student } = await WsClient.join(b.ws, 'outage', 'ali');
      master.send({ action: 'MoveSura', id_quran: 2 });
      master.send({ action: 'ClickAya', aya: 1 });
      await student.next('ClickAya');
      assert.equal((await request(a.http, 'GET', '/readyz')).status, 200);

      await redis.kill('SIGKILL');
      await eventually(async () => {
        const ready = await request(a.http, 'GET', '/readyz');
        assert.equal(ready.status, 503);
        assert.equal(ready.body.error.code, 'unavailable');
      });
      master.send({ action: 'ClickAya', aya: 2 });
      assert.equal((await master.next('Error')).code, 'unavailable');
      const created = await request(b.http, 'POST', '/api/room/create', { name: 'during', master_uuid: 'm' });
      assert.equal(created.status, 503);
      assert.equal(created.body.error.code, 'unavailable');
      assert.equal(master.socket.readyState, master.socket.OPEN, 'sockets stay open');
      assert.equal(student.socket.readyState, student.socket.OPEN);

      await redis.restart();
      await eventually(async () => {
        for (const node of nodes) assert.equal((await request(node.http, 'GET', '/readyz')).status, 200);
      }, 20_000);
      master.send({ action: 'ClickAya', aya: 3 });
      assert.deepEqual(await student.next('ClickAya', 10_000), { action: 'ClickAya', aya: 3, seq: 5 });
      assert.equal((await request(b.http, 'GET', '/api/room/outage')).body.data.aya, 3, 'the room survived (AOF)');
      await master.close();
      await student.close();
    } finally {
      await stopNodes(nodes);
      await redis.stop();
    }
  });
});

describe('Redis without persistence restarts under the nodes', () => {
  test('the rooms are gone: their clients get RoomDeleted and 4004 once the nodes reconnect', async () => {
    const redis = await RedisServer.start({ appendonly: false });
    const nodes = await startNodes(2, { ...NODE_ENV, REDIS_URL: redis.url });
    const [a, b] = nodes as [WigglypuffNode, WigglypuffNode];
    try {
      await createRoom(a.http, 'volatile', 'teacher');
      const { client: master } = await WsClient.join(a.ws, 'volatile', 'teacher');
      const { client: student } = await WsClient.join(b.ws, 'volatile', 'ali');
      await master.next('NewUser');
      await redis.kill('SIGKILL');
      await redis.restart();
      for (const client of [master, student]) {
        assert.deepEqual(await client.next('RoomDeleted', 20_000), { action: 'RoomDeleted' });
        assert.equal((await client.closed).code, 4004);
      }
      assert.deepEqual((await request(a.http, 'GET', '/api/room/all')).body.data, []);
    } finally {
      await stopNodes(nodes);
      await redis.stop();
    }
  });
});

describe('three nodes on a three-master Redis Cluster', () => {
  let cluster: RedisCluster;
  let nodes: WigglypuffNode[];
  before(async () => {
    cluster = await RedisCluster.start(3);
    nodes = await startNodes(3, { ...NODE_ENV, REDIS_URL: cluster.url, REDIS_CLUSTER: 'true' });
  });
  after(async () => {
    await stopNodes(nodes);
    await cluster.stop();
  });

  test('rooms spread over the shards; members on every node share each room', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `shard-${i}`);
    for (const [i, name] of names.entries()) await createRoom(nodes[i % 3]!.http, name, 'teacher');
    assert.deepEqual(
      (await request(nodes[2]!.http, 'GET', '/api/room/all')).body.data.filter((n: string) => n.startsWith('shard-')),
      names,
    );
    for (const [i, name] of names.entries()) {
      const { client: master } = await WsClient.join(nodes[i % 3]!.ws, name, 'teacher');
      const { client: one } = await WsClient.join(nodes[(i + 1) % 3]!.ws, name, 'one');
      const { client: two } = await WsClient.join(nodes[(i + 2) % 3]!.ws, name, 'two');
      master.send({ action: 'MoveSura', id_quran: 2 });
      master.send({ action: 'ClickAya', aya: i + 1 });
      for (const student of [one, two]) assert.deepEqual(await student.next('ClickAya'), { action: 'ClickAya', aya: i + 1, seq: 5 });
      assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'MoveSura', seq: 4 });
      assert.deepEqual(await master.next('Ack'), { action: 'Ack', of: 'ClickAya', seq: 5 });
      await Promise.all([master, one, two].map((client) => client.close()));
    }
    // The correction queue one node wrote is read on the others, whichever shard holds the room.
    for (const [i, name] of names.slice(0, 3).entries()) {
      const { client: master } = await WsClient.join(nodes[i]!.ws, name, 'teacher');
      const { client: asker } = await WsClient.join(nodes[(i + 1) % 3]!.ws, name, 'asker', `?name=${encodeURIComponent('سائل')}`);
      asker.send({ action: 'OfferCorrection', id: 'ask' });
      assert.equal((await asker.next('Ack')).id, 'ask');
      const { client: watcher, state } = await WsClient.join(nodes[(i + 2) % 3]!.ws, name, 'watcher');
      assert.deepEqual([state.corrections, state.names], [['asker'], { asker: 'سائل' }], name);
      assert.deepEqual((await master.next('OfferCorrection')).uuid, 'asker');
      await Promise.all([master, asker, watcher].map((client) => client.close()));
    }
    const race = await Promise.all(
      nodes.map((node) => request(node.http, 'POST', '/api/room/create', { name: 'one-winner', master_uuid: 'm' })),
    );
    assert.deepEqual(race.map((answer) => answer.status).sort(), [200, 409, 409]);
  });
});
