import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { RedisKeys } from '../src/cluster/redis/redis-keys.js';
import { AudioParticipant } from './support/audio-participant.js';
import { startNodes, stopNodes, type WigglypuffNode } from './support/cluster.js';
import { mediaContract } from './support/media-contract.js';
import { RedisServer } from './support/redis.js';
import { createRoom } from './support/server.js';

const CLUSTER_ENV = { NODE_TIMEOUT_MS: '1000', MEDIA_LEASE_MS: '1000', RECONNECT_GRACE_MS: '1000' };

/** The media contract on three nodes sharing one Redis: each room's media on one of them, reached through all. */
mediaContract('three nodes on one Redis', async () => {
  const redis = await RedisServer.start();
  const nodes = await startNodes(3, { REDIS_URL: redis.url, AUDIO_SLOTS: '2', ...CLUSTER_ENV });
  return {
    nodes,
    async close() {
      await stopNodes(nodes);
      await redis.stop();
    },
  };
});

/** What only a cluster has: racing first offers on two nodes, and a media node that dies. */
describe('audio across a three-node cluster', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  const participants: AudioParticipant[] = [];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(3, { REDIS_URL: redis.url, ...CLUSTER_ENV });
  });
  after(async () => {
    await Promise.all(participants.map((participant) => participant.close()));
    await stopNodes(nodes);
    await redis.stop();
  });

  async function join(node: WigglypuffNode, room: string, uuid: string, toneHz: number | null): Promise<AudioParticipant> {
    const participant = await AudioParticipant.join(node.ws, room, uuid, { toneHz });
    participants.push(participant);
    return participant;
  }

  /** The node hosting a room's media, as claimed in Redis. */
  async function mediaNodeOf(room: string): Promise<WigglypuffNode | undefined> {
    const claimed = await redis.command('GET', new RedisKeys('wp:').mediaClaim(room));
    return nodes.find((node) => claimed.startsWith(`${node.id}-`));
  }

  test('participants on three nodes hear each other through one media node', async () => {
    const [a, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
    await createRoom(a.http, 'spread', 'teacher');
    const teacher = await join(a, 'spread', 'teacher', 440);
    const one = await join(b, 'spread', 'one', 660);
    const two = await join(c, 'spread', 'two', 880);
    await teacher.waitUntilHears([660, 880], { exactly: true });
    await one.waitUntilHears([440, 880], { exactly: true });
    await two.waitUntilHears([440, 660], { exactly: true });
    assert.equal(await mediaNodeOf('spread'), a, 'claimed by the node of the first offer (all equally loaded)');
  });

  test('two first offers racing on two nodes end with one media node', async () => {
    const [, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
    for (let round = 0; round < 3; round++) {
      const room = `race-${round}`;
      await createRoom(b.http, room, 'teacher');
      const [teacher, student] = await Promise.all([join(b, room, 'teacher', 440), join(c, room, 'student', 660)]);
      // Two media nodes would each hold one of them, and neither would hear the other.
      await teacher.waitUntilHears([660], { exactly: true });
      await student.waitUntilHears([440], { exactly: true });
      assert.ok(await mediaNodeOf(room));
    }
  });

  test("when the media node is SIGKILLed, everyone's audio is back within 10 s, by itself", async () => {
    const [a] = nodes as [WigglypuffNode];
    await createRoom(a.http, 'failover', 'teacher');
    // A first offer claims the room's media for the least loaded node; the class joins the others.
    const decoy = await join(a, 'failover', 'decoy', null);
    await decoy.waitForConnected();
    const media = (await mediaNodeOf('failover'))!;
    const [first, second] = nodes.filter((node) => node !== media) as [WigglypuffNode, WigglypuffNode];
    const teacher = await join(first, 'failover', 'teacher', 440);
    const student = await join(second, 'failover', 'student', 660);
    await teacher.waitUntilHears([660], { exactly: true });
    await student.waitUntilHears([440], { exactly: true });

    const killedAt = performance.now();
    await media.kill('SIGKILL');
    await Promise.all([teacher.waitUntilSilentOf(660, 5000), student.waitUntilSilentOf(440, 5000)]);
    await Promise.all([
      teacher.waitUntilHears([660], { exactly: true, timeoutMs: 10_000 }),
      student.waitUntilHears([440], { exactly: true, timeoutMs: 10_000 }),
    ]);
    const back = performance.now() - killedAt;
    assert.ok(back < 10_000, `audio came back after ${Math.round(back)} ms`);
    assert.equal(teacher.onMediaReconnect, 1, 'told once, with MediaReconnect');
    assert.equal(student.onMediaReconnect, 1);
    const now = await mediaNodeOf('failover');
    assert.ok(now === first || now === second, 'a surviving node claimed the media');
  });
});
