import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { pino, type Logger } from 'pino';
import type { Config } from './config.js';
import { CloseCode } from './errors.js';
import { MemoryRoomStore } from './cluster/memory-room-store.js';
import type { RoomStore } from './cluster/room-store.js';
import { validatorFor } from './protocol/validator.js';
import { RoomService } from './room/room-service.js';
import { frameworkErrors, installErrorEnvelope } from './transport/http/envelope.js';
import { roomRoutes } from './transport/http/room-routes.js';
import { serviceRoutes } from './transport/http/service-routes.js';
import { startHeartbeat } from './transport/ws/heartbeat.js';
import { joinRoute } from './transport/ws/join-route.js';
import { RoomFanout } from './transport/ws/room-fanout.js';

export interface Wigglypuff {
  app: FastifyInstance;
  rooms: RoomService;
  /** Starts listening; resolves to the bound address, e.g. `http://127.0.0.1:6030`. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Where room state lives; the in-memory store when not given. */
  store?: RoomStore;
  logger?: Logger;
}

/** Wires one node: a store, the room service, and the HTTP and WebSocket transports over them. */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<Wigglypuff> {
  const log = options.logger ?? pino({ level: config.logLevel });
  const store = options.store ?? new MemoryRoomStore();
  const rooms = new RoomService(store, log);
  const fanout = new RoomFanout(store, log);

  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    bodyLimit: config.httpBodyLimitBytes,
    // uuids of up to 128 characters travel in the join path.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(({ schema }) => validatorFor(schema as never));
  installErrorEnvelope(app);
  // JSON in, JSON out: any other body is refused with 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));

  await app.register(websocket, {
    options: { maxPayload: config.wsMaxFrameBytes },
    // A broken or oversized frame is the client's fault, not the server's: ws has already closed it (1009, 1002...).
    errorHandler: (error, socket) => {
      log.info({ err: error.message }, 'websocket protocol error');
      socket.terminate();
    },
  });
  await app.register(roomRoutes(rooms));
  await app.register(serviceRoutes(config));
  await app.register(joinRoute(rooms, fanout, log));

  const stopHeartbeat = startHeartbeat(fanout, config.heartbeatIntervalMs);

  return {
    app,
    rooms,
    listen: () => app.listen({ host: config.host, port: config.port }),
    async close() {
      stopHeartbeat();
      for (const session of fanout.sessions()) session.close(CloseCode.goingAway);
      await app.close();
      await store.close();
    },
  };
}
