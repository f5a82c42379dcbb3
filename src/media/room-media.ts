import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { ConnectionRef } from '../protocol/connection.js';
import type { MediaMessage, MemberConnectionQuality } from '../protocol/server-messages.js';
import { memberQuality } from './link-quality.js';
import { type MediaNetwork, MediaPeer } from './media-peer.js';
import type { MediaPorts } from './media-ports.js';
import { planAnswer } from './offer.js';
import { audioLevelOf, headerOf, SlotStream } from './rtp.js';
import { assignSlots, isSpeaking, LevelMeter, selectVoices } from './speaker-selection.js';

/** Who leads the room and who may not be heard: told by the room layer, enforced here. */
export interface MediaRoles {
  master: string;
  muted: Iterable<string>;
}

interface Route {
  peer: MediaPeer;
  slot: number;
  stream: SlotStream;
}

interface Participant {
  address: ConnectionRef;
  peer: MediaPeer;
  audioLevelId: number | undefined;
  publishes: boolean;
  meter: LevelMeter;
  streams: SlotStream[];
  slotOwners: (string | null)[];
  /** Where this participant's voice goes now: recomputed when the selection changes. */
  routes: Route[];
  notice: { sent: string; at: number };
  /** The last ConnectionQuality sent to this listener, as sent. */
  qualitySent: string;
}

export interface RoomMediaOptions {
  room: string;
  slots: number;
  dtx: boolean;
  network: MediaNetwork;
  ports: MediaPorts;
  roles: MediaRoles;
  /** Hands a message to a participant's connection, wherever it is. */
  send(to: ConnectionRef, message: MediaMessage): void;
  /** Told once, when the room's media closed (or was handed over). */
  closed(): void;
  log: Logger;
}

const SELECT_EVERY_MS = 100;
const NOTICE_EVERY_MS = 500;
/** How often each participant's link is read, and ConnectionQuality sent when it changed. */
export const QUALITY_EVERY_MS = 5000;
/** A listener's receiver report (every ~5 s, randomized by half) counts for this long. */
const REPORT_FRESH_MS = 12_000;

/**
 * One room's SFU on its media node: a peer per participant, and the forwarding of each voice to the
 * listeners whose slots it holds. It never decodes audio; mute is enforced by dropping packets here.
 * It never reads the room: the room layer tells it the roles (setRoles, mute) and the departures.
 */
export class RoomMedia {
  private readonly participants = new Map<string, Participant>();
  private muted: Set<string>;
  private master: string;
  private selection: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private qualityAt = 0;

  constructor(private readonly options: RoomMediaOptions) {
    this.master = options.roles.master;
    this.muted = new Set(options.roles.muted);
  }

  get name(): string {
    return this.options.room;
  }

  get size(): number {
    return this.participants.size;
  }

  /** The room's master and mutes, all of them. Applies to the very next packet. */
  setRoles({ master, muted }: MediaRoles): void {
    this.master = master;
    this.muted = new Set(muted);
    this.reselect();
  }

  /** Some participants' mutes started or were lifted. Applies to the very next packet. */
  mute(change: { muted: readonly string[]; unmuted: readonly string[] }): void {
    for (const uuid of change.muted) this.muted.add(uuid);
    for (const uuid of change.unmuted) this.muted.delete(uuid);
    this.reselect();
  }

