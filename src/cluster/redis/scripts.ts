/**
 * Lua scripts run atomically inside Redis. Every key a script touches carries the room's hash tag
 * (`{room}`), so in a Redis Cluster they live in one slot together with the room's shard channel.
 *
 * A room is a hash: `room` (the Room as JSON, without seq and version), `seq`, `version`.
 * Its history is a list of the room-wide events as JSON, each with its `seq` and `at` (ms).
 */

/** KEYS: state. ARGV: room JSON. Returns 1 if created, 0 if the name is taken. */
export const CREATE_ROOM = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'room', ARGV[1], 'seq', 0, 'version', 0)
return 1
`;

/**
 * KEYS: state, history. ARGV: expected version, mode (keep | put | delete), room JSON (put),
 * history size, now (ms), publish command, channel, then one entry per event: 'B' or 'D'
 * (room-wide or directed) followed by the event as JSON.
 * Returns {0} not found, {-1} conflict, {1, seq, version} committed.
 */
export const COMMIT_ROOM = `
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {0} end
if tonumber(version) ~= tonumber(ARGV[1]) then return {-1} end
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq'))
local mode = ARGV[2]
local payloads = {}
for i = 8, #ARGV do
  local body = string.sub(ARGV[i], 2)
  if string.sub(ARGV[i], 1, 1) == 'B' then
    seq = seq + 1
    body = '{"seq":' .. seq .. ',"at":' .. ARGV[5] .. ',' .. string.sub(body, 2)
    if mode ~= 'delete' then redis.call('RPUSH', KEYS[2], body) end
  end
  payloads[#payloads + 1] = body
end
version = tonumber(version) + 1
if mode == 'delete' then
  redis.call('DEL', KEYS[1], KEYS[2])
else
  if mode == 'put' then redis.call('HSET', KEYS[1], 'room', ARGV[3]) end
  redis.call('HSET', KEYS[1], 'seq', seq, 'version', version)
  redis.call('LTRIM', KEYS[2], -tonumber(ARGV[4]), -1)
end
for _, payload in ipairs(payloads) do redis.call(ARGV[6], ARGV[7], payload) end
return {1, seq, version}
`;

/**
 * KEYS: state, history. ARGV: seq. Returns false if the room is gone or its history no longer
 * reaches back to seq + 1, else the events after seq (possibly none).
 */
export const EVENTS_AFTER = `
local current = redis.call('HGET', KEYS[1], 'seq')
if not current then return false end
local wanted = tonumber(current) - tonumber(ARGV[1])
if wanted < 0 then return false end
if wanted == 0 then return {} end
if wanted > redis.call('LLEN', KEYS[2]) then return false end
return redis.call('LRANGE', KEYS[2], -wanted, -1)
`;
