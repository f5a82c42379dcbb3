import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TokenBucket } from '../../src/transport/ws/token-bucket.js';

/** How many of `attempts` takes at one instant the bucket admits. */
function takeAll(bucket: TokenBucket, now: number, attempts = 100): number {
  let admitted = 0;
  for (let i = 0; i < attempts; i++) if (bucket.take(now)) admitted += 1;
  return admitted;
}

test('a new bucket admits its burst at once, then refuses', () => {
  const bucket = new TokenBucket(1, 5, 0);
  assert.equal(takeAll(bucket, 0), 5);
  assert.equal(bucket.take(0), false);
});

test('tokens come back at the refill rate', () => {
  const bucket = new TokenBucket(10, 5, 0);
  takeAll(bucket, 0);
  assert.equal(bucket.take(50), false, 'half a token after 50 ms at 10 per second');
  assert.equal(bucket.take(100), true, 'one token after 100 ms');
  assert.equal(bucket.take(100), false);
  assert.equal(takeAll(bucket, 400), 3, 'three more after another 300 ms');
});

test('an idle bucket fills up to its burst, never beyond', () => {
  const bucket = new TokenBucket(10, 5, 0);
  takeAll(bucket, 0);
  assert.equal(takeAll(bucket, 60_000), 5);
});

test('a refused take does not lose the time accumulated towards the next token', () => {
  const bucket = new TokenBucket(1, 1, 0);
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(400), false);
  assert.equal(bucket.take(800), false);
  assert.equal(bucket.take(1000), true, 'the refused takes at 400 and 800 ms kept their share');
});

test('a fractional rate admits one message per several seconds', () => {
  const bucket = new TokenBucket(0.5, 1, 0);
  assert.equal(bucket.take(0), true);
  assert.equal(bucket.take(1000), false, 'half a token after one second');
  assert.equal(bucket.take(2000), true, 'a whole token after two');
  assert.equal(bucket.take(3999), false);
  assert.equal(bucket.take(4000), true);
});
