import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import { AppError, CloseCode, isAppError } from '../../errors.js';
import { JoinParams } from '../../protocol/http.js';
import type { RoomService } from '../../room/room-service.js';
import type { RoomFanout } from './room-fanout.js';
import { Session, type SessionHandlers } from './session.js';

/**
 * `GET /api/room/join/{room_name}/{uuid}`: the room WebSocket. Bad names (400) and unknown rooms
 * (404) are refused with a JSON body before the upgrade.
 */
export const joinRoute =
  (rooms: RoomService, fanout: RoomFanout, log: Logger): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

    const handlers: SessionHandlers = {
      onMessage: (session, message) => rooms.act(session.room, session.uuid, message),
      onClose: (session) => {
        fanout.remove(session);
        rooms.leave(session.room, session.uuid, session.conn).catch((error: unknown) => {
          log.error({ err: error, room: session.room, uuid: session.uuid }, 'leave failed');
        });
      },
    };

    app.route({
      method: 'GET',
      url: '/api/room/join/:room_name/:uuid',
      schema: { params: JoinParams },
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
        const session = new Session(socket, room_name, uuid, handlers, log);
        fanout.add(session);
        try {
          const room = await rooms.join(room_name, uuid, session.conn);
          session.start(room);
        } catch (error) {
          const appError = isAppError(error) ? error : new AppError('internal_error', 'join failed');
          if (!isAppError(error)) log.error({ err: error, room: room_name, uuid }, 'join failed');
          session.sendError(appError);
          session.close(appError.code === 'room_not_found' ? CloseCode.roomDeleted : CloseCode.internalError);
        }
      },
    });
  };
