// --per-ip and --per-ip-sockets for a whole cluster: each node publishes
// its own count of an address group's sockets to Redis whenever it changes
// (mm:addr:<kind>:<node>, a hash of the group's SHA-256 → count: Redis holds
// no address), and gets back what the other live nodes hold, which its
// admission adds to its own. An address that fills its share on some nodes
// is refused on the others, give or take its first socket on each (the one
// that tells a node about the rest). A dead node's counts go with its lease
// (RedisRoomRegistry's sweep).
#pragma once

#include <string>

#include "server/address_counts.hpp"
#include "server/redis_connection.hpp"

namespace meshmeet::server {

class SharedAddressCounts {
 public:
  SharedAddressCounts(redis::Connection& commands, std::string node_id, AddressCounts& sockets,
                      AddressCounts& websockets);
  ~SharedAddressCounts();
  SharedAddressCounts(const SharedAddressCounts&) = delete;
  SharedAddressCounts& operator=(const SharedAddressCounts&) = delete;

 private:
  void share(const char* kind, AddressCounts& counts, const std::string& group, std::size_t here);

  redis::Connection& commands_;
  std::string node_id_;
  AddressCounts& sockets_;
  AddressCounts& websockets_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshmeet::server
