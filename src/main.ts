#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { JoinTokens } from './auth/join-tokens.js';
import { ConfigError, loadConfig } from './config.js';
import { MediaPortError } from './media/media-ports.js';
import { MintTokenBody } from './protocol/http.js';
import { describeErrors, validatorFor } from './protocol/validator.js';
import { createServer } from './server.js';

const USAGE = `usage:
  wigglypuff                                              run the server (configured by environment variables)
  wigglypuff token --room ROOM --uuid UUID [--ttl SECONDS] [--name NAME]
                                                          print a join token (needs API_KEY and JOIN_TOKEN_SECRET;
                                                          SECONDS from 10 to 604800, default 3600; NAME: display name)`;

async function serve(): Promise<void> {
  const config = loadConfig();
  const server = await createServer(config);
  const address = await server.listen();
  server.app.log.info({ address }, 'wigglypuff listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    server.app.log.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    const deadline = setTimeout(() => {
      server.app.log.error('shutdown took too long; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    server.close().then(
      () => {
        clearTimeout(deadline);
        process.exit(0);
      },
      (error: unknown) => {
        server.app.log.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

/** `wigglypuff token`: an operator mints a join token by hand. */
async function token(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { room: { type: 'string' }, uuid: { type: 'string' }, ttl: { type: 'string', default: '3600' }, name: { type: 'string' } },
  });
  const config = loadConfig();
  if (!config.auth) throw new ConfigError('JOIN_TOKEN_SECRET (and API_KEY) must be set to mint join tokens');
  const ttl = Number(values.ttl);
  const request = { room: values.room, uuid: values.uuid, ttl, ...(values.name !== undefined && { name: values.name }) };
  const validate = validatorFor(MintTokenBody);
  if (!validate(request)) throw new ConfigError(`${USAGE}\n(${describeErrors(validate)})`);
  const { token: minted, expiresAt } = await new JoinTokens(config.auth.joinTokenSecret).mint(
    request.room!,
    request.uuid!,
    ttl,
    Date.now(),
    values.name,
  );
  console.log(minted);
  console.error(`valid until ${new Date(expiresAt * 1000).toISOString()}`);
}

const [command, ...rest] = process.argv.slice(2);
const run = command === undefined ? serve() : command === 'token' ? token(rest) : Promise.reject(new ConfigError(USAGE));
run.catch((error: unknown) => {
  console.error(
    error instanceof ConfigError || error instanceof MediaPortError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
      ? (error as Error).message
      : error,
  );
  process.exit(1);
});
