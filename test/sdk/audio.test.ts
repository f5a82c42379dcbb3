/**
 * The SDK's audio (RoomAudio) with real WebRTC peers (libwebrtc through @roamhq/wrtc) against real
 * servers: each participant is the SDK (AudioParticipant: a RoomClient and a RoomAudio, a ToneSource
 * as getUserMedia's microphone, a ToneDetector on the slots' tracks), and what each one decodes
 * shows whom it hears. Then the pure parts: quality from a stats report, speakers, and the autoplay
 * and output device of the slots' elements.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Playback } from '../../sdk/src/audio/playback.js';
import { readQuality } from '../../sdk/src/audio/quality.js';
import type { AudioStatus, MicrophoneState } from '../../sdk/src/audio/room-audio.js';
import type { AudioElementLike, MediaDevicesLike, StatsReportLike } from '../../sdk/src/audio/rtc.js';
import { fromActiveSpeakers, isSpeaking, noSpeakers, slotOf } from '../../sdk/src/audio/speakers.js';
import { RedisKeys } from '../../src/cluster/redis/redis-keys.js';
import { AudioParticipant, type AudioParticipantOptions, ToneSource } from '../support/audio-participant.js';
import { startNodes, stopNodes, type WigglypuffNode } from '../support/cluster.js';
import { RedisServer } from '../support/redis.js';
import { createRoom, startServer, type TestServer } from '../support/server.js';

const WAIT_MS = 10_000;

async function until(what: string, check: () => boolean | Promise<boolean>, explain = () => '', timeoutMs = WAIT_MS): Promise<void> {
  const started = performance.now();
  while (!(await check())) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; ${explain()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Every status a participant's audio goes through. */
function statuses(participant: AudioParticipant): AudioStatus[] {
  const seen: AudioStatus[] = [participant.audio.status];
  participant.audio.on('status', (status) => seen.push(status));
  return seen;
}

