import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Access } from '../../auth/access.js';
import type { NodeRegistry } from '../../cluster/node-registry.js';
import { ROOMS_PAGE_DEFAULT, RoomsQuery } from '../../protocol/http.js';
import type { NodeStatus } from '../../protocol/operator.js';
import { ok } from './envelope.js';
import type { RoomSummaries } from './room-summaries.js';

/** What an operator dashboard reads: `GET /api/nodes` and `GET /api/rooms`; the API key when the server is closed. */
export const operatorRoutes =
  (nodes: NodeRegistry, summaries: RoomSummaries, access: Access): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    app.addHook('preParsing', async (request) => access.requireApiKey({ authorization: request.headers.authorization }));

    // Every node whose heartbeat has not lapsed, as it last reported itself.
    app.get('/api/nodes', async () => {
      const live = await nodes.liveNodes();
      const statuses: NodeStatus[] = live.flatMap(({ node, status }) => (status ? [{ node, ...status, self: node === nodes.node }] : []));
      return ok(statuses.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)));
    });

    app.get('/api/rooms', { schema: { querystring: RoomsQuery } }, async (request) => {
      const { limit, after } = request.query;
      return ok(await summaries.page(limit === undefined ? ROOMS_PAGE_DEFAULT : Number(limit), after));
    });
  };
