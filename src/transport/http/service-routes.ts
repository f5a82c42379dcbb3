import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';
import { NetworkTraversalQuery } from '../../protocol/http.js';
import { iceServersFor } from '../../turn/turn-credentials.js';
import { ok } from './envelope.js';

/** What a client fetches before it talks to a room (ICE servers, the push token), and health. */
export interface NodeStatus {
  node: string;
  store: 'memory' | 'redis';
  /** False while the room store is unreachable or the node is shutting down. */
  ready(): boolean;
}

export const serviceRoutes =
  (config: Config, status: NodeStatus): FastifyPluginAsync =>
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

    /** Liveness: the process answers. */
    app.get('/healthz', async () => ok({ status: 'ok', node: status.node, store: status.store }));

    /** Readiness: send this node traffic only while it can serve rooms. */
    app.get('/readyz', async () => {
      if (!status.ready()) throw new AppError('unavailable', 'not ready: the room store is unreachable or the node is stopping');
      return ok({ ready: true });
    });
  };
