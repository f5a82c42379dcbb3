import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import websocket from '@fastify/websocket';
import { pino, type Logger } from 'pino';
import { randomBytes } from 'node:crypto';
import type { Config } from './config.js';
import { RedisClusterNode } from './cluster/redis/redis-cluster-node.js';
import { RedisRoomStore } from './cluster/redis/redis-room-store.js';
import { Departures } from './transport/ws/departures.js';
import { freeUdpPort } from './media/free-udp-port.js';
import { MediaEngine } from './media/media-engine.js';
import type { MediaMessage } from './media/media-messages.js';
import type { MediaAddress } from './media/room-media.js';
import { serverIceServers } from './turn/turn-credentials.js';
import { CloseCode } from './errors.js';
import { MemoryRoomStore } from './cluster/memory-room-store.js';
import type { RoomStore } from './cluster/room-store.js';
import { validatorFor } from './protocol/validator.js';
import { RoomService } from './room/room-service.js';
import { frameworkErrors, installErrorEnvelope } from './transport/http/envelope.js';
import { pageRoutes } from './transport/http/page-routes.js';
import { roomRoutes } from './transport/http/room-routes.js';
import { serviceRoutes } from './transport/http/service-routes.js';
import { startHeartbeat } from './transport/ws/heartbeat.js';
import { joinRoute } from './transport/ws/join-route.js';
import { RoomFanout } from './transport/ws/room-fanout.js';

export interface Wigglypuff {
  app: FastifyInstance;
  rooms: RoomService;
  /** This process's identity in the cluster. */
  node: string;
  /** Starts listening; resolves to the bound address, e.g. `http://127.0.0.1:6030`. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Where room state lives; the in-memory store when not given. */
  store?: RoomStore;
  logger?: Logger;
}

function openStore(config: Config, log: Logger): RoomStore {
  if (config.store.kind === 'redis') return new RedisRoomStore(config.store, config.history, log);
  return new MemoryRoomStore(config.history);
}

/** Wires one node: a store, the room service, and the HTTP and WebSocket transports over them. */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<Wigglypuff> {
  const log = options.logger ?? pino({ level: config.logLevel });
  // Memberships name the process, not just the node, so a restarted node never owns its past members.
  const node = `${config.nodeId}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const store = options.store ?? openStore(config, log);
  const rooms = new RoomService(store, log);
  const fanout = new RoomFanout(store, log);
  const departures = new Departures(rooms, config.reconnectGraceMs, log);
  let closing = false;

  const deliverLocal = (to: MediaAddress, message: MediaMessage) => fanout.session(to.conn)?.notify(message);
  let cluster: RedisClusterNode | undefined;
  const mediaPorts =
    config.media.ports.begin === 0
      ? await freeUdpPort(config.media.bindAddress).then((port) => ({ begin: port, end: port }))
      : config.media.ports;
  const media = new MediaEngine({
    slots: config.media.audioSlots,
    network: {
      iceServers: () => serverIceServers(config),
      bindAddress: config.media.bindAddress,
      ports: mediaPorts,
      announceAddress: config.media.announceAddress,
    },
    rooms,
    store,
    deliver: (to, message) => (cluster ? cluster.router.deliver(to, message) : deliverLocal(to, message)),
    log,
  });
  if (store instanceof RedisRoomStore && config.store.kind === 'redis') {
    cluster = new RedisClusterNode(
      store,
      {
        node,
        nodeTimeoutMs: config.store.nodeTimeoutMs,
        graceMs: config.reconnectGraceMs,
        mediaLeaseMs: config.store.mediaLeaseMs,
        rooms,
        media,
        deliverLocal,
      },
      log,
    );
    await cluster.start();
  }

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
  await app.register(pageRoutes());
  await app.register(
    serviceRoutes(config, {
      node,
      store: config.store.kind,
      ready: () => !closing && store.isReady(),
    }),
  );
  await app.register(
    joinRoute({
      rooms,
      fanout,
      departures,
      media: cluster?.router ?? media,
      audioSlots: config.media.audioSlots,
      node,
      log,
    }),
  );

  const stopHeartbeat = startHeartbeat(fanout, config.heartbeatIntervalMs);

  return {
    app,
    rooms,
    listen: () => app.listen({ host: config.host, port: config.port }),
    node,
    async close() {
      closing = true;
      stopHeartbeat();
      departures.stop();
      await cluster?.stop();
      media.closeAll();
      for (const session of fanout.sessions()) session.close(CloseCode.goingAway);
      await app.close();
      await store.close();
    },
  };
}
