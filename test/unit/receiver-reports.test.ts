import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiverReports } from '../../src/media/receiver-reports.js';

const MIC = 4242;
const SERVER = 777;

function rtp(seq: number, ssrc = MIC): Buffer {
  const packet = Buffer.alloc(12 + 20, 0xab);
  packet[0] = 0x80;
  packet[1] = 111;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE(0, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

/** A compound packet as browsers send it: a sender report, then an SDES. */
function senderReport(ssrc = MIC): Buffer {
  const sr = Buffer.alloc(28);
  sr[0] = 0x80;
  sr[1] = 200;
  sr.writeUInt16BE(6, 2);
  sr.writeUInt32BE(ssrc, 4);
  sr.writeBigUInt64BE(0xaaaa_1234_5678_bbbbn, 8);
  const sdes = Buffer.from([0x81, 202, 0, 2, 0, 0, 0x10, 0x92, 0, 0, 0, 0]);
  sdes.writeUInt32BE(ssrc, 4);
  return Buffer.concat([sr, sdes]);
}

function block(report: Buffer | undefined) {
  assert.ok(report, 'a receiver report');
  assert.equal(report[1], 201);
  assert.equal(report.readUInt32BE(4), SERVER, "the server's SSRC");
  assert.equal(report[0]! & 0x1f, 1, 'one report block');
  assert.equal(report.length, (report.readUInt16BE(2) + 1) * 4);
  return {
    ssrc: report.readUInt32BE(8),
    fraction: report[12]!,
    lost: report.readIntBE(13, 3),
    highest: report.readUInt32BE(16),
    lsr: report.readUInt32BE(24),
  };
}

function receive(reports: ReceiverReports, seqs: number[], ssrc = MIC): void {
  for (const seq of seqs) reports.rtp(rtp(seq, ssrc));
}

const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => (from + i) & 0xffff);

test('a stream starting at a low sequence number is reported without loss', () => {
  const reports = new ReceiverReports(SERVER);
  receive(reports, range(5, 250));
  assert.deepEqual(block(reports.rtcp(senderReport())), { ssrc: MIC, fraction: 0, lost: 0, highest: 254, lsr: 0x1234_5678 });
});

test('packets missing count as lost, in total and in the interval since the last report', () => {
  const reports = new ReceiverReports(SERVER);
  receive(reports, range(20_000, 100));
  receive(reports, range(20_110, 90)); // 10 lost
  const first = block(reports.rtcp(senderReport()));
  assert.equal(first.lost, 10);
  assert.equal(first.fraction, Math.floor((10 * 256) / 199));
  receive(reports, range(20_200, 100));
  const second = block(reports.rtcp(senderReport()));
  assert.equal(second.lost, 10, 'cumulative');
  assert.equal(second.fraction, 0, 'nothing lost since the first report');
});

test('the sequence number wraps: cycles count in the extended highest number', () => {
  const reports = new ReceiverReports(SERVER);
  receive(reports, range(65_500, 100));
  const report = block(reports.rtcp(senderReport()));
  assert.equal(report.lost, 0);
  assert.equal(report.highest, 0x10000 + ((65_500 + 99) & 0xffff));
});

test('reordered and duplicated packets are not loss', () => {
  const reports = new ReceiverReports(SERVER);
  receive(reports, [...range(1000, 10), 1011, 1010, 1012, 1012, 1013]);
  const report = block(reports.rtcp(senderReport()));
  assert.ok(report.lost <= 0, `lost ${report.lost}`);
  assert.equal(report.highest, 1013);
});

test('a sender that restarts its numbering is counted afresh, and so is a new SSRC', () => {
  const reports = new ReceiverReports(SERVER);
  receive(reports, range(100, 50));
  receive(reports, range(40_000, 50)); // the same SSRC, numbered anew: the first one is the jump's proof
  assert.deepEqual({ ...block(reports.rtcp(senderReport())), lsr: 0 }, { ssrc: MIC, fraction: 0, lost: 0, highest: 40_049, lsr: 0 });

  receive(reports, range(7, 50), 99);
  const renewed = block(reports.rtcp(senderReport(99)));
  assert.deepEqual([renewed.ssrc, renewed.lost, renewed.highest], [99, 0, 56]);
});

test('a sender report about a source not received, or RTCP without one, gets no report block', () => {
  const reports = new ReceiverReports(SERVER);
  const empty = reports.rtcp(senderReport());
  assert.ok(empty);
  assert.deepEqual([empty[0], empty[1], empty.length, empty.readUInt32BE(4)], [0x80, 201, 8, SERVER]);
  receive(reports, range(300, 10));
  assert.equal(reports.rtcp(senderReport(12345))!.length, 8, 'about another SSRC');
  const receiverReport = Buffer.from([0x81, 201, 0, 7, ...Buffer.alloc(28)]);
  assert.equal(reports.rtcp(receiverReport), undefined);
  assert.equal(reports.rtcp(Buffer.from([0x80, 200, 0, 60, 0, 0, 0, 0])), undefined, 'truncated');
});
