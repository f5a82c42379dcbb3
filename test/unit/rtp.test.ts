import assert from 'node:assert/strict';
import { test } from 'node:test';
import { audioLevelOf, headerOf, isRtcp, isRtp, SlotStream } from '../../src/media/rtp.js';

/** An RTP packet: version 2, optional one-byte header extensions ([id, value] pairs), a payload. */
function rtp(options: { ssrc: number; seq: number; ts: number; pt?: number; marker?: boolean; ext?: [number, number][] }): Buffer {
  const ext = options.ext ?? [];
  const extWords = ext.length ? Math.ceil((ext.length * 2) / 4) : 0;
  const packet = Buffer.alloc(12 + (ext.length ? 4 + extWords * 4 : 0) + 20, 0xab);
  packet[0] = 0x80 | (ext.length ? 0x10 : 0);
  packet[1] = (options.marker ? 0x80 : 0) | (options.pt ?? 111);
  packet.writeUInt16BE(options.seq, 2);
  packet.writeUInt32BE(options.ts, 4);
  packet.writeUInt32BE(options.ssrc, 8);
  if (ext.length) {
    packet.writeUInt16BE(0xbede, 12);
    packet.writeUInt16BE(extWords, 14);
    packet.fill(0, 16, 16 + extWords * 4);
    ext.forEach(([id, value], i) => {
      packet[16 + i * 2] = (id << 4) | 0; // one byte of data
      packet[17 + i * 2] = value;
    });
  }
  return packet;
}

test('RTP and RTCP are told apart by the second byte', () => {
  assert.ok(isRtp(rtp({ ssrc: 1, seq: 1, ts: 1 })));
  const rtcp = Buffer.from([0x80, 200, 0, 6, 0, 0, 0, 1, 0, 0, 0, 0]);
  assert.ok(isRtcp(rtcp));
  assert.ok(!isRtp(rtcp));
  assert.ok(!isRtp(Buffer.from([0x80, 111])));
});

test('the audio level is read from its header extension, whatever else is there', () => {
  assert.equal(audioLevelOf(rtp({ ssrc: 1, seq: 1, ts: 1, ext: [[1, 0x80 | 30]] }), 1), 30, 'the voice bit is ignored');
  assert.equal(
    audioLevelOf(
      rtp({
        ssrc: 1,
        seq: 1,
        ts: 1,
        ext: [
          [3, 99],
          [1, 12],
        ],
      }),
      1,
    ),
    12,
  );
  assert.equal(audioLevelOf(rtp({ ssrc: 1, seq: 1, ts: 1, ext: [[3, 99]] }), 1), undefined);
  assert.equal(audioLevelOf(rtp({ ssrc: 1, seq: 1, ts: 1 }), 1), undefined);
  const truncated = rtp({ ssrc: 1, seq: 1, ts: 1, ext: [[1, 5]] }).subarray(0, 15);
  assert.equal(audioLevelOf(truncated, 1), undefined, 'a packet cut short is not read past its end');
});

test('a slot keeps one SSRC and continuous numbering across a change of source', () => {
  const slot = new SlotStream(0xcafe, 96);
  const out: { seq: number; ts: number; ssrc: number; pt: number; marker: boolean }[] = [];
  const send = (packet: Buffer, now: number) => {
    slot.stamp(packet, headerOf(packet), now);
    out.push({ ...headerOf(packet), pt: packet[1]! & 0x7f });
  };
  send(rtp({ ssrc: 1, seq: 65534, ts: 4294966000, pt: 111 }), 0);
  send(rtp({ ssrc: 1, seq: 65535, ts: 4294966960 }), 20);
  send(rtp({ ssrc: 1, seq: 0, ts: 624 }), 40); // both counters wrap
  send(rtp({ ssrc: 2, seq: 100, ts: 5000 }), 100); // another voice takes the slot 60 ms later
  send(rtp({ ssrc: 2, seq: 101, ts: 5960 }), 120);
  assert.ok(out.every((p) => p.ssrc === 0xcafe && p.pt === 96));
  assert.deepEqual(
    out.map((p) => p.seq),
    [65534, 65535, 0, 1, 2],
  );
  assert.deepEqual(
    out.slice(0, 3).map((p) => p.ts),
    [4294966000, 4294966960, 624],
    'the first source passes unchanged',
  );
  assert.equal(out[3]!.ts, 624 + 60 * 48, 'the timestamp moves on by the wall-clock gap');
  assert.equal(out[4]!.ts - out[3]!.ts, 960);
  assert.equal(out[3]!.marker, true, 'a new talkspurt is marked');
  assert.equal(out[4]!.marker, false);
});

test("one buffer stamped for several listeners keeps each listener's numbering", () => {
  const a = new SlotStream(10, 111);
  const b = new SlotStream(20, 111);
  b.stamp(rtp({ ssrc: 9, seq: 500, ts: 0 }), headerOf(rtp({ ssrc: 9, seq: 500, ts: 0 })), 0);
  const packet = rtp({ ssrc: 1, seq: 7, ts: 7000 });
  const header = headerOf(packet);
  a.stamp(packet, header, 10);
  assert.equal(headerOf(packet).seq, 7);
  b.stamp(packet, header, 10);
  assert.equal(headerOf(packet).seq, 501, 'b continues its own stream');
  assert.equal(headerOf(packet).ssrc, 20);
});
