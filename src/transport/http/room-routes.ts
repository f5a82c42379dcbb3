import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Access } from '../../auth/access.js';
import { CreateRoomBody, DeleteRoomBody, KickUserBody, RoomParams } from '../../protocol/http.js';
import type { RoomService } from '../../room/room-service.js';
import { ok } from './envelope.js';
import type { RoomSummaries } from './room-summaries.js';

/** The seed's room management endpoints, plus `GET /api/room/{name}` (a RoomSummary); the API key when the server is closed. */
export const roomRoutes =
  (rooms: RoomService, summaries: RoomSummaries, access: Access): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    // After the rate limit (onRequest), before the body is read: no key, no further answer.
    app.addHook('preParsing', async (request) => access.requireApiKey({ authorization: request.headers.authorization }));

    app.post('/api/room/create', { schema: { body: CreateRoomBody } }, async (request) => {
      await rooms.create(request.body.name, request.body.master_uuid);
      return ok('room created');
    });

    app.get('/api/room/all', async () => ok(await rooms.list()));

    app.post('/api/room/delete', { schema: { body: DeleteRoomBody } }, async (request) => {
      await rooms.delete(request.body.name);
      return ok('room deleted');
    });

    app.post('/api/room/kick', { schema: { body: KickUserBody } }, async (request) => {
      await rooms.kick(request.body.room_name, request.body.uuid);
      return ok('user kicked');
    });

    app.get('/api/room/:name', { schema: { params: RoomParams } }, async (request) => ok(await summaries.get(request.params.name)));
  };
