// Where the HTTP API creates and looks up meetings: the SQLite file of a
// lone server (MeetingStore), or Redis shared by a cluster (RedisMeetings).
// Answers come through callbacks: at once from SQLite, when Redis replies
// from Redis.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "server/clock.hpp"
#include "server/meeting_store.hpp"
#include "server/token_bucket.hpp"

namespace meshmeet::server {

class RoomRegistry;

class MeetingDirectory {
 public:
  struct Found {
    std::optional<StoredMeeting> meeting;  // nullopt: no such meeting (or unavailable)
    std::uint32_t participants = 0;        // in it now, held slots included
    bool unavailable = false;              // the store could not be asked
  };
  enum class Created : std::uint8_t {
    Stored,
    RateLimited,  // the creator's address (IPv6: /64) used up --create-rate
    Failed,       // the store could not write it
  };
  virtual ~MeetingDirectory() = default;
  // Stores the meeting unless `creator_group` (the creator's address group)
  // has used up its creations (--create-rate per minute, burst as many).
  virtual void create(const NewMeeting& meeting, const std::string& creator_group, TimePoint now,
                      std::function<void(Created)> done) = 0;
  virtual void find(std::string_view id, std::function<void(Found)> done) = 0;
  // Forgets what no longer matters (full creation buckets).
  virtual void sweep(TimePoint) {}
};

// A lone server's: the SQLite store, the participants its registry counts,
// and creation buckets in memory.
class LocalMeetingDirectory final : public MeetingDirectory {
 public:
  LocalMeetingDirectory(MeetingStore& store, const RoomRegistry& rooms, double create_rate_per_minute)
      : store_(store), rooms_(rooms), create_rate_(create_rate_per_minute) {}
  void create(const NewMeeting& meeting, const std::string& creator_group, TimePoint now,
              std::function<void(Created)> done) override;
  void find(std::string_view id, std::function<void(Found)> done) override;
  void sweep(TimePoint now) override;

 private:
  MeetingStore& store_;
  const RoomRegistry& rooms_;
  double create_rate_;  // 0: no limit
  std::unordered_map<std::string, TokenBucket> create_buckets_;
};

}  // namespace meshmeet::server
