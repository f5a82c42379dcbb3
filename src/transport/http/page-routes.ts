import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../protocol/errors.js';

/**
 * The class page as built by `npm run build` (scripts/build-web.mjs bundles web/class/ and the SDK):
 * dist/public/ at the repository's root, three folders up from this file in src/ and in dist/ alike.
 */
export const PAGE_DIR = fileURLToPath(new URL('../../../dist/public/', import.meta.url));

/** The class page for trying a room by hand (and for the browser tests): `GET /`. */
export const pageRoutes =
  (dir: string = PAGE_DIR): FastifyPluginAsync =>
  async (app) => {
    if (!existsSync(join(dir, 'index.html'))) {
      // A checkout that was never built says so, instead of the bare 404 of an unknown route.
      app.get('/', async () => {
        throw new AppError('not_found', 'the class page is not built: run `npm run build` (or `npm run build:web`)');
      });
      return;
    }
    // One route per file (no wildcard), so unknown paths keep their JSON 404 and bad URLs their 400.
    await app.register(fastifyStatic, { root: dir, index: ['index.html'], wildcard: false });
  };
