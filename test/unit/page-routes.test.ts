import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { installErrorEnvelope } from '../../src/transport/http/envelope.js';
import { PAGE_DIR, pageRoutes } from '../../src/transport/http/page-routes.js';

async function appServing(dir: string) {
  const app = Fastify();
  installErrorEnvelope(app);
  await app.register(pageRoutes(dir));
  await app.ready();
  return app;
}

test('the class page is served from dist/public at the repository root (where scripts/build-web.mjs builds it)', () => {
  assert.equal(resolve(PAGE_DIR), resolve(fileURLToPath(new URL('../../dist/public/', import.meta.url))));
});

test('a built page is served file by file; other paths keep their JSON 404', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wigglypuff-page-'));
  try {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="app.js"></script>');
    writeFileSync(join(dir, 'app.js'), 'export {};');
    const app = await appServing(dir);
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /app\.js/);
    const script = await app.inject({ method: 'GET', url: '/app.js' });
    assert.equal(script.statusCode, 200);
    assert.match(String(script.headers['content-type']), /javascript/);
    const unknown = await app.inject({ method: 'GET', url: '/nope.js' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'not_found');
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkout whose page was never built answers / with a 404 envelope that says how to build it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wigglypuff-page-'));
  try {
    const app = await appServing(dir);
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 404);
    assert.deepEqual(page.json(), {
      success: false,
      error: { code: 'not_found', message: 'the class page is not built: run `npm run build` (or `npm run build:web`)' },
    });
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