  /**
   * A participant's (new) offer: any earlier peer of the same uuid is replaced. Returns the answer;
   * an offer that cannot be answered throws AppError `invalid_message`.
   */
  offer(address: ConnectionRef, sdp: string): string {
    let plan: ReturnType<typeof planAnswer>;
    try {
      plan = planAnswer(sdp, { slots: this.options.slots, dtx: this.options.dtx });
    } catch (error) {
      this.closeIfEmpty();
      throw error;
    }
    const ssrcs = plan.slots.map(() => randomInt(1, 0xffffffff));
    const port = this.options.ports.take();
    const participant: Participant = {
      address,
      peer: undefined as unknown as MediaPeer, // set just below: its handlers need the participant
      audioLevelId: plan.uplink?.audioLevelId,
      publishes: plan.uplink !== undefined,
      meter: new LevelMeter(),
      streams: plan.slots.map((slot, i) => new SlotStream(ssrcs[i]!, slot.opus.payloadType)),
      slotOwners: plan.slots.map(() => null),
      routes: [],
      notice: { sent: '', at: 0 },
      qualitySent: '',
    };
    let answer: string;
    try {
      participant.peer = new MediaPeer(
        `${this.options.room}/${address.uuid}`,
        plan,
        ssrcs,
        port,
        this.options.network,
        {
          candidate: (candidate, sdpMid, sdpMLineIndex) =>
            this.options.send(address, { action: 'ICECandidate', candidate, sdpMid, sdpMLineIndex }),
          rtp: (packet) => this.forward(participant, packet),
          closed: () => this.peerFailed(participant),
          firstSlotSkipped: () => participant.streams[0]?.skipped ?? 0,
        },
        this.options.log,
      );
      answer = participant.peer.answer(sdp);
    } catch (error) {
      participant.peer?.close();
      this.options.ports.release(port);
      this.closeIfEmpty();
      throw error;
    }
    const previous = this.participants.get(address.uuid);
    if (previous) this.closePeer(previous);
    this.participants.set(address.uuid, participant);
    this.reselect();
    if (!this.timer) {
      this.qualityAt = performance.now();
      this.timer = setInterval(() => this.tick(), SELECT_EVERY_MS);
    }
    return answer;
  }

  /** The participants' uuids. */
  uuids(): string[] {
    return [...this.participants.keys()];
  }

  /** Whether this connection's peer is here (its offer was answered). */
  has(address: ConnectionRef): boolean {
    return this.participants.get(address.uuid)?.address.conn === address.conn;
  }

  /** A trickled candidate for a connection's peer (AppError `invalid_message` if it cannot be read). */
  candidate(address: ConnectionRef, candidate: string, mid: string): void {
    const participant = this.participants.get(address.uuid);
    if (participant?.address.conn === address.conn) participant.peer.addRemoteCandidate(candidate, mid);
  }

  /** The participant left the room (or was kicked): their media closes and their client is told MediaClosed. */
  memberLeft(uuid: string): void {
    const participant = this.participants.get(uuid);
    if (!participant) return;
    this.closePeer(participant);
    this.options.send(participant.address, { action: 'MediaClosed' });
    this.closeIfEmpty();
  }

  /** A connection ended: its peer closes, untold (there is no one to tell), if that connection still holds it. */
  connectionClosed(address: ConnectionRef): void {
    const participant = this.participants.get(address.uuid);
    if (participant?.address.conn !== address.conn) return;
    this.closePeer(participant);
    this.closeIfEmpty();
  }

  /** The room's media ends (the room was deleted): every client is told MediaClosed. */
  close(): void {
    for (const participant of [...this.participants.values()]) {
      this.closePeer(participant);
      this.options.send(participant.address, { action: 'MediaClosed' });
    }
    this.end();
  }

  /**
   * The room's media moves to another node (this one stops, or lost the room's claim): every peer
   * closes, untold; each client's own node tells it MediaReconnect or Reconnect.
   */
  handOver(): void {
    for (const participant of [...this.participants.values()]) this.closePeer(participant);
    this.end();
  }

  /** Ends the room's media here if nobody is in it (a room is opened for an offer that may fail). */
  closeIfEmpty(): void {
    if (this.participants.size === 0) this.end();
  }

  private end(): void {
    this.stopTimer();
    this.selection = [];
    this.options.closed();
  }

  /** Takes a participant out and closes their peer; the callers decide who is told. */
  private closePeer(participant: Participant): void {
    if (this.participants.get(participant.address.uuid) !== participant) return;
    this.participants.delete(participant.address.uuid);
    participant.peer.close();
    this.options.ports.release(participant.peer.port);
    this.reselect();
  }

  /** ICE or DTLS failed: the client is told MediaClosed and may offer again. */
  private peerFailed(participant: Participant): void {
    if (this.participants.get(participant.address.uuid) !== participant) return;
    this.closePeer(participant);
    this.options.send(participant.address, { action: 'MediaClosed' });
    this.closeIfEmpty();
  }

  private forward(from: Participant, packet: Buffer): void {
    const now = performance.now();
    from.meter.update(from.audioLevelId === undefined ? undefined : audioLevelOf(packet, from.audioLevelId), now);
    if (from.routes.length === 0 || this.muted.has(from.address.uuid)) return;
    const header = headerOf(packet);
    for (const route of from.routes) {
      route.stream.stamp(packet, header, now);
      route.peer.send(route.slot, packet);
    }
  }

