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
import { RoomCopies } from './room-copies.js';

/** A stored event: a RoomEvent as JSON, room-wide ones with the time they were committed. */
type StoredEvent = RoomEvent & { at?: number };

/**
 * Rooms in Redis, shared by every node that points at it. Each commit is one Lua script: it checks
 * the room's version, numbers the room-wide events, appends them to the room's history and
 * publishes every event once on the room's channel; each node fans it out to its own sockets.
 */
export class RedisRoomStore implements RoomStore {
  /** This node's last copy of each room it read or committed, for deciding the next change without a read. */
  private readonly copies = new RoomCopies();

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
      const state = this.keys.roomState(room.name);
      const created = (await this.redis.scripts.wpCreateRoom(state, JSON.stringify(settingsOf(room)), JSON.stringify(room.members))) === 1;
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
      if (!stored.room) {
        this.copies.forget(name);
        return null;
      }
      const settings = JSON.parse(stored.room) as Room;
      // Rooms stored before members had a field of their own keep them in `room`.
      const members = stored.members === undefined ? settings.members : (JSON.parse(stored.members) as Room['members']);
      // Rooms stored before the correction queue existed have none.
      const corrections = settings.corrections ?? [];
      // Rooms stored before rooms kept their creation time: unknown.
      const createdAt = settings.createdAt ?? null;
      return this.copies.keep({ ...settings, members, corrections, createdAt, seq: Number(stored.seq), version: Number(stored.version) });
    });
  }

  copyOf(name: string): Room | undefined {
    return this.copies.get(name);
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
        next && settingsChanged(base, next) ? JSON.stringify(settingsOf(next)) : '',
        next && next.members !== base.members ? JSON.stringify(next.members) : '',
        this.history.size,
        Date.now(),
        sharded ? 'SPUBLISH' : 'PUBLISH',
        this.keys.roomEvents(name),
        ...events.map((event) => (isBroadcast(event) ? 'B' : 'D') + JSON.stringify(event)),
      );
      if (result[0] !== 1) {
        this.copies.forget(name);
        return { status: result[0] === 0 ? 'not_found' : 'conflict' };
      }
      const [, seq, version] = result as [number, number, number];
      const sequenced = sequence(events, seq - events.filter(isBroadcast).length);
      if (mode === 'delete') {
        this.copies.forget(name);
        await this.redis.commands.srem(this.keys.rooms, name);
        return { status: 'committed', room: null, events: sequenced };
      }
      return { status: 'committed', room: this.copies.keep({ ...(next ?? base), seq, version }), events: sequenced };
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

/** A room without its counters and members, which are stored apart: the settings (the correction queue among them). */
function settingsOf(room: Room): Omit<Room, 'seq' | 'version' | 'members'> {
  const { seq: _seq, version: _version, members: _members, ...settings } = room;
  return settings;
}

/** Whether a change touched anything but the members (rooms are never changed in place, so references tell). */
const settingsChanged = (base: Room, next: Room): boolean =>
  base.idQuran !== next.idQuran ||
  base.aya !== next.aya ||
  base.muted !== next.muted ||
  base.unmuted !== next.unmuted ||
  base.mutedAll !== next.mutedAll ||
  base.corrections !== next.corrections ||
  base.masterUuid !== next.masterUuid;

function withoutTime({ at: _at, ...event }: StoredEvent): RoomEvent {
  return event;
}
