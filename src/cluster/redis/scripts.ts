import type { Cluster, Redis } from 'ioredis';

/**
 * Every Lua script, run atomically inside Redis. A script touches only keys of one hash tag (see
 * RedisKeys), so each one works on a Redis Cluster too.
 */

/**
 * KEYS: state. ARGV: room JSON (without members), members JSON. Returns 1 if created, 0 if the name
 * is taken. The first version is Redis's clock in microseconds, later than any version an earlier
 * room of the same name reached, so a node's stale copy of a deleted room can never pass the
 * version check of its successor.
 */
const CREATE_ROOM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local now = redis.call('TIME')
local version = string.format('%d', tonumber(now[1]) * 1000000 + tonumber(now[2]))
redis.call('HSET', KEYS[1], 'room', ARGV[1], 'members', ARGV[2], 'seq', 0, 'version', version)
return 1
`;

/**
 * KEYS: state, history. ARGV: expected version, mode (keep | put | delete), room JSON without its
 * members and members JSON (put; each '' when unchanged), history size, now (ms), publish
 * command, channel, then one entry per event: 'B' or 'D' (room-wide or directed) followed by the
 * event as JSON. A room keeps its members apart, so a change that leaves them alone (ClickAya)
 * does not carry them.
 * Returns {0} not found, {-1} conflict, {1, seq, version} committed.
 *
 * The seq rule (room-event.ts `sequence`), applied where the count lives: each room-wide event gets
 * the room's next seq, in order; directed events get none.
 */
const COMMIT_ROOM = `
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {0} end
if tonumber(version) ~= tonumber(ARGV[1]) then return {-1} end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local mode = ARGV[2]
local payloads = {}
for i = 9, #ARGV do
  local body = string.sub(ARGV[i], 2)
  if string.sub(ARGV[i], 1, 1) == 'B' then
    seq = seq + 1
    body = '{"seq":' .. seq .. ',"at":' .. ARGV[6] .. ',' .. string.sub(body, 2)
    if mode ~= 'delete' then redis.call('RPUSH', KEYS[2], body) end
  end
  payloads[#payloads + 1] = body
end
version = tonumber(version) + 1
if mode == 'delete' then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  if mode == 'put' and ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'room', ARGV[3]) end
  if mode == 'put' and ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'members', ARGV[4]) end
  redis.call('HSET', KEYS[1], 'seq', seq, 'version', version)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[5]), -1)
end
for _, payload in ipairs(payloads) do redis.call(ARGV[7], ARGV[8], payload) end
return {1, seq, version}
`;

/**
 * KEYS: state, history. ARGV: seq. Returns false if the room is gone or its history no longer
 * reaches back to seq + 1, else the events after seq (possibly none).
 */
const EVENTS_AFTER = `
local current = redis.call('HGET', KEYS[1], 'seq')
if not current then return false end
local wanted = tonumber(current) - tonumber(ARGV[1])
if wanted < 0 then return false end
if wanted == 0 then return {} end
if wanted > redis.call('LLEN', KEYS[2]) then return false end
return redis.call('LRANGE', KEYS[2], -wanted, -1)
`;

/** KEYS: a media claim. ARGV: node, lease (ms). Renews the claim only while it is still the node's. */
const RENEW_CLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: a media claim. ARGV: node. Gives the claim up only if it is still the node's. */
const RELEASE_CLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/** The scripts as commands of a connection (ioredis sends EVALSHA, and the script itself when Redis lacks it). */
export interface Scripts {
  wpCreateRoom(state: string, room: string, members: string): Promise<number>;
  wpCommitRoom(state: string, history: string, ...args: (string | number)[]): Promise<number[]>;
  wpEventsAfter(state: string, history: string, seq: number): Promise<string[] | null>;
  wpRenewClaim(claim: string, node: string, leaseMs: number): Promise<number>;
  wpReleaseClaim(claim: string, node: string): Promise<number>;
}

export function defineScripts(client: Redis | Cluster): Scripts {
  const define = (name: keyof Scripts, numberOfKeys: number, lua: string) => (client as Redis).defineCommand(name, { numberOfKeys, lua });
  define('wpCreateRoom', 1, CREATE_ROOM);
  define('wpCommitRoom', 2, COMMIT_ROOM);
  define('wpEventsAfter', 2, EVENTS_AFTER);
  define('wpRenewClaim', 1, RENEW_CLAIM);
  define('wpReleaseClaim', 1, RELEASE_CLAIM);
  return client as unknown as Scripts;
}
