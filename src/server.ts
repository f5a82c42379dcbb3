import { randomBytes } from 'node:crypto';
import rateLimit from '@fastify/rate-limit';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import { type Logger, pino } from 'pino';
import { Access } from './auth/access.js';
import { openCluster } from './cluster/cluster.js';
import type { Config } from './config.js';
import { MediaEngine } from './media/media-engine.js';
import { MediaPorts } from './media/media-ports.js';
import { Metrics } from './observability/metrics.js';
import { metricsRoute } from './observability/metrics-route.js';
import { NodeStatusProbe } from './observability/node-status-probe.js';
import { AppError } from './protocol/errors.js';
import { validatorFor } from './protocol/validator.js';
import { RoomService } from './room/room-service.js';
import { clientErrorHandler, frameworkErrors, installErrorEnvelope } from './transport/http/envelope.js';
import { OperatorEvents } from './transport/http/operator-events.js';
import { operatorRoutes } from './transport/http/operator-routes.js';
import { pageRoutes } from './transport/http/page-routes.js';
import { roomRoutes } from './transport/http/room-routes.js';
import { RoomSummaries } from './transport/http/room-summaries.js';
import { serviceRoutes } from './transport/http/service-routes.js';
import { Departures } from './transport/ws/departures.js';
import { startHeartbeat } from './transport/ws/heartbeat.js';
import { joinRoute } from './transport/ws/join-route.js';
import { Outbox } from './transport/ws/outbox.js';
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
  logger?: Logger;
}

/**
 * Wires one node and nothing more: the media ports and SFU, the cluster (chosen once from the
 * configuration), the room service, and the HTTP and WebSocket transports on top. No request
 * passes through here.
 */
export async function createServer(config: Config, options: ServerOptions = {}): Promise<Wigglypuff> {
  const log = options.logger ?? pino({ level: config.logLevel });
  // Memberships name the process, not just the node, so a restarted node never owns its past members.
  const node = `${config.nodeId}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const access = new Access(config.auth);
  if (access.open) log.warn('OPEN SERVER: no API_KEY/JOIN_TOKEN_SECRET, so anyone may manage rooms and join as anyone');

  // Held from here to close: a media port that cannot be bound stops the start (MediaPortError).
  const ports = await MediaPorts.open(config.media.ports, config.media.bindAddress);
  const media = new MediaEngine({
    slots: config.media.audioSlots,
    dtx: config.media.dtx,
    network: {
      iceServers: () => serverIceServers(config),
      bindAddress: config.media.bindAddress,
      announceAddress: config.media.announceAddress,
    },
    ports,
    log,
  });
  const metrics: Metrics = new Metrics({
    connections: () => fanout.connectionCount,
    users: () => fanout.userCount,
    activeRooms: () => fanout.roomCount,
    rooms: () => cluster.store.count(),
    mediaParticipants: () => media.load,
    operatorStreams: () => operatorEvents.size,
  });
  const probe = new NodeStatusProbe(config.host, config.port, {
    rooms: () => fanout.roomCount,
    sockets: () => fanout.connectionCount,
    mediaPeers: () => media.load,
  });
  const cluster = openCluster({
    store: config.store,
    history: config.history,
    reconnectGraceMs: config.reconnectGraceMs,
    node,
    media,
    status: () => probe.status(),
    log,
    onRoundTrip: (seconds) => metrics.redisRoundTrip.observe(seconds),
  });
  const { store } = cluster;
  const rooms = new RoomService(store, log, config.limits);
  cluster.nodes.onDeadNode((dead) => rooms.evictNode(dead));
  const fanout = new RoomFanout(cluster.events, log, (action, count) => metrics.messagesOut.inc({ action }, count));
  store.onReconnect(() => metrics.redisReconnects.inc());
  const departures = new Departures(rooms, config.reconnectGraceMs, log);
  const operatorEvents = new OperatorEvents(cluster.events, rooms, access, {
    onDropped: (count) => metrics.operatorEventsDropped.inc(count),
  });
  let closing = false;
  await cluster.start();

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
  const summaries = new RoomSummaries(rooms, cluster.media);
  await app.register(roomRoutes(rooms, summaries, access));
  await app.register(operatorRoutes(cluster.nodes, summaries, access));
  await app.register(operatorEvents.routes());
  await app.register(pageRoutes());
  await app.register(serviceRoutes(config, { node, store: config.store.kind, ready: () => !closing && store.isReady() }, access));
  await app.register(metricsRoute(metrics, access));
  const observer: SessionObserver = {
    received: (action) => metrics.messagesIn.inc({ action }),
    sent: (action, count = 1) => metrics.messagesOut.inc({ action }, count),
    error: (code) => metrics.errors.inc({ code, transport: 'websocket' }),
    rateLimited: () => metrics.rateLimited.inc({ transport: 'websocket' }),
    slowConsumer: () => metrics.slowConsumers.inc(),
  };
  await app.register(
    joinRoute({
      rooms,
      fanout,
      departures,
      media: cluster.media,
      access,
      sessionOptions: {
        audioSlots: config.media.audioSlots,
        rate: config.limits.wsRate,
        sendBufferLimitBytes: config.limits.sendBufferLimitBytes,
        outbox: new Outbox(log),
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
    async listen() {
      const address = await app.listen({ host: config.host, port: config.port });
      const bound = app.server.address();
      if (bound && typeof bound === 'object') probe.listening(bound.port);
      return address;
    },
    async close() {
      if (closing) return;
      closing = true;
      stopHeartbeat();
      // Memberships are left to the grace period the other nodes give a dead node's members.
      departures.stop();
      for (const session of fanout.sessions()) session.reconnectElsewhere();
      // Event streams never end by themselves: ended first, or the listener would wait for them.
      operatorEvents.close();
      await app.close();
      await cluster.close();
      media.close();
    },
  };
}
