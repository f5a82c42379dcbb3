import type { Logger } from 'pino';
import { AppError, isAppError } from '../../protocol/errors.js';
import type { Room } from '../../room/room.js';
import { isBroadcast, type RoomEvent, sequence } from '../../room/room-event.js';
import {
  type Commit,
  type CommitResult,
  type HistoryLimits,
  isReplayable,
  type RoomEventListener,
  type RoomStore,
} from '../../room/room-store.js';
import type { RedisConnection } from './redis-connection.js';
import type { RedisKeys } from './redis-keys.js';

/** A stored event: a RoomEvent as JSON, room-wide ones with the time they were committed. */
type StoredEvent = RoomEvent & { at?: number };

/**
 * Rooms in Redis, shared by every node that points at it. Each commit is one Lua script: it checks
 * the room's version, numbers the room-wide events, appends them to the room's history and
 * publishes every event once on the room's channel; each node fans it out to its own sockets.
 */
export class RedisRoomStore implements RoomStore {
  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly history: HistoryLimits,
    private readonly log: Logger,
    /** Told the duration of every store operation, in seconds (metrics). */
    private readonly onRoundTrip: (seconds: number) => void = () => undefined,
  ) {}

  async create(room: Room): Promise<boolean> {
    return this.guard(async () => {
      const created = (await this.redis.scripts.wpCreateRoom(this.keys.roomState(room.name), JSON.stringify(stripCounters(room)))) === 1;
      // The name list lives in another slot, so it cannot join the script; list() repairs any drift.
      if (created) await this.redis.commands.sadd(this.keys.rooms, room.name);
      return created;
    });
  }

  async list(): Promise<string[]> {
    return this.guard(async () => {
      const { commands } = this.redis;
      const names = await commands.smembers(this.keys.rooms);
      const exists = await Promise.all(names.map((name) => commands.exists(this.keys.roomState(name))));
      const stale = names.filter((_, i) => exists[i] === 0);
      if (stale.length > 0) await commands.srem(this.keys.rooms, ...stale);
      return names.filter((_, i) => exists[i] === 1);
    });
  }

  async count(): Promise<number> {
    return this.guard(() => this.redis.commands.scard(this.keys.rooms));
  }

  async load(name: string): Promise<Room | null> {
    return this.guard(async () => {
      const stored = await this.redis.commands.hgetall(this.keys.roomState(name));
      if (!stored.room) return null;
      return { ...(JSON.parse(stored.room) as Room), seq: Number(stored.seq), version: Number(stored.version) };
    });
  }

  async commit({ name, base, next, events }: Commit): Promise<CommitResult> {
    return this.guard(async () => {
      const mode = next === null ? 'delete' : next === undefined ? 'keep' : 'put';
      const sharded = await this.redis.usesShardedPubSub();
      const result = await this.redis.scripts.wpCommitRoom(
        this.keys.roomState(name),
        this.keys.roomHistory(name),
        base.version,
        mode,
        next ? JSON.stringify(stripCounters(next)) : '',
        this.history.size,
        Date.now(),
        sharded ? 'SPUBLISH' : 'PUBLISH',
        this.keys.roomEvents(name),
        ...events.map((event) => (isBroadcast(event) ? 'B' : 'D') + JSON.stringify(event)),
      );
      if (result[0] === 0) return { status: 'not_found' };
      if (result[0] === -1) return { status: 'conflict' };
      if (mode === 'delete') await this.redis.commands.srem(this.keys.rooms, name);
      const [, seq, version] = result as [number, number, number];
      const sequenced = sequence(events, seq - events.filter(isBroadcast).length);
      const room = mode === 'delete' ? null : { ...(next ?? base), seq, version };
      return { status: 'committed', room, events: sequenced };
    });
  }

  async eventsAfter(name: string, seq: number): Promise<RoomEvent[] | null> {
    return this.guard(async () => {
      const raw = await this.redis.scripts.wpEventsAfter(this.keys.roomState(name), this.keys.roomHistory(name), seq);
      if (!raw) return null;
      const events = raw.map((text) => JSON.parse(text) as StoredEvent);
      if (!isReplayable(events[0]?.at, this.history)) return null;
      return events.map(withoutTime);
    });
  }

  async subscribe(name: string, listener: RoomEventListener): Promise<() => void> {
    const channel = this.keys.roomEvents(name);
    return this.guard(() =>
      this.redis.subscribe(channel, (message) => {
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
    return this.redis.ready;
  }

  onReconnect(listener: () => void): void {
    this.redis.onReconnect(listener);
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
