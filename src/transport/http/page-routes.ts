import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { AppError } from '../../protocol/errors.js';

/**
 * The web apps as built by `npm run build` (scripts/build-web.mjs bundles web/class/, web/admin/ and
 * the SDK): dist/public/ at the repository's root, three folders up from this file in src/ and in
 * dist/ alike. The class app is its root, the operator dashboard its admin/ folder.
 */
export const PAGE_DIR = fileURLToPath(new URL('../../../dist/public/', import.meta.url));

const NOT_BUILT = 'is not built: run `npm run build` (or `npm run build:web`)';

/**
 * The class page for trying a room by hand (and for the browser tests) at `GET /`, and the operator
 * dashboard at `GET /admin/` (`/admin` redirects there, so its relative app.js and style.css resolve).
 */
export const pageRoutes =
  (dir: string = PAGE_DIR): FastifyPluginAsync =>
  async (app) => {
    // The query survives the redirect: /admin?readonly=1 opens the dashboard read-only.
    app.get('/admin', async (request, reply) => {
      const query = request.url.indexOf('?');
      return reply.redirect(`/admin/${query >= 0 ? request.url.slice(query) : ''}`, 301);
    });
    if (!existsSync(join(dir, 'admin', 'index.html'))) {
      app.get('/admin/', async () => {
        throw new AppError('not_found', `the operator dashboard ${NOT_BUILT}`);
      });
    }
    if (!existsSync(join(dir, 'index.html'))) {
      // A checkout that was never built says so, instead of the bare 404 of an unknown route.
      app.get('/', async () => {
        throw new AppError('not_found', `the class page ${NOT_BUILT}`);
      });
    }
    if (!existsSync(dir)) return;
    // One route per file (no wildcard), so unknown paths keep their JSON 404 and bad URLs their 400.
    // Each folder holding an index.html (/ and /admin/) is served its index.html by @fastify/static.
    // Its `redirect` option is left off: without the wildcard it adds the route "" for the root, which
    // Fastify refuses ("The path could not be empty"); /admin has its own redirect above.
    // preCompressed: the build leaves a .br and a .gz beside each text file (scripts/build-web.mjs), sent as they are.
    await app.register(fastifyStatic, { root: dir, index: ['index.html'], wildcard: false, preCompressed: true });
  };
