import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { envSchema } from 'env-schema';
import { type Static, Type } from 'typebox';
import type { AuthConfig } from './auth/access.js';
import type { StoreConfig } from './cluster/cluster.js';
import { MAX_MEDIA_PORTS } from './media/media-ports.js';
import type { TurnConfig } from './turn/turn-credentials.js';

export type { AuthConfig, StoreConfig, TurnConfig };

/** Every environment variable the server reads. The README's configuration table mirrors this. */
const Env = Type.Object({
  HOST: Type.String({ default: '0.0.0.0' }),
  PORT: Type.Integer({ default: 6030, minimum: 0, maximum: 65535 }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  STUN_ADDRESS: Type.String({ default: 'stun:stun.l.google.com:19302' }),
  TURN_SERVERS: Type.String({ default: '' }),
  TURN_USERNAME: Type.String({ default: '' }),
  TURN_CREDENTIAL: Type.String({ default: '' }),
  TURN_SECRET: Type.String({ default: '' }),
  TURN_TTL: Type.Integer({ default: 86400, minimum: 60 }),
  FCM_SERVER_TOKEN: Type.String({ default: '' }),
  HEARTBEAT_INTERVAL_MS: Type.Integer({ default: 30000, minimum: 50 }),
  WS_MAX_FRAME_BYTES: Type.Integer({ default: 65536, minimum: 128 }),
  HTTP_BODY_LIMIT_BYTES: Type.Integer({ default: 65536, minimum: 128 }),
  REDIS_URL: Type.String({ default: '' }),
  REDIS_CLUSTER: Type.Boolean({ default: false }),
  REDIS_KEY_PREFIX: Type.String({ default: 'wp:', pattern: '^[A-Za-z0-9:._-]*$' }),
  NODE_ID: Type.String({ default: '', pattern: '^[A-Za-z0-9._:-]{0,64}$' }),
  NODE_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 200 }),
  MEDIA_LEASE_MS: Type.Integer({ default: 3000, minimum: 300 }),
  RECONNECT_GRACE_MS: Type.Integer({ default: 15000, minimum: 0 }),
  HISTORY_SIZE: Type.Integer({ default: 1000, minimum: 1 }),
  HISTORY_MAX_AGE_MS: Type.Integer({ default: 600000, minimum: 1000 }),
  AUDIO_SLOTS: Type.Integer({ default: 3, minimum: 1, maximum: 16 }),
  AUDIO_DTX: Type.Boolean({ default: true }),
  MEDIA_PORT: Type.Integer({ default: 6030, minimum: 0, maximum: 65535 }),
  MEDIA_PORT_RANGE: Type.String({ default: '', pattern: '^$|^[0-9]{1,5}-[0-9]{1,5}$' }),
  MEDIA_BIND_ADDRESS: Type.String({ default: '' }),
  MEDIA_ANNOUNCE_ADDRESS: Type.String({ default: '' }),
  API_KEY: Type.String({ default: '' }),
  JOIN_TOKEN_SECRET: Type.String({ default: '' }),
  WS_RATE_LIMIT_PER_SEC: Type.Number({ default: 20, exclusiveMinimum: 0 }),
  WS_RATE_LIMIT_BURST: Type.Integer({ default: 40, minimum: 1 }),
  HTTP_RATE_LIMIT_PER_MIN: Type.Integer({ default: 600, minimum: 1 }),
  MAX_ROOMS: Type.Integer({ default: 10000, minimum: 1 }),
  MAX_USERS_PER_ROOM: Type.Integer({ default: 500, minimum: 1 }),
  MAX_CONNECTIONS_PER_ADDRESS: Type.Integer({ default: 1000, minimum: 1 }),
  WS_SEND_BUFFER_LIMIT_BYTES: Type.Integer({ default: 1048576, minimum: 1024 }),
  SHUTDOWN_TIMEOUT_MS: Type.Integer({ default: 10000, minimum: 100 }),
  TRUST_PROXY: Type.String({ default: '' }),
});
type Env = Static<typeof Env>;

