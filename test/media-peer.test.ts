/**
 * MediaPeer against a plain libdatachannel client (no libwebrtc in this process): the answer follows
 * the recipe, packets flow both ways, and they keep flowing after full garbage collections (a
 * native Track whose JS object is collected stops its callbacks, so the peer must hold them all).
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

test('a media peer answers the recipe, carries audio both ways, and survives garbage collection', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const ports = await MediaPorts.open({ begin: 0, end: 0 }, '127.0.0.1');
  const port = ports.take();

  const client = new PeerConnection('client', { iceServers: [], bindAddress: '127.0.0.1', disableAutoNegotiation: true });
  const mic = new Audio('0', 'SendOnly');
  mic.addOpusCodec(111);
  mic.addSSRC(4242, 'client', 'client', 'mic');
  const micTrack = client.addTrack(mic);
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
  const offer = client.localDescription()!.sdp;

  let uplink = 0;
  let answered = false;
  const peer = new MediaPeer(
    'server',
    planAnswer(offer, { slots: 2, dtx: true }),
    [1111, 2222],
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
  client.onLocalCandidate((candidate, mid) => peer.addRemoteCandidate(candidate, mid));
  let seq = 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = peer.answer(offer);
    assert.match(answer, /a=mid:0\r\n(?:.*\r\n)*?a=recvonly/);
    assert.match(answer, /a=ssrc:1111 cname:wigglypuff/);
    assert.match(answer, /a=ssrc:2222 cname:wigglypuff/);
    client.setRemoteDescription(answer, 'answer');
    answered = true;
    timer = setInterval(() => {
      if (micTrack.isOpen()) micTrack.sendMessageBinary(rtp(seq++, 4242));
      for (const slot of [0, 1]) peer.send(slot, rtp(seq, [1111, 2222][slot]!));
    }, 10);
    await until('audio both ways', () => uplink > 20 && received[0]! > 20 && received[1]! > 20);
    for (let i = 0; i < 3; i++) gc();
    const [up, down0, down1] = [uplink, received[0]!, received[1]!];
    await until('audio both ways after GC', () => uplink > up + 50 && received[0]! > down0 + 50 && received[1]! > down1 + 50);
  } finally {
    clearInterval(timer);
    peer.close();
    for (const track of [micTrack, ...slotTracks]) track.close();
    client.close();
    ports.close();
  }
  assert.equal(peer.send(0, rtp(1, 1111)), false, 'a closed peer sends nothing and throws nothing');
});
