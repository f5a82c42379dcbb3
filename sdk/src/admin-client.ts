import { SdkError } from './errors.js';
import { type FetchLike, globalFetch, parseEnvelope, toHttpUrl } from './http.js';
import type { RoomView, SdkErrorCode } from './wire.js';

/** The STUN and TURN servers of `GET /network_transversal`. */
export interface IceServers {
  stun: { address: string };
  turn: { address: string; username: string; credential: string }[];
  /** Seconds the TURN credentials stay valid; only when they are minted from TURN_SECRET. */
  ttl?: number;
}

/** The same servers as RTCPeerConnection's `iceServers`. */
export interface RTCIceServerLike {
  urls: string;
  username?: string;
  credential?: string;
}

export function toRTCIceServers(servers: IceServers): RTCIceServerLike[] {
  return [
    { urls: servers.stun.address },
    ...servers.turn.map((turn) => ({ urls: turn.address, username: turn.username, credential: turn.credential })),
  ];
}

export interface JoinToken {
  token: string;
  /** The token's expiry, in Unix seconds. */
  expiresAt: number;
}

export interface Health {
  status: 'ok';
  node: string;
  store: 'memory' | 'redis';
  auth: 'open' | 'closed';
}

export interface AdminClientOptions {
  /** `http://host:6030` or `https://host` (a `ws(s)://` URL works too). */
  url: string;
  /**
   * The API key of a closed server, sent as `Authorization: Bearer`. It opens the management
   * routes: keep it on your backend, never in a page.
   */
  apiKey?: string;
  /** `fetch`; default the global one. */
  fetch?: FetchLike;
}

/**
 * The HTTP API, typed: rooms, kicks, join tokens, ICE servers, health. Every call resolves with the
 * envelope's `data`, or rejects with an SdkError carrying the server's code and HTTP status (or
 * `not_connected` when the server could not be reached).
 */
export class AdminClient {
  private readonly base: string;
  private readonly fetchImpl: FetchLike;

  constructor(private readonly options: AdminClientOptions) {
    this.base = toHttpUrl(options.url).replace(/\/+$/, '');
    const fetchImpl = options.fetch ?? globalFetch();
    if (!fetchImpl) throw new TypeError('AdminClient needs fetch: pass the fetch option');
    this.fetchImpl = fetchImpl;
  }

  /** The names of every room, sorted. */
  listRooms(): Promise<string[]> {
    return this.call('GET', '/api/room/all');
  }

  /** One room as the server has it (404 `room_not_found`). */
  getRoom(name: string): Promise<RoomView> {
    return this.call('GET', `/api/room/${encodeURIComponent(name)}`);
  }

  /** Creates a room whose master is `masterUuid` (409 `room_exists`). */
  async createRoom(name: string, masterUuid: string): Promise<void> {
    await this.call('POST', '/api/room/create', { name, master_uuid: masterUuid });
  }

  /** Deletes a room: its members get `RoomDeleted` and close 4004. */
  async deleteRoom(name: string): Promise<void> {
    await this.call('POST', '/api/room/delete', { name });
  }

  /** Kicks a connected user (they get `Kicked`, close 4001); it does not ban. */
  async kick(room: string, uuid: string): Promise<void> {
    await this.call('POST', '/api/room/kick', { uuid, room_name: room });
  }

  /** Mints a join token for `uuid` in `room` (closed servers only; `ttl` in seconds, 10..604800; `name`: its display name). */
  async mintJoinToken(request: { room: string; uuid: string; ttl?: number; name?: string }): Promise<JoinToken> {
    const data = await this.call<{ token: string; expires_at: number }>('POST', '/api/token', request);
    return { token: data.token, expiresAt: data.expires_at };
  }

  /** The STUN and TURN servers (on a closed server: the API key, or a join token given here). */
  networkTraversal(query: { uuid?: string; token?: string } = {}): Promise<IceServers> {
    return networkTraversal(this.base, query, this.fetchImpl, this.options.apiKey);
  }

  health(): Promise<Health> {
    return this.call('GET', '/healthz');
  }

  /** Whether the node takes traffic (`/readyz`): false while its store is unreachable or it shuts down. */
  async ready(): Promise<boolean> {
    try {
      await this.call('GET', '/readyz');
      return true;
    } catch (error) {
      if (error instanceof SdkError && error.code === 'unavailable') return false;
      throw error;
    }
  }

  private call<T>(method: string, path: string, body?: unknown): Promise<T> {
    return callApi<T>(this.fetchImpl, `${this.base}${path}`, method, body, this.options.apiKey);
  }
}

/** `GET /network_transversal`: the ICE servers for the audio, for a client holding a join token (or on an open server). */
export function networkTraversal(
  base: string,
  query: { uuid?: string; token?: string },
  fetchImpl: FetchLike | undefined = globalFetch(),
  apiKey?: string,
): Promise<IceServers> {
  if (!fetchImpl) return Promise.reject(new TypeError('networkTraversal needs fetch'));
  const params: string[] = [];
  if (query.uuid !== undefined) params.push(`uuid=${encodeURIComponent(query.uuid)}`);
  if (query.token !== undefined) params.push(`token=${encodeURIComponent(query.token)}`);
  const url = `${toHttpUrl(base).replace(/\/+$/, '')}/network_transversal${params.length ? `?${params.join('&')}` : ''}`;
  return callApi<IceServers>(fetchImpl, url, 'GET', undefined, apiKey);
}

async function callApi<T>(fetchImpl: FetchLike, url: string, method: string, body: unknown, apiKey: string | undefined): Promise<T> {
  const headers: Record<string, string> = {};
  if (apiKey !== undefined) headers.authorization = `Bearer ${apiKey}`;
  const init: { method: string; headers: Record<string, string>; body?: string } = { method, headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let status: number;
  let text: string;
  try {
    const response = await fetchImpl(url, init);
    status = response.status;
    text = await response.text();
  } catch (error) {
    throw new SdkError('not_connected', `${method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const envelope = parseEnvelope<T>(text);
  if (!envelope) throw new SdkError('internal_error', `${method} ${url}: HTTP ${status} without the JSON envelope`, { status });
  if (!envelope.success) throw new SdkError(envelope.error.code as SdkErrorCode, envelope.error.message, { status });
  return envelope.data;
}
