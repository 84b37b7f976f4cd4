// Where the HTTP API creates and looks up meetings: the SQLite file of a
// lone server (MeetingStore), or Redis shared by a cluster (RedisMeetings).
// Answers come through callbacks: at once from SQLite, when Redis replies
// from Redis.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "server/meeting_store.hpp"

namespace meshmeet::server {

class RoomRegistry;

class MeetingDirectory {
 public:
  struct Found {
    std::optional<StoredMeeting> meeting;  // nullopt: no such meeting (or unavailable)
    std::uint32_t participants = 0;        // in it now, held slots included
    bool unavailable = false;              // the store could not be asked
  };
  virtual ~MeetingDirectory() = default;
  // `done(true)` once the meeting is stored.
  virtual void create(const NewMeeting& meeting, std::function<void(bool stored)> done) = 0;
  virtual void find(std::string_view id, std::function<void(Found)> done) = 0;
};

// A lone server's: the SQLite store, and the participants its registry counts.
class LocalMeetingDirectory final : public MeetingDirectory {
 public:
  LocalMeetingDirectory(MeetingStore& store, const RoomRegistry& rooms) : store_(store), rooms_(rooms) {}
  void create(const NewMeeting& meeting, std::function<void(bool stored)> done) override;
  void find(std::string_view id, std::function<void(Found)> done) override;

 private:
  MeetingStore& store_;
  const RoomRegistry& rooms_;
};

}  // namespace meshmeet::server
