import type { Logger } from 'pino';
import type { RoomCommand } from '../protocol/client-messages.js';
import { AppError } from '../protocol/errors.js';
import { RESERVED_ROOM_NAMES } from '../protocol/names.js';
import type { RoomView } from '../protocol/server-messages.js';
import { KeyedQueue } from './keyed-queue.js';
import { requireRoomFor } from './permissions.js';
import { mutesChanged, newRoom, type Room, viewOf } from './room.js';
import { isBroadcast, type Reply, type RoomEvent } from './room-event.js';
import type { Outcome } from './room-logic.js';
import * as logic from './room-logic.js';
import type { RoomStore } from './room-store.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const MAX_ATTEMPTS = 20;

/**
 * The room use cases, shared by the HTTP routes and the WebSocket sessions: load the room,
 * let the room logic decide, commit the outcome through the store (retrying when another node
 * wrote first). Delivery of the resulting events is the store's and the transport's business.
 */
export class RoomService {
  private readonly queue = new KeyedQueue();

  constructor(
    private readonly store: RoomStore,
    private readonly log: Logger,
    private readonly limits: { maxRooms: number; maxUsersPerRoom: number } = { maxRooms: Infinity, maxUsersPerRoom: Infinity },
  ) {}

  async create(name: string, masterUuid: string): Promise<void> {
    if (RESERVED_ROOM_NAMES.has(name)) {
      throw new AppError('invalid_request', `"${name}" is a reserved name`);
    }
    if ((await this.store.count()) >= this.limits.maxRooms) {
      throw new AppError('too_many_rooms', `the server holds its maximum of ${this.limits.maxRooms} rooms`);
    }
    if (!(await this.store.create(newRoom(name, masterUuid, Date.now())))) {
      throw new AppError('room_exists', `room ${name} already exists`);
    }
    this.log.info({ room: name, master: masterUuid }, 'room created');
  }

  async list(): Promise<string[]> {
    return (await this.store.list()).sort();
  }

  async get(name: string): Promise<RoomView> {
    return viewOf(await this.load(name));
  }

  /**
   * One page of the room names, sorted: at most `limit` of those after `after` (from the first
   * without it). `more`: whether names follow the page; `total`: every room.
   */
  async namesPage(limit: number, after?: string): Promise<{ names: string[]; more: boolean; total: number }> {
    const all = await this.list();
    const from = after === undefined ? 0 : all.findIndex((name) => name > after);
    const rest = from < 0 ? [] : all.slice(from);
    return { names: rest.slice(0, limit), more: rest.length > limit, total: all.length };
  }

  /** The room as stored, or null when there is none. */
  find(name: string): Promise<Room | null> {
    return this.store.load(name);
  }

  /** Refuses a join before the WebSocket upgrade: the room must exist and have room for a newcomer. */
  async checkJoin(name: string, uuid: string): Promise<void> {
    requireRoomFor(await this.load(name), uuid, this.limits.maxUsersPerRoom);
  }

  async delete(name: string): Promise<void> {
    await this.apply(name, logic.remove);
    this.log.info({ room: name }, 'room deleted');
  }

  async kick(name: string, uuid: string): Promise<void> {
    await this.apply(name, (room) => logic.kick(room, uuid));
    this.log.info({ room: name, uuid }, 'user kicked');
  }

  /** Resolves to the room as the joiner must first see it (its `seq` is the join's position). `displayName`: the joiner's, if any. */
  async join(name: string, uuid: string, conn: string, node: string, displayName?: string): Promise<Room> {
    const { room } = await this.apply(name, (current) => logic.join(current, uuid, conn, node, this.limits.maxUsersPerRoom, displayName));
    return room!;
  }

  /** The room-wide events after `seq`, for a client resuming; null when they are no longer kept. */
  missedEvents(name: string, seq: number): Promise<RoomEvent[] | null> {
    return this.store.eventsAfter(name, seq);
  }

