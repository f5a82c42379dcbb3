import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  AppError,
  CLIENT_ERRORS,
  CLOSE_REASONS,
  CloseCode,
  closeReasonOf,
  ERRORS,
  isErrorCode,
  isTerminalClose,
} from '../../src/protocol/errors.js';

test('every error code has an HTTP status and a default message; AppError uses them', () => {
  for (const [code, spec] of Object.entries(ERRORS)) {
    assert.ok(Number.isInteger(spec.status) && spec.status >= 400 && spec.status < 600, code);
    assert.ok(spec.message.length > 0, code);
    assert.ok(isErrorCode(code));
  }
  assert.deepEqual([ERRORS.aya_out_of_range.status, ERRORS.not_queued.status], [409, 409]);
  const error = new AppError('not_queued');
  assert.deepEqual([error.code, error.status, error.message], ['not_queued', 409, ERRORS.not_queued.message]);
  assert.equal(new AppError('forbidden', 'no').message, 'no');
  assert.ok(!isErrorCode('toString') && !isErrorCode('timeout'), 'SDK-only codes are not server codes');
  for (const code of Object.keys(CLIENT_ERRORS)) assert.ok(!isErrorCode(code), code);
});

test('the close codes a failed join ends with come from the registry', () => {
  assert.deepEqual(
    Object.entries(ERRORS)
      .filter(([, spec]) => 'close' in spec)
      .map(([code, spec]) => [code, (spec as { close: number }).close]),
    [
      ['room_full', 1013],
      ['room_not_found', 4004],
      ['internal_error', 1011],
      ['unavailable', 1013],
    ],
  );
});

test('close reasons: kicked, room deleted and replaced end the class; everything else resumes', () => {
  const terminal = Object.values(CLOSE_REASONS)
    .filter((reason) => reason.terminal)
    .map((reason) => reason.code)
    .sort();
  assert.deepEqual(terminal, [4001, 4004, 4009]);
  for (const code of [1006, 1007, 1008, 1009, 1011, 1012, 1013, 4008]) assert.equal(isTerminalClose(code), false, String(code));
  for (const code of [4001, 4004, 4009]) assert.equal(isTerminalClose(code), true, String(code));
  assert.equal(closeReasonOf(4001)?.reason, 'kicked');
  assert.equal(closeReasonOf(1000), undefined, 'never sent by the server');
  assert.equal(isTerminalClose(1000), false);
  // Every close code the server has is a reason a client can look up.
  for (const code of Object.values(CloseCode)) assert.ok(closeReasonOf(code), String(code));
  assert.equal(new Set(Object.values(CLOSE_REASONS).map((reason) => reason.code)).size, Object.keys(CLOSE_REASONS).length);
});

test('src/protocol imports nothing but itself and typebox/ajv, so a browser bundle can import its values', () => {
  const dir = new URL('../../src/protocol/', import.meta.url);
  for (const file of readdirSync(dir)) {
    const source = readFileSync(new URL(file, dir), 'utf8');
    const imports = [...source.matchAll(/from '([^']+)'/g)].map((match) => match[1]!);
    for (const target of imports) {
      assert.ok(target.startsWith('./') || ['typebox', 'ajv', 'ajv-formats'].includes(target), `${file} imports ${target}`);
    }
  }
  const errors = readFileSync(new URL('errors.ts', dir), 'utf8');
  assert.doesNotMatch(errors, /^import /m, 'errors.ts imports nothing at all');
});
