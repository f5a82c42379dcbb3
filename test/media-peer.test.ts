/**
 * MediaPeer against a plain libdatachannel client (no libwebrtc in this process): the answer follows
 * the recipe, packets flow both ways, and they keep flowing after full garbage collections (a
 * native Track whose JS object is collected stops its callbacks, so the peer must hold them all);
 * the microphone's sender reports are answered with receiver reports that count what arrived.
 */

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import nodeDataChannel from 'node-datachannel';
import { pino } from 'pino';
import { MediaPeer } from '../src/media/media-peer.js';
import { MediaPorts } from '../src/media/media-ports.js';
import { planAnswer } from '../src/media/offer.js';

const { Audio, PeerConnection } = nodeDataChannel;

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function rtp(seq: number, ssrc: number): Buffer {
  const packet = Buffer.alloc(12 + 40, 1);
  packet[0] = 0x80;
  packet[1] = 111;
  packet.writeUInt16BE(seq & 0xffff, 2);
  packet.writeUInt32BE((seq * 960) >>> 0, 4);
  packet.writeUInt32BE(ssrc, 8);
  return packet;
}

/** A sender report (no report blocks) from `ssrc`, with NTP time `ntp` (seconds, 32.32 fixed point). */
function senderReport(ssrc: number, ntp: bigint): Buffer {
  const packet = Buffer.alloc(28);
  packet[0] = 0x80;
  packet[1] = 200;
  packet.writeUInt16BE(6, 2);
  packet.writeUInt32BE(ssrc, 4);
  packet.writeBigUInt64BE(ntp, 8);
  return packet;
}

/**
 * The offer without its candidates (nor a=end-of-candidates), and those candidates with their mids,
 * to hand to the server once the client has applied the answer. libdatachannel as the offerer starts
 * DTLS the moment ICE connects, and checks the peer's certificate against the answer's fingerprint;
 * a server holding the offer's candidates checks connectivity at once, so ICE may connect inside
 * setRemoteDescription before the answer is stored: the server's certificate is then refused
 * ("unknown CA"), the client fails, and setRemoteDescription throws "Got a remote candidate without
 * ICE transport" adding the answer's candidates. A browser waits for the fingerprint; this client
 * cannot, so the server learns where it is only once it has the answer.
 */
function withoutCandidates(sdp: string): { offer: string; candidates: [candidate: string, mid: string][] } {
  const candidates: [string, string][] = [];
  const sections = sdp.split(/\r\n(?=m=)/).map((section) => {
    const lines = section.split('\r\n');
    const mid = lines.find((line) => line.startsWith('a=mid:'))?.slice('a=mid:'.length);
    for (const line of lines) if (line.startsWith('a=candidate:') && mid !== undefined) candidates.push([line.slice(2), mid]);
    return lines.filter((line) => !line.startsWith('a=candidate:') && line !== 'a=end-of-candidates').join('\r\n');
  });
  return { offer: sections.join('\r\n'), candidates };
}

