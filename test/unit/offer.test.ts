import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planAnswer, withDtx } from '../../src/media/offer.js';

const audio = (mid: string, direction: string, fmtp = 'minptime=10;useinbandfec=1') =>
  [`m=audio 9 UDP/TLS/RTP/SAVPF 111`, `a=mid:${mid}`, `a=${direction}`, 'a=rtpmap:111 opus/48000/2', `a=fmtp:111 ${fmtp}`].join('\r\n');
const offer = (...media: string[]) => ['v=0', ...media, ''].join('\r\n');

test('the recipe: the first sending audio m-line is the microphone, the receiving ones after it are slots', () => {
  const plan = planAnswer(offer(audio('0', 'sendonly'), audio('1', 'recvonly'), audio('2', 'recvonly'), audio('3', 'recvonly')), {
    slots: 2,
    dtx: true,
  });
  assert.equal(plan.uplink?.mid, '0');
  assert.deepEqual(
    plan.slots.map((slot) => slot.mid),
    ['1', '2'],
  );
  assert.deepEqual(
    plan.unused.map((media) => media.mid),
    ['3'],
  );
});

test("the microphone is answered with the client's Opus parameters and usedtx as configured; slots keep theirs", () => {
  const sdp = offer(audio('0', 'sendonly', 'minptime=10;useinbandfec=1;usedtx=0'), audio('1', 'recvonly'));
  assert.equal(planAnswer(sdp, { slots: 1, dtx: true }).uplink?.opus.fmtp, 'minptime=10;useinbandfec=1;usedtx=1');
  assert.equal(planAnswer(sdp, { slots: 1, dtx: false }).uplink?.opus.fmtp, 'minptime=10;useinbandfec=1;usedtx=0');
  assert.equal(planAnswer(sdp, { slots: 1, dtx: true }).slots[0]?.opus.fmtp, 'minptime=10;useinbandfec=1');
});

test('withDtx sets usedtx once, whatever the client wrote', () => {
  assert.equal(withDtx('', true), 'usedtx=1');
  assert.equal(withDtx('UseDtx=1; stereo=1 ;', false), 'stereo=1;usedtx=0');
});

test('an offer with neither a microphone nor a slot is refused', () => {
  assert.throws(() => planAnswer(offer('m=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly'), { slots: 3, dtx: true }), {
    code: 'invalid_message',
  });
});
