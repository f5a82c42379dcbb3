import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';

const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** The small class page for trying a room by hand (and for the browser tests): `GET /`. */
export const pageRoutes = (): FastifyPluginAsync => async (app) => {
  // One route per file (no wildcard), so unknown paths keep their JSON 404 and bad URLs their 400.
  await app.register(fastifyStatic, { root: PUBLIC_DIR, index: ['index.html'], wildcard: false });
};
