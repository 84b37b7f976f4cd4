// Meetings on disk (SQLite, WAL, prepared statements only): a meeting and
// the creator audit survive restarts and kill -9. Participants never come here.
//
// Rows are keyed by the SHA-256 of the meeting id; the id itself is not
// stored, only a short prefix for the operator, so the database holds no
// joinable link.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

#include "server/secrets.hpp"

namespace meshmeet::server {

struct NewMeeting {
  std::string id;
  std::string name;
  std::string created_at;  // RFC 3339 UTC
  std::string creator_ip;
  std::string user_agent;
  std::string country;     // empty without --geoip or when unknown
  std::string city;
  bool relay_only = false;
};

struct StoredMeeting {
  std::string name;
  std::string created_at;
  bool relay_only = false;
};

struct AuditRow {
  std::string id_prefix;
  std::string created_at;
  std::string name;
  std::string creator_ip;
  std::string country;
  std::string city;
  std::string user_agent;
};

class MeetingStore {
 public:
  // Opens (creating if needed) the database; on failure returns nullptr and
  // sets `error`. `read_only` is for the audit command.
  static std::unique_ptr<MeetingStore> open(const std::string& path, bool read_only, std::string& error);
  ~MeetingStore();
  MeetingStore(const MeetingStore&) = delete;
  MeetingStore& operator=(const MeetingStore&) = delete;

  bool create(const NewMeeting& meeting, std::string& error);
  std::optional<StoredMeeting> find(std::string_view id);
  std::vector<AuditRow> audit();

  // Someone joined the meeting (the first join of a live room) at `unix_now`:
  // it counts as used from then, for --meeting-ttl.
  void touch(std::string_view id, std::int64_t unix_now);
  // Deletes it at once (`meetings delete ID`); false when there is none.
  bool remove(std::string_view id);

  // Retention, run now and then by the server, with the wall clock passed in:
  // meetings unused since `unused_before` (unix seconds) are deleted unless
  // `live` says someone is in them (then they count as used now), and the
  // creator audit (address, user agent, place) of meetings created before
  // `audit_before` is erased. `live` takes the SHA-256 of a meeting id, which
  // is all the database knows of it.
  struct Swept {
    std::size_t meetings_deleted = 0;
    std::size_t audits_erased = 0;
  };
  Swept sweep(std::int64_t unix_now, std::int64_t unused_before, std::int64_t audit_before,
              const std::function<bool(const Digest& meeting)>& live);

 private:
  explicit MeetingStore(sqlite3* db) : db_(db) {}
  void forget_old_pages();
  void touch_key(const Digest& key, std::int64_t unix_now);
  bool delete_key(const Digest& key);
  sqlite3* db_;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* select_ = nullptr;
  sqlite3_stmt* touch_ = nullptr;   // these two only when opened for writing
  sqlite3_stmt* delete_ = nullptr;
};

// Now as RFC 3339 UTC with seconds, e.g. 2026-11-25T09:45:30Z.
std::string rfc3339_now();

}  // namespace meshmeet::server
