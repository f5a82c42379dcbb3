import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Logger } from 'pino';
import type { Access } from '../../auth/access.js';
import type { MediaRouter } from '../../cluster/media-router.js';
import { isMediaCommand, type MediaCommand } from '../../protocol/client-messages.js';
import { AppError, CloseCode, ERRORS, type ErrorSpec, isAppError } from '../../protocol/errors.js';
import { JoinParams, JoinQuery } from '../../protocol/http.js';
import type { RoomService } from '../../room/room-service.js';
import type { Departures } from './departures.js';
import type { RoomFanout } from './room-fanout.js';
import { Session, type SessionHandlers, type SessionOptions } from './session.js';

export interface JoinRouteDeps {
  rooms: RoomService;
  fanout: RoomFanout;
  departures: Departures;
  /** Where each room's media is; its messages for this node's connections come back through it. */
  media: MediaRouter;
  access: Access;
  sessionOptions: SessionOptions;
  maxConnectionsPerAddress: number;
  /** This node's identity in room memberships. */
  node: string;
  log: Logger;
}

/**
 * `GET /api/room/join/{room_name}/{uuid}[?last_seq=N]`: the room WebSocket. Bad names (400) and
 * unknown rooms (404) are refused with a JSON body before the upgrade.
 */
export const joinRoute =
  ({ rooms, fanout, departures, media, access, sessionOptions, maxConnectionsPerAddress, node, log }: JoinRouteDeps): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    /** The display name a join token gave, by request (checked before the upgrade, used after it). */
    const tokenNames = new WeakMap<object, string>();
    /** Open WebSockets by client address, on this node. */
    const connectionsFrom = new Map<string, number>();

    const refOf = (session: Session) => ({ uuid: session.uuid, conn: session.conn, node });
    media.onMessage((to, message) => fanout.session(to.conn)?.notify(message));

    const signal = async (session: Session, message: MediaCommand): Promise<undefined> => {
      // Refusals come back through media.onMessage, naming the command and its id.
      if (message.action === 'SessionDescription') {
        await media.offer(session.room, refOf(session), message.sdp, message.id);
        return;
      }
      // An empty candidate ends the client's gathering: the server's peer needs nothing for it.
      if (message.candidate === '') return;
      const mid = message.sdpMid ?? String(message.sdpMLineIndex ?? 0);
      await media.candidate(session.room, refOf(session), message.candidate, mid, message.id);
    };

    const handlers: SessionHandlers = {
      onMessage: (session, message, reply) =>
        isMediaCommand(message) ? signal(session, message) : rooms.act(session.room, session.uuid, message, reply),
      onClose: (session, dropped) => {
        fanout.remove(session);
        if (dropped) departures.lost(session);
        else departures.closed(session);
        void media.connectionClosed(session.room, refOf(session));
      },
    };

    app.route({
      method: 'GET',
      url: '/api/room/join/:room_name/:uuid',
      schema: { params: JoinParams, querystring: JoinQuery },
      preHandler: async (request) => {
        const { room_name, uuid } = request.params as JoinParams;
        const { token } = request.query as JoinQuery;
        const claims = await access.requireJoin({ token }, room_name, uuid);
        // The token's name wins over the query's.
        if (claims?.name !== undefined) tokenNames.set(request.raw, claims.name);
        if ((connectionsFrom.get(request.ip) ?? 0) >= maxConnectionsPerAddress) {
          throw new AppError('too_many_connections', `at most ${maxConnectionsPerAddress} connections from one address`);
        }
        await rooms.checkJoin(room_name, uuid);
      },
      handler: async () => {
        throw new AppError('upgrade_required', 'this endpoint speaks WebSocket only');
      },
      wsHandler: async (socket, request) => {
        const { room_name, uuid } = request.params;
        const lastSeq = request.query.last_seq === undefined ? undefined : Number(request.query.last_seq);
        const displayName = tokenNames.get(request.raw) ?? request.query.name;
        const session = new Session(socket, request.raw.socket, room_name, uuid, sessionOptions, handlers, log);
        const address = request.ip;
        connectionsFrom.set(address, (connectionsFrom.get(address) ?? 0) + 1);
        socket.once('close', () => {
          const left = (connectionsFrom.get(address) ?? 1) - 1;
          if (left > 0) connectionsFrom.set(address, left);
          else connectionsFrom.delete(address);
        });
        try {
          await fanout.add(session);
          const room = await rooms.join(room_name, uuid, session.conn, node, displayName);
          fanout.joinedAt(room_name, room.seq);
          if (lastSeq === undefined) {
            session.start(room);
          } else {
            const missed = lastSeq <= room.seq ? await rooms.missedEvents(room_name, lastSeq) : null;
            if (missed) session.resume(lastSeq, missed);
            else session.start(room, true);
          }
        } catch (error) {
          const appError = isAppError(error) ? error : new AppError('internal_error', 'join failed');
          if (!isAppError(error)) log.error({ err: error, room: room_name, uuid }, 'join failed');
          session.sendError(appError);
          session.close(joinFailureCloseCode(appError));
        }
      },
    });
  };

/** A join failing after the upgrade closes with its error's close code (the registry's), else 1011. */
function joinFailureCloseCode(error: AppError): number {
  const spec: ErrorSpec = ERRORS[error.code];
  return spec.close ?? CloseCode.internalError;
}
