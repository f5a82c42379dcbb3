import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IceServers } from '../../sdk/src/admin-client.js';
import { SdkError, SERVICE_RESTART_CLOSE, TERMINAL_CLOSE_CODES } from '../../sdk/src/errors.js';
import { AYAT_PER_SURA, ayatIn, SURA_COUNT } from '../../sdk/src/quran.js';
import { closeVerdict } from '../../sdk/src/reconnect.js';
import type { SdkErrorCode } from '../../sdk/src/wire.js';
import { CLIENT_ERRORS, CLOSE_REASONS, CloseCode, type ErrorCode } from '../../src/protocol/errors.js';
import * as server from '../../src/protocol/quran.js';
import type { IceServers as ServerIceServers } from '../../src/turn/turn-credentials.js';

/** True exactly when A and B are the same type (a compile-time check: a drift fails `tsc`). */
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;

test('the SDK and the server agree on the HTTP types the SDK spells itself', () => {
  const same: Equal<IceServers, ServerIceServers> = true;
  assert.ok(same);
});

test('the SDK error codes are the server registry and its client codes', () => {
  const codes: Equal<SdkErrorCode, ErrorCode | keyof typeof CLIENT_ERRORS> = true;
  assert.ok(codes);
  for (const code of Object.keys(CLIENT_ERRORS) as (keyof typeof CLIENT_ERRORS)[]) {
    const error = new SdkError(code);
    assert.equal(error.code, code);
    assert.notEqual(error.message, code, `a message of its own for ${code}`);
  }
});

test('the ayat table is the server table (114 suwar, 6,236 ayat)', () => {
  assert.deepEqual(AYAT_PER_SURA, server.AYAT_PER_SURA);
  assert.equal(SURA_COUNT, server.SURA_COUNT);
  assert.equal(
    AYAT_PER_SURA.reduce((sum, count) => sum + count, 0),
    6236,
  );
  for (let sura = 0; sura <= 115; sura++) assert.equal(ayatIn(sura), server.ayatIn(sura));
  assert.equal(ayatIn(1.5), 0);
});

test('the terminal close codes are the ones the server registry calls terminal; every other one is resumed', () => {
  const terminal = Object.fromEntries(
    Object.entries(CLOSE_REASONS)
      .filter(([, entry]) => entry.terminal)
      .map(([reason, entry]) => [entry.code, reason]),
  );
  assert.deepEqual({ ...TERMINAL_CLOSE_CODES }, terminal);
  for (const entry of Object.values(CLOSE_REASONS)) {
    assert.equal(closeVerdict(entry.code).kind, entry.terminal ? 'terminal' : 'resume', `close ${entry.code}`);
  }
  assert.equal(SERVICE_RESTART_CLOSE, CloseCode.serviceRestart);
  assert.deepEqual(closeVerdict(CloseCode.serviceRestart), { kind: 'resume', immediate: true });
  assert.deepEqual(closeVerdict(1006), { kind: 'resume', immediate: false });
});
