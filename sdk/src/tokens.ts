import type { Clock } from './clock.js';
import { type FetchLike, parseEnvelope, toHttpUrl } from './http.js';

/** Why the SDK asks for a join token. */
export type TokenReason =
  /** The first join. */
  | 'join'
  /** The token it holds has expired (its JWT `exp` has passed): a reconnect needs a fresh one. */
  | 'expired'
  /** A (re)join was refused with 401 `unauthorized`. */
  | 'unauthorized';

export interface TokenRequest {
  room: string;
  uuid: string;
  reason: TokenReason;
}

/**
 * Gives the SDK a join token (a closed server needs one for every join, reconnect and resume):
 * typically a call to the app's backend, which mints it with `POST /api/token`. Called at the first
 * join, before a reconnect when the token held has expired, and again whenever a join is refused
 * with 401. Omit it on an open server.
 */
export type TokenProvider = (request: TokenRequest) => string | Promise<string>;

/** Tokens are treated as expired this long before their `exp`, so a reconnect never races the expiry. */
const EXPIRY_MARGIN_MS = 30_000;

/** The `exp` of a JWT, in ms since the epoch; undefined when the token is not a JWT or has none. */
export function jwtExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (!payload) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const json = JSON.parse(atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** The join token of one room client: asked for when needed, kept while it is good. */
export class TokenSource {
  private token: string | undefined;
  private stale: TokenReason | undefined = 'join';

  constructor(
    private readonly provider: TokenProvider | string | undefined,
    private readonly room: string,
    private readonly uuid: string,
    private readonly clock: Clock,
  ) {
    if (typeof provider === 'string') {
      this.token = provider;
      this.stale = undefined;
    }
  }

  /** The token for the next join: the one held, or a new one from the provider when it is stale or expired. */
  async get(): Promise<string | undefined> {
    if (typeof this.provider !== 'function') return this.token;
    const expiry = this.token === undefined ? undefined : jwtExpiry(this.token);
    const reason = this.stale ?? (expiry !== undefined && expiry - EXPIRY_MARGIN_MS <= this.clock.now() ? 'expired' : undefined);
    if (reason) {
      this.token = await this.provider({ room: this.room, uuid: this.uuid, reason });
      this.stale = undefined;
    }
    return this.token;
  }

  /** The server refused the token (401): ask the provider again before the next join. */
  refused(): void {
    if (typeof this.provider === 'function') this.stale = 'unauthorized';
  }

  /** Whether a new token can be had (a provider, not a fixed token). */
  get renewable(): boolean {
    return typeof this.provider === 'function';
  }
}

/** Why a WebSocket upgrade was refused, as far as can be found out. */
export interface UpgradeRefusal {
  /** The HTTP status, when known. */
  status?: number;
  /** The server's error code, when known. */
  code?: string;
  message?: string;
}

/**
 * A refused join is an HTTP answer to the upgrade, but a browser's WebSocket hides it: it reports an
 * error and close 1006, nothing more. So the SDK finds the cause itself:
 * 1. from the error's message when the WebSocket implementation gives it (Node's `ws`: "Unexpected
 *    server response: 401");
 * 2. otherwise by asking the same URL with a plain GET: the server runs the same checks in the same
 *    order and answers with the refusal's envelope, or 426 `upgrade_required` when it would have
 *    accepted the upgrade (then the failure was the network's).
 * The probe needs `fetch` and, in a browser on another origin than the server, CORS; when it cannot
 * tell, the refusal is unknown and the SDK retries with the backoff.
 */
export async function diagnoseRefusal(
  joinUrl: string,
  errorMessage: string | undefined,
  fetch: FetchLike | undefined,
): Promise<UpgradeRefusal> {
  const fromMessage = errorMessage?.match(/Unexpected server response: (\d{3})/);
  if (fromMessage) return { status: Number(fromMessage[1]) };
  if (!fetch) return {};
  try {
    const response = await fetch(toHttpUrl(joinUrl), { method: 'GET' });
    const envelope = parseEnvelope(await response.text());
    if (envelope && !envelope.success) return { status: response.status, code: envelope.error.code, message: envelope.error.message };
    return { status: response.status };
  } catch {
    return {};
  }
}
