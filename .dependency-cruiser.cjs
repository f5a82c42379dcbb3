/**
 * The layer check `npm test` runs (dependency-cruiser): the folders of src/, sdk/src/ and web/ form
 * no import cycle, the bottom layers stay at the bottom, and the client (the SDK, the page) stands on
 * the wire vocabulary alone. See the README's layout for what each folder is.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycle',
      comment: 'Folders import each other in one direction only (protocol at the bottom, server.ts at the top).',
      severity: 'error',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-module-cycle',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'protocol-at-the-bottom',
      comment: 'The wire vocabulary depends on nothing else of the server.',
      severity: 'error',
      from: { path: '^src/protocol/' },
      to: { path: '^src/', pathNot: '^src/protocol/' },
    },
    {
      name: 'media-knows-only-protocol',
      comment: 'The SFU is driven by the layers above it and never reads the store (nor the room logic).',
      severity: 'error',
      from: { path: '^src/media/' },
      to: { path: '^src/', pathNot: '^src/(media|protocol)/' },
    },
    {
      name: 'room-is-pure',
      comment: 'The room layer knows the wire vocabulary and nothing else of the server: no transport, no Redis, no media.',
      severity: 'error',
      from: { path: '^src/room/' },
      to: { path: '^src/', pathNot: '^src/(room|protocol)/' },
    },
    {
      name: 'nothing-imports-the-composition',
      comment: 'main.ts, server.ts and config.ts wire the layers; no layer imports them.',
      severity: 'error',
      from: { path: '^src/[^/]+/' },
      to: { path: '^src/[^/]+\\.ts$' },
    },
    {
      name: 'sdk-knows-only-protocol',
      comment: 'The client SDK stands on the wire vocabulary alone: it never imports the server, nor the page.',
      severity: 'error',
      from: { path: '^sdk/src/' },
      to: { pathNot: '^(sdk/src|src/protocol)/|^node_modules/|^node:' },
    },
    {
      name: 'nothing-below-imports-the-client',
      comment: 'The server never imports the SDK or the page; the SDK never imports the page.',
      severity: 'error',
      from: { path: '^(src|sdk)/' },
      to: { path: '^web/' },
    },
    {
      name: 'server-ignores-the-sdk',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^sdk/' },
    },
    {
      name: 'page-stands-on-the-sdk',
      comment: 'The class page speaks to the server only through the SDK.',
      severity: 'error',
      from: { path: '^web/' },
      to: { pathNot: '^(web|sdk/src|src/protocol)/|^node_modules/|^node:' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
