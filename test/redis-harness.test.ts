import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { RedisCluster, RedisServer, redisCli } from './support/redis.js';

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

/** Whether a process with this pid exists (signal 0 only checks). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a RedisServer without appendonly loses its data on kill -9 and restart', async () => {
  const redis = await RedisServer.start();
  try {
    assert.equal(redis.url, `redis://127.0.0.1:${redis.port}`);
    assert.notEqual(redis.port, 6379);
    assert.equal(await redis.command('SET', 'greeting', 'hello'), 'OK');
    assert.equal(await redis.command('GET', 'greeting'), 'hello');

    const pid = redis.pid!;
    await redis.kill('SIGKILL');
    assert.equal(redis.isRunning, false);
    assert.equal(alive(pid), false);
    await assert.rejects(redis.command('PING'), /Connection refused/);

    await redis.restart();
    assert.equal(await redis.command('PING'), 'PONG');
    assert.equal(await redis.command('GET', 'greeting'), '');
    assert.equal(await redis.command('DBSIZE'), '0');
  } finally {
    await redis.stop();
  }
  assert.equal(existsSync(redis.dir), false, 'stop() removes the temp dir');
  assert.equal(redis.isRunning, false);
});

test('a RedisServer with appendonly keeps its data across kill -9 and restart', async () => {
  const redis = await RedisServer.start({ appendonly: true });
  try {
    assert.equal(await redis.command('CONFIG', 'GET', 'appendonly'), 'appendonly\nyes');
    assert.equal(await redis.command('CONFIG', 'SET', 'appendfsync', 'always'), 'OK');
    assert.equal(await redis.command('SET', 'survivor', 'still here'), 'OK');
    await eventually('the AOF to be written', async () =>
      /^aof_last_write_status:ok\r?$/m.test(await redis.command('INFO', 'persistence')),
    );

    await redis.kill('SIGKILL');
    await redis.restart();
    assert.equal(await redis.command('GET', 'survivor'), 'still here');

    // A graceful stop and restart keeps it as well.
    await redis.kill('SIGTERM');
    await redis.restart();
    assert.equal(await redis.command('GET', 'survivor'), 'still here');
  } finally {
    await redis.stop();
  }
});

test('pause() makes a RedisServer hang until resume()', async () => {
  const redis = await RedisServer.start();
  try {
    redis.pause();
    await assert.rejects(redisCli(['-p', String(redis.port), 'PING'], 500), /timed out/);
    redis.resume();
    assert.equal(await redis.command('PING'), 'PONG');
    redis.pause();
    await redis.kill('SIGTERM'); // a paused server still ends on a kill
  } finally {
    await redis.stop();
  }
});

test('a RedisCluster of 3 masters serves keys on every node', async () => {
  const cluster = await RedisCluster.start(3);
  try {
    assert.equal(cluster.nodes.length, 3);
    assert.equal(cluster.url, cluster.nodes.map((node) => `redis://127.0.0.1:${node.port}`).join(','));
    for (const node of cluster.nodes) {
      assert.ok(node.port + 10000 <= 65535, 'room for the cluster bus port');
      const info = await node.command('cluster', 'info');
      assert.match(info, /^cluster_state:ok\r?$/m);
      assert.match(info, /^cluster_known_nodes:3\r?$/m);
      assert.match(info, /^cluster_slots_assigned:16384\r?$/m);
    }
    for (const [index, node] of cluster.nodes.entries()) {
      assert.equal(await node.command('-c', 'SET', '{a}x', String(index)), 'OK');
      assert.equal(await node.command('-c', 'GET', '{a}x'), String(index));
    }
    // Keys spread over the masters: without -c a node answers MOVED for a slot it does not own.
    const answers = await Promise.all(cluster.nodes.map((node) => node.command('GET', '{a}x')));
    assert.equal(answers.filter((answer) => answer === '2').length, 1);
    assert.equal(answers.filter((answer) => answer.startsWith('MOVED')).length, 2);

    // A restarted node rejoins from its nodes.conf.
    await cluster.nodes[0]!.restart();
    await cluster.waitUntilOk();
    assert.equal(await cluster.nodes[0]!.command('-c', 'GET', '{a}x'), '2');
  } finally {
    await cluster.stop();
  }
  for (const node of cluster.nodes) assert.equal(node.isRunning, false);
});
