// A cluster's meetings, in Redis beside its rosters (server/redis_room_registry):
//   mm:meeting:<mkey>  hash name, relay, created; expires --meeting-ttl days
//                      after its creation or last join (a join renews it)
//   mm:audit:<mkey>    hash of the creator audit (address, user agent,
//                      place); expires --audit-retention days after creation
//   mm:create-rate:<digest of the creator's address group>  the token bucket
//                      of --create-rate, for the whole deployment
// mkey is the hex SHA-256 of the meeting id, as in SQLite: Redis holds no
// joinable link. Redis must run with persistence (AOF) for meetings to
// survive its restart: docs/operating.md says how.
#pragma once

#include <memory>

#include "server/meeting_directory.hpp"
#include "server/redis_connection.hpp"

namespace meshmeet::server {

class RedisMeetings final : public MeetingDirectory {
 public:
  RedisMeetings(redis::Connection& commands, std::int64_t meeting_ttl_s, std::int64_t audit_retention_s,
                double create_rate_per_minute);
  void create(const NewMeeting& meeting, const std::string& creator_group, TimePoint now,
              std::function<void(Created)> done) override;
  void find(std::string_view id, std::function<void(Found)> done) override;

 private:
  redis::Connection& commands_;
  std::int64_t meeting_ttl_s_;
  std::int64_t audit_retention_s_;
  double create_rate_;  // per minute; 0: no limit
};

}  // namespace meshmeet::server
