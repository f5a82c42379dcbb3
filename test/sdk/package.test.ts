import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { createRoom, startServer, type TestServer } from '../support/server.js';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const sdk = join(root, 'sdk');

/**
 * The package as npm ships it: built, packed, unpacked into a project outside the repository (so
 * nothing resolves from the repository's node_modules), imported by plain Node and type-checked by
 * a strict TypeScript consumer without DOM or Node types.
 */
let dir: string;
let consumer: string;
let s: TestServer;
let packageFiles: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wigglypuff-sdk-pack-'));
  execFileSync(process.execPath, [join(sdk, 'scripts', 'build.mjs')], { stdio: 'pipe' });
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: sdk, encoding: 'utf8' }),
  );
  const [{ filename, files }] = packed as [{ filename: string; files: { path: string }[] }];
  packageFiles = files.map((file) => file.path).sort();
  consumer = join(dir, 'consumer');
  const installed = join(consumer, 'node_modules', '@wigglypuff', 'client');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['-xzf', join(dir, filename), '-C', installed, '--strip-components=1']);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  s = await startServer();
});
after(async () => {
  await s?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the tarball holds the build and the package manifest, nothing of the server but its wire vocabulary', () => {
  assert.ok(packageFiles.includes('package.json'));
  assert.ok(packageFiles.includes('dist/index.js'));
  assert.ok(packageFiles.includes('dist/index.d.ts'));
  assert.ok(packageFiles.includes('dist/protocol/server-messages.d.ts'));
  assert.ok(packageFiles.includes('dist/protocol/quran.js'), "the ayat table, the server's own");
  for (const file of packageFiles) {
    assert.match(file, /^(package\.json|README\.md|dist\/.+\.(js|js\.map|d\.ts))$/, file);
    // Of the server only its wire vocabulary: the types, and the two registries the SDK reads at run
    // time (the ayat table, the error and close-code registry), modules that import nothing.
    if (file.startsWith('dist/protocol/')) assert.match(file, /(\.d\.ts|^dist\/protocol\/(quran|errors)\.js)$/, file);
  }
});

test('plain Node imports it and joins a real server with it', async () => {
  await createRoom(s.http, 'packed', 'teacher');
  const script = join(consumer, 'run.mjs');
  writeFileSync(
    script,
    `import { RoomClient, AdminClient, AYAT_PER_SURA, predictRefusal } from '@wigglypuff/client';
import WebSocket from ${JSON.stringify(join(root, 'node_modules', 'ws', 'wrapper.mjs'))};
const [url, http] = process.argv.slice(2);
const rooms = await new AdminClient({ url: http }).listRooms();
const client = new RoomClient({ url, room: 'packed', uuid: 'teacher', WebSocket, keepAlive: false });
const state = await client.connect();
await client.moveSura(114);
const refusal = predictRefusal(client.state, { action: 'ClickAya', aya: 7 });
await client.clickAya(6);
console.log(JSON.stringify({ rooms, joined: state.members.length, sura: client.state.sura, aya: client.state.aya, last: AYAT_PER_SURA[113], refusal: refusal.code }));
client.close();
`,
  );
  // Not execFileSync: the server runs in this process and must go on answering.
  const { stdout } = await promisify(execFile)(process.execPath, [script, s.ws, s.http], {
    cwd: consumer,
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.deepEqual(JSON.parse(stdout), { rooms: ['packed'], joined: 1, sura: 114, aya: 6, last: 6, refusal: 'aya_out_of_range' });
});

test('a strict TypeScript consumer type-checks against the declarations alone (no DOM, no Node, no packages)', () => {
  const file = join(consumer, 'consumer.ts');
  writeFileSync(
    file,
    `import { RoomClient, SdkError, type ClientAction, type ConnectionStatus, type RoomSnapshot, type ServerFrame, type WebSocketConstructor } from '@wigglypuff/client';
declare const WebSocketClass: WebSocketConstructor;
const client = new RoomClient({ url: ['wss://a', 'wss://b'], room: 'r', uuid: 'u', WebSocket: WebSocketClass, token: async ({ reason }) => reason });
client.on('state', (state: RoomSnapshot) => state.members.map((member) => member.name ?? member.uuid));
client.on('connection', (status: ConnectionStatus) => (status.status === 'closed' ? status.reason : undefined));
client.on('event', (frame: ServerFrame) => (frame.action === 'Ack' ? frame.of : frame.seq));
const action: ClientAction = 'WithdrawCorrection';
export const done: Promise<number | undefined> = client.clickAya(3).then((ack) => ack.seq, (error: SdkError) => (error.code === 'aya_out_of_range' ? 0 : undefined));
export { action };
// @ts-expect-error: no such command
client.sendSignal({ action: 'Dance' });
`,
  );
  const program = ts.createProgram({
    rootNames: [file],
    options: {
      noEmit: true,
      strict: true,
      skipLibCheck: false,
      types: [],
      lib: ['lib.es2022.d.ts'],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
    },
  });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  assert.deepEqual(diagnostics, []);
});