export interface Config {
  host: string;
  port: number;
  logLevel: string;
  stunAddress: string;
  turn: TurnConfig;
  fcmServerToken: string | null;
  heartbeatIntervalMs: number;
  wsMaxFrameBytes: number;
  httpBodyLimitBytes: number;
  /** Where rooms live: this process's memory (one node), or Redis (every node on it is one cluster). */
  store: StoreConfig;
  /** This node's name in logs and health; each process adds its own suffix to tell restarts apart. */
  nodeId: string;
  /** How long a dropped connection keeps its place in the room. */
  reconnectGraceMs: number;
  /** Room events kept for resuming clients: at most this many per room, none older than the age. */
  history: { size: number; maxAgeMs: number };
  media: MediaConfig;
  /** Null: the server is open, as the seed describes. */
  auth: AuthConfig | null;
  limits: LimitsConfig;
  shutdownTimeoutMs: number;
  /**
   * Behind a reverse proxy: the proxies whose X-Forwarded-For is believed (Fastify's trustProxy:
   * `true` or addresses/CIDRs), so per-address limits see real clients.
   */
  trustProxy: boolean | string[];
}

export interface LimitsConfig {
  wsRate: { perSecond: number; burst: number };
  httpPerMinute: number;
  maxRooms: number;
  maxUsersPerRoom: number;
  maxConnectionsPerAddress: number;
  /** A client whose unsent data exceeds this is dropped (it may resume with last_seq). */
  sendBufferLimitBytes: number;
}

export interface MediaConfig {
  /** Voices each listener receives at once. */
  audioSlots: number;
  /** Ask every microphone for Opus DTX: a silent one then sends a few packets a second instead of 50. */
  dtx: boolean;
  /** UDP ports for WebRTC, held for the server's life: one shared by every peer (ICE UDP mux; 0 = any free port), or a few they spread over. */
  ports: { begin: number; end: number };
  bindAddress?: string;
  /** The address written into the server's ICE candidates (its public IP behind NAT). */
  announceAddress?: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let parsed: Env;
  try {
    parsed = envSchema<Env>({ schema: Env, data: env });
  } catch (error) {
    throw new ConfigError(`invalid configuration: ${(error as Error).message}`);
  }
  return {
    host: parsed.HOST,
    port: parsed.PORT,
    logLevel: parsed.LOG_LEVEL,
    stunAddress: parsed.STUN_ADDRESS,
    turn: turnConfig(parsed),
    fcmServerToken: parsed.FCM_SERVER_TOKEN || null,
    heartbeatIntervalMs: parsed.HEARTBEAT_INTERVAL_MS,
    wsMaxFrameBytes: parsed.WS_MAX_FRAME_BYTES,
    httpBodyLimitBytes: parsed.HTTP_BODY_LIMIT_BYTES,
    store: storeConfig(parsed),
    nodeId: parsed.NODE_ID || hostname(),
    reconnectGraceMs: parsed.RECONNECT_GRACE_MS,
    history: { size: parsed.HISTORY_SIZE, maxAgeMs: parsed.HISTORY_MAX_AGE_MS },
    media: mediaConfig(parsed),
    auth: authConfig(parsed),
    limits: {
      wsRate: { perSecond: parsed.WS_RATE_LIMIT_PER_SEC, burst: parsed.WS_RATE_LIMIT_BURST },
      httpPerMinute: parsed.HTTP_RATE_LIMIT_PER_MIN,
      maxRooms: parsed.MAX_ROOMS,
      maxUsersPerRoom: parsed.MAX_USERS_PER_ROOM,
      maxConnectionsPerAddress: parsed.MAX_CONNECTIONS_PER_ADDRESS,
      sendBufferLimitBytes: parsed.WS_SEND_BUFFER_LIMIT_BYTES,
    },
    shutdownTimeoutMs: parsed.SHUTDOWN_TIMEOUT_MS,
    trustProxy: trustProxyConfig(parsed.TRUST_PROXY),
  };
}

