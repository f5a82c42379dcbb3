import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import { NetworkTraversalQuery } from '../../protocol/http.js';
import { iceServersFor } from '../../turn/turn-credentials.js';
import { ok } from './envelope.js';

/** What a client fetches before it talks to a room: ICE servers, the push token, health. */
export const serviceRoutes =
  (config: Config): FastifyPluginAsync =>
  async (plugin) => {
    const app = plugin.withTypeProvider<TypeBoxTypeProvider>();

    app.get('/network_transversal', { schema: { querystring: NetworkTraversalQuery } }, async (request) =>
      ok(iceServersFor(config, request.query.uuid)),
    );

    app.get('/api/fcm/token', async () => {
      if (!config.fcmServerToken) {
        throw new AppError('fcm_not_configured', 'no FCM server token is configured (FCM_SERVER_TOKEN)');
      }
      return ok({ token: config.fcmServerToken });
    });

    app.get('/healthz', async () => ok({ status: 'ok' }));
  };
