import { createHmac, randomUUID } from 'node:crypto';

export type TurnConfig =
  | { mode: 'none' }
  | { mode: 'static'; urls: string[]; username: string; credential: string }
  | { mode: 'secret'; urls: string[]; secret: string; ttlSeconds: number };

/** The STUN and TURN servers clients (and the SFU's own peers) are given. */
export interface IceConfig {
  stunAddress: string;
  turn: TurnConfig;
}

export interface IceServers {
  stun: { address: string };
  turn: { address: string; username: string; credential: string }[];
  /** Seconds the TURN credentials stay valid; only when they are minted from TURN_SECRET. */
  ttl?: number;
}

/**
 * coturn's `use-auth-secret` (the TURN REST API scheme): the username is `<unix expiry>:<id>` and the
 * password is base64(HMAC-SHA1(secret, username)), so coturn can check it without a database.
 */
export function mintTurnCredential(secret: string, id: string, ttlSeconds: number, nowMs = Date.now()) {
  const username = `${Math.floor(nowMs / 1000) + ttlSeconds}:${id}`;
  const credential = createHmac('sha1', secret).update(username).digest('base64');
  return { username, credential };
}

/**
 * The same servers in libdatachannel's URL form, for the SFU's own peers (`turn:user:pass@host:port`).
 * In secret mode the server mints itself credentials like any client.
 */
export function serverIceServers(config: IceConfig): string[] {
  const { stun, turn } = iceServersFor(config, 'wigglypuff-server');
  const urls = stun.address ? [stun.address] : [];
  for (const server of turn) {
    const match = /^(turns?):([^?]+)(\?transport=(\w+))?$/.exec(server.address);
    if (!match) continue;
    const auth = `${encodeURIComponent(server.username)}:${encodeURIComponent(server.credential)}@`;
    urls.push(`${match[1]}:${auth}${match[2]}${match[4] === 'tcp' ? '?transport=tcp' : ''}`);
  }
  return urls;
}

export function iceServersFor(config: IceConfig, id?: string): IceServers {
  const turn: TurnConfig = config.turn;
  const stun = { address: config.stunAddress };
  switch (turn.mode) {
    case 'none':
      return { stun, turn: [] };
    case 'static':
      return {
        stun,
        turn: turn.urls.map((address) => ({ address, username: turn.username, credential: turn.credential })),
      };
    case 'secret': {
      const { username, credential } = mintTurnCredential(turn.secret, id ?? randomUUID(), turn.ttlSeconds);
      return {
        stun,
        turn: turn.urls.map((address) => ({ address, username, credential })),
        ttl: turn.ttlSeconds,
      };
    }
  }
}