/** A plain libdatachannel client whose first m-line is its microphone (Opus, SSRC 4242); further tracks may follow. */
function clientWithMicrophone() {
  const client = new PeerConnection('client', { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
  const mic = new Audio('0', 'SendOnly');
  mic.addOpusCodec(111);
  mic.addSSRC(4242, 'client', 'client', 'mic');
  return { client, micTrack: client.addTrack(mic) };
}

/**
 * A server MediaPeer for `client`'s offer, signaled in the only order this client survives (see
 * withoutCandidates): `answer()` applies the server's answer, then hands the server the client's
 * candidates, those of the offer and any trickled before. `uplink()` counts the microphone packets
 * the server received.
 */
function serverPeerFor(client: InstanceType<typeof PeerConnection>, port: ReturnType<MediaPorts['take']>, slotSsrcs: number[]) {
  const { offer, candidates } = withoutCandidates(client.localDescription()!.sdp);
  let uplink = 0;
  let answered = false;
  const peer = new MediaPeer(
    'server',
    planAnswer(offer, { slots: slotSsrcs.length, dtx: true }),
    slotSsrcs,
    port,
    { iceServers: () => [], bindAddress: '127.0.0.1' },
    {
      // The answer carries the server's candidates; trickled ones before it is applied are not needed.
      candidate: (candidate, mid) => {
        if (answered) client.addRemoteCandidate(candidate, mid);
      },
      rtp: () => {
        uplink += 1;
      },
      closed: () => undefined,
    },
    pino({ level: 'silent' }),
  );
  client.onLocalCandidate((candidate, mid) => (answered ? peer.addRemoteCandidate(candidate, mid) : candidates.push([candidate, mid])));
  return {
    peer,
    uplink: () => uplink,
    /** The server's answer, applied by the client; `check` sees it first. */
    answer(check: (answer: string) => void = () => undefined): void {
      const answer = peer.answer(offer);
      check(answer);
      client.setRemoteDescription(answer, 'answer');
      answered = true;
      for (const [candidate, mid] of candidates.splice(0)) peer.addRemoteCandidate(candidate, mid);
    },
  };
}

test('a media peer answers the recipe, carries audio both ways, and survives garbage collection', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const ports = await MediaPorts.open({ begin: 0, end: 0 }, '127.0.0.1');
  const port = ports.take();

  const { client, micTrack } = clientWithMicrophone();
  const received = [0, 0];
  const slotTracks = [1, 2].map((mid, i) => {
    const slot = new Audio(String(mid), 'RecvOnly');
    slot.addOpusCodec(111);
    const track = client.addTrack(slot);
    track.onMessage((packet) => {
      if (packet[1] === 111 || packet[1] === (0x80 | 111)) received[i]! += 1;
    });
    return track;
  });
  client.setLocalDescription('offer');
  const { peer, uplink, answer } = serverPeerFor(client, port, [1111, 2222]);
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    answer((sdp) => {
      assert.match(sdp, /a=mid:0\r\n(?:.*\r\n)*?a=recvonly/);
      assert.match(sdp, /a=ssrc:1111 cname:wigglypuff/);
      assert.match(sdp, /a=ssrc:2222 cname:wigglypuff/);
    });
    timer = setInterval(() => {
      if (micTrack.isOpen()) micTrack.sendMessageBinary(rtp(seq++, 4242));
      for (const slot of [0, 1]) peer.send(slot, rtp(seq, [1111, 2222][slot]!));
    }, 10);
    await until('audio both ways', () => uplink() > 20 && received[0]! > 20 && received[1]! > 20);
    for (let i = 0; i < 3; i++) gc();
    const [up, down0, down1] = [uplink(), received[0]!, received[1]!];
    await until('audio both ways after GC', () => uplink() > up + 50 && received[0]! > down0 + 50 && received[1]! > down1 + 50);
  } finally {
    clearInterval(timer);
    peer.close();
    for (const track of [micTrack, ...slotTracks]) track.close();
    client.close();
    ports.close();
  }
  assert.equal(peer.send(0, rtp(1, 1111)), false, 'a closed peer sends nothing and throws nothing');
});

test("a microphone's sender report is answered with a receiver report counting what arrived, from any first sequence number", async () => {
  const ports = await MediaPorts.open({ begin: 0, end: 0 }, '127.0.0.1');
  const port = ports.take();
  // No media handler: the client's track hands over the RTCP it receives, as it is.
  const { client, micTrack } = clientWithMicrophone();
  const reports: Buffer[] = [];
  micTrack.onMessage((packet) => {
    if (packet[1] === 201) reports.push(Buffer.from(packet));
  });
  client.setLocalDescription('offer');
  const { peer, uplink, answer } = serverPeerFor(client, port, []);
  // libwebrtc starts a stream anywhere in 1..32767; below 3000 libdatachannel's own receiving
  // session counts from 0, so it reported this one as 100 packets lost.
  let seq = 100;
  const send = (count: number) => {
    for (let i = 0; i < count; i++) micTrack.sendMessageBinary(rtp(seq++, 4242));
  };
  try {
    answer();
    await until('the microphone track to open', () => micTrack.isOpen());
    // Until the server has the stream (the first packets may beat its end of the DTLS handshake).
    const deadline = Date.now() + 10_000;
    while (uplink() < 5) {
      if (Date.now() > deadline) throw new Error('the server received no microphone packet within 10 s');
      send(1);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const before = uplink();
    seq += 7; // 7 packets lost on the way
    send(20);
    await until('the packets after the gap', () => uplink() >= before + 20);
    micTrack.sendMessageBinary(senderReport(4242, 0x0001_2345_6789_0000n));
    await until('a receiver report', () => reports.length > 0);
    const report = reports[0]!;
    assert.equal(report[0]! & 0x1f, 1, 'one report block');
    assert.equal(report.readUInt32BE(8), 4242, 'about the microphone');
    assert.equal(report.readIntBE(13, 3), 7, 'cumulative packets lost');
    assert.equal(report.readUInt32BE(16), seq - 1, 'extended highest sequence number');
    assert.ok(report[12]! > 0, 'a fraction lost');
    assert.equal(report.readUInt32BE(24), 0x2345_6789, "LSR: the middle of the sender report's NTP time");
  } finally {
    peer.close();
    micTrack.close();
    client.close();
    ports.close();
  }
});
