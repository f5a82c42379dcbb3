// Builds the SDK package into sdk/dist: JavaScript and declarations, self-contained.
//
// The SDK takes its wire types from the server's src/protocol with type-only imports, so they cannot
// drift. Those imports vanish from the JavaScript, but the declarations keep them; so this build
// ships the declarations of the server modules they reach, under dist/protocol/, and flattens any of
// them that depends on a package (client-messages.ts builds its types with typebox) into plain
// types the compiler resolves here. It then checks the result: no JavaScript reaches outside the
// package, no declaration imports a package, and the declarations type-check on their own.
//
// Usage: node sdk/scripts/build.mjs [--out <dir>] (or `npm run build:sdk` at the root, `npm run build`
// in sdk/). The output goes to sdk/dist unless --out names another directory (tests build their own).
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const sdk = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(sdk, '..');
const outFlag = process.argv.indexOf('--out');
const dist = outFlag >= 0 && process.argv[outFlag + 1] ? resolve(process.argv[outFlag + 1]) : join(sdk, 'dist');
const staging = mkdtempSync(join(tmpdir(), 'wigglypuff-sdk-'));

function fail(message) {
  rmSync(staging, { recursive: true, force: true });
  console.error(`build:sdk: ${message}`);
  process.exit(1);
}

function report(diagnostics) {
  if (diagnostics.length === 0) return;
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => '\n' };
  fail(`\n${ts.formatDiagnosticsWithColorAndContext(diagnostics, host)}`);
}

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? walk(join(dir, entry.name)) : [join(dir, entry.name)],
  );

// 1. Compile (rootDir is the repository, so the output mirrors it: staging/sdk/src, staging/src/protocol).
const parsed = ts.getParsedCommandLineOfConfigFile(
  join(sdk, 'tsconfig.json'),
  { outDir: staging },
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => report([diagnostic]),
  },
);
if (!parsed) fail('cannot read sdk/tsconfig.json');
report(parsed.errors);
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
const emit = program.emit();
report([...ts.getPreEmitDiagnostics(program), ...emit.diagnostics]);

// 2. Server modules whose declarations import a package: flattened into plain exported types.
const checker = program.getTypeChecker();
const bareImport = /\bfrom\s+['"](?![./])([^'"]+)['"]|\bimport\(\s*['"](?![./])([^'"]+)['"]\s*\)/;
for (const source of program.getSourceFiles()) {
  const file = source.fileName;
  if (!file.startsWith(`${root}/src/`)) continue;
  const declaration = join(staging, relative(root, file)).replace(/\.ts$/, '.d.ts');
  const text = readFileSync(declaration, 'utf8');
  if (!bareImport.test(text)) continue;
  const module = checker.getSymbolAtLocation(source);
  const lines = [
    `// Flattened from ${relative(root, file)} by sdk/scripts/build.mjs: its types, resolved, without the packages it builds them with.`,
  ];
  for (const symbol of checker.getExportsOfModule(module)) {
    if (!(symbol.flags & (ts.SymbolFlags.TypeAlias | ts.SymbolFlags.Interface))) continue;
    const type = checker.getDeclaredTypeOfSymbol(symbol);
    const shown = checker.typeToString(
      type,
      undefined,
      ts.TypeFormatFlags.NoTruncation | ts.TypeFormatFlags.InTypeAlias | ts.TypeFormatFlags.UseSingleQuotesForStringLiteralType,
    );
    lines.push(`export type ${symbol.name} = ${shown};`);
  }
  writeFileSync(declaration, `${lines.join('\n')}\n`);
}

// 3. The package layout: dist/*.js and *.d.ts (the SDK), dist/protocol/*.d.ts (the server's wire types).
const stagedSdk = join(staging, 'sdk', 'src');
const stagedProtocol = join(staging, 'src', 'protocol');
/** src/protocol modules the SDK's JavaScript imports (values, not only types). */
const protocolValues = new Set();
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
for (const file of walk(stagedSdk)) {
  const target = join(dist, relative(stagedSdk, file));
  mkdirSync(dirname(target), { recursive: true });
  let text = readFileSync(file, 'utf8');
  if (file.endsWith('.js')) {
    if (/['"](\.\.\/)+src\/(?!protocol\/)/.test(text)) fail(`${relative(staging, file)} imports the server at run time`);
    for (const [, name] of text.matchAll(/['"](?:\.\.\/)+src\/protocol\/([\w-]+)\.js['"]/g)) protocolValues.add(name);
  }
  text = text.replaceAll(/(['"])\.\.\/\.\.\/src\/protocol\//g, '$1./protocol/');
  writeFileSync(target, text);
}
mkdirSync(join(dist, 'protocol'), { recursive: true });
for (const file of walk(stagedProtocol)) {
  if (file.endsWith('.d.ts')) cpSync(file, join(dist, 'protocol', relative(stagedProtocol, file)));
}
// The server's wire data the SDK uses at run time (the ayat table): shipped as it is, so the two
// can never differ. Such a module must stand alone: no import of anything.
for (const name of protocolValues) {
  const text = readFileSync(join(stagedProtocol, `${name}.js`), 'utf8');
  if (/^\s*import[\s{*'"]|^\s*export\s*(\*|\{[^}]*\})\s*from\s/m.test(text) || /\bimport\(/.test(text)) {
    fail(`src/protocol/${name}.ts is used by the SDK at run time, so it may import nothing`);
  }
  writeFileSync(join(dist, 'protocol', `${name}.js`), text);
}
rmSync(staging, { recursive: true, force: true });

// 4. Only the declarations the SDK's reach are shipped, and none imports a package.
const reachable = new Set();
const visit = (file) => {
  if (reachable.has(file)) return;
  reachable.add(file);
  const text = readFileSync(file, 'utf8');
  const bare = text.match(bareImport);
  if (bare) fail(`${relative(dist, file)} imports the package ${bare[1] ?? bare[2]}: the package would not be self-contained`);
  for (const [, specifier] of text.matchAll(/(?:\bfrom\s+|\bimport\(\s*)['"](\.[^'"]+)['"]/g)) {
    visit(resolve(dirname(file), specifier.replace(/\.js$/, '.d.ts')));
  }
};
visit(join(dist, 'index.d.ts'));
// (The JavaScript there is only the data modules shipped above.)
for (const file of walk(join(dist, 'protocol'))) {
  if (file.endsWith('.d.ts') && !reachable.has(file)) rmSync(file);
}

// 5. The declarations type-check on their own: no DOM, no Node, no packages.
const check = ts.createProgram({
  rootNames: [join(dist, 'index.d.ts')],
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
report(ts.getPreEmitDiagnostics(check));
console.log(`build:sdk: ${relative(root, dist)} (${walk(dist).length} files)`);