  /** Ends every membership still held by a node that died; members who reconnected elsewhere keep theirs. */
  async evictNode(node: string): Promise<number> {
    let evicted = 0;
    for (const name of await this.store.list()) {
      const room = await this.store.load(name);
      for (const member of room?.members ?? []) {
        if (member.node !== node) continue;
        await this.leave(name, member.uuid, member.conn);
        evicted += 1;
      }
    }
    if (evicted > 0) this.log.info({ node, evicted }, 'evicted the members of a dead node');
    return evicted;
  }

  /** Ends a connection's membership; a no-op if the room is gone or the membership moved on. */
  async leave(name: string, uuid: string, conn: string): Promise<void> {
    try {
      await this.apply(name, (room) => logic.leave(room, uuid, conn));
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'room_not_found')) throw error;
    }
  }

  /**
   * A command of a connected participant. With `reply` (the sender gave a request id), the commit's
   * last room-wide event carries it, so the sender's session answers when it delivers that event.
   * Resolves to whether an event carries it: false when the command changed nothing (or told no
   * room), and the session answers at once.
   */
  async act(name: string, sender: string, message: RoomCommand, reply?: Reply): Promise<{ replied: boolean }> {
    const { replied } = await this.apply(name, (room) => logic.act(room, sender, message), reply);
    return { replied };
  }

  /** The room as stored (AppError `room_not_found` when there is none). */
  async load(name: string): Promise<Room> {
    const room = await this.store.load(name);
    if (!room) throw new AppError('room_not_found', `room ${name} does not exist`);
    return room;
  }

  /** Runs one command on a room: decide, commit, and on a concurrent write, decide again. */
  private apply(name: string, decide: (room: Room) => Outcome, reply?: Reply): Promise<{ room: Room | null; replied: boolean }> {
    return this.queue.run(name, async () => {
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        const { room, outcome } = await this.decide(name, decide, attempt === 1);
        if (outcome.room === room && outcome.events.length === 0) return { room, replied: false };
        const events = withReply(withMuteChanges(room, outcome), reply);
        const result = await this.store.commit({
          name,
          base: room,
          next: outcome.room === room ? undefined : outcome.room,
          events,
        });
        if (result.status === 'committed')
          return { room: result.room, replied: reply !== undefined && events.some((event) => event.reply) };
        if (result.status === 'not_found') break;
        // Another node won the race: back off a little, more each time, so the contenders spread out.
        await sleep(Math.random() * attempt);
      }
      if (!(await this.store.load(name))) {
        throw new AppError('room_not_found', `room ${name} does not exist`);
      }
      throw new AppError('unavailable', `room ${name} is too busy, try again`);
    });
  }

  /**
   * Decides on this node's copy of the room when there is one (saving a read), else on a fresh
   * read. A commit catches a stale copy; a refusal or a no-op commits nothing, so those are decided
   * again on a fresh read before they count.
   */
  private async decide(name: string, decide: (room: Room) => Outcome, mayUseCopy: boolean): Promise<{ room: Room; outcome: Outcome }> {
    const copy = mayUseCopy ? this.store.copyOf(name) : undefined;
    if (copy) {
      try {
        const outcome = decide(copy);
        if (outcome.room !== copy || outcome.events.length > 0) return { room: copy, outcome };
      } catch {
        // decided again below, on a fresh read
      }
    }
    const room = await this.load(name);
    return { room, outcome: decide(room) };
  }
}

/** The events, the last room-wide one carrying the reply the sender waits for (none: nothing to carry it). */
function withReply(events: RoomEvent[], reply: Reply | undefined): RoomEvent[] {
  const last = reply ? events.findLastIndex(isBroadcast) : -1;
  if (last < 0) return events;
  return events.map((event, i) => (i === last ? { ...event, reply } : event));
}

/** The outcome's events, the last room-wide one telling the SFU whose mute the change started or lifted. */
function withMuteChanges(before: Room, outcome: Outcome): RoomEvent[] {
  if (!outcome.room || outcome.room === before) return outcome.events;
  const mutes = mutesChanged(before, outcome.room);
  const last = outcome.events.findLastIndex(isBroadcast);
  if (last < 0 || (mutes.muted.length === 0 && mutes.unmuted.length === 0)) return outcome.events;
  return outcome.events.map((event, i) => (i === last ? { ...event, mutes } : event));
}
