import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { AppError, CloseCode, isAppError } from '../../errors.js';
import { JoinParams, JoinQuery } from '../../protocol/http.js';
import type { RoomService } from '../../room/room-service.js';
import type { Departures } from './departures.js';
import type { RoomFanout } from './room-fanout.js';
import { Session, type SessionHandlers } from './session.js';

export interface JoinRouteDeps {
  rooms: RoomService;
  fanout: RoomFanout;
  departures: Departures;
  /** This node's identity in room memberships. */
  node: string;
  log: Logger;
}

/**
 * `GET /api/room/join/{room_name}/{uuid}[?last_seq=N]`: the room WebSocket. Bad names (400) and
 * unknown rooms (404) are refused with a JSON body before the upgrade.
 */
export const joinRoute =
  ({ rooms, fanout, departures, node, log }: JoinRouteDeps): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

    const handlers: SessionHandlers = {
      onMessage: (session, message) => rooms.act(session.room, session.uuid, message),
      onClose: (session, dropped) => {
        fanout.remove(session);
        departures.closed(session, dropped);
      },
    };

    app.route({
      method: 'GET',
      url: '/api/room/join/:room_name/:uuid',
      schema: { params: JoinParams, querystring: JoinQuery },
      preHandler: async (request) => {
        const { room_name } = request.params as JoinParams;
        if (!(await rooms.exists(room_name))) {
          throw new AppError('room_not_found', `room ${room_name} does not exist`);
        }
      },
      handler: async () => {
        throw new AppError('upgrade_required', 'this endpoint speaks WebSocket only');
      },
      wsHandler: async (socket, request) => {
        const { room_name, uuid } = request.params;
        const lastSeq = request.query.last_seq === undefined ? undefined : Number(request.query.last_seq);
        const session = new Session(socket, room_name, uuid, handlers, log);
        try {
          await fanout.add(session);
          const room = await rooms.join(room_name, uuid, session.conn, node);
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

function joinFailureCloseCode(error: AppError): number {
  if (error.code === 'room_not_found') return CloseCode.roomDeleted;
  if (error.code === 'unavailable') return CloseCode.tryAgainLater;
  return CloseCode.internalError;
}
