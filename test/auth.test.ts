import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { JoinTokens } from '../src/auth/join-tokens.js';
import { ROOT } from './support/process.js';
import { request, startServer, type TestServer } from './support/server.js';
import { HandshakeRefused, WsClient } from './support/ws-client.js';

const API_KEY = 'test-api-key-0123456789';
const SECRET = 'join-token-secret-0123456789-abcdef';
const KEY = { authorization: `Bearer ${API_KEY}` };

async function refusedJoin(url: string): Promise<HandshakeRefused> {
  const outcome = await WsClient.connect(url).catch((error: unknown) => error);
  assert.ok(outcome instanceof HandshakeRefused, `expected a refusal, got ${String(outcome)}`);
  return outcome;
}

describe('a closed server (API_KEY and JOIN_TOKEN_SECRET)', () => {
  let s: TestServer;
  const tokens = new JoinTokens(SECRET);

  before(async () => {
    s = await startServer({
      API_KEY,
      JOIN_TOKEN_SECRET: SECRET,
      TURN_SERVERS: 'turn:127.0.0.1:3478',
      TURN_SECRET: 'turn-secret',
    });
    const created = await request(s.http, 'POST', '/api/room/create', { name: 'class', master_uuid: 'teacher' }, KEY);
    assert.equal(created.status, 200);
  });
  after(() => s.close());

  test('every management endpoint needs the API key: 401 unauthorized without it or with a wrong one', async () => {
    const calls: [string, string, unknown?][] = [
      ['POST', '/api/room/create', { name: 'x', master_uuid: 'm' }],
      ['POST', '/api/room/delete', { name: 'class' }],
      ['POST', '/api/room/kick', { uuid: 'a', room_name: 'class' }],
      ['GET', '/api/room/all'],
      ['GET', '/api/room/class'],
      ['GET', '/api/fcm/token'],
      ['POST', '/api/token', { room: 'class', uuid: 'a' }],
      ['GET', '/metrics'],
    ];
    for (const [method, path, body] of calls) {
      for (const headers of [{}, { authorization: 'Bearer wrong-key-wrong-key' }, { authorization: API_KEY }] as Record<string, string>[]) {
        const answer = await request(s.http, method, path, body, headers);
        assert.equal(answer.status, 401, `${method} ${path} ${JSON.stringify(headers)}`);
        assert.equal(answer.body.error.code, 'unauthorized');
      }
    }
    const bad = await request(s.http, 'POST', '/api/room/create', '{not json', { 'content-type': 'application/json' });
    assert.equal(bad.status, 401, 'no key, no body parsing');
    assert.equal((await request(s.http, 'GET', '/api/room/all', undefined, KEY)).status, 200);
    const metrics = await fetch(`${s.http}/metrics`, { headers: KEY });
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /wigglypuff_connections/);
  });

  test('POST /api/token mints a join token that lets exactly that uuid into exactly that room', async () => {
    const minted = await request(s.http, 'POST', '/api/token', { room: 'class', uuid: 'ali', ttl: 60 }, KEY);
    assert.equal(minted.status, 200);
    const { token, expires_at } = minted.body.data;
    assert.ok(Math.abs(expires_at - (Date.now() / 1000 + 60)) < 5);
    const { client, state } = await WsClient.join(s.ws, 'class', 'ali', `?token=${token}`);
    assert.equal(state.room, 'class');
    await client.close();
    assert.equal((await refusedJoin(`${s.ws}/api/room/join/class/bilal?token=${token}`)).status, 401, 'another uuid');
    assert.equal((await request(s.http, 'POST', '/api/token', { room: 'class', uuid: 'ali', ttl: 1 }, KEY)).status, 400);
  });

  test('a join token may carry a display name (mint body `name`), which wins over ?name=', async () => {
    const name = 'فاطمة الزهراء';
    const minted = await request(s.http, 'POST', '/api/token', { room: 'class', uuid: 'fatima', name }, KEY);
    assert.equal(minted.status, 200);
    assert.equal((await tokens.verify(minted.body.data.token)).name, name);
    const { client, state } = await WsClient.join(s.ws, 'class', 'fatima', `?token=${minted.body.data.token}&name=Someone%20else`);
    assert.equal(state.names.fatima, name, "the token's name wins");
    await client.close();
    // Without a name claim, the query's name is used.
    const plain = (await tokens.mint('class', 'zaid', 60)).token;
    assert.equal((await tokens.verify(plain)).name, undefined);
    const { client: zaid, state: zaidState } = await WsClient.join(s.ws, 'class', 'zaid', `?token=${plain}&name=Zaid`);
    assert.equal(zaidState.names.zaid, 'Zaid');
    await zaid.close();
    // A name the rule refuses is refused when minting, and in a token.
    for (const bad of ['', 'x'.repeat(65), 'a\u0007b']) {
      const refused = await request(s.http, 'POST', '/api/token', { room: 'class', uuid: 'u', name: bad }, KEY);
      assert.equal(refused.status, 400, JSON.stringify(bad));
      assert.equal(refused.body.error.code, 'invalid_request');
    }
    const badClaim = (await tokens.mint('class', 'u', 60, Date.now(), 'x'.repeat(65))).token;
    const refused = await refusedJoin(`${s.ws}/api/room/join/class/u?token=${badClaim}`);
    assert.deepEqual([refused.status, refused.body.error.code], [401, 'unauthorized']);
    assert.match(refused.body.error.message, /invalid name/);
  });

  test('a join without a valid token is refused with 401 before the upgrade', async () => {
    const forged = (await new JoinTokens('another-secret-another-secret-0123').mint('class', 'ali', 60)).token;
    const expired = (await tokens.mint('class', 'ali', 60, Date.now() - 120_000)).token;
    const otherRoom = (await tokens.mint('other', 'ali', 60)).token;
    const cases = [
      '',
      '?token=',
      `?token=${forged}`,
      `?token=${expired}`,
      `?token=${otherRoom}`,
      '?token=not.a.jwt',
      `?token=${forged.split('.').slice(0, 2).join('.')}.`,
    ];
    for (const query of cases) {
      const refused = await refusedJoin(`${s.ws}/api/room/join/class/ali${query}`);
      assert.equal(refused.status, 401, query);
      assert.equal(refused.body.error.code, 'unauthorized');
    }
    const expiredMessage = (await refusedJoin(`${s.ws}/api/room/join/class/ali?token=${expired}`)).body.error.message;
    assert.match(expiredMessage, /expired/);
    const nowhere = (await tokens.mint('nowhere', 'ali', 60)).token;
    assert.equal((await refusedJoin(`${s.ws}/api/room/join/nowhere/ali?token=${nowhere}`)).status, 404, 'a valid token for a missing room');
  });

  test('/network_transversal needs the API key or a join token, whose uuid names the TURN user', async () => {
    assert.equal((await request(s.http, 'GET', '/network_transversal')).status, 401);
    assert.equal((await request(s.http, 'GET', `/network_transversal?token=garbage`)).status, 401);
    const { token } = await tokens.mint('class', 'ali', 60);
    const withToken = await request(s.http, 'GET', `/network_transversal?token=${token}&uuid=someone-else`);
    assert.equal(withToken.status, 200);
    assert.match(withToken.body.data.turn[0].username, /^\d+:ali$/);
    const inHeader = await request(s.http, 'GET', '/network_transversal', undefined, { authorization: `Bearer ${token}` });
    assert.equal(inHeader.status, 200);
    assert.equal((await request(s.http, 'GET', '/network_transversal?uuid=svc', undefined, KEY)).status, 200);
  });

  test('a student cannot become the master by any means', async () => {
    const studentToken = (await tokens.mint('class', 'student', 60)).token;
    // Not by joining under the master's uuid with their own token...
    assert.equal((await refusedJoin(`${s.ws}/api/room/join/class/teacher?token=${studentToken}`)).status, 401);
    // ...nor by creating or re-creating the room (needs the API key)...
    assert.equal((await request(s.http, 'POST', '/api/room/create', { name: 'class', master_uuid: 'student' })).status, 401);
    // ...nor by master actions, nor by sending someone else's uuid.
    const { client } = await WsClient.join(s.ws, 'class', 'student', `?token=${studentToken}`);
    for (const message of [
      { action: 'ClickAya', aya: 1 },
      { action: 'MoveSura', id_quran: 2 },
      { action: 'MuteAll' },
      { action: 'MuteUser', uuid: 'teacher' },
      { action: 'AnswerCorrection', uuid: 'student', result: true },
      { action: 'ClickAya', aya: 1, uuid: 'teacher', master_uuid: 'student' },
    ]) {
      client.send(message);
      assert.equal((await client.next('Error')).code, 'forbidden', JSON.stringify(message));
    }
    const detail = await request(s.http, 'GET', '/api/room/class', undefined, KEY);
    assert.equal(detail.body.data.master_uuid, 'teacher');
    assert.equal(detail.body.data.aya, null);
    await client.close();
  });

  test('/healthz says the server is closed', async () => {
    assert.equal((await request(s.http, 'GET', '/healthz')).body.data.auth, 'closed');
  });

  test('the wigglypuff token command mints a token the server accepts', async () => {
    const output = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        process.execPath,
        ['--import', 'tsx', 'src/main.ts', 'token', '--room', 'class', '--uuid', 'cli-user', '--ttl', '120', '--name', 'Cli User'],
        {
          cwd: ROOT,
          env: { ...process.env, API_KEY, JOIN_TOKEN_SECRET: SECRET },
        },
      );
      let out = '';
      child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
      child.once('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`))));
    });
    const claims = await tokens.verify(output);
    assert.deepEqual([claims.room, claims.uuid, claims.name], ['class', 'cli-user', 'Cli User']);
    const { client } = await WsClient.join(s.ws, 'class', 'cli-user', `?token=${output}`);
    await client.close();
  });
});

describe('an open server', () => {
  test('says so in /healthz and needs no credentials', async () => {
    const s = await startServer();
    try {
      assert.equal((await request(s.http, 'GET', '/healthz')).body.data.auth, 'open');
      assert.equal((await request(s.http, 'GET', '/api/room/all')).status, 200);
      assert.equal((await request(s.http, 'POST', '/api/token', { room: 'r', uuid: 'u' })).status, 404, 'no tokens when open');
    } finally {
      await s.close();
    }
  });
});