describe('RoomAudio on one node', () => {
  let s: TestServer;
  const everyone: AudioParticipant[] = [];
  let rooms = 0;

  before(async () => {
    s = await startServer({ AUDIO_SLOTS: '2' });
  });
  after(async () => {
    await Promise.all(everyone.map((participant) => participant.close()));
    await s.close();
  });

  async function room(): Promise<string> {
    const name = `sdk-audio-${++rooms}`;
    await createRoom(s.http, name, 'teacher');
    return name;
  }

  async function join(name: string, uuid: string, toneHz: number | null, options: AudioParticipantOptions = {}): Promise<AudioParticipant> {
    const participant = await AudioParticipant.join(s.ws, name, uuid, { toneHz, ...options });
    everyone.push(participant);
    return participant;
  }

  /** A fresh room whose teacher (440 Hz) and student (660 Hz) already hear each other. */
  async function hearingEachOther(): Promise<{ teacher: AudioParticipant; student: AudioParticipant }> {
    const name = await room();
    const teacher = await join(name, 'teacher', 440);
    const student = await join(name, 'student', 660);
    await teacher.waitUntilHears([660], { exactly: true });
    await student.waitUntilHears([440], { exactly: true });
    return { teacher, student };
  }

  test('a teacher and a student hear each other; speakers, slots and quality are told', async () => {
    const name = await room();
    // The ICE servers from GET /network_transversal, as a page gets them.
    const teacher = await join(name, 'teacher', 440, { audio: { iceServers: undefined, qualityIntervalMs: 300 } });
    const student = await join(name, 'student', 660, { audio: { iceServers: undefined } });
    await teacher.waitUntilHears([660], { exactly: true });
    await student.waitUntilHears([440], { exactly: true });
    assert.equal(teacher.audio.status.status, 'connected');
    assert.equal(student.audio.status.status, 'connected');
    const { deviceId, ...microphone } = teacher.audio.microphone;
    assert.deepEqual(microphone, { published: true, enabled: true, localMuted: false, serverMuted: false, error: undefined });
    assert.equal(deviceId, 'FakeAudioDevice', "the device the track says it was opened on (libwebrtc's name)");

    // Who speaks, and on which slot.
    await until(
      'the teacher to see the student speaking on a slot',
      () => isSpeaking(teacher.audio.speakers, 'student') && slotOf(teacher.audio.speakers, 'student') !== undefined,
      () => JSON.stringify(teacher.audio.speakers),
    );
    const slot = slotOf(teacher.audio.speakers, 'student')!;
    assert.ok(teacher.hearsOnSlot(slot).has(660), teacher.describe());
    assert.ok(!teacher.audio.speakers.slots.includes('teacher'), 'nobody is on their own slot');

    // Quality: read every 300 ms while connected, as an event and as state.
    const quality = await new Promise<NonNullable<typeof teacher.audio.quality>>((resolve) => teacher.audio.once('quality', resolve));
    assert.equal(quality.slots.length, 2);
    assert.ok(quality.slots[slot]!.packets > 0, JSON.stringify(quality));
    assert.ok(quality.slots[slot]!.loss === null || quality.slots[slot]!.loss! < 0.2, JSON.stringify(quality));
    assert.ok(quality.microphone!.packets > 0, JSON.stringify(quality));
    assert.notEqual(quality.roundTripMs, null, JSON.stringify(quality));
    assert.ok(quality.roundTripMs! < 200, JSON.stringify(quality));
    assert.ok(['good', 'fair'].includes(quality.level), JSON.stringify(quality));
    assert.equal(teacher.audio.quality, quality);
    assert.deepEqual(teacher.errors, [], teacher.describe());
    assert.deepEqual(student.errors, [], student.describe());
  });

  test("the teacher's mute disables the student's microphone, its unmute enables it again, unless the student muted it here", async () => {
    const name = await room();
    const teacher = await join(name, 'teacher', 440);
    const student = await join(name, 'student', 660);
    await teacher.waitUntilHears([660], { exactly: true });
    const told: MicrophoneState[] = [];
    student.audio.on('microphone', (microphone) => told.push(microphone));
    const track = student.audio.microphoneTrack!;

    await teacher.client.muteUser('student');
    await until(
      'the student to know it is muted',
      () => student.audio.microphone.serverMuted,
      () => JSON.stringify(student.audio.microphone),
    );
    assert.equal(student.audio.microphone.enabled, false);
    assert.equal(track.enabled, false, 'the local track is disabled');
    assert.deepEqual(told.at(-1), student.audio.microphone, 'and the event says so');
    await teacher.waitUntilSilentOf(660, 5000);

    await teacher.client.unmuteUser('student');
    await until('the student to know it is unmuted', () => !student.audio.microphone.serverMuted);
    assert.equal(track.enabled, true);
    await teacher.waitUntilHears([660], { exactly: true });

    // Muted here: the room's unmute does not open it.
    student.audio.setMicrophoneMuted(true);
    assert.equal(track.enabled, false);
    await teacher.waitUntilSilentOf(660, 5000);
    await teacher.client.muteAll();
    await until('MuteAll to reach the student', () => student.audio.microphone.serverMuted);
    await teacher.client.unmuteAll();
    await until('the unmute to reach the student', () => !student.audio.microphone.serverMuted);
    assert.equal(track.enabled, false, 'still muted by the student');
    assert.equal(student.audio.microphone.localMuted, true);
    student.audio.setMicrophoneMuted(false);
    assert.equal(track.enabled, true);
    await teacher.waitUntilHears([660], { exactly: true });
  });

  test('a listen-only student hears the teacher and publishes nothing, without ever asking for the microphone', async () => {
    const name = await room();
    const teacher = await join(name, 'teacher', 440);
    let asked = 0;
    const devices: MediaDevicesLike = {
      getUserMedia: async () => {
        asked++;
        throw new Error('no microphone for a listener');
      },
    };
    let offer = '';
    const student = await join(name, 'listener', null, { audio: { mediaDevices: devices } });
    student.audio.on('negotiation', (event) => {
      if (event.kind === 'offer') offer = event.sdp;
    });
    await student.waitUntilHears([440], { exactly: true });
    await student.reconnectMedia();
    await student.waitForConnected();
    assert.equal(asked, 0);
    assert.equal(student.audio.microphone.published, false);
    assert.equal(student.audio.microphoneTrack, null);
    assert.doesNotMatch(offer, /a=(sendonly|sendrecv)/);
    assert.equal((offer.match(/^m=audio/gm) ?? []).length, 2, 'the two receive slots only');
    await student.waitUntilHears([440], { exactly: true });
    assert.equal(await student.packetsSent(), 0);
    assert.equal((await student.audio.getQuality())!.microphone, null);
    // The teacher hears nobody, and nobody is on its slots.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual([...teacher.hears()], []);
    assert.ok(!teacher.audio.speakers.slots.includes('listener'));
  });

  test("a dropped socket, the student's then the teacher's: the room client resumes and the audio comes back by itself", async () => {
    const { teacher, student } = await hearingEachOther();
    const seen = statuses(student);
    const firstPc = student.pc;

    student.client.simulateDrop();
    await until(
      'the room client to resume',
      () => student.client.status.status === 'connected',
      () => JSON.stringify(student.client.status),
    );
    assert.equal((student.client.status as { via: string }).via, 'resumed');
    await student.waitForConnected();
    assert.notEqual(student.pc, firstPc, 'a new PeerConnection');
    assert.equal(firstPc.connectionState, 'closed');
    student.detector.clear();
    teacher.detector.clear();
    await student.waitUntilHears([440], { exactly: true });
    await teacher.waitUntilHears([660], { exactly: true });
    assert.deepEqual(
      seen.map((status) => status.status),
      ['connected', 'waiting', 'negotiating', 'connected'],
    );
    assert.equal((seen[2] as { reason: string }).reason, 'connected');
    assert.deepEqual(student.errors, [], student.describe());

    // Then the teacher's socket: the same, from the other side of the class.
    const teacherPc = teacher.pc;
    teacher.client.simulateDrop();
    await until(
      'the teacher to resume',
      () => teacher.client.status.status === 'connected' && teacher.pc !== teacherPc,
      () => JSON.stringify(teacher.client.status),
    );
    assert.equal((teacher.client.status as { via: string }).via, 'resumed');
    await teacher.waitForConnected();
    student.detector.clear();
    teacher.detector.clear();
    await student.waitUntilHears([440], { exactly: true });
    await teacher.waitUntilHears([660], { exactly: true });
    assert.deepEqual(teacher.errors, [], teacher.describe());
  });

  test('a failed PeerConnection (the test hook): a new one is offered and the audio comes back by itself', async () => {
    const { teacher, student } = await hearingEachOther();
    const seen = statuses(student);
    const firstPc = student.pc;

    student.audio.simulatePeerFailure();
    await until(
      'a new PeerConnection',
      () => student.pc !== firstPc,
      () => JSON.stringify(student.audio.status),
    );
    await student.waitForConnected();
    assert.equal(firstPc.connectionState, 'closed');
    assert.equal(student.client.status.status, 'connected', 'the room connection was not touched');
    student.detector.clear();
    teacher.detector.clear();
    await student.waitUntilHears([440], { exactly: true });
    await teacher.waitUntilHears([660], { exactly: true });
    assert.deepEqual(
      seen.map((status) => status.status),
      ['connected', 'negotiating', 'connected'],
    );
    assert.equal((seen[1] as { reason: string }).reason, 'ice_failed');
  });

  test('the microphone switches to another input without renegotiating', async () => {
    const name = await room();
    const teacher = await join(name, 'teacher', null);
    const sources = { usb: new ToneSource({ hz: 770 }).start(), headset: new ToneSource({ hz: 990 }).start() };
    const opened: (string | undefined)[] = [];
    const devices: MediaDevicesLike = {
      getUserMedia: async (constraints) => {
        const wanted = ((constraints.audio as { deviceId?: { exact: string } }).deviceId?.exact ?? 'usb') as keyof typeof sources;
        opened.push(wanted);
        return { getAudioTracks: () => [sources[wanted].track] };
      },
      enumerateDevices: async () => [
        { deviceId: 'usb', kind: 'audioinput', label: 'USB microphone' },
        { deviceId: 'headset', kind: 'audioinput', label: 'Headset' },
        { deviceId: 'speakers', kind: 'audiooutput', label: 'Speakers' },
      ],
    };
    try {
      const student = await join(name, 'student', null, { audio: { microphone: true, mediaDevices: devices } });
      await teacher.waitUntilHears([770], { exactly: true });
      const list = await student.audio.listDevices();
      assert.deepEqual(
        list.inputs.map((input) => input.deviceId),
        ['usb', 'headset'],
      );
      assert.deepEqual(list.outputs, [], 'no elements here, so no output to choose');
      const offers = student.offers;
      await student.audio.setMicrophone('headset');
      assert.deepEqual(opened, ['usb', 'headset']);
      assert.equal(student.audio.microphone.deviceId, 'headset');
      await teacher.waitUntilHears([990], { exactly: true });
      assert.equal(student.offers, offers, 'the same PeerConnection');
    } finally {
      sources.usb.stop();
      sources.headset.stop();
    }
  });
});

