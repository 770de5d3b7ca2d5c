/**
 * Lua scripts of the Redis write side. Each runs atomically in Redis, so a version bump, its history
 * entry and its change notice can never be seen apart, and two concurrent pushes get distinct versions.
 */

/**
 * Publish a document as the next version.
 * KEYS[1] policy hash, KEYS[2] history list.
 * ARGV: doc, sha256, signature ('' = unsigned), updatedAt, updatedBy, channel, name, skipIfSame ('1'/'0').
 * Returns {version, changed (1/0)}; -1 version when the current hash is corrupt (non-integer version).
 */
export const PUSH_SCRIPT = `
local cur = redis.call('HGETALL', KEYS[1])
local version = 1
if #cur > 0 then
  local h = {}
  for i = 1, #cur, 2 do h[cur[i]] = cur[i + 1] end
  local v = tonumber(h['version'])
  if v == nil or v < 1 or v ~= math.floor(v) then return {-1, 0} end
  if ARGV[8] == '1' and h['sha256'] == ARGV[2] and (h['signature'] or '') == ARGV[3] then return {v, 0} end
  redis.call('LPUSH', KEYS[2], cjson.encode({
    version = v, doc = h['doc'] or '', sha256 = h['sha256'] or '', signature = h['signature'] or '',
    updatedAt = h['updatedAt'] or '', updatedBy = h['updatedBy'] or ''
  }))
  version = v + 1
end
redis.call('HSET', KEYS[1], 'version', version, 'doc', ARGV[1], 'sha256', ARGV[2], 'signature', ARGV[3],
  'updatedAt', ARGV[4], 'updatedBy', ARGV[5])
redis.call('PUBLISH', ARGV[6], cjson.encode({name = ARGV[7], version = version}))
return {version, 1}
`;

/**
 * Set a rule toggle of an existing policy and announce it.
 * KEYS[1] policy hash, KEYS[2] toggles hash. ARGV: rule, 'on'/'off', channel, policy name.
 * Returns the policy's current version, or 0 when the policy does not exist.
 */
export const TOGGLE_SCRIPT = `
local v = tonumber(redis.call('HGET', KEYS[1], 'version'))
if v == nil then return 0 end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], cjson.encode({name = ARGV[4], version = v}))
return v
`;

/**
 * Point a route at an existing policy and announce it.
 * KEYS[1] route key, KEYS[2] policy hash. ARGV: policy name, channel.
 * Returns the policy's current version, or 0 when the policy does not exist.
 */
export const ROUTE_SCRIPT = `
local v = tonumber(redis.call('HGET', KEYS[2], 'version'))
if v == nil then return 0 end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', ARGV[2], cjson.encode({name = ARGV[1], version = v}))
return v
`;

/**
 * Remove a route's override, so the route follows its route file again, and announce it.
 * KEYS[1] route key, KEYS[2] policy hash of the route file's policy. ARGV: channel, that policy's name.
 * Returns the policy the override named ('' when there was none: nothing deleted, no notice).
 * The notice names the route file's policy (its current version, 0 when it is not in Redis).
 */
export const CLEAR_ROUTE_SCRIPT = `
local old = redis.call('GET', KEYS[1])
if not old then return '' end
redis.call('DEL', KEYS[1])
local v = tonumber(redis.call('HGET', KEYS[2], 'version')) or 0
redis.call('PUBLISH', ARGV[1], cjson.encode({name = ARGV[2], version = v}))
return old
`;
