#include "server/redis_meetings.hpp"

#include <algorithm>

#include "server/log.hpp"
#include "server/secrets.hpp"

namespace meshmeet::server {

using redis::Reply;

namespace {
// KEYS meeting, audit, the creator's bucket; ARGV name, relay, created, ttl,
// creator ip, user agent, country, city, audit retention, creations per
// second (0: no limit), burst. The deployment's token bucket for the
// creator's address, on Redis's clock, then both hashes or neither.
const redis::Script kCreate(R"LUA(
local rate, burst = tonumber(ARGV[10]), tonumber(ARGV[11])
if rate > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local b = redis.call('HMGET', KEYS[3], 'tokens', 'at')
  local tokens = math.min(burst, (tonumber(b[1]) or burst) + rate * (now - (tonumber(b[2]) or now)) / 1000)
  if tokens < 1 then
    redis.call('HSET', KEYS[3], 'tokens', tostring(tokens), 'at', now)
    return 'rate-limited'
  end
  redis.call('HSET', KEYS[3], 'tokens', tostring(tokens - 1), 'at', now)
  redis.call('PEXPIRE', KEYS[3], math.ceil(burst / rate * 1000) + 1000)
end
redis.call('HSET', KEYS[1], 'name', ARGV[1], 'relay', ARGV[2], 'created', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], 'created', ARGV[3], 'name', ARGV[1], 'ip', ARGV[5], 'ua', ARGV[6], 'country', ARGV[7],
           'city', ARGV[8])
redis.call('EXPIRE', KEYS[2], ARGV[9])
return 'stored'
)LUA");

// KEYS meeting, room: the meeting and how many are in it, deployment-wide.
const redis::Script kFind(R"LUA(
local m = redis.call('HMGET', KEYS[1], 'name', 'relay', 'created')
if not m[1] then return {} end
return {m[1], m[2] or '0', m[3] or '', redis.call('HLEN', KEYS[2])}
)LUA");
}  // namespace

RedisMeetings::RedisMeetings(redis::Connection& commands, std::int64_t meeting_ttl_s, std::int64_t audit_retention_s,
                             double create_rate_per_minute)
    : commands_(commands),
      meeting_ttl_s_(meeting_ttl_s),
      audit_retention_s_(audit_retention_s),
      create_rate_(create_rate_per_minute) {
  kCreate.preload_on(commands_);
  kFind.preload_on(commands_);
}

void RedisMeetings::create(const NewMeeting& m, const std::string& creator_group, TimePoint,
                           std::function<void(Created)> done) {
  const std::string mkey = to_hex(sha256(m.id));
  // The bucket is named by a digest too: Redis keys hold no client address.
  kCreate.run(commands_, {"mm:meeting:" + mkey, "mm:audit:" + mkey, "mm:create-rate:" + to_hex(sha256(creator_group))},
              {m.name, m.relay_only ? "1" : "0", m.created_at, std::to_string(meeting_ttl_s_), m.creator_ip, m.user_agent,
               m.country, m.city, std::to_string(audit_retention_s_), std::to_string(create_rate_ / 60.0),
               std::to_string(std::max(1.0, create_rate_))},
              [done = std::move(done)](const Reply& reply) {
                if (reply.type == Reply::Type::String && reply.str == "rate-limited") return done(Created::RateLimited);
                if (reply.is_error()) Log::error("meeting-store-failed", {{"error", reply.str}});
                done(reply.type == Reply::Type::String && reply.str == "stored" ? Created::Stored : Created::Failed);
              });
}

void RedisMeetings::find(std::string_view id, std::function<void(Found)> done) {
  const std::string mkey = to_hex(sha256(id));
  kFind.run(commands_, {"mm:meeting:" + mkey, "mm:room:" + mkey}, {}, [done = std::move(done)](const Reply& reply) {
    Found found;
    if (reply.type != Reply::Type::Array) {
      found.unavailable = true;
    } else if (reply.elements.size() == 4) {
      found.meeting = StoredMeeting{reply.elements[0].str, reply.elements[2].str, reply.elements[1].str == "1"};
      found.participants = static_cast<std::uint32_t>(reply.elements[3].integer);
    }
    done(std::move(found));
  });
}

}  // namespace meshmeet::server