function trustProxyConfig(value: string): boolean | string[] {
  if (value === '' || value === 'false') return false;
  if (value === 'true') return true;
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  for (const entry of entries) {
    const [address, bits] = entry.split('/');
    if (!isIP(address ?? '') || (bits !== undefined && !/^[0-9]{1,3}$/.test(bits))) {
      throw new ConfigError(`invalid configuration: TRUST_PROXY entry "${entry}" is not an address or CIDR (or use true/false)`);
    }
  }
  return entries;
}

function authConfig(env: Env): AuthConfig | null {
  if (!env.API_KEY && !env.JOIN_TOKEN_SECRET) return null;
  if (!env.API_KEY || !env.JOIN_TOKEN_SECRET) {
    throw new ConfigError('invalid configuration: API_KEY and JOIN_TOKEN_SECRET go together (set both to close the server)');
  }
  if (env.JOIN_TOKEN_SECRET.length < 32) {
    throw new ConfigError('invalid configuration: JOIN_TOKEN_SECRET must be at least 32 characters');
  }
  if (env.API_KEY.length < 16) throw new ConfigError('invalid configuration: API_KEY must be at least 16 characters');
  return { apiKey: env.API_KEY, joinTokenSecret: env.JOIN_TOKEN_SECRET };
}

function mediaConfig(env: Env): MediaConfig {
  let ports = { begin: env.MEDIA_PORT, end: env.MEDIA_PORT };
  if (env.MEDIA_PORT_RANGE) {
    const [begin, end] = env.MEDIA_PORT_RANGE.split('-').map(Number) as [number, number];
    if (begin < 1 || end > 65535 || begin > end) {
      throw new ConfigError('invalid configuration: MEDIA_PORT_RANGE must be "low-high" within 1-65535');
    }
    if (end - begin + 1 > MAX_MEDIA_PORTS) {
      throw new ConfigError(`invalid configuration: MEDIA_PORT_RANGE may hold at most ${MAX_MEDIA_PORTS} ports`);
    }
    ports = { begin, end };
  }
  return {
    audioSlots: env.AUDIO_SLOTS,
    dtx: env.AUDIO_DTX,
    ports,
    bindAddress: env.MEDIA_BIND_ADDRESS || undefined,
    announceAddress: env.MEDIA_ANNOUNCE_ADDRESS || undefined,
  };
}

function storeConfig(env: Env): StoreConfig {
  const urls = env.REDIS_URL.split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  if (urls.length === 0) {
    if (env.REDIS_CLUSTER) throw new ConfigError('invalid configuration: REDIS_CLUSTER=true needs REDIS_URL');
    return { kind: 'memory' };
  }
  for (const url of urls) {
    if (!/^rediss?:\/\//.test(url)) {
      throw new ConfigError(`invalid configuration: REDIS_URL entry "${url}" must start with redis:// or rediss://`);
    }
  }
  if (urls.length > 1 && !env.REDIS_CLUSTER) {
    throw new ConfigError('invalid configuration: several REDIS_URL entries need REDIS_CLUSTER=true');
  }
  return {
    kind: 'redis',
    urls,
    cluster: env.REDIS_CLUSTER,
    keyPrefix: env.REDIS_KEY_PREFIX,
    nodeTimeoutMs: env.NODE_TIMEOUT_MS,
    mediaLeaseMs: env.MEDIA_LEASE_MS,
  };
}

function turnConfig(env: Env): TurnConfig {
  const urls = env.TURN_SERVERS.split(',')
    .map((url) => url.trim())
    .filter(Boolean);
  for (const url of urls) {
    if (!/^turns?:/.test(url)) {
      throw new ConfigError(`invalid configuration: TURN_SERVERS entry "${url}" must start with turn: or turns:`);
    }
  }
  if (urls.length === 0) return { mode: 'none' };
  if (env.TURN_SECRET) return { mode: 'secret', urls, secret: env.TURN_SECRET, ttlSeconds: env.TURN_TTL };
  if (env.TURN_USERNAME && env.TURN_CREDENTIAL) {
    return { mode: 'static', urls, username: env.TURN_USERNAME, credential: env.TURN_CREDENTIAL };
  }
  throw new ConfigError('invalid configuration: TURN_SERVERS needs TURN_SECRET, or both TURN_USERNAME and TURN_CREDENTIAL');
}
