import { errors, jwtVerify, SignJWT } from 'jose';
import { AppError } from '../protocol/errors.js';
import { isDisplayName } from '../protocol/names.js';

const AUDIENCE = 'wigglypuff-join';

export interface JoinClaims {
  room: string;
  uuid: string;
  /** Unix seconds. */
  expiresAt: number;
  /** The display name the token gives its holder, when it gives one (it wins over `?name=`). */
  name?: string;
}

/**
 * Join tokens: HS256 JWTs (jose) that let one uuid into one room until they expire. The app's
 * backend mints them (`POST /api/token`, or `wigglypuff token` for operators); browsers pass them as
 * `?token=` because they cannot set headers on a WebSocket.
 */
export class JoinTokens {
  private readonly key: Uint8Array;

  constructor(secret: string) {
    this.key = new TextEncoder().encode(secret);
  }

  async mint(
    room: string,
    uuid: string,
    ttlSeconds: number,
    nowMs = Date.now(),
    name?: string,
  ): Promise<{ token: string; expiresAt: number }> {
    const issuedAt = Math.floor(nowMs / 1000);
    const expiresAt = issuedAt + ttlSeconds;
    const token = await new SignJWT(name === undefined ? { room } : { room, name })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(uuid)
      .setAudience(AUDIENCE)
      .setIssuedAt(issuedAt)
      .setExpirationTime(expiresAt)
      .sign(this.key);
    return { token, expiresAt };
  }

  /** The token's claims; `unauthorized` when it is forged, expired or malformed. */
  async verify(token: string): Promise<JoinClaims> {
    try {
      const { payload } = await jwtVerify(token, this.key, { algorithms: ['HS256'], audience: AUDIENCE });
      if (typeof payload.room !== 'string' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') {
        throw new AppError('unauthorized', 'the join token lacks its room, uuid or expiry');
      }
      if (payload.name !== undefined && !isDisplayName(payload.name)) {
        throw new AppError('unauthorized', 'the join token has an invalid name: 1..64 characters, no control characters');
      }
      const claims: JoinClaims = { room: payload.room, uuid: payload.sub, expiresAt: payload.exp };
      if (payload.name !== undefined) claims.name = payload.name;
      return claims;
    } catch (error) {
      if (error instanceof AppError) throw error;
      if (error instanceof errors.JWTExpired) throw new AppError('unauthorized', 'the join token has expired');
      throw new AppError('unauthorized', 'the join token is not valid');
    }
  }
}
