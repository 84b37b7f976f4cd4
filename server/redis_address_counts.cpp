#include "server/redis_address_counts.hpp"

#include "server/secrets.hpp"

namespace meshmeet::server {

namespace {
// ARGV kind, node, group digest, this node's count. Returns what the other
// live nodes hold.
const redis::Script kShare(R"LUA(
local own = 'mm:addr:' .. ARGV[1] .. ':' .. ARGV[2]
if tonumber(ARGV[4]) > 0 then redis.call('HSET', own, ARGV[3], ARGV[4]) else redis.call('HDEL', own, ARGV[3]) end
local sum = 0
for _, node in ipairs(redis.call('ZRANGE', 'mm:leases', 0, -1)) do
  if node ~= ARGV[2] then
    sum = sum + (tonumber(redis.call('HGET', 'mm:addr:' .. ARGV[1] .. ':' .. node, ARGV[3])) or 0)
  end
end
return sum
)LUA");
}  // namespace

SharedAddressCounts::SharedAddressCounts(redis::Connection& commands, std::string node_id, AddressCounts& sockets,
                                         AddressCounts& websockets)
    : commands_(commands), node_id_(std::move(node_id)), sockets_(sockets), websockets_(websockets) {
  kShare.preload_on(commands_);
  sockets_.on_change = [this](const std::string& group, std::size_t here) { share("sockets", sockets_, group, here); };
  websockets_.on_change = [this](const std::string& group, std::size_t here) {
    share("websockets", websockets_, group, here);
  };
}

SharedAddressCounts::~SharedAddressCounts() {
  sockets_.on_change = nullptr;
  websockets_.on_change = nullptr;
}

void SharedAddressCounts::share(const char* kind, AddressCounts& counts, const std::string& group, std::size_t here) {
  // Redis away: admission goes on with this node's counts and the last
  // figures it had.
  if (!commands_.ready()) return;
  std::weak_ptr<bool> alive = alive_;
  kShare.run(commands_, {}, {kind, node_id_, to_hex(sha256(group)), std::to_string(here)},
             [alive, &counts, group](const redis::Reply& reply) {
               if (alive.expired() || reply.type != redis::Reply::Type::Integer) return;
               counts.set_elsewhere(group, static_cast<std::size_t>(std::max(0LL, reply.integer)));
             });
}

}  // namespace meshmeet::server
