import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { MediaMessage } from './media-messages.js';
import { type MediaNetwork, MediaPeer } from './media-peer.js';
import { planAnswer } from './offer.js';
import { audioLevelOf, headerOf, SlotStream } from './rtp.js';
import { assignSlots, isSpeaking, LevelMeter, selectVoices } from './speaker-selection.js';

/** Where a participant's signaling answers go: its connection, on whatever node holds it. */
export interface MediaAddress {
  uuid: string;
  conn: string;
  node: string;
}

interface Route {
  peer: MediaPeer;
  slot: number;
  stream: SlotStream;
}

interface Participant {
  address: MediaAddress;
  peer: MediaPeer;
  audioLevelId: number | undefined;
  publishes: boolean;
  meter: LevelMeter;
  streams: SlotStream[];
  slotOwners: (string | null)[];
  /** Where this participant's voice goes now: recomputed when the selection changes. */
  routes: Route[];
  notice: { sent: string; at: number };
}

export interface RoomMediaOptions {
  room: string;
  slots: number;
  dtx: boolean;
  network: MediaNetwork;
  send(to: MediaAddress, message: MediaMessage): void;
  log: Logger;
}

const SELECT_EVERY_MS = 100;
const NOTICE_EVERY_MS = 500;

/**
 * One room's SFU on its media node: a peer per participant, and the forwarding of each voice to the
 * listeners whose slots it holds. It never decodes audio; mute is enforced by dropping packets here.
 */
export class RoomMedia {
  private readonly participants = new Map<string, Participant>();
  private muted = new Set<string>();
  private master = '';
  private selection: string[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: RoomMediaOptions) {}

  get size(): number {
    return this.participants.size;
  }

  /** The room's mute state and master, from the room logic. Applies to the very next packet. */
  setRoles(master: string, muted: Iterable<string>): void {
    this.master = master;
    this.muted = new Set(muted);
    this.reselect();
  }

  /** A participant's (new) offer: any earlier peer of the same uuid is replaced. Returns the answer. */
  offer(address: MediaAddress, sdp: string): string {
    const plan = planAnswer(sdp, { slots: this.options.slots, dtx: this.options.dtx });
    this.remove(address.uuid, undefined, false);
    const ssrcs = plan.slots.map(() => randomInt(1, 0xffffffff));
    const participant: Participant = {
      address,
      peer: undefined as unknown as MediaPeer,
      audioLevelId: plan.uplink?.audioLevelId,
      publishes: plan.uplink !== undefined,
      meter: new LevelMeter(),
      streams: plan.slots.map((slot, i) => new SlotStream(ssrcs[i]!, slot.opus.payloadType)),
      slotOwners: plan.slots.map(() => null),
      routes: [],
      notice: { sent: '', at: 0 },
    };
    participant.peer = new MediaPeer(
      `${this.options.room}/${address.uuid}`,
      plan,
      ssrcs,
      this.options.network,
      {
        candidate: (candidate, sdpMid, sdpMLineIndex) =>
          this.options.send(address, { action: 'ICECandidate', candidate, sdpMid, sdpMLineIndex }),
        rtp: (packet) => this.forward(participant, packet),
        closed: () => this.closedByPeer(participant),
      },
      this.options.log,
    );
    const answer = participant.peer.answer(sdp);
    this.participants.set(address.uuid, participant);
    this.reselect();
    this.timer ??= setInterval(() => this.reselect(), SELECT_EVERY_MS);
    return answer;
  }

  /** Whether this connection's peer is here (its offer was answered). */
  has(address: MediaAddress): boolean {
    return this.participants.get(address.uuid)?.address.conn === address.conn;
  }

  candidate(address: MediaAddress, candidate: string, mid: string): void {
    const participant = this.participants.get(address.uuid);
    if (participant?.address.conn === address.conn) participant.peer.addRemoteCandidate(candidate, mid);
  }

  /**
   * Closes a participant's media (left, kicked, lost its socket). With `conn`, only if that
   * connection still holds it. `notify`: tell the client with MediaClosed.
   */
  remove(uuid: string, conn?: string, notify = true): void {
    const participant = this.participants.get(uuid);
    if (!participant || (conn !== undefined && participant.address.conn !== conn)) return;
    this.participants.delete(uuid);
    participant.peer.close();
    if (notify) this.options.send(participant.address, { action: 'MediaClosed' });
    this.reselect();
  }

  close(notify: boolean): void {
    for (const uuid of [...this.participants.keys()]) this.remove(uuid, undefined, notify);
    this.stopTimer();
  }

  private closedByPeer(participant: Participant): void {
    if (this.participants.get(participant.address.uuid) !== participant) return;
    this.participants.delete(participant.address.uuid);
    this.options.send(participant.address, { action: 'MediaClosed' });
    this.reselect();
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

  /** Chooses who is heard, puts them on each listener's slots, and tells listeners what changed. */
  private reselect(): void {
    // A failed peer closes itself (closedByPeer), which selects again without it.
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