describe('RoomAudio when the media node dies (three nodes, one Redis)', () => {
  let redis: RedisServer;
  let nodes: WigglypuffNode[];
  const everyone: AudioParticipant[] = [];

  before(async () => {
    redis = await RedisServer.start();
    nodes = await startNodes(3, { REDIS_URL: redis.url, NODE_TIMEOUT_MS: '1000', MEDIA_LEASE_MS: '1000', RECONNECT_GRACE_MS: '1000' });
  });
  after(async () => {
    await Promise.all(everyone.map((participant) => participant.close()));
    await stopNodes(nodes);
    await redis.stop();
  });

  test('MediaReconnect: the audio comes back by itself on a surviving node', async () => {
    const [a] = nodes as [WigglypuffNode];
    await createRoom(a.http, 'sdk-failover', 'teacher');
    const join = async (node: WigglypuffNode, uuid: string, toneHz: number | null) => {
      const participant = await AudioParticipant.join(node.ws, 'sdk-failover', uuid, { toneHz });
      everyone.push(participant);
      return participant;
    };
    // The first offer claims the room's media for a node; the class joins the other two.
    const decoy = await join(a, 'decoy', null);
    await decoy.waitForConnected();
    const claimed = await redis.command('GET', new RedisKeys('wp:').mediaClaim('sdk-failover'));
    const media = nodes.find((node) => claimed.startsWith(`${node.id}-`))!;
    const [first, second] = nodes.filter((node) => node !== media) as [WigglypuffNode, WigglypuffNode];
    const teacher = await join(first, 'teacher', 440);
    const student = await join(second, 'student', 660);
    await teacher.waitUntilHears([660], { exactly: true });
    await student.waitUntilHears([440], { exactly: true });
    const seen = statuses(student);

    await media.kill('SIGKILL');
    await Promise.all([teacher.waitUntilSilentOf(660, 5000), student.waitUntilSilentOf(440, 5000)]);
    await Promise.all([
      teacher.waitUntilHears([660], { exactly: true, timeoutMs: 10_000 }),
      student.waitUntilHears([440], { exactly: true, timeoutMs: 10_000 }),
    ]);
    assert.equal(student.onMediaReconnect, 1);
    assert.equal(student.client.status.status, 'connected', 'the room connection itself never dropped');
    assert.ok(
      seen.some((status) => status.status === 'negotiating' && status.reason === 'media_reconnect'),
      JSON.stringify(seen),
    );
    assert.equal(student.audio.status.status, 'connected');
  });
});

