import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../protocol/errors.js';
import { type JoinClaims, JoinTokens } from './join-tokens.js';

/** A closed server's secrets; null leaves the server open. */
export interface AuthConfig {
  /** `Authorization: Bearer <apiKey>` opens the management endpoints. */
  apiKey: string;
  /** HS256 secret of the join tokens. */
  joinTokenSecret: string;
}

export interface Credentials {
  /** `Authorization` header. */
  authorization?: string | undefined;
  /** `?token=` query parameter. */
  token?: string | undefined;
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Who may do what over HTTP and the join. Open (no API_KEY): everyone, as the seed describes.
 * Closed: management needs the API key; a join needs a join token for that room and uuid.
 */
export class Access {
  readonly tokens: JoinTokens | null;
  private readonly apiKeyDigest: Buffer | null;

  constructor(auth: AuthConfig | null) {
    this.tokens = auth ? new JoinTokens(auth.joinTokenSecret) : null;
    this.apiKeyDigest = auth ? digest(auth.apiKey) : null;
  }

  get open(): boolean {
    return this.apiKeyDigest === null;
  }

  private bearer(credentials: Credentials): string | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(credentials.authorization ?? '');
    return match?.[1];
  }

  private isApiKey(candidate: string | undefined): boolean {
    return candidate !== undefined && this.apiKeyDigest !== null && timingSafeEqual(digest(candidate), this.apiKeyDigest);
  }

  requireApiKey(credentials: Credentials): void {
    if (this.open) return;
    if (!this.isApiKey(this.bearer(credentials))) {
      throw new AppError('unauthorized', 'this endpoint needs Authorization: Bearer <API key>');
    }
  }

  /** A join: the token must be for exactly this room and uuid, and unexpired. Resolves to its claims (null on an open server). */
  async requireJoin(credentials: Credentials, room: string, uuid: string): Promise<JoinClaims | null> {
    if (this.open) return null;
    if (!credentials.token) throw new AppError('unauthorized', 'joining needs ?token=<join token>');
    const claims = await this.tokens!.verify(credentials.token);
    if (claims.room !== room || claims.uuid !== uuid) {
      throw new AppError('unauthorized', 'the join token is for another room or uuid');
    }
    return claims;
  }

  /** The API key, or any valid join token (header or query). Resolves to the token's claims, if any. */
  async requireApiKeyOrJoinToken(credentials: Credentials): Promise<JoinClaims | null> {
    if (this.open) return null;
    const bearer = this.bearer(credentials);
    if (this.isApiKey(bearer)) return null;
    const token = credentials.token ?? bearer;
    if (!token) throw new AppError('unauthorized', 'this endpoint needs the API key or a join token');
    return this.tokens!.verify(token);
  }
}
