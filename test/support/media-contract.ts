import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { AudioParticipant } from './audio-participant.js';
import { createRoom, request } from './server.js';
import { WsClient } from './ws-client.js';

/** `wigglypuff_errors_total` for `invalid_message` on the socket, from a node's /metrics. */
async function invalidMessagesCounted(http: string): Promise<number> {
  const text = await fetch(`${http}/metrics`).then((response) => response.text());
  const line = /^wigglypuff_errors_total\{code="invalid_message",transport="websocket"\} (\d+)$/m.exec(text);
  return line ? Number(line[1]) : 0;
}

/** Where the contract runs: the nodes clients may connect to (one, or several sharing one Redis). */
export interface MediaTopology {
  nodes: { http: string; ws: string }[];
  close(): Promise<void>;
}

/**
 * The audio SFU's behaviour, whatever the topology, with real WebRTC peers (libwebrtc through
 * @roamhq/wrtc): each participant sends a tone of its own frequency, and what each listener
 * decodes shows whom it hears. In a room the participants join the nodes in turn, so on a cluster
 * most of them reach the room's media node through another node. `open` starts servers with
 * AUDIO_SLOTS=2.
 */
export function mediaContract(kind: string, open: () => Promise<MediaTopology>): void {
  describe(`audio SFU: ${kind}`, () => {
    let topology: MediaTopology;
    const everyone: AudioParticipant[] = [];
    const joined = new Map<string, number>();
    let roomCounter = 0;

    before(async () => {
      topology = await open();
    });
    after(async () => {
      await Promise.all(everyone.map((participant) => participant.close()));
      await topology.close();
    });

    async function room(): Promise<string> {
      const name = `audio-${++roomCounter}`;
      await createRoom(topology.nodes[0]!.http, name, 'teacher');
      return name;
    }

    /** The node the next participant of `name` joins: each in turn. */
    function nextNode(name: string): { http: string; ws: string } {
      const count = joined.get(name) ?? 0;
      joined.set(name, count + 1);
      return topology.nodes[count % topology.nodes.length]!;
    }

    async function join(name: string, uuid: string, toneHz: number | null, amplitude = 0.3): Promise<AudioParticipant> {
      const participant = await AudioParticipant.join(nextNode(name).ws, name, uuid, { toneHz, amplitude });
      everyone.push(participant);
      return participant;
    }

    test('in a room of at most K+1 everyone hears everyone else, and nobody hears themself', async () => {
      const name = await room();
      const teacher = await join(name, 'teacher', 440);
      const a = await join(name, 'a', 660);
      const b = await join(name, 'b', 880);
      await teacher.waitUntilHears([660, 880], { exactly: true });
      await a.waitUntilHears([440, 880], { exactly: true });
      await b.waitUntilHears([440, 660], { exactly: true });
      const speakers = await a.waitForActiveSpeakers((active) => active.slots.includes('teacher') && active.slots.includes('b'));
      assert.ok(!speakers.slots.includes('a'));
    });

    test('with more speakers than slots, a listener hears the K loudest', async () => {
      const name = await room();
      const listener = await join(name, 'listener', null);
      // About 12 dB apart, all well above the speaking threshold.
      await join(name, 'loud', 550, 0.5);
      await join(name, 'louder', 770, 0.9);
      await join(name, 'soft', 990, 0.12);
      await join(name, 'softer', 1210, 0.03);
      await listener.waitUntilHears([550, 770], { exactly: true, timeoutMs: 15_000 });
      // Levels are smoothed over ~100 ms and this machine is busy: wait for the settled order.
      const loudestFirst = ['louder', 'loud', 'soft', 'softer'];
      const speakers = await listener.waitForActiveSpeakers((active) => active.uuids.join() === loudestFirst.join(), 15_000);
      assert.deepEqual([...speakers.slots].sort(), ['loud', 'louder']);
    });

    test('a muted student falls silent for everyone within 500 ms, and is heard again on unmute', async () => {
      const name = await room();
      const teacher = await join(name, 'teacher', 440);
      await join(name, 'student', 660);
      const other = await join(name, 'other', null);
      await other.waitUntilHears([440, 660], { exactly: true });

      const mutedAt = performance.now();
      teacher.ws.send({ action: 'MuteUser', uuid: 'student' });
      await other.waitUntilSilentOf(660, 5000);
      const lastHeard = other.heardAt(660)!;
      assert.ok(lastHeard - mutedAt < 500, `the muted voice was still heard ${Math.round(lastHeard - mutedAt)} ms after the mute`);
      await teacher.waitUntilSilentOf(660, 5000);
      assert.ok(other.hears().has(440), 'the teacher is still heard');

      teacher.ws.send({ action: 'MuteUser', uuid: 'student', result: false });
      await other.waitUntilHears([440, 660], { exactly: true });
    });

    test('under MuteAll a latecomer is never heard, while the teacher is', async () => {
      const name = await room();
      const teacher = await join(name, 'teacher', 440);
      const listener = await join(name, 'listener', null);
      teacher.ws.send({ action: 'MuteAll' });
      await teacher.ws.next('Ack');
      const late = await join(name, 'late', 880);
      await late.waitForConnected();
      const since = performance.now();
      // Two seconds of the latecomer's packets reaching the server, the teacher heard all along.
      while (performance.now() - since < 2000) {
        await listener.waitUntilHears([440], { timeoutMs: 5000 });
        assert.ok(!listener.hears().has(880), 'the latecomer under MuteAll was heard');
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      assert.equal(listener.heardAt(880), undefined);
      assert.ok((await late.inboundStats()).packetsReceived > 0, 'the latecomer itself hears the teacher');
    });

    test("a kicked student's media is closed at once", async () => {
      const name = await room();
      await join(name, 'teacher', 440);
      const student = await join(name, 'student', 660);
      const listener = await join(name, 'listener', null);
      await listener.waitUntilHears([440, 660], { exactly: true });
      assert.equal((await request(topology.nodes[0]!.http, 'POST', '/api/room/kick', { uuid: 'student', room_name: name })).status, 200);
      assert.equal((await student.ws.closed).code, 4001);
      await listener.waitUntilSilentOf(660, 5000);
      await listener.waitUntilHears([440]);
    });

    test('leaving closes the media; the others keep hearing each other', async () => {
      const name = await room();
      const teacher = await join(name, 'teacher', 440);
      const student = await join(name, 'student', 660);
      const listener = await join(name, 'listener', null);
      await listener.waitUntilHears([440, 660], { exactly: true });
      await student.close();
      await listener.waitUntilSilentOf(660, 5000);
      await listener.waitUntilHears([440], { exactly: true });
      await teacher.waitUntilSilentOf(660, 5000);
    });

    test('the microphone is answered with Opus DTX: a silent one sends a few packets a second, a speaking one 50', async () => {
      const name = await room();
      const speaking = await join(name, 'teacher', 440);
      const silent = await join(name, 'silent', 660, 0);
      await Promise.all([speaking.waitForConnected(), silent.waitForConnected()]);
      const micFmtp = (sdp: string) => {
        const mic = sdp.split(/\r\nm=/)[1]!; // the first m-line is the microphone (the recipe)
        return /a=fmtp:\d+ (.*)/.exec(mic)?.[1] ?? '';
      };
      assert.match(micFmtp(silent.lastAnswer!), /(^|;)usedtx=1(;|$)/);
      // Let the encoders settle, then count what each microphone sends over two seconds.
      await speaking.waitUntilSent(100);
      await silent.waitUntilSent(1);
      const before = await Promise.all([speaking.packetsSent(), silent.packetsSent()]);
      const start = performance.now();
      await speaking.waitUntilSent(before[0] + 100); // 2 s at 50 packets/s
      const seconds = (performance.now() - start) / 1000;
      const silentRate = ((await silent.packetsSent()) - before[1]) / seconds;
      assert.ok(silentRate < 15, `the silent microphone sent ${silentRate.toFixed(1)} packets/s`);
    });

    test("the server answers a microphone's sender reports with receiver reports", async () => {
      const name = await room();
      const speaker = await join(name, 'teacher', 440);
      await speaker.waitForConnected();
      // libwebrtc sends an audio sender report about every 5 s; remote-inbound-rtp appears once a
      // receiver report about the microphone's stream has come back.
      const deadline = performance.now() + 20_000;
      let reports = await speaker.audioStats('remote-inbound-rtp');
      while (reports.length === 0 && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        reports = await speaker.audioStats('remote-inbound-rtp');
      }
      assert.equal(reports.length, 1, 'no receiver report reached the client within 20 s');
      assert.ok(Number(reports[0]!.packetsLost ?? 0) <= 1, `the SFU reported ${reports[0]!.packetsLost} packets lost`);
    });

    test('an offer without Opus is refused with invalid_message', async () => {
      const name = await room();
      const { client } = await WsClient.join(topology.nodes[0]!.ws, name, 'odd');
      client.send({
        action: 'SessionDescription',
        type: 'offer',
        sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 0\r\na=rtpmap:0 PCMU/8000\r\na=sendonly\r\n',
      });
      assert.equal((await client.next('Error')).code, 'invalid_message');
      client.send({ action: 'SessionDescription', type: 'answer', sdp: 'x' });
      assert.equal((await client.next('Error')).code, 'invalid_message');
      await client.close();
    });

    test('a candidate before any offer is answered no_offer; a broken one after the offer invalid_message', async () => {
      const name = await room();
      const node = nextNode(name);
      const { client } = await WsClient.join(node.ws, name, 'early');
      client.send({ action: 'ICECandidate', candidate: 'candidate:1 1 UDP 2122260223 127.0.0.1 50000 typ host', sdpMid: '0' });
      const early = await client.next('Error');
      assert.equal(early.code, 'no_offer');
      assert.match(early.message, /before any SessionDescription offer/);
      // An empty candidate only ends the client's gathering: no answer at all, even before an offer.
      client.send({ action: 'ICECandidate', candidate: '', sdpMid: '0' });
      client.send({ action: 'Ping' });
      assert.equal((await client.next((m) => m.action === 'Pong' || m.action === 'Error')).action, 'Pong');
      await client.close();

      const listener = await join(name, 'listener', null);
      await listener.waitForConnected();
      listener.ws.send({ action: 'ICECandidate', candidate: 'candidate:bogus', sdpMid: '0' });
      const broken = await listener.ws.next('Error');
      assert.equal(broken.code, 'invalid_message');
      assert.match(broken.message, /ICECandidate refused/);
    });

    test('an offer libdatachannel refuses (no ICE user fragment) is invalid_message, saying why', async () => {
      const name = await room();
      const node = nextNode(name);
      const counted = () => invalidMessagesCounted(node.http);
      const before = await counted();
      const { client } = await WsClient.join(node.ws, name, 'no-ufrag');
      client.send({
        action: 'SessionDescription',
        type: 'offer',
        sdp: 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000\r\n',
      });
      const refused = await client.next('Error');
      assert.equal(refused.code, 'invalid_message');
      assert.match(refused.message, /the offer was refused: .*ICE user fragment/);
      assert.equal(await counted(), before + 1, "counted on the connection's node, wherever the media node is");
      // The room's media is still there for everyone else.
      const teacher = await join(name, 'teacher', 440);
      const student = await join(name, 'student', 660);
      await teacher.waitUntilHears([660], { exactly: true });
      await student.waitUntilHears([440], { exactly: true });
      await client.close();
    });
  });
}
