import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config.js';

test('the defaults: one node on 0.0.0.0:6030, rooms in memory, media on UDP 6030 with 3 slots', () => {
  const config = loadConfig({});
  assert.equal(config.host, '0.0.0.0');
  assert.equal(config.port, 6030);
  assert.deepEqual(config.store, { kind: 'memory' });
  assert.equal(config.stunAddress, 'stun:stun.l.google.com:19302');
  assert.deepEqual(config.turn, { mode: 'none' });
  assert.equal(config.reconnectGraceMs, 15000);
  assert.deepEqual(config.history, { size: 1000, maxAgeMs: 600000 });
  assert.deepEqual(config.media, {
    audioSlots: 3,
    dtx: true,
    ports: { begin: 6030, end: 6030 },
    bindAddress: undefined,
    announceAddress: undefined,
  });
});

test('Redis, a Redis Cluster, and the mistakes that stop the start', () => {
  assert.deepEqual(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6400' }).store, {
    kind: 'redis',
    urls: ['redis://127.0.0.1:6400'],
    cluster: false,
    keyPrefix: 'wp:',
    nodeTimeoutMs: 10000,
    mediaLeaseMs: 3000,
  });
  assert.deepEqual(loadConfig({ REDIS_URL: 'redis://a:1, redis://b:2', REDIS_CLUSTER: 'true' }).store, {
    kind: 'redis',
    urls: ['redis://a:1', 'redis://b:2'],
    cluster: true,
    keyPrefix: 'wp:',
    nodeTimeoutMs: 10000,
    mediaLeaseMs: 3000,
  });
  for (const env of [
    { REDIS_URL: 'http://x' },
    { REDIS_URL: 'redis://a:1,redis://b:2' },
    { REDIS_CLUSTER: 'true' },
    { MEDIA_PORT_RANGE: '5000-4000' },
    { MEDIA_PORT_RANGE: 'a-b' },
    { AUDIO_SLOTS: '0' },
    { NODE_ID: 'has space' },
  ]) {
    assert.throws(() => loadConfig(env), ConfigError, JSON.stringify(env));
  }
});

test('TRUST_PROXY: off, on, or a list of proxy addresses; anything else stops the start', () => {
  assert.equal(loadConfig({}).trustProxy, false);
  assert.equal(loadConfig({ TRUST_PROXY: 'true' }).trustProxy, true);
  assert.deepEqual(loadConfig({ TRUST_PROXY: '10.0.0.1, 192.168.0.0/16' }).trustProxy, ['10.0.0.1', '192.168.0.0/16']);
  assert.throws(() => loadConfig({ TRUST_PROXY: 'TRUE' }), ConfigError);
  assert.throws(() => loadConfig({ API_KEY: 'short', JOIN_TOKEN_SECRET: 'x'.repeat(32) }), ConfigError);
  assert.throws(() => loadConfig({ API_KEY: 'k'.repeat(16) }), ConfigError, 'both or neither');
});

test('AUDIO_DTX: on unless false; anything but a boolean stops the start', () => {
  assert.equal(loadConfig({ AUDIO_DTX: 'false' }).media.dtx, false);
  assert.throws(() => loadConfig({ AUDIO_DTX: 'sometimes' }), ConfigError);
});

test('a port range gives the peers several media ports to share', () => {
  assert.deepEqual(loadConfig({ MEDIA_PORT_RANGE: '40000-40100' }).media.ports, { begin: 40000, end: 40100 });
});