  private tick(): void {
    this.reselect();
    const now = performance.now();
    if (this.participants.size > 0 && now - this.qualityAt >= QUALITY_EVERY_MS) {
      this.qualityAt = now;
      this.reportQuality();
    }
  }

  /**
   * Reads every participant's link over the interval just ended and sends ConnectionQuality to each
   * listener whose last one differs (a newcomer gets it at the next interval): the master every
   * member's, a student their own.
   */
  private reportQuality(): void {
    const now = performance.now();
    const members: Record<string, MemberConnectionQuality> = {};
    for (const uuid of [...this.participants.keys()].sort()) {
      const { peer, publishes, streams } = this.participants.get(uuid)!;
      const downlink = peer.downlinkReading(now, REPORT_FRESH_MS);
      members[uuid] = memberQuality({
        publishing: publishes,
        uplinkLoss: peer.sampleUplinkLoss(),
        downlinkLoss: downlink?.loss ?? null,
        roundTripMs: downlink?.roundTripMs ?? null,
      });
      // For the next reading's round trip: the listener's reports answer the last sender report.
      const first = streams[0];
      const timestamp = first?.timestampAt(now);
      if (first && timestamp !== undefined) peer.sendFirstSlotReport(timestamp, first.packets, first.octets);
    }
    // The master's class list shows everyone; a student is told only of their own link, so a room of
    // N costs N small messages an interval, not N messages of N members.
    for (const [uuid, listener] of this.participants) {
      const own = members[uuid];
      const message = {
        action: 'ConnectionQuality' as const,
        members: uuid === this.master || own === undefined ? members : { [uuid]: own },
      };
      const text = JSON.stringify(message);
      if (listener.qualitySent === text) continue;
      listener.qualitySent = text;
      this.options.send(listener.address, message);
    }
  }

  /** Chooses who is heard, puts them on each listener's slots, and tells listeners what changed. */
  private reselect(): void {
    // A failed peer closes itself (peerFailed), which selects again without it.
    if ([...this.participants.values()].some((participant) => !participant.peer.healthy())) {
      for (const participant of [...this.participants.values()]) participant.peer.checkHealth();
      return;
    }
    if (this.participants.size === 0) {
      this.stopTimer();
      this.selection = [];
      return;
    }
    const now = performance.now();
    const voices = [...this.participants.values()]
      .filter((p) => p.publishes && !this.muted.has(p.address.uuid))
      .map((p) => ({ uuid: p.address.uuid, level: p.meter.current(now) }));
    this.selection = selectVoices(voices, this.master, this.options.slots + 1, this.selection);

    let changed = false;
    for (const listener of this.participants.values()) {
      const wanted = this.selection.filter((uuid) => uuid !== listener.address.uuid).slice(0, listener.streams.length);
      const owners = assignSlots(listener.slotOwners, wanted);
      if (owners.some((owner, i) => owner !== listener.slotOwners[i])) {
        listener.slotOwners = owners;
        changed = true;
      }
    }
    if (changed) this.reroute();

    const speaking = voices
      .filter((voice) => isSpeaking(voice.level))
      .sort((a, b) => a.level - b.level)
      .map((voice) => voice.uuid);
    for (const listener of this.participants.values()) this.notice(listener, speaking, now);
  }

  private reroute(): void {
    for (const participant of this.participants.values()) participant.routes = [];
    for (const listener of this.participants.values()) {
      listener.slotOwners.forEach((owner, slot) => {
        const speaker = owner === null ? undefined : this.participants.get(owner);
        speaker?.routes.push({ peer: listener.peer, slot, stream: listener.streams[slot]! });
      });
    }
  }

  /** ActiveSpeakers, when it changed, at most twice a second per listener. */
  private notice(listener: Participant, speaking: string[], now: number): void {
    const message = { action: 'ActiveSpeakers' as const, uuids: speaking, slots: listener.slotOwners };
    const text = JSON.stringify(message);
    if (text === listener.notice.sent || now - listener.notice.at < NOTICE_EVERY_MS) return;
    listener.notice = { sent: text, at: now };
    this.options.send(listener.address, message);
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
