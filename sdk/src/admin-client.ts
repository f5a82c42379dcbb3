import { SdkError } from './errors.js';
import { type AbortSignalLike, type FetchLike, globalFetch, parseEnvelope, toHttpUrl } from './http.js';
import { type ServerSentEvent, ServerSentEventParser } from './server-sent-events.js';
import type { NodeStatus, OperatorEvent, RoomSummary, RoomsPage, SdkErrorCode } from './wire.js';

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
 * The HTTP API, typed: rooms, kicks, join tokens, ICE servers, health, and what an operator watches
 * (nodes, pages of rooms, the rooms' live events). Every call resolves with the
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

  /** One room as the server has it, with its media node and creation time (404 `room_not_found`). */
  getRoom(name: string): Promise<RoomSummary> {
    return this.call('GET', `/api/room/${encodeURIComponent(name)}`);
  }

  /** One page of the rooms, sorted by name: at most `limit` (1..100, default 50) of those after `after`; `next` goes on. */
  roomsPage(options: { limit?: number; after?: string } = {}): Promise<RoomsPage> {
    const params: string[] = [];
    if (options.limit !== undefined) params.push(`limit=${encodeURIComponent(String(options.limit))}`);
    if (options.after !== undefined) params.push(`after=${encodeURIComponent(options.after)}`);
    return this.call('GET', `/api/rooms${params.length ? `?${params.join('&')}` : ''}`);
  }

  /** Every live node of the cluster, sorted by node id, as each last reported itself. */
  nodes(): Promise<NodeStatus[]> {
    return this.call('GET', '/api/nodes');
  }

  /**
   * The live events of `rooms` (1..50, each must exist), read from `GET /api/events` as they come:
   * `ready` first, then each room's events, and `dropped` when this reader fell behind and the
   * server left some out. Iterating starts the request; an HTTP refusal rejects the first step
   * with an SdkError (`room_not_found`, `invalid_request`, `unauthorized`). It ends when `signal`
   * aborts, when the loop breaks, or when the server ends the stream (it shuts down: follow again).
   */
  async *events(rooms: string[], options: { signal?: AbortSignalLike } = {}): AsyncIterable<OperatorEvent> {
    const { signal } = options;
    if (signal?.aborted) return;
    const url = `${this.base}/api/events?rooms=${rooms.map(encodeURIComponent).join(',')}`;
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    const responding = this.fetchImpl(url, { method: 'GET', headers });
    let response: Awaited<ReturnType<FetchLike>> | undefined;
    try {
      response = await untilAborted(responding, signal);
    } catch (error) {
      if (signal?.aborted) return;
      throw notConnected('GET', url, error);
    }
    if (!response) {
      // Aborted before the answer: whatever comes is let go.
      responding
        .then(
          (late) => late.body?.getReader().cancel(),
          () => undefined,
        )
        .catch(() => undefined);
      return;
    }
    if (response.status !== 200 || !response.body) {
      const text = await response.text();
      throw refusalOf<never>('GET', url, response.status, text);
    }
    const reader = response.body.getReader();
    const stop = () => void reader.cancel().catch(() => undefined);
    signal?.addEventListener('abort', stop);
    const decoder = new TextDecoder();
    const parser = new ServerSentEventParser();
    try {
      for (;;) {
        let chunk: { done: boolean; value?: Uint8Array };
        try {
          chunk = await reader.read();
        } catch (error) {
          if (signal?.aborted) return;
          throw notConnected('GET', url, error);
        }
        if (chunk.done || signal?.aborted) return;
        for (const event of parser.push(decoder.decode(chunk.value, { stream: true }))) {
          const operatorEvent = operatorEventOf(event);
          if (operatorEvent) yield operatorEvent;
        }
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      stop();
    }
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
    throw notConnected(method, url, error);
  }
  return refusalOf<T>(method, url, status, text);
}

const notConnected = (method: string, url: string, error: unknown): SdkError =>
  new SdkError('not_connected', `${method} ${url} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });

/** The envelope's data, or the SdkError its refusal (or its absence) makes. */
function refusalOf<T>(method: string, url: string, status: number, text: string): T {
  const envelope = parseEnvelope<T>(text);
  if (!envelope) throw new SdkError('internal_error', `${method} ${url}: HTTP ${status} without the JSON envelope`, { status });
  if (!envelope.success) throw new SdkError(envelope.error.code as SdkErrorCode, envelope.error.message, { status });
  return envelope.data;
}

/** `promise`'s value, or undefined once `signal` aborts first. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignalLike | undefined): Promise<T | undefined> {
  if (!signal) return promise;
  return new Promise<T | undefined>((resolve, reject) => {
    const aborted = () => resolve(undefined);
    signal.addEventListener('abort', aborted);
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', aborted));
  });
}

/** An event of the operator stream; undefined for one this SDK does not know (a newer server's). */
function operatorEventOf(event: ServerSentEvent): OperatorEvent | undefined {
  if (event.event !== 'ready' && event.event !== 'room' && event.event !== 'dropped') return undefined;
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    return undefined;
  }
  if (typeof data !== 'object' || data === null) return undefined;
  return { ...(data as object), type: event.event } as OperatorEvent;
}
