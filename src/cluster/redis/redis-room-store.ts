import type { Logger } from 'pino';
import { AppError, isAppError } from '../../errors.js';
import type { Room } from '../../room/room.js';
import { isBroadcast, type RoomEvent } from '../../room/room-event.js';
import type { Commit, CommitResult, RoomEventListener, RoomStore } from '../room-store.js';
import { type RedisConfig, RedisConnection } from './redis-connection.js';
import { COMMIT_ROOM, CREATE_ROOM, EVENTS_AFTER } from './scripts.js';

type ScriptClient = {
  wpCreateRoom(state: string, room: string): Promise<number>;
  wpCommitRoom(state: string, history: string, ...args: (string | number)[]): Promise<number[]>;
  wpEventsAfter(state: string, history: string, seq: number): Promise<string[] | null>;
};

/** A stored event: a RoomEvent as JSON, room-wide ones with the time they were committed. */
type StoredEvent = RoomEvent & { at?: number };

/**
 * Rooms in Redis, shared by every node that points at it. Each commit is one Lua script: it checks
 * the room's version, numbers the room-wide events, appends them to the room's history and
 * publishes every event once on the room's channel; each node fans it out to its own sockets.
 */
export class RedisRoomStore implements RoomStore {
  private readonly connection: RedisConnection;
  private readonly reconnectListeners: (() => void)[] = [];
  private wasReady = false;
  private lost = false;

  constructor(
    config: RedisConfig,
    private readonly history: { size: number; maxAgeMs: number },
    private readonly log: Logger,
    /** Told the duration of every store operation, in seconds (metrics). */
    private readonly onRoundTrip: (seconds: number) => void = () => undefined,
  ) {
    this.connection = new RedisConnection(config, log);
    const { commands, subscriber } = this.connection;
    commands.defineCommand('wpCreateRoom', { numberOfKeys: 1, lua: CREATE_ROOM });
    commands.defineCommand('wpCommitRoom', { numberOfKeys: 2, lua: COMMIT_ROOM });
    commands.defineCommand('wpEventsAfter', { numberOfKeys: 2, lua: EVENTS_AFTER });
    // After an outage, tell listeners once both connections are back (pub/sub may have lost events).
    for (const client of [commands, subscriber]) {
      client.on('close', () => {
        if (this.wasReady) this.lost = true;
      });
      client.on('ready', () => {
        if (!this.connection.ready) return;
        this.wasReady = true;
        if (!this.lost) return;
        this.lost = false;
        for (const listener of this.reconnectListeners) listener();
      });
    }
  }

  get redis(): RedisConnection {
    return this.connection;
  }

  private get scripts(): ScriptClient {
    return this.connection.commands as unknown as ScriptClient;
  }

  private key(room: string, part: 'state' | 'history' | 'events'): string {
    return `${this.connection.config.keyPrefix}{${room}}:${part}`;
  }

  private get roomsKey(): string {
    return `${this.connection.config.keyPrefix}rooms`;
  }

  async create(room: Room): Promise<boolean> {
    return this.guard(async () => {
      const created = (await this.scripts.wpCreateRoom(this.key(room.name, 'state'), JSON.stringify(stripCounters(room)))) === 1;
      // The name list lives in another slot, so it cannot join the script; list() repairs any drift.
      if (created) await this.connection.commands.sadd(this.roomsKey, room.name);
      return created;
    });
  }

  async list(): Promise<string[]> {
    return this.guard(async () => {
      const names = await this.connection.commands.smembers(this.roomsKey);
      const exists = await Promise.all(names.map((name) => this.connection.commands.exists(this.key(name, 'state'))));
      const stale = names.filter((_, i) => exists[i] === 0);
      if (stale.length > 0) await this.connection.commands.srem(this.roomsKey, ...stale);
      return names.filter((_, i) => exists[i] === 1);
    });
  }

  async count(): Promise<number> {
    return this.guard(() => this.connection.commands.scard(this.roomsKey));
  }

  async load(name: string): Promise<Room | null> {
    return this.guard(async () => {
      const stored = await this.connection.commands.hgetall(this.key(name, 'state'));
      if (!stored.room) return null;
      return { ...(JSON.parse(stored.room) as Room), seq: Number(stored.seq), version: Number(stored.version) };
    });
  }

  async commit({ name, base, next, events }: Commit): Promise<CommitResult> {
    return this.guard(async () => {
      const mode = next === null ? 'delete' : next === undefined ? 'keep' : 'put';
      const sharded = await this.connection.usesShardedPubSub();
      const result = await this.scripts.wpCommitRoom(
        this.key(name, 'state'),
        this.key(name, 'history'),
        base.version,
        mode,
        next ? JSON.stringify(stripCounters(next)) : '',
        this.history.size,
        Date.now(),
        sharded ? 'SPUBLISH' : 'PUBLISH',
        this.key(name, 'events'),
        ...events.map((event) => (isBroadcast(event) ? 'B' : 'D') + JSON.stringify(event)),
      );
      if (result[0] === 0) return { status: 'not_found' };
      if (result[0] === -1) return { status: 'conflict' };
      if (mode === 'delete') await this.connection.commands.srem(this.roomsKey, name);
      const [, seq, version] = result as [number, number, number];
      let nextSeq = seq - events.filter(isBroadcast).length;
      const sequenced = events.map((event) => (isBroadcast(event) ? { ...event, seq: ++nextSeq } : event));
      const room = mode === 'delete' ? null : { ...(next ?? base), seq, version };
      return { status: 'committed', room, events: sequenced };
    });
  }

  async eventsAfter(name: string, seq: number): Promise<RoomEvent[] | null> {
    return this.guard(async () => {
      const raw = await this.scripts.wpEventsAfter(this.key(name, 'state'), this.key(name, 'history'), seq);
      if (!raw) return null;
      const events = raw.map((text) => JSON.parse(text) as StoredEvent);
      if (events[0]?.at !== undefined && events[0].at < Date.now() - this.history.maxAgeMs) return null;
      return events.map(withoutTime);
    });
  }

  async subscribe(name: string, listener: RoomEventListener): Promise<() => void> {
    const channel = this.key(name, 'events');
    return this.guard(() =>
      this.connection.subscribe(channel, (message) => {
        let event: RoomEvent;
        try {
          event = withoutTime(JSON.parse(message) as StoredEvent);
        } catch (error) {
          this.log.error({ err: error, channel }, 'unreadable room event');
          return;
        }
        listener(event);
      }),
    );
  }

  isReady(): boolean {
    return this.connection.ready;
  }

  onReconnect(listener: () => void): void {
    this.reconnectListeners.push(listener);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }

  /** Any Redis failure reaches callers as `unavailable`: the client may retry, nothing crashes. */
  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await operation();
    } catch (error) {
      if (isAppError(error)) throw error;
      this.log.debug({ err: error }, 'redis operation failed');
      throw new AppError('unavailable', 'the room store is unreachable; try again');
    } finally {
      this.onRoundTrip((performance.now() - started) / 1000);
    }
  }
}

function stripCounters(room: Room): Omit<Room, 'seq' | 'version'> {
  const { seq: _seq, version: _version, ...rest } = room;
  return rest;
}

function withoutTime({ at: _at, ...event }: StoredEvent): RoomEvent {
  return event;
}
