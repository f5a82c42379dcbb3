import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runServerExpectingFailure, spawnServer } from './support/process.js';
import { request } from './support/server.js';

test('the server process starts from the environment, serves, and exits cleanly on SIGTERM', async () => {
  const server = await spawnServer({ FCM_SERVER_TOKEN: 'from-env' });
  try {
    assert.equal((await request(server.http, 'GET', '/healthz')).status, 200);
    assert.deepEqual((await request(server.http, 'GET', '/api/fcm/token')).body.data, { token: 'from-env' });
  } finally {
    server.child.kill('SIGTERM');
  }
  assert.deepEqual(await server.exited, { code: 0, signal: null });
});

test('a bad configuration stops the start with a clear message', async () => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: 'not-a-port' }, /PORT/],
    [{ PORT: '70000' }, /PORT/],
    [{ TURN_SERVERS: 'turn:127.0.0.1:3478' }, /TURN_SECRET, or both TURN_USERNAME and TURN_CREDENTIAL/],
    [{ TURN_SERVERS: 'http://x', TURN_SECRET: 's' }, /must start with turn: or turns:/],
    [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
  ];
  for (const [env, message] of cases) {
    const { code, output } = await runServerExpectingFailure(env);
    assert.equal(code, 1, JSON.stringify(env));
    assert.match(output, message);
    assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
  }
});
