/**
 * Each member's connection quality as the SFU sees it (ConnectionQuality, the SDK's memberQuality),
 * over real WebRTC: a clean microphone, a listen-only member, and a microphone behind a relay that
 * drops every fifth RTP packet, on one node and across a three-node cluster.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MembersQuality } from '../sdk/src/audio/member-quality.js';
import { AudioParticipant } from './support/audio-participant.js';
import { startNodes, stopNodes, type WigglypuffNode } from './support/cluster.js';
import { LossyUdpRelay, relayedPeerConnection } from './support/lossy-udp-relay.js';
import { RedisServer } from './support/redis.js';
import { createRoom, startServer, type TestServer } from './support/server.js';

/** Reports come every 5 s: the first full one within two intervals of everyone connecting, with room to spare. */
const QUALITY_WAIT_MS = 20_000;

/** Resolves with `participant`'s memberQuality once it satisfies `predicate`; rejects after `timeoutMs` saying what it had. */
function memberQuality(participant: AudioParticipant, predicate: (members: MembersQuality) => boolean): Promise<MembersQuality> {
  const audio = participant.audio;
  if (predicate(audio.memberQuality)) return Promise.resolve(audio.memberQuality);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${participant.uuid}: memberQuality never matched; last: ${JSON.stringify([...audio.memberQuality])}`));
    }, QUALITY_WAIT_MS);
    const off = audio.on('memberquality', (members) => {
      if (!predicate(members)) return;
      clearTimeout(timer);
      off();
      resolve(members);
    });
  });
}

/** What the class's three members must look like to the teacher (the master: everyone's entry). */
function classAsExpected(members: MembersQuality): boolean {
  return teacherAsExpected(members) && listenerAsExpected(members) && lossyAsExpected(members);
}

function teacherAsExpected(members: MembersQuality): boolean {
  const clean = members.get('teacher');
  // Its first slot carries the lossy student: the gaps forwarded are not its downlink's.
  return clean?.publishing === true && clean.level === 'good' && clean.downlinkLoss !== null;
}

function listenerAsExpected(members: MembersQuality): boolean {
  const listener = members.get('listener');
  // Listen-only: known by its own reports about what the SFU sends it, and the round trip they measure.
  return listener?.publishing === false && listener.level === 'good' && listener.downlinkLoss !== null && listener.roundTripMs !== null;
}

function lossyAsExpected(members: MembersQuality): boolean {
  const lossy = members.get('lossy');
  return lossy?.publishing === true && lossy.level === 'poor' && (lossy.uplinkLoss ?? 0) >= 0.1;
}

/** A student is told only of their own link. */
const onlyOwn = (uuid: string, expected: (members: MembersQuality) => boolean) => (members: MembersQuality) =>
  members.size === 1 && members.has(uuid) && expected(members);

interface Class {
  participants: AudioParticipant[];
  relay: LossyUdpRelay;
}

/** The teacher (a clean microphone), a listen-only student and a student losing every fifth packet up, each on its node. */
async function joinClass(ws: [string, string, string], room: string): Promise<Class> {
  const relay = await LossyUdpRelay.start({ dropEvery: 5 });
  const participants: AudioParticipant[] = [];
  try {
    participants.push(await AudioParticipant.join(ws[0], room, 'teacher', { toneHz: 440 }));
    participants.push(await AudioParticipant.join(ws[1], room, 'listener', { toneHz: null }));
    participants.push(
      await AudioParticipant.join(ws[2], room, 'lossy', { toneHz: 660, audio: { RTCPeerConnection: relayedPeerConnection(relay) } }),
    );
    await Promise.all(participants.map((participant) => participant.waitForConnected()));
  } catch (error) {
    await Promise.all(participants.map((participant) => participant.close()));
    relay.close();
    throw error;
  }
  return { participants, relay };
}

async function leave({ participants, relay }: Class): Promise<void> {
  await Promise.all(participants.map((participant) => participant.close()));
  relay.close();
}

async function proveClass({ participants, relay }: Class): Promise<void> {
  const [teacher, listener, lossy] = participants as [AudioParticipant, AudioParticipant, AudioParticipant];
  // The lossy student's audio does arrive, through the relay.
  await teacher.waitUntilHears([660]);
  await Promise.all([
    memberQuality(teacher, classAsExpected),
    memberQuality(listener, onlyOwn('listener', listenerAsExpected)),
    memberQuality(lossy, onlyOwn('lossy', lossyAsExpected)),
  ]);
  assert.ok(relay.rtpDropped > 0, 'the relay dropped packets');
  const seen = teacher.audio.memberQuality.get('lossy')!;
  assert.ok(seen.loss !== null && seen.loss >= seen.uplinkLoss!, 'loss is the worse of the two');
  assert.deepEqual([...listener.audio.memberQuality.keys()], ['listener'], 'a student sees only their own link');

  // A member who leaves is dropped from the teacher's list.
  await lossy.close();
  await memberQuality(teacher, (members) => !members.has('lossy') && members.has('listener'));
}

describe('member quality on one node', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.close());

  test('the teacher sees the clean teacher good, the listener listening only, the lossy student poor; each student sees their own', async () => {
    await createRoom(server.http, 'quality', 'teacher');
    const joined = await joinClass([server.ws, server.ws, server.ws], 'quality');
    try {
      await proveClass(joined);
    } finally {
      await leave(joined);
    }
  });
});

describe('member quality across a three-node cluster', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(3, { REDIS_URL: redis.url });
  });
  after(async () => {
    await stopNodes(nodes);
    await redis.stop();
  });

  test("the media node's reports reach members on every node", async () => {
    const [a, b, c] = nodes as [WigglypuffNode, WigglypuffNode, WigglypuffNode];
    await createRoom(a.http, 'quality', 'teacher');
    const joined = await joinClass([a.ws, b.ws, c.ws], 'quality');
    try {
      await proveClass(joined);
    } finally {
      await leave(joined);
    }
  });
});
