import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRoom, request, startServer } from './support/server.js';
import { WsClient } from './support/ws-client.js';

test('200 clients join one room concurrently and every one receives the ClickAya', async () => {
  const s = await startServer();
  const clients: WsClient[] = [];
  try {
    await createRoom(s.http, 'crowd', 'teacher');
    const { client: master } = await WsClient.join(s.ws, 'crowd', 'teacher');
    clients.push(master);
    const joined = await Promise.all(Array.from({ length: 200 }, (_, i) => WsClient.join(s.ws, 'crowd', `student-${i}`)));
    clients.push(...joined.map(({ client }) => client));
    const seqs = joined.map(({ state }) => state.seq).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: 200 }, (_, i) => i + 2),
      'every join took its own seq',
    );
    assert.equal((await request(s.http, 'GET', '/api/room/crowd')).body.data.users.length, 201);

    master.send({ action: 'MoveSura', id_quran: 2 });
    master.send({ action: 'ClickAya', aya: 42 });
    const received = await Promise.all(joined.map(({ client }) => client.next('ClickAya')));
    assert.equal(received.length, 200);
    for (const message of received) assert.deepEqual(message, { action: 'ClickAya', aya: 42, seq: 203 });
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await s.close();
  }
});
