/*
 * One client of the cluster fan-out benchmark: a plain `ws` WebSocket speaking Wigglypuff's or
 * Socket.IO's protocol (protocols.ts), a room's master or one of its students. It joins (until its
 * RoomState; a master then sends its setup, Wigglypuff's MoveSura), checks what it receives
 * (Wigglypuff's seq without gaps or repeats; ClickAyas in order, each once) and hands ClickAyas and
 * Acks of ClickAya to its room's accounting (the setup's MoveSura and its Ack are outside it).
 *
 * Not the SDK (sdk/), on purpose: the bench compares Wigglypuff with Socket.IO at the same client
 * cost, so both sides are the same thin `ws` client; the SDK's state store, request ids, keep-alive
 * and reconnect policy would add client work, and request ids server work, that the Socket.IO side
 * does not have.
 */
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import type { ProblemLog } from './problem-log.js';
import { type ClientCodec, codecFor, type Incoming } from './protocols.js';
import type { RoomLoad } from './room-load.js';
import { ayaOnWire, indexOfAya, MAX_AYA, type ServerKind } from './wire.js';

const CLOSE_TIMEOUT_MS = 2_000;

export class ClientConnection {
  private ws: WebSocket | undefined;
  private readonly codec: ClientCodec;
  private joined = false;
  private closing = false;
  private lastSeq = 0;
  /** Running number of the last ClickAya received. */
  private lastNumber = 0;
  newUsersSeen = 0;

  constructor(
    server: ServerKind,
    readonly uuid: string,
    readonly isMaster: boolean,
    readonly room: RoomLoad,
    private readonly problems: ProblemLog,
  ) {
    this.codec = codecFor(server, room.plan.name, uuid);
  }

  /** Opens the socket to `ws` (a node's WebSocket base); resolves at its RoomState with the time it took (ms). */
  join(ws: string, timeoutMs: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const opened = performance.now();
      const socket = new WebSocket(this.codec.url(ws), { perMessageDeflate: false });
      this.ws = socket;
      const reply = (text: string): void => socket.send(text);
      const fail = (why: string): void => {
        clearTimeout(timer);
        socket.terminate();
        reject(new Error(`${this.uuid} (room ${this.room.plan.name}, ${ws}): ${why}`));
      };
      const timer = setTimeout(() => fail(`no RoomState in ${timeoutMs} ms`), timeoutMs);
      socket.on('message', (data: Buffer) => {
        const now = performance.now();
        const event = this.codec.read(data.toString(), reply);
        if (!event) return;
        if (this.joined) {
          this.receive(event, now);
        } else if (event.kind === 'RoomState') {
          this.joined = true;
          this.lastSeq = event.seq ?? 0;
          clearTimeout(timer);
          // Before any load: the master's setup (Wigglypuff: MoveSura), on the same socket, so it precedes every ClickAya.
          const setup = this.isMaster ? this.codec.masterSetup() : undefined;
          if (setup !== undefined) socket.send(setup);
          resolve(now - opened);
        } else {
          fail(`expected RoomState first, got ${data.toString().slice(0, 200)}`);
        }
      });
      socket.on('error', (error) => {
        if (!this.joined) fail(error.message);
        else if (!this.closing) this.problems.note('socketErrors', `${this.uuid}: socket error ${error.message}`);
      });
      socket.on('close', (code) => {
        if (!this.joined) fail(`closed (${code}) before RoomState`);
        else if (!this.closing) this.problems.note('unexpectedCloses', `${this.uuid}: closed by the server (${code})`);
      });
    });
  }

  private receive(event: Incoming, now: number): void {
    if (event.seq !== undefined) this.checkSeq(event.seq);
    switch (event.kind) {
      case 'ClickAya':
        this.receiveClickAya(event.aya, now);
        return;
      case 'MoveSura':
        // The master's setup before the load, seen by students who joined before it: outside the accounting (its seq is checked).
        return;
      case 'Ack':
        // The master's own setup MoveSura: outside the accounting too.
        if (this.isMaster && event.of === 'MoveSura') return;
        if (!this.isMaster || event.of !== 'ClickAya' || !this.room.acked(now)) {
          this.problems.note('unexpectedFrames', `${this.uuid}: unexpected Ack of ${String(event.of)}`);
        }
        return;
      case 'NewUser':
        this.newUsersSeen++;
        return;
      case 'Error':
        this.problems.note('errorFrames', `${this.uuid}: Error ${event.text}`);
        return;
      case 'RoomState':
        this.problems.note('unexpectedFrames', `${this.uuid}: a second RoomState`);
        return;
      default:
        this.problems.note('unexpectedFrames', `${this.uuid}: unexpected ${event.text}`);
    }
  }

  private checkSeq(seq: number): void {
    if (seq === this.lastSeq + 1) {
      this.lastSeq = seq;
    } else if (seq <= this.lastSeq) {
      this.problems.note('seqRepeats', `${this.uuid}: seq ${seq} after ${this.lastSeq}`);
    } else {
      this.problems.note('seqGaps', `${this.uuid}: seq jumped from ${this.lastSeq} to ${seq}`, seq - this.lastSeq - 1);
      this.lastSeq = seq;
    }
  }

  private receiveClickAya(aya: unknown, now: number): void {
    if (this.isMaster || typeof aya !== 'number' || !Number.isInteger(aya) || aya < 1 || aya > MAX_AYA) {
      this.problems.note('unknownAya', `${this.uuid}: unexpected ClickAya ${String(aya)}`);
      return;
    }
    const number = indexOfAya(aya, this.lastNumber);
    if (number === this.lastNumber) {
      this.problems.note('duplicates', `${this.uuid}: ClickAya ${number} twice`);
      return;
    }
    if (number > this.room.sent) {
      // Not sent yet: an older aya arriving after a newer one (indexOfAya reads it as a lap ahead).
      this.problems.note('outOfOrder', `${this.uuid}: aya ${aya} after ClickAya ${this.lastNumber}`);
      return;
    }
    this.lastNumber = number;
    this.room.received(number, now);
  }

  /** Masters: sends ClickAya number `number` (its aya cycles through 1..286). */
  sendClickAya(number: number): void {
    this.ws!.send(this.codec.clickAya(ayaOnWire(number)));
  }

  close(): Promise<void> {
    const ws = this.ws;
    this.closing = true;
    if (!ws || ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, CLOSE_TIMEOUT_MS);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000);
    });
  }
}
