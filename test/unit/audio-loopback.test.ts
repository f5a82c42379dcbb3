/**
 * The WebRTC half of the audio tests, without a server: two libwebrtc PeerConnections (@roamhq/wrtc)
 * connected to each other directly, one playing tones through ToneSource, the other hearing them
 * through ToneDetector (the pieces AudioParticipant is made of).
 *
 * The offerer is laid out like an AudioParticipant (a sendonly microphone, then recvonly receive
 * slots); the answerer plays a small SFU: it receives the microphone and sends a tone on slot 0.
 */

import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { dominantTones } from '../support/goertzel.js';
import { ToneDetector, ToneSource } from '../support/tone-media.js';
import { RTCPeerConnection } from '../support/wrtc.js';

const cleanups: (() => void)[] = [];
after(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

/** Trickles each side's candidates to the other, as they would travel in JSON over the socket. */
function trickle(from: RTCPeerConnection, to: RTCPeerConnection, errors: unknown[]): void {
  from.onicecandidate = ({ candidate }) => {
    if (!candidate?.candidate) return;
    const wire = JSON.parse(
      JSON.stringify({ candidate: candidate.candidate, sdpMid: candidate.sdpMid, sdpMLineIndex: candidate.sdpMLineIndex }),
    );
    to.addIceCandidate(wire).catch((error: unknown) => errors.push(error));
  };
}

async function until(what: string, check: () => boolean, timeoutMs: number, explain: () => string): Promise<number> {
  const started = performance.now();
  while (!check()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return performance.now() - started;
}

test('a tone sent through a real PeerConnection is heard, and a change of tone too', async (t) => {
  const errors: unknown[] = [];
  // The participant side: microphone at 1100 Hz, then two receive slots.
  const microphone = new ToneSource({ hz: 1100, amplitude: 0.3 });
  const participant = new RTCPeerConnection({ iceServers: [] });
  const heard = new ToneDetector();
  // The "SFU" side: hears the microphone, plays 660 Hz on slot 0 and nothing on slot 1.
  const slotTone = new ToneSource({ hz: 660, amplitude: 0.3 });
  const sfu = new RTCPeerConnection({ iceServers: [] });
  const uplink = new ToneDetector();
  // Real time starts now (ToneSource drops what a stalled event loop could not send in time, beyond 200 ms).
  microphone.start();
  slotTone.start();
  cleanups.push(() => {
    heard.stop();
    uplink.stop();
    participant.close();
    sfu.close();
    microphone.stop();
    slotTone.stop();
  });
  trickle(participant, sfu, errors);
  trickle(sfu, participant, errors);

  participant.addTransceiver(microphone.track, { direction: 'sendonly' });
  for (let slot = 0; slot < 2; slot++) {
    const transceiver = participant.addTransceiver('audio', { direction: 'recvonly' });
    heard.attach(slot, transceiver.receiver.track);
  }
  const offer = await participant.createOffer();
  await participant.setLocalDescription(offer);

  await sfu.setRemoteDescription({ type: 'offer', sdp: offer.sdp! });
  const [up, slot0, slot1] = sfu.getTransceivers();
  assert.ok(up && slot0 && slot1, `three transceivers on the answering side, got ${sfu.getTransceivers().length}`);
  assert.deepEqual([up.mid, slot0.mid, slot1.mid], ['0', '1', '2']);
  uplink.attach(0, up.receiver.track);
  slot0.direction = 'sendonly';
  await slot0.sender.replaceTrack(slotTone.track);
  const answer = await sfu.createAnswer();
  await sfu.setLocalDescription(answer);
  await participant.setRemoteDescription({ type: 'answer', sdp: answer.sdp! });

  const connectMs = await until(
    'connected',
    () => participant.connectionState === 'connected',
    10_000,
    () => participant.connectionState,
  );
  const firstMs = await until(
    '660 Hz on slot 0',
    () => heard.hearsOnSlot(0).has(660),
    10_000,
    () => heard.describe(),
  );
  // Give the 300 ms window time to fill with tone only.
  await new Promise((resolve) => setTimeout(resolve, 400));
  assert.deepEqual([...heard.hears()], [660], heard.describe());
  assert.deepEqual([...heard.hearsOnSlot(0)], [660]);
  assert.deepEqual([...heard.hearsOnSlot(1)], [], 'slot 1 carries nothing');
  assert.ok(heard.level(0) > 0.1, `slot 0 level ${heard.level(0)}`);
  // The same decision straight from the samples of the last 300 ms.
  const { samples, sampleRate } = heard.recent(0, 300);
  assert.ok(samples.length >= sampleRate * 0.25, `300 ms of slot 0 holds ${samples.length} samples at ${sampleRate} Hz`);
  const tones = dominantTones(samples, sampleRate, [440, 660, 880, 1100]);
  assert.ok(tones.includes(660), `660 Hz in ${tones}`);
  assert.ok(!tones.includes(440), `no 440 Hz in ${tones}`);
  // And the uplink: the "SFU" hears the microphone.
  await until(
    '1100 Hz upstream',
    () => uplink.hears().has(1100),
    5000,
    () => uplink.describe(),
  );

  // Switch the tone: 880 appears, 660 goes.
  const switchedAt = performance.now();
  slotTone.setTone(880);
  const appearMs = await until(
    '880 Hz',
    () => heard.hears().has(880),
    5000,
    () => heard.describe(),
  );
  const goneMs = await until(
    '660 Hz gone',
    () => !heard.hears().has(660),
    5000,
    () => heard.describe(),
  );
  assert.deepEqual([...heard.hears()], [880], heard.describe());
  const lastHeard660 = heard.heardAt(660)!;
  const first880 = heard.firstHeardAt(880)!;
  assert.ok(lastHeard660 > switchedAt, 'the 660 Hz still in flight is heard after the switch');
  assert.ok(lastHeard660 - switchedAt < 1000, `660 Hz last heard ${Math.round(lastHeard660 - switchedAt)} ms after the switch`);
  assert.ok(first880 > switchedAt, '880 Hz first heard after the switch');
  // No candidate but the tones sent was ever detected, not even in the chunks where a tone starts or changes.
  for (const hz of heard.listenFor.filter((hz) => hz !== 660 && hz !== 880)) {
    assert.equal(heard.heardAt(hz), undefined, `${hz} Hz was never heard`);
  }

  // Silence: keep sending zeros.
  slotTone.setTone(null);
  const silentMs = await until(
    'silence',
    () => heard.hears().size === 0,
    5000,
    () => heard.describe(),
  );
  assert.ok(heard.lastChunkAt(0)! > performance.now() - 100, 'the sink keeps delivering (silence) audio');

  // Packets stop (as when an SFU stops forwarding): libwebrtc conceals the gap by playing the last
  // sound on, fading out; heardAt() does not count that tail.
  slotTone.setTone(880);
  await until(
    '880 Hz again',
    () => heard.hears().has(880),
    5000,
    () => heard.describe(),
  );
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cutAt = performance.now();
  await slot0.sender.replaceTrack(null);
  await until(
    '880 Hz gone after the cut',
    () => !heard.hears().has(880),
    5000,
    () => heard.describe(),
  );
  const tailMs = heard.heardAt(880)! - cutAt;
  assert.ok(tailMs < 300, `880 Hz last heard ${Math.round(tailMs)} ms after its packets stopped`);

  assert.deepEqual(errors, []);
  const stats: Record<string, unknown>[] = [];
  (await participant.getStats()).forEach((entry: Record<string, unknown>) => {
    if (entry.type === 'inbound-rtp') stats.push(entry);
  });
  const slot0Stats = stats.find((entry) => entry.mid === '1');
  assert.ok(Number(slot0Stats?.packetsReceived) > 0, `inbound-rtp of slot 0: ${JSON.stringify(stats)}`);
  t.diagnostic(
    `connected in ${Math.round(connectMs)} ms, 660 heard ${Math.round(firstMs)} ms later; after the switch 880 in ${Math.round(appearMs)} ms, ` +
      `660 gone from the 300 ms window in ${Math.round(appearMs + goneMs)} ms (last detected ${Math.round(lastHeard660 - switchedAt)} ms, ` +
      `880 first ${Math.round(first880 - switchedAt)} ms after the switch); silence in ${Math.round(silentMs)} ms; last heard ${Math.round(tailMs)} ms after its packets stopped; sink formats ${JSON.stringify([...heard.formats])}; ` +
      `frames sent ${microphone.framesSent} + ${slotTone.framesSent}, dropped after stalls ${microphone.framesDropped} + ${slotTone.framesDropped}`,
  );
});