describe('RoomAudio parts', () => {
  test('quality from a stats report: loss over the interval, jitter, round trips', () => {
    const report = (entries: Record<string, unknown>[]): StatsReportLike => ({ forEach: (callback) => entries.forEach(callback) });
    const layout = { slotMids: ['1', '2'], slotTracks: ['t1', 't2'], micMid: '0', listenOnly: false };
    const first = readQuality(
      report([
        { id: 'in1', type: 'inbound-rtp', kind: 'audio', mid: '1', packetsReceived: 100, packetsLost: 0, jitter: 0.004 },
        { id: 'out', type: 'outbound-rtp', kind: 'audio', mid: '0', packetsSent: 200 },
        { id: 'rin', type: 'remote-inbound-rtp', kind: 'audio', packetsLost: 2, jitter: 0.002, roundTripTime: 0.05 },
        { id: 'tr', type: 'transport', selectedCandidatePairId: 'cp' },
        { id: 'cp', type: 'candidate-pair', currentRoundTripTime: 0.04 },
      ]),
      layout,
      new Map(),
      1000,
    );
    assert.deepEqual(first.quality.slots, [{ loss: 0, jitterMs: 4, packets: 100 }, null]);
    assert.deepEqual(first.quality.microphone, { loss: 0.01, jitterMs: 2, roundTripMs: 50, packets: 200 });
    assert.equal(first.quality.roundTripMs, 40);
    assert.equal(first.quality.level, 'good');
    // 90 more received and 10 more lost on slot 1 (by trackIdentifier this time): 10 % over the interval.
    const second = readQuality(
      report([{ id: 'in1', type: 'inbound-rtp', kind: 'audio', trackIdentifier: 't1', packetsReceived: 190, packetsLost: 10 }]),
      layout,
      first.counters,
      3000,
    );
    assert.deepEqual(second.quality.slots[0], { loss: 0.1, jitterMs: null, packets: 190 });
    assert.equal(second.quality.level, 'poor');
    assert.equal(readQuality(report([]), { ...layout, listenOnly: true }, new Map(), 0).quality.level, 'unknown');
  });

  test('speakers from ActiveSpeakers', () => {
    const speakers = fromActiveSpeakers({ uuids: ['teacher', 'ali'], slots: ['teacher', null, 'ali'] });
    assert.deepEqual(speakers, { speaking: ['teacher', 'ali'], slots: ['teacher', null, 'ali'] });
    assert.equal(slotOf(speakers, 'ali'), 2);
    assert.equal(slotOf(speakers, 'bilal'), undefined);
    assert.equal(isSpeaking(speakers, 'teacher'), true);
    assert.deepEqual(fromActiveSpeakers({ uuids: 'nope' }), { speaking: [], slots: [] });
    assert.deepEqual(noSpeakers(2), { speaking: [], slots: [null, null] });
  });

  test('autoplay: elements made in the gesture, a refusal turns canPlaybackAudio false until startAudio(); the output device', async () => {
    let policy: 'refuse' | 'allow' = 'refuse';
    const sinks: string[] = [];
    const made: (AudioElementLike & { plays: number })[] = [];
    const element = (): AudioElementLike & { plays: number } => {
      const el = {
        srcObject: null as unknown,
        autoplay: false,
        plays: 0,
        play() {
          el.plays++;
          if (policy === 'refuse') return Promise.reject(Object.assign(new Error('not allowed'), { name: 'NotAllowedError' }));
          return Promise.resolve();
        },
        pause() {},
        async setSinkId(id: string) {
          sinks.push(id);
        },
      };
      made.push(el);
      return el;
    };
    const changes: boolean[] = [];
    const playback = new Playback({
      createElement: element,
      createStream: (track) => ({ stream: [track] }),
      onChange: (allowed) => changes.push(allowed),
      onError: (error) => assert.fail(String(error)),
    });
    playback.prepare(2);
    assert.equal(made.length, 2, 'made at once, in the gesture');
    assert.ok(
      made.every((el) => el.autoplay && el.plays === 1),
      'and started in it',
    );
    const track = { id: 't', kind: 'audio', enabled: true, stop() {} };
    playback.attach(0, track);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(made[0]!.srcObject, { stream: [track] });
    assert.equal(playback.canPlaybackAudio, false);
    assert.deepEqual(changes, [false]);
    policy = 'allow';
    assert.equal(await playback.startAudio(), true);
    assert.deepEqual(changes, [false, true]);
    assert.equal(playback.canChooseOutput, true);
    await playback.setOutput('headphones');
    playback.attach(2, track); // a third slot made later gets the output too
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(sinks, ['headphones', 'headphones', 'headphones']);
    playback.dispose();
    assert.ok(made.every((el) => el.srcObject === null));
  });
});
