import type { FastifyPluginAsync } from 'fastify';
import type { Access } from '../auth/access.js';
import type { Metrics } from './metrics.js';

/** `GET /metrics` in Prometheus text format; the API key when the server is closed. */
export const metricsRoute =
  (metrics: Metrics, access: Access): FastifyPluginAsync =>
  async (app) => {
    // preParsing: after the rate limit's onRequest hook, so key guessing is rate-limited too.
    app.get(
      '/metrics',
      { preParsing: async (request) => access.requireApiKey({ authorization: request.headers.authorization }) },
      async (_request, reply) => {
        void reply.type(metrics.registry.contentType);
        return metrics.registry.metrics();
      },
    );
  };
