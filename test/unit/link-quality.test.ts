import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromConnectionQuality, keepMembers, sameMembersQuality } from '../../sdk/src/audio/member-quality.js';
import { intervalLoss, levelOf, memberQuality, reportedLoss } from '../../src/media/link-quality.js';
import { ReceiverReports } from '../../src/media/receiver-reports.js';

function rtp(seq: number, ssrc = 4242): Buffer {
  const packet = Buffer.alloc(12 + 20, 0xab);
  packet[0] = 0x80;
  packet[1] = 111;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

test('the loss of an interval is the difference of two cumulative counts', () => {
  assert.equal(intervalLoss(undefined, undefined), null, 'no count yet');
  assert.equal(intervalLoss(undefined, { expected: 250, received: 250 }), 0, 'the first interval counts from zero');
  assert.equal(intervalLoss({ expected: 250, received: 250 }, { expected: 500, received: 450 }), 0.2);
  assert.equal(intervalLoss({ expected: 500, received: 450 }, { expected: 500, received: 450 }), null, 'nothing expected: unknown, not 0');
  assert.equal(intervalLoss({ expected: 500, received: 450 }, { expected: 510, received: 462 }), 0, 'duplicates never make it negative');
  assert.equal(intervalLoss({ expected: 5000, received: 4000 }, { expected: 100, received: 90 }), 0.1, 'counts that went back restart');
});

test('levels follow the SDK: under 2 % good, under 10 % fair, else poor; unknown without a count', () => {
  assert.equal(levelOf([]), 'unknown');
  assert.equal(levelOf([null, null]), 'unknown');
  assert.equal(levelOf([0]), 'good');
  assert.equal(levelOf([0.0199]), 'good');
  assert.equal(levelOf([0.02]), 'fair');
  assert.equal(levelOf([0.0999, null]), 'fair');
  assert.equal(levelOf([0.1]), 'poor');
  assert.equal(levelOf([0, 0.2]), 'poor', 'the worse of uplink and downlink');
  assert.equal(reportedLoss(0), 0);
  assert.equal(reportedLoss(64), 0.25);
});

test("a member's entry: losses in whole percent, the level of the worse one, publishing as offered", () => {
  assert.deepEqual(memberQuality({ publishing: true, uplinkLoss: 0.2049, downlinkLoss: 0.011 }), {
    level: 'poor',
    publishing: true,
    loss: 0.2,
    uplink_loss: 0.2,
    downlink_loss: 0.01,
  });
  assert.deepEqual(memberQuality({ publishing: false, uplinkLoss: null, downlinkLoss: null }), {
    level: 'unknown',
    publishing: false,
    loss: null,
    uplink_loss: null,
    downlink_loss: null,
  });
  assert.deepEqual(memberQuality({ publishing: false, uplinkLoss: null, downlinkLoss: 0.05 }).level, 'fair');
});

test('ReceiverReports samples the microphone loss per interval, apart from the receiver reports it answers', () => {
  const reports = new ReceiverReports(777);
  assert.equal(reports.sampleLoss(), null, 'no packet yet');
  for (let seq = 100; seq < 200; seq++) reports.rtp(rtp(seq));
  assert.equal(reports.sampleLoss(), 0, 'no loss after the probation');
  // Every fifth packet lost.
  for (let seq = 200; seq < 300; seq++) if (seq % 5 !== 0) reports.rtp(rtp(seq));
  assert.equal(reports.sampleLoss(), 0.2);
  assert.equal(reports.sampleLoss(), null, 'nothing since');
  // A new source (a new SSRC) is counted afresh, not against the old one's numbers.
  for (let seq = 40_000; seq < 40_050; seq++) reports.rtp(rtp(seq, 999));
  assert.equal(reports.sampleLoss(), 0);
});

test('the SDK reads ConnectionQuality, drops what it cannot read, and forgets members who left', () => {
  const members = fromConnectionQuality({
    members: {
      a: { level: 'good', publishing: true, loss: 0, uplink_loss: 0, downlink_loss: null },
      b: { level: 'bogus', publishing: 'yes', loss: 7 },
      c: 'not an entry',
    },
  });
  assert.deepEqual([...members.keys()], ['a', 'b']);
  assert.deepEqual(members.get('a'), { level: 'good', publishing: true, loss: 0, uplinkLoss: 0, downlinkLoss: null });
  assert.deepEqual(members.get('b'), { level: 'unknown', publishing: false, loss: 1, uplinkLoss: null, downlinkLoss: null });
  assert.equal(fromConnectionQuality({ members: [] }).size, 0);
  assert.equal(fromConnectionQuality({}).size, 0);
  assert.equal(keepMembers(members, ['a', 'b', 'x']), members, 'the same value when nobody left');
  assert.deepEqual([...keepMembers(members, ['b']).keys()], ['b']);
  assert.ok(
    sameMembersQuality(
      members,
      fromConnectionQuality({ members: { a: { level: 'good', publishing: true, loss: 0, uplink_loss: 0 }, b: { loss: 7 } } }),
    ),
  );
  assert.ok(!sameMembersQuality(members, keepMembers(members, ['a'])));
});
