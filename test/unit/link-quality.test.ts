import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromConnectionQuality, keepMembers, sameMembersQuality } from '../../sdk/src/audio/member-quality.js';
import { intervalLoss, levelOf, memberQuality } from '../../src/media/link-quality.js';
import { ReceiverReports } from '../../src/media/receiver-reports.js';
import { SlotStream } from '../../src/media/rtp.js';
import { ntpMiddle, roundTripMs, SlotReports } from '../../src/media/slot-reports.js';

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
  assert.equal(levelOf([0], 299), 'good');
  assert.equal(levelOf([0], 300), 'fair');
  assert.equal(levelOf([0.01], 800), 'poor');
  assert.equal(levelOf([null], 100), 'good', 'a round trip without a loss');
});

test("a member's entry: losses in whole percent, the level of the worse one, publishing as offered", () => {
  assert.deepEqual(memberQuality({ publishing: true, uplinkLoss: 0.2049, downlinkLoss: 0.011, roundTripMs: 23.4 }), {
    level: 'poor',
    publishing: true,
    loss: 0.2,
    uplink_loss: 0.2,
    downlink_loss: 0.01,
    round_trip_ms: 20,
  });
  assert.deepEqual(memberQuality({ publishing: false, uplinkLoss: null, downlinkLoss: null, roundTripMs: null }), {
    level: 'unknown',
    publishing: false,
    loss: null,
    uplink_loss: null,
    downlink_loss: null,
    round_trip_ms: null,
  });
  assert.equal(memberQuality({ publishing: false, uplinkLoss: null, downlinkLoss: 0.05, roundTripMs: null }).level, 'fair');
  assert.equal(
    memberQuality({ publishing: false, uplinkLoss: null, downlinkLoss: null, roundTripMs: 350 }).level,
    'fair',
    'a round trip alone',
  );
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
      a: { level: 'good', publishing: true, loss: 0, uplink_loss: 0, downlink_loss: null, round_trip_ms: 20 },
      b: { level: 'bogus', publishing: 'yes', loss: 7, round_trip_ms: -5 },
      c: 'not an entry',
    },
  });
  assert.deepEqual([...members.keys()], ['a', 'b']);
  assert.deepEqual(members.get('a'), { level: 'good', publishing: true, loss: 0, uplinkLoss: 0, downlinkLoss: null, roundTripMs: 20 });
  assert.deepEqual(members.get('b'), {
    level: 'unknown',
    publishing: false,
    loss: 1,
    uplinkLoss: null,
    downlinkLoss: null,
    roundTripMs: null,
  });
  assert.equal(fromConnectionQuality({ members: [] }).size, 0);
  assert.equal(fromConnectionQuality({}).size, 0);
  assert.equal(keepMembers(members, ['a', 'b', 'x']), members, 'the same value when nobody left');
  assert.deepEqual([...keepMembers(members, ['b']).keys()], ['b']);
  assert.ok(
    sameMembersQuality(
      members,
      fromConnectionQuality({
        members: { a: { level: 'good', publishing: true, loss: 0, uplink_loss: 0, round_trip_ms: 20 }, b: { loss: 7 } },
      }),
    ),
  );
  assert.ok(!sameMembersQuality(members, keepMembers(members, ['a'])));
});

/** A receiver report from a listener with one block about `ssrc`. */
function receiverReport(ssrc: number, block: { lost: number; highest: number; lsr?: number; dlsr?: number }): Buffer {
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = 201;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(0x1234, 4);
  rr.writeUInt32BE(ssrc, 8);
  rr[12] = 0xff; // the fraction lost is not read: it counts the SFU's own gaps as the downlink's
  rr.writeIntBE(block.lost, 13, 3);
  rr.writeUInt32BE(block.highest, 16);
  rr.writeUInt32BE(block.lsr ?? 0, 24);
  rr.writeUInt32BE(block.dlsr ?? 0, 28);
  // Compound, as browsers send it: an SDES after it.
  return Buffer.concat([rr, Buffer.from([0x81, 202, 0, 1, 0, 0, 0x12, 0x34])]);
}

