#include "server/meeting_directory.hpp"

#include <algorithm>

#include "server/log.hpp"
#include "server/room_registry.hpp"

namespace meshmeet::server {

void LocalMeetingDirectory::create(const NewMeeting& meeting, const std::string& creator_group, TimePoint now,
                                   std::function<void(Created)> done) {
  if (create_rate_ > 0) {
    auto [it, fresh] = create_buckets_.try_emplace(creator_group, create_rate_ / 60.0, std::max(1.0, create_rate_), now);
    if (!it->second.take(now)) return done(Created::RateLimited);
  }
  std::string error;
  if (!store_.create(meeting, error)) {
    Log::error("meeting-store-failed", {{"error", error}});
    return done(Created::Failed);
  }
  done(Created::Stored);
}

void LocalMeetingDirectory::sweep(TimePoint now) {
  for (auto it = create_buckets_.begin(); it != create_buckets_.end();)
    it = it->second.full(now) ? create_buckets_.erase(it) : std::next(it);
}

void LocalMeetingDirectory::find(std::string_view id, std::function<void(Found)> done) {
  Found found;
  found.meeting = store_.find(id);
  if (found.meeting) found.participants = rooms_.participants(id);
  done(std::move(found));
}

}  // namespace meshmeet::server
