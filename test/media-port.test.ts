import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, describe, test } from 'node:test';
import { AudioParticipant } from './support/audio-participant.js';
import { startNode, type WigglypuffNode } from './support/cluster.js';
import { runServerExpectingFailure } from './support/process.js';
import { createRoom } from './support/server.js';
import { WsClient } from './support/ws-client.js';

/**
 * The media port belongs to the server from start to stop. A socket that took it while the SFU had
 * no peer used to abort the whole process at the next offer (libdatachannel's gathering throws
 * from native code); a port that cannot be bound must stop the start instead.
 */

/** Binds `port` on loopback from this process; resolves to the socket, or null when the port is taken. */
function tryBind(port: number): Promise<Socket | null> {
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    socket.once('error', () => {
      socket.close();
      resolve(null);
    });
    socket.bind(port, '127.0.0.1', () => resolve(socket));
  });
}

async function freeUdpPort(): Promise<number> {
  const socket = (await tryBind(0))!;
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** The server's media port, read from the host candidate in an answer. */
function portOf(answer: string): number {
  const match = / 127\.0\.0\.1 (\d+) typ host/.exec(answer);
  assert.ok(match, `no host candidate in the answer:\n${answer}`);
  return Number(match[1]);
}

async function waitForNoPeers(node: WigglypuffNode, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const metrics = await fetch(`${node.http}/metrics`).then((response) => response.text());
    if (/^wigglypuff_media_participants 0$/m.test(metrics)) return;
    if (Date.now() > deadline) throw new Error(`the SFU still has peers after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('the media port', () => {
  const participants: AudioParticipant[] = [];
  const nodes: WigglypuffNode[] = [];
  after(async () => {
    await Promise.all(participants.map((participant) => participant.close()));
    await Promise.all(nodes.map((node) => node.stop()));
  });

  async function join(node: WigglypuffNode, room: string, uuid: string, toneHz: number): Promise<AudioParticipant> {
    const participant = await AudioParticipant.join(node.ws, room, uuid, { toneHz });
    participants.push(participant);
    return participant;
  }

  /** Takes the port from another socket while the server has no peer, then offers: the server stays up and its audio works. */
  async function offerWhileSomeoneTriesThePort(node: WigglypuffNode, port: number, room: string): Promise<void> {
    const intruder = await tryBind(port);
    assert.equal(intruder, null, `another socket could bind the media port ${port} while the server had no peer`);
    await createRoom(node.http, room, 'teacher');
    const teacher = await join(node, room, 'teacher', 440);
    const student = await join(node, room, 'student', 660);
    await teacher.waitUntilHears([660], { exactly: true });
    await student.waitUntilHears([440], { exactly: true });
    assert.equal(node.process.child.exitCode, null, 'the server is up');
  }

  test('MEDIA_PORT is held before the first peer and after the last: no other socket can take it', async () => {
    const port = await freeUdpPort();
    const node = await startNode('held', { MEDIA_PORT: String(port) });
    nodes.push(node);
    await offerWhileSomeoneTriesThePort(node, port, 'first');
    await Promise.all(participants.splice(0).map((participant) => participant.close()));
    await waitForNoPeers(node);
    await offerWhileSomeoneTriesThePort(node, port, 'second');
  });

  test("MEDIA_PORT=0: the port picked at start stays the server's after the last peer left", async () => {
    const node = await startNode('picked', { MEDIA_PORT: '0' });
    nodes.push(node);
    await createRoom(node.http, 'warm-up', 'teacher');
    const first = await join(node, 'warm-up', 'teacher', 440);
    await first.waitForConnected();
    const port = portOf(first.lastAnswer!);
    await first.close();
    await waitForNoPeers(node);
    await offerWhileSomeoneTriesThePort(node, port, 'after');
    assert.equal(portOf(participants.at(-1)!.lastAnswer!), port, "the same port, for the server's life");
  });

  test('a media port that cannot be bound stops the start with a clear message', async () => {
    const holder = (await tryBind(0))!;
    const { port } = holder.address();
    try {
      const { code, output } = await runServerExpectingFailure({ MEDIA_PORT: String(port) });
      assert.equal(code, 1);
      assert.match(output, new RegExp(`the media port 127\\.0\\.0\\.1:${port} \\(UDP\\) cannot be bound`));
      assert.doesNotMatch(output, /\n\s+at /, 'no stack trace');
    } finally {
      holder.close();
    }
  });

  test("a refused offer is the client's mistake: invalid_message, counted, never an error log", async () => {
    const node = await startNode('refusing', { LOG_LEVEL: 'info' });
    nodes.push(node);
    await createRoom(node.http, 'refusals', 'teacher');
    const { client } = await WsClient.join(node.ws, 'refusals', 'student');
    const offer = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000\r\n';
    for (let i = 0; i < 3; i++) {
      client.send({ action: 'SessionDescription', type: 'offer', sdp: offer });
      assert.equal((await client.next('Error')).code, 'invalid_message');
    }
    await client.close();
    const text = await fetch(`${node.http}/metrics`).then((response) => response.text());
    assert.match(text, /^wigglypuff_errors_total\{code="invalid_message",transport="websocket"\} 3$/m);
    const errors = node.process.output.filter((line) => /"level":(50|60)/.test(line));
    assert.deepEqual(errors, [], "no error log for a client's bad offer");
  });
});
