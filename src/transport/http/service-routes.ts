import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Access } from '../../auth/access.js';
import { AppError } from '../../protocol/errors.js';
import { MintTokenBody, NetworkTraversalQuery } from '../../protocol/http.js';
import { type IceConfig, iceServersFor } from '../../turn/turn-credentials.js';
import { ok } from './envelope.js';

const DEFAULT_TOKEN_TTL_S = 3600;

/** What a client fetches before it talks to a room (ICE servers, the push token, join tokens), and health. */
export interface NodeStatus {
  node: string;
  store: 'memory' | 'redis';
  /** False while the room store is unreachable or the node is shutting down. */
  ready(): boolean;
}

export const serviceRoutes =
  (config: IceConfig & { fcmServerToken: string | null }, status: NodeStatus, access: Access): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();
    const credentials = (request: { headers: { authorization?: string | undefined }; query: unknown }) => ({
      authorization: request.headers.authorization,
      token: (request.query as { token?: string }).token,
    });

    // TURN credentials are worth stealing: the API key or a join token (whose uuid names the TURN user).
    app.get('/network_transversal', { schema: { querystring: NetworkTraversalQuery } }, async (request) => {
      const claims = await access.requireApiKeyOrJoinToken(credentials(request));
      return ok(iceServersFor(config, claims?.uuid ?? request.query.uuid));
    });

    app.get('/api/fcm/token', async (request) => {
      access.requireApiKey(credentials(request));
      if (!config.fcmServerToken) {
        throw new AppError('fcm_not_configured', 'no FCM server token is configured (FCM_SERVER_TOKEN)');
      }
      return ok({ token: config.fcmServerToken });
    });

    // Liveness: the process answers; `auth` says whether anyone may manage rooms and join as anyone.
    app.get('/healthz', async () => ok({ status: 'ok', node: status.node, store: status.store, auth: access.open ? 'open' : 'closed' }));

    if (access.tokens) {
      const tokens = access.tokens;
      // The app's backend mints join tokens here, with the API key.
      app.post(
        '/api/token',
        { schema: { body: MintTokenBody }, preParsing: async (request) => access.requireApiKey(credentials(request)) },
        async (request) => {
          const { room, uuid, ttl, name } = request.body;
          const { token, expiresAt } = await tokens.mint(room, uuid, ttl ?? DEFAULT_TOKEN_TTL_S, Date.now(), name);
          return ok({ token, expires_at: expiresAt });
        },
      );
    }

    // Readiness: send this node traffic only while it can serve rooms.
    app.get('/readyz', async () => {
      if (!status.ready()) throw new AppError('unavailable', 'not ready: the room store is unreachable or the node is stopping');
      return ok({ ready: true });
    });
  };
