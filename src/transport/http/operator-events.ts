import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Access } from '../../auth/access.js';
import type { RoomEventStream } from '../../cluster/room-event-stream.js';
import { EventsQuery } from '../../protocol/http.js';
import type { OperatorStreamData } from '../../protocol/operator.js';
import type { RoomEvent } from '../../room/room-event.js';
import type { RoomService } from '../../room/room-service.js';
import { SseStream } from './sse-stream.js';

export interface OperatorEventsOptions {
  /** Events held for an operator whose socket does not drain (default 256). */
  maxQueued?: number;
  /** Default 15 s. */
  keepAliveMs?: number;
  /** Told how many events were dropped for operators that did not read (metrics). */
  onDropped?(count: number): void;
}

const DEFAULT_MAX_QUEUED = 256;
const DEFAULT_KEEP_ALIVE_MS = 15_000;

/** A room event as an operator receives it: who got it and what they got, never the internal fields. */
export function operatorDataOf(room: string, event: RoomEvent): OperatorStreamData['room'] {
  const { audience, message, seq } = event;
  return {
    room,
    seq: seq ?? null,
    to: audience.to,
    ...(audience.to === 'user' && { uuid: audience.uuid }),
    message: seq === undefined ? message : { ...message, seq },
  };
}

/**
 * `GET /api/events?rooms=a,b`: the events of the named rooms as Server-Sent Events, for an operator
 * dashboard. Each room is followed through this node's gap-free event stream, so it works the same
 * on one node and on a cluster. `close()` ends every open stream (the node shuts down).
 */
export class OperatorEvents {
  private readonly streams = new Set<SseStream>();

  constructor(
    private readonly events: RoomEventStream,
    private readonly rooms: RoomService,
    private readonly access: Access,
    private readonly options: OperatorEventsOptions = {},
  ) {}

  /** Operators following rooms on this node now. */
  get size(): number {
    return this.streams.size;
  }

  routes(): FastifyPluginAsync {
    return async (plugin) => {
      const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
      app.addHook('preParsing', async (request) => this.access.requireApiKey({ authorization: request.headers.authorization }));

      app.get('/api/events', { schema: { querystring: EventsQuery } }, async (request, reply) => {
        const names = [...new Set(request.query.rooms.split(','))];
        // Every room must exist before any stream starts: an unknown one is the usual JSON 404.
        await Promise.all(names.map((name) => this.rooms.load(name)));
        const stream = new SseStream(reply.raw, {
          maxQueued: this.options.maxQueued ?? DEFAULT_MAX_QUEUED,
          keepAliveMs: this.options.keepAliveMs ?? DEFAULT_KEEP_ALIVE_MS,
          ...(this.options.onDropped && { onDropped: this.options.onDropped }),
        });
        await this.follow(stream, names);
        // From here the stream owns the response (and one whose reader left meanwhile has ended already).
        reply.hijack();
        if (stream.isEnded) return reply;
        this.streams.add(stream);
        stream.onEnd(() => this.streams.delete(stream));
        stream.start({ event: 'ready', data: { rooms: names } satisfies OperatorStreamData['ready'] });
        return reply;
      });
    };
  }

  /** Ends every open stream, so the listener can close. */
  close(): void {
    for (const stream of [...this.streams]) stream.end();
  }

  /**
   * Follows every room into `stream` (their events wait in it until it starts) until it ends.
   * Rejects, following none, when one cannot be followed (the store is unreachable).
   */
  private async follow(stream: SseStream, names: string[]): Promise<void> {
    const stops: (() => void)[] = [];
    const stopAll = () => {
      for (const stop of stops.splice(0)) stop();
    };
    const followed = await Promise.allSettled(
      names.map((name) =>
        this.events.follow(name, {
          event: (event) =>
            stream.send({
              event: 'room',
              ...(event.seq !== undefined && { id: `${name}:${event.seq}` }),
              data: operatorDataOf(name, event),
            }),
        }),
      ),
    );
    for (const result of followed) if (result.status === 'fulfilled') stops.push(result.value);
    const failed = followed.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed) {
      stopAll();
      throw failed.reason;
    }
    stream.onEnd(stopAll);
  }
}
