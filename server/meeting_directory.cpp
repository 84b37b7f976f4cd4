#include "server/meeting_directory.hpp"

#include "server/log.hpp"
#include "server/room_registry.hpp"

namespace meshmeet::server {

void LocalMeetingDirectory::create(const NewMeeting& meeting, std::function<void(bool stored)> done) {
  std::string error;
  const bool stored = store_.create(meeting, error);
  if (!stored) Log::error("meeting-store-failed", {{"error", error}});
  done(stored);
}

void LocalMeetingDirectory::find(std::string_view id, std::function<void(Found)> done) {
  Found found;
  found.meeting = store_.find(id);
  if (found.meeting) found.participants = rooms_.participants(id);
  done(std::move(found));
}

}  // namespace meshmeet::server
