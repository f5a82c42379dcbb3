import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export interface MetricsSources {
  /** Open room WebSockets on this node. */
  connections(): number;
  /** Participants with a socket on this node. */
  users(): number;
  /** Rooms with at least one socket on this node. */
  activeRooms(): number;
  /** Rooms in the store (all nodes). */
  rooms(): Promise<number>;
  /** WebRTC peers of the SFU on this node. */
  mediaParticipants(): number;
  /** Open operator event streams (`GET /api/events`) on this node. */
  operatorStreams(): number;
}

/**
 * What an operator watches, in Prometheus format at `/metrics` (prom-client). One registry per
 * server, so several servers in one process (tests) do not mix their figures.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly messagesIn: Counter<'action'>;
  readonly messagesOut: Counter<'action'>;
  readonly errors: Counter<'code' | 'transport'>;
  readonly rateLimited: Counter<'transport'>;
  readonly slowConsumers: Counter;
  readonly operatorEventsDropped: Counter;
  readonly redisRoundTrip: Histogram;
  readonly redisReconnects: Counter;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'wigglypuff_' }); // includes event-loop lag
    new Gauge({
      name: 'wigglypuff_connections',
      help: 'Open room WebSockets on this node',
      registers,
      collect() {
        this.set(sources.connections());
      },
    });
    new Gauge({
      name: 'wigglypuff_users',
      help: 'Participants with a socket on this node',
      registers,
      collect() {
        this.set(sources.users());
      },
    });
    new Gauge({
      name: 'wigglypuff_active_rooms',
      help: 'Rooms with a WebSocket on this node',
      registers,
      collect() {
        this.set(sources.activeRooms());
      },
    });
    new Gauge({
      name: 'wigglypuff_media_participants',
      help: 'WebRTC peers the SFU on this node holds',
      registers,
      collect() {
        this.set(sources.mediaParticipants());
      },
    });
    new Gauge({
      name: 'wigglypuff_rooms',
      help: 'Rooms in the store (the whole cluster)',
      registers,
      async collect() {
        this.set(await sources.rooms().catch(() => Number.NaN));
      },
    });
    this.messagesIn = new Counter({
      name: 'wigglypuff_messages_in_total',
      help: 'WebSocket messages received, by action',
      labelNames: ['action'],
      registers,
    });
    this.messagesOut = new Counter({
      name: 'wigglypuff_messages_out_total',
      help: 'WebSocket messages sent, by action',
      labelNames: ['action'],
      registers,
    });
    this.errors = new Counter({
      name: 'wigglypuff_errors_total',
      help: 'Errors answered, by code',
      labelNames: ['code', 'transport'],
      registers,
    });
    this.rateLimited = new Counter({
      name: 'wigglypuff_rate_limited_total',
      help: 'Requests and messages refused by a rate limit',
      labelNames: ['transport'],
      registers,
    });
    this.slowConsumers = new Counter({
      name: 'wigglypuff_slow_consumers_dropped_total',
      help: 'Clients dropped for not reading (backpressure)',
      registers,
    });
    new Gauge({
      name: 'wigglypuff_operator_streams',
      help: 'Open operator event streams (GET /api/events) on this node',
      registers,
      collect() {
        this.set(sources.operatorStreams());
      },
    });
    this.operatorEventsDropped = new Counter({
      name: 'wigglypuff_operator_events_dropped_total',
      help: 'Events left out of operator event streams that did not drain',
      registers,
    });
    this.redisRoundTrip = new Histogram({
      name: 'wigglypuff_redis_round_trip_seconds',
      help: 'Time of each room-store operation against Redis',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers,
    });
    this.redisReconnects = new Counter({
      name: 'wigglypuff_redis_reconnects_total',
      help: 'Times Redis came back after being lost',
      registers,
    });
  }
}
