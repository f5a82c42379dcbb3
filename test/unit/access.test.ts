import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Access } from '../../src/auth/access.js';
import { JoinTokens } from '../../src/auth/join-tokens.js';
import { AppError } from '../../src/protocol/errors.js';

const API_KEY = 'the-api-key';
const SECRET = 'the-join-token-secret';

const isUnauthorized = (error: unknown) => error instanceof AppError && error.code === 'unauthorized';

function closedAccess(): Access {
  return new Access({ apiKey: API_KEY, joinTokenSecret: SECRET });
}

async function tokenFor(room: string, uuid: string, options: { secret?: string; nowMs?: number } = {}): Promise<string> {
  const { token } = await new JoinTokens(options.secret ?? SECRET).mint(room, uuid, 60, options.nowMs);
  return token;
}

describe('an open server', () => {
  const access = new Access(null);

  test('is open and has no join tokens', () => {
    assert.equal(access.open, true);
    assert.equal(access.tokens, null);
  });

  test('lets everyone manage, join and fetch ICE servers', async () => {
    access.requireApiKey({});
    access.requireApiKey({ authorization: 'Bearer anything' });
    await access.requireJoin({}, 'class', 'student');
    await access.requireJoin({ token: 'not-a-token' }, 'class', 'student');
    assert.equal(await access.requireApiKeyOrJoinToken({}), null);
  });
});

describe('a closed server: requireApiKey', () => {
  const access = closedAccess();

  test('is closed', () => {
    assert.equal(access.open, false);
  });

  test('accepts the API key as a Bearer header, whatever the scheme case', () => {
    access.requireApiKey({ authorization: `Bearer ${API_KEY}` });
    access.requireApiKey({ authorization: `bearer ${API_KEY}` });
  });

  test('refuses a wrong or missing key', () => {
    assert.throws(() => access.requireApiKey({ authorization: 'Bearer wrong-key' }), isUnauthorized);
    assert.throws(() => access.requireApiKey({ authorization: `Bearer ${API_KEY}x` }), isUnauthorized);
    assert.throws(() => access.requireApiKey({}), isUnauthorized);
  });

  test('refuses the key outside a well-formed Bearer header', () => {
    for (const authorization of [API_KEY, `Basic ${API_KEY}`, 'Bearer', 'Bearer ', `Bearer ${API_KEY} extra`, `Bearer${API_KEY}`]) {
      assert.throws(() => access.requireApiKey({ authorization }), isUnauthorized, authorization);
    }
  });

  test('does not take the key from the query', () => {
    assert.throws(() => access.requireApiKey({ token: API_KEY }), isUnauthorized);
  });
});

describe('a closed server: requireJoin', () => {
  const access = closedAccess();

  test('accepts a token for this room and uuid', async () => {
    await access.requireJoin({ token: await tokenFor('class', 'student') }, 'class', 'student');
  });

  test('accepts a token minted by its own JoinTokens', async () => {
    const { token } = await access.tokens!.mint('class', 'student', 60);
    await access.requireJoin({ token }, 'class', 'student');
  });

  test('refuses a token for another room or another uuid', async () => {
    await assert.rejects(access.requireJoin({ token: await tokenFor('other', 'student') }, 'class', 'student'), isUnauthorized);
    await assert.rejects(access.requireJoin({ token: await tokenFor('class', 'someone-else') }, 'class', 'student'), isUnauthorized);
  });

  test('refuses an expired token', async () => {
    const token = await tokenFor('class', 'student', { nowMs: Date.now() - 3600_000 });
    await assert.rejects(access.requireJoin({ token }, 'class', 'student'), isUnauthorized);
  });

  test('refuses a token signed with another secret', async () => {
    const token = await tokenFor('class', 'student', { secret: 'another-secret' });
    await assert.rejects(access.requireJoin({ token }, 'class', 'student'), isUnauthorized);
  });

  test('refuses a missing or malformed token', async () => {
    await assert.rejects(access.requireJoin({}, 'class', 'student'), isUnauthorized);
    await assert.rejects(access.requireJoin({ token: 'not.a.jwt' }, 'class', 'student'), isUnauthorized);
  });

  test('does not let the API key stand in for a join token', async () => {
    await assert.rejects(access.requireJoin({ authorization: `Bearer ${API_KEY}` }, 'class', 'student'), isUnauthorized);
    await assert.rejects(access.requireJoin({ token: API_KEY }, 'class', 'student'), isUnauthorized);
  });
});

describe('a closed server: requireApiKeyOrJoinToken', () => {
  const access = closedAccess();

  test('accepts the API key, with no claims', async () => {
    assert.equal(await access.requireApiKeyOrJoinToken({ authorization: `Bearer ${API_KEY}` }), null);
  });

  test('accepts a join token in the query or as the Bearer header, resolving to its claims', async () => {
    const nowMs = Date.now();
    const { token, expiresAt } = await new JoinTokens(SECRET).mint('class', 'student', 60, nowMs);
    const claims = { room: 'class', uuid: 'student', expiresAt };
    assert.equal(expiresAt, Math.floor(nowMs / 1000) + 60);
    assert.deepEqual(await access.requireApiKeyOrJoinToken({ token }), claims);
    assert.deepEqual(await access.requireApiKeyOrJoinToken({ authorization: `Bearer ${token}` }), claims);
  });

  test('refuses neither key nor token', async () => {
    await assert.rejects(access.requireApiKeyOrJoinToken({}), isUnauthorized);
  });

  test('does not take the API key from the query', async () => {
    await assert.rejects(access.requireApiKeyOrJoinToken({ token: API_KEY }), isUnauthorized);
  });

  test('refuses a wrong key, a forged token or an expired one', async () => {
    await assert.rejects(access.requireApiKeyOrJoinToken({ authorization: 'Bearer wrong-key' }), isUnauthorized);
    const forged = await tokenFor('class', 'student', { secret: 'another-secret' });
    await assert.rejects(access.requireApiKeyOrJoinToken({ token: forged }), isUnauthorized);
    await assert.rejects(access.requireApiKeyOrJoinToken({ authorization: `Bearer ${forged}` }), isUnauthorized);
    const expired = await tokenFor('class', 'student', { nowMs: Date.now() - 3600_000 });
    await assert.rejects(access.requireApiKeyOrJoinToken({ token: expired }), isUnauthorized);
  });
});