test("a slot's receiver reports give the downlink's own loss (not the gaps the SFU forwarded), and a round trip against the SFU's sender reports", () => {
  const SLOT = 0xabcd;
  const reports = new SlotReports(SLOT);
  const unix = 1_700_000_000_000;
  assert.deepEqual(reports.reading(0, 12_000), { loss: null, roundTripMs: null });
  reports.rtcp(receiverReport(SLOT, { lost: 3, highest: 1000 }), 0, unix, 0);
  assert.equal(reports.reading(0, 12_000).loss, null, 'the first report only sets where the slot was');
  // 250 sequence numbers, 50 of them never sent (lost before the SFU); the listener misses 60: 10 of 200 on the downlink.
  reports.rtcp(receiverReport(SLOT, { lost: 63, highest: 1250 }), 5000, unix + 5000, 50);
  assert.equal(reports.reading(5000, 12_000).loss, 0.05);
  reports.rtcp(receiverReport(0x9999, { lost: 200, highest: 9 }), 5100, unix + 5100, 50);
  assert.equal(reports.reading(5100, 12_000).loss, 0.05, 'a block about another source is not this slot');
  reports.rtcp(receiverReport(SLOT, { lost: 63, highest: 1250 }), 10_000, unix + 10_000, 50);
  assert.equal(reports.reading(10_000, 12_000).loss, 0.05, 'nothing carried since: the last loss stands');
  assert.equal(reports.reading(17_001, 12_000).loss, null, 'and goes stale');
  // Only the SFU's own gaps: a clean downlink.
  reports.rtcp(receiverReport(SLOT, { lost: 113, highest: 1500 }), 18_000, unix + 18_000, 100);
  assert.equal(reports.reading(18_000, 12_000).loss, 0);

  // The SFU's sender report at t; the listener answers 30 ms later after holding it 10 ms: 20 ms.
  const sentAt = unix + 20_000;
  const sr = reports.senderReport(sentAt, 48_000, 500, 40_000);
  assert.equal(sr[1], 200);
  assert.equal(sr.readUInt32BE(4), SLOT);
  assert.equal(sr.readUInt32BE(16), 48_000);
  const lsr = sr.readUInt32BE(10);
  assert.equal(lsr, ntpMiddle(sentAt));
  const dlsr = Math.round(0.01 * 0x10000);
  reports.rtcp(receiverReport(SLOT, { lost: 113, highest: 1550, lsr, dlsr }), 20_030, sentAt + 30, 100);
  const reading = reports.reading(20_030, 12_000);
  assert.equal(reading.loss, 0);
  assert.ok(reading.roundTripMs !== null && Math.abs(reading.roundTripMs - 20) <= 1, `round trip ${reading.roundTripMs}`);
  reports.rtcp(receiverReport(SLOT, { lost: 113, highest: 1600, lsr: lsr + 1, dlsr }), 21_000, sentAt + 1000, 100);
  assert.ok(Math.abs(reports.reading(21_000, 12_000).roundTripMs! - 20) <= 1, 'an LSR the SFU never sent is not a round trip');
  assert.equal(roundTripMs(0, 0, 12345), null, 'no sender report received yet');
  assert.equal(roundTripMs(1000, 0, 999), null, 'negative: none');
});

test("a slot stream counts the sequence numbers it skips (a source's own losses), less the late packets that fill them", () => {
  const stream = new SlotStream(1, 111);
  const header = (seq: number) => ({ ssrc: 7, seq, ts: seq * 960, marker: false });
  const packet = Buffer.alloc(40);
  for (const seq of [10, 11, 12, 15, 16, 20]) stream.stamp(packet, header(seq), seq * 20);
  assert.equal(stream.skipped, 5, '13, 14, 17, 18, 19');
  stream.stamp(packet, header(18), 420);
  assert.equal(stream.skipped, 4, '18 came late');
  assert.equal(stream.packets, 7);
  // Another source on the slot goes on from the last number: no gap.
  stream.stamp(packet, { ssrc: 8, seq: 5000, ts: 0, marker: false }, 500);
  assert.equal(stream.skipped, 4);
});
