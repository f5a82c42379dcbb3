import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
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

test('the dashboard is served at /admin/ from the admin folder; /admin redirects there with its query', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wigglypuff-page-'));
  try {
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>class</title>');
    mkdirSync(join(dir, 'admin'));
    writeFileSync(join(dir, 'admin', 'index.html'), '<!doctype html><title>operators</title><script type="module" src="app.js"></script>');
    writeFileSync(join(dir, 'admin', 'app.js'), 'export {};');
    const app = await appServing(dir);
    const page = await app.inject({ method: 'GET', url: '/admin/' });
    assert.equal(page.statusCode, 200);
    assert.match(String(page.headers['content-type']), /^text\/html/);
    assert.match(page.body, /operators/);
    assert.equal((await app.inject({ method: 'GET', url: '/admin/app.js' })).statusCode, 200);
    const bare = await app.inject({ method: 'GET', url: '/admin' });
    assert.equal(bare.statusCode, 301);
    assert.equal(bare.headers.location, '/admin/');
    const readonly = await app.inject({ method: 'GET', url: '/admin?readonly=1' });
    assert.equal(readonly.headers.location, '/admin/?readonly=1');
    const unknown = await app.inject({ method: 'GET', url: '/admin/nope.js' });
    assert.equal(unknown.statusCode, 404);
    assert.equal(unknown.json().error.code, 'not_found');
    assert.equal((await app.inject({ method: 'GET', url: '/' })).statusCode, 200, 'the class page beside it');
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a checkout whose pages were never built answers / and /admin/ with a 404 envelope that says how to build them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wigglypuff-page-'));
  try {
    const app = await appServing(dir);
    const page = await app.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 404);
    assert.deepEqual(page.json(), {
      success: false,
      error: { code: 'not_found', message: 'the class page is not built: run `npm run build` (or `npm run build:web`)' },
    });
    const dashboard = await app.inject({ method: 'GET', url: '/admin/' });
    assert.equal(dashboard.statusCode, 404);
    assert.match(dashboard.json().error.message, /^the operator dashboard is not built/);
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file the build compressed is sent compressed to a client that accepts it, as it is, and plain to one that does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'wigglypuff-page-'));
  try {
    const text = JSON.stringify({ id: 2, ayat: Array.from({ length: 286 }, (_, i) => `aya ${i + 1}`) });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>class</title>');
    mkdirSync(join(dir, 'quran'));
    writeFileSync(join(dir, 'quran', 'sura-2.json'), text);
    writeFileSync(join(dir, 'quran', 'sura-2.json.br'), brotliCompressSync(text));
    writeFileSync(join(dir, 'quran', 'sura-2.json.gz'), gzipSync(text));
    const app = await appServing(dir);
    const brotli = await app.inject({ method: 'GET', url: '/quran/sura-2.json', headers: { 'accept-encoding': 'br, gzip' } });
    assert.equal(brotli.statusCode, 200);
    assert.equal(brotli.headers['content-encoding'], 'br');
    assert.match(String(brotli.headers['content-type']), /^application\/json/);
    assert.equal(brotliDecompressSync(brotli.rawPayload).toString(), text);
    const gzipped = await app.inject({ method: 'GET', url: '/quran/sura-2.json', headers: { 'accept-encoding': 'gzip' } });
    assert.equal(gzipped.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gzipped.rawPayload).toString(), text);
    const plain = await app.inject({ method: 'GET', url: '/quran/sura-2.json', headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body, text);
    await app.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
