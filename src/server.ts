import { randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type Logger, pino } from 'pino';
import { Access } from './auth/access.js';
import { MemoryRoomStore } from './cluster/memory-room-store.js';
import { RedisClusterNode } from './cluster/redis/redis-cluster-node.js';
import { RedisRoomStore } from './cluster/redis/redis-room-store.js';
import type { RoomStore } from './cluster/room-store.js';
import type { Config } from './config.js';
import { AppError } from './errors.js';
import { freeUdpPort } from './media/free-udp-port.js';
import { MediaEngine } from './media/media-engine.js';
import type { MediaMessage } from './media/media-messages.js';
import type { MediaAddress } from './media/room-media.js';
import { Metrics } from './observability/metrics.js';
import { metricsRoute } from './observability/metrics-route.js';
import { validatorFor } from './protocol/validator.js';
import { RoomService } from './room/room-service.js';
import { clientErrorHandler, frameworkErrors, installErrorEnvelope } from './transport/http/envelope.js';
import { pageRoutes } from './transport/http/page-routes.js';
import { roomRoutes } from './transport/http/room-routes.js';
import { serviceRoutes } from './transport/http/service-routes.js';
import { Departures } from './transport/ws/departures.js';
import { startHeartbeat } from './transport/ws/heartbeat.js';
import { joinRoute } from './transport/ws/join-route.js';
import { RoomFanout } from './transport/ws/room-fanout.js';
import type { SessionObserver } from './transport/ws/session.js';
import { serverIceServers } from './turn/turn-credentials.js';

export interface Wigglypuff {
  app: FastifyInstance;
  rooms: RoomService;
  /** This process's identity in the cluster. */
  node: string;
  /** Starts listening; resolves to the bound address, e.g. `http://127.0.0.1:6030`. */
  listen(): Promise<string>;
  /**
   * Graceful shutdown: not ready at once, every client told `Reconnect` and closed with 1012,
   * media claims released, then the listener closed.
   */
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Where room state lives; from the configuration when not given. */
  store?: RoomStore;
  logger?: Logger;
}

/** Wires one node: store, room logic, media, cluster membership, and the HTTP and WebSocket transports. */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<Wigglypuff> {
  const log = options.logger ?? pino({ level: config.logLevel });
  // Memberships name the process, not just the node, so a restarted node never owns its past members.
  const node = `${config.nodeId}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const access = new Access(config.auth);
  if (access.open) log.warn('OPEN SERVER: no API_KEY/JOIN_TOKEN_SECRET, so anyone may manage rooms and join as anyone');

  const metrics: Metrics = new Metrics({
    connections: () => fanout.connectionCount,
    users: () => fanout.userCount,
    activeRooms: () => fanout.roomCount,
    rooms: () => store.count(),
  });
  const store = options.store ?? openStore(config, log, (seconds) => metrics.redisRoundTrip.observe(seconds));
  const rooms = new RoomService(store, log, config.limits);
  const fanout = new RoomFanout(store, log);
  store.onReconnect(() => metrics.redisReconnects.inc());
  const departures = new Departures(rooms, config.reconnectGraceMs, log);
  let closing = false;

  const deliverLocal = (to: MediaAddress, message: MediaMessage) => fanout.session(to.conn)?.notify(message);
  let cluster: RedisClusterNode | undefined;
  const media = new MediaEngine({
    slots: config.media.audioSlots,
    dtx: config.media.dtx,
    network: {
      iceServers: () => serverIceServers(config),
      bindAddress: config.media.bindAddress,
      ports: await mediaPorts(config),
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
    trustProxy: config.trustProxy,
    // uuids of up to 128 characters travel in the join path.
    routerOptions: { maxParamLength: 256 },
    frameworkErrors,
    clientErrorHandler,
    logController: new LogController({ disableRequestLogging: true }),
  });
  app.setValidatorCompiler(({ schema }) => validatorFor(schema as never));
  installErrorEnvelope(app, (code) => metrics.errors.inc({ code, transport: 'http' }));
  // JSON in, JSON out: any other body is refused with 415.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'error'));
  app.addHook('onRequest', async () => {
    if (closing) throw new AppError('unavailable', 'this node is shutting down; use another');
  });

  await app.register(rateLimit, {
    max: config.limits.httpPerMinute,
    timeWindow: 60_000,
    onExceeded: () => metrics.rateLimited.inc({ transport: 'http' }),
    errorResponseBuilder: (_request, context) =>
      new AppError('rate_limited', `too many requests from this address: at most ${context.max} per minute`),
  });
  await app.register(websocket, {
    options: { maxPayload: config.wsMaxFrameBytes },
    // A broken or oversized frame is the client's fault, not the server's: ws has already closed it (1009, 1007...).
    errorHandler: (error, socket) => {
      log.info({ err: error.message }, 'websocket protocol error');
      socket.terminate();
    },
  });
  await app.register(roomRoutes(rooms, access));
  await app.register(pageRoutes());
  await app.register(serviceRoutes(config, { node, store: config.store.kind, ready: () => !closing && store.isReady() }, access));
  await app.register(metricsRoute(metrics, access));
  const observer: SessionObserver = {
    received: (action) => metrics.messagesIn.inc({ action }),
    sent: (action) => metrics.messagesOut.inc({ action }),
    error: (code) => metrics.errors.inc({ code, transport: 'websocket' }),
    rateLimited: () => metrics.rateLimited.inc({ transport: 'websocket' }),
    slowConsumer: () => metrics.slowConsumers.inc(),
  };
  await app.register(
    joinRoute({
      rooms,
      fanout,
      departures,
      media: cluster?.router ?? media,
      access,
      sessionOptions: {
        audioSlots: config.media.audioSlots,
        rate: config.limits.wsRate,
        sendBufferLimitBytes: config.limits.sendBufferLimitBytes,
        observer,
      },
      maxConnectionsPerAddress: config.limits.maxConnectionsPerAddress,
      node,
      log,
    }),
  );

  const stopHeartbeat = startHeartbeat(fanout, config.heartbeatIntervalMs);

  return {
    app,
    rooms,
    node,
    listen: () => app.listen({ host: config.host, port: config.port }),
    async close() {
      if (closing) return;
      closing = true;
      stopHeartbeat();
      // Memberships are left to the grace period the other nodes give a dead node's members.
      departures.stop();
      for (const session of fanout.sessions()) session.reconnectElsewhere();
      await cluster?.stop();
      media.closeAll();
      await app.close();
      await store.close();
    },
  };
}

function openStore(config: Config, log: Logger, onRoundTrip: (seconds: number) => void): RoomStore {
  if (config.store.kind === 'redis') return new RedisRoomStore(config.store, config.history, log, onRoundTrip);
  return new MemoryRoomStore(config.history);
}

async function mediaPorts(config: Config): Promise<{ begin: number; end: number }> {
  if (config.media.ports.begin !== 0) return config.media.ports;
  const port = await freeUdpPort(config.media.bindAddress);
  return { begin: port, end: port };
}
