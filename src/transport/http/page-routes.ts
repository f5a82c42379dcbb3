import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

const PUBLIC_DIR = fileURLToPath(new URL('../../../public/', import.meta.url));

/** The small class page for trying a room by hand (and for the browser tests): `GET /`. */
export const pageRoutes = (): FastifyPluginAsync => async (app) => {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, index: ['index.html'] });
};
