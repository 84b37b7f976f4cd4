// A cluster's meetings, in Redis beside its rosters (server/redis_room_registry):
//   mm:meeting:<mkey>  hash name, relay, created; expires --meeting-ttl days
//                      after its creation or last join (a join renews it)
//   mm:audit:<mkey>    hash of the creator audit (address, user agent,
//                      place); expires --audit-retention days after creation
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
  RedisMeetings(redis::Connection& commands, std::int64_t meeting_ttl_s, std::int64_t audit_retention_s);
  void create(const NewMeeting& meeting, std::function<void(bool stored)> done) override;
  void find(std::string_view id, std::function<void(Found)> done) override;

 private:
  redis::Connection& commands_;
  std::int64_t meeting_ttl_s_;
  std::int64_t audit_retention_s_;
};

}  // namespace meshmeet::server
