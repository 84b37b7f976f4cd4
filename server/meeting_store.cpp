#include "server/meeting_store.hpp"

#include <sys/stat.h>

#include <cstring>
#include <ctime>

#include <sqlite3.h>

#include "server/secrets.hpp"

namespace meshmeet::server {
namespace {

const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meetings (
  id_sha256   BLOB PRIMARY KEY,
  id_prefix   TEXT NOT NULL,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL,
  creator_ip  TEXT NOT NULL,
  user_agent  TEXT NOT NULL,
  country     TEXT NOT NULL DEFAULT '',
  city        TEXT NOT NULL DEFAULT '',
  relay_only  INTEGER NOT NULL DEFAULT 0,
  used_at     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
)sql";

// Columns added after the first schema, with what older rows read as. A
// database made before a column existed gets it on the next open for writing.
const char* kRelayOnlyColumn = "relay_only INTEGER NOT NULL DEFAULT 0";
// When the meeting was created or last joined, unix seconds: what
// --meeting-ttl counts from. Older rows count from their creation.
const char* kUsedAtColumn = "used_at INTEGER NOT NULL DEFAULT 0";
const char* kUsedAtFromCreation =
    "UPDATE meetings SET used_at = CAST(strftime('%s', created_at) AS INTEGER) WHERE used_at = 0";

// Runs `sql` once; false with `message` set.
bool exec(sqlite3* db, const std::string& sql, char** message) {
  return sqlite3_exec(db, sql.c_str(), nullptr, nullptr, message) == SQLITE_OK;
}

bool has_column(sqlite3* db, const char* table, const char* column) {
  sqlite3_stmt* s = nullptr;
  const std::string sql = std::string("PRAGMA table_info(") + table + ")";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) return false;
  bool found = false;
  while (!found && sqlite3_step(s) == SQLITE_ROW) {
    const unsigned char* name = sqlite3_column_text(s, 1);
    found = name && std::string(reinterpret_cast<const char*>(name)) == column;
  }
  sqlite3_finalize(s);
  return found;
}

std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(s, i))) : std::string();
}

void make_parent_dirs(const std::string& path) {
  for (std::size_t i = 1; i < path.size(); ++i)
    if (path[i] == '/') ::mkdir(path.substr(0, i).c_str(), 0700);
}

}  // namespace

std::unique_ptr<MeetingStore> MeetingStore::open(const std::string& path, bool read_only, std::string& error) {
  if (!read_only && path != ":memory:") make_parent_dirs(path);
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  if (sqlite3_open_v2(path.c_str(), &db, flags | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK) {
    error = "cannot open database " + path + ": " + (db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
    return nullptr;
  }
  std::unique_ptr<MeetingStore> store(new MeetingStore(db));
  sqlite3_busy_timeout(db, 2000);
  if (!read_only) {
    // WAL with synchronous=NORMAL: a committed meeting survives a crash of
    // this process (kill -9); only an OS crash could lose the last commits.
    // secure_delete: deleted meetings and erased audits are overwritten in
    // the file, not left in free pages (docs/privacy.md).
    const char* setup = "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA secure_delete=ON;";
    char* message = nullptr;
    if (!exec(db, setup, &message) || !exec(db, kSchema, &message) ||
        (!has_column(db, "meetings", "relay_only") &&
         !exec(db, std::string("ALTER TABLE meetings ADD COLUMN ") + kRelayOnlyColumn, &message)) ||
        (!has_column(db, "meetings", "used_at") &&
         !exec(db, std::string("ALTER TABLE meetings ADD COLUMN ") + kUsedAtColumn, &message)) ||
        !exec(db, kUsedAtFromCreation, &message)) {
      error = "cannot set up database " + path + ": " + (message ? message : "unknown error");
      sqlite3_free(message);
      return nullptr;
    }
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO meetings (id_sha256, id_prefix, name, created_at, creator_ip, user_agent, "
                           "country, city, relay_only, used_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                           "CAST(strftime('%s', ?4) AS INTEGER))",
                           -1, &store->insert_, nullptr) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE meetings SET used_at = ?2 WHERE id_sha256 = ?1", -1, &store->touch_, nullptr) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(db, "DELETE FROM meetings WHERE id_sha256 = ?1", -1, &store->delete_, nullptr) != SQLITE_OK) {
      error = std::string("cannot prepare statements: ") + sqlite3_errmsg(db);
      return nullptr;
    }
  }
  // Read-only (the audit command) leaves an older database as it is: its
  // meetings read as not relay-only.
  const char* select = has_column(db, "meetings", "relay_only")
                           ? "SELECT name, created_at, relay_only FROM meetings WHERE id_sha256 = ?1"
                           : "SELECT name, created_at, 0 FROM meetings WHERE id_sha256 = ?1";
  if (sqlite3_prepare_v2(db, select, -1, &store->select_, nullptr) != SQLITE_OK) {
    error = std::string("cannot read database ") + path + ": " + sqlite3_errmsg(db);
    return nullptr;
  }
  return store;
}

MeetingStore::~MeetingStore() {
  sqlite3_finalize(insert_);
  sqlite3_finalize(select_);
  sqlite3_finalize(touch_);
  sqlite3_finalize(delete_);
  sqlite3_close(db_);  // checkpoints the WAL when it is the last connection
}

bool MeetingStore::create(const NewMeeting& m, std::string& error) {
  const Digest key = sha256(m.id);
  const std::string prefix = m.id.substr(0, 6);
  sqlite3_reset(insert_);
  sqlite3_clear_bindings(insert_);
  sqlite3_bind_blob(insert_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 2, prefix.data(), static_cast<int>(prefix.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 3, m.name.data(), static_cast<int>(m.name.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 4, m.created_at.data(), static_cast<int>(m.created_at.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 5, m.creator_ip.data(), static_cast<int>(m.creator_ip.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 6, m.user_agent.data(), static_cast<int>(m.user_agent.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 7, m.country.data(), static_cast<int>(m.country.size()), SQLITE_STATIC);
  sqlite3_bind_text(insert_, 8, m.city.data(), static_cast<int>(m.city.size()), SQLITE_STATIC);
  sqlite3_bind_int(insert_, 9, m.relay_only ? 1 : 0);
  const int rc = sqlite3_step(insert_);
  sqlite3_reset(insert_);
  if (rc != SQLITE_DONE) {
    error = sqlite3_errmsg(db_);
    return false;
  }
  return true;
}

std::optional<StoredMeeting> MeetingStore::find(std::string_view id) {
  const Digest key = sha256(id);
  sqlite3_reset(select_);
  sqlite3_bind_blob(select_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  std::optional<StoredMeeting> out;
  if (sqlite3_step(select_) == SQLITE_ROW)
    out = StoredMeeting{column_text(select_, 0), column_text(select_, 1), sqlite3_column_int(select_, 2) != 0};
  sqlite3_reset(select_);
  return out;
}

std::vector<AuditRow> MeetingStore::audit() {
  std::vector<AuditRow> rows;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_,
                         "SELECT id_prefix, created_at, name, creator_ip, country, city, user_agent FROM meetings "
                         "ORDER BY created_at, id_prefix",
                         -1, &s, nullptr) != SQLITE_OK)
    return rows;
  while (sqlite3_step(s) == SQLITE_ROW)
    rows.push_back({column_text(s, 0), column_text(s, 1), column_text(s, 2), column_text(s, 3), column_text(s, 4),
                    column_text(s, 5), column_text(s, 6)});
  sqlite3_finalize(s);
  return rows;
}

// The write-ahead log still holds the pages as they were before a delete:
// write them back and empty it.
void MeetingStore::forget_old_pages() { exec(db_, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr); }

void MeetingStore::touch_key(const Digest& key, std::int64_t unix_now) {
  if (!touch_) return;  // read-only
  sqlite3_reset(touch_);
  sqlite3_bind_blob(touch_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  sqlite3_bind_int64(touch_, 2, unix_now);
  sqlite3_step(touch_);
  sqlite3_reset(touch_);
}

bool MeetingStore::delete_key(const Digest& key) {
  if (!delete_) return false;  // read-only
  sqlite3_reset(delete_);
  sqlite3_bind_blob(delete_, 1, key.data(), static_cast<int>(key.size()), SQLITE_STATIC);
  const bool deleted = sqlite3_step(delete_) == SQLITE_DONE && sqlite3_changes(db_) > 0;
  sqlite3_reset(delete_);
  return deleted;
}

void MeetingStore::touch(std::string_view id, std::int64_t unix_now) { touch_key(sha256(id), unix_now); }

bool MeetingStore::remove(std::string_view id) {
  const bool deleted = delete_key(sha256(id));
  if (deleted) forget_old_pages();
  return deleted;
}

MeetingStore::Swept MeetingStore::sweep(std::int64_t unix_now, std::int64_t unused_before, std::int64_t audit_before,
                                        const std::function<bool(const Digest&)>& live) {
  Swept out;
  std::vector<Digest> unused;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, "SELECT id_sha256 FROM meetings WHERE used_at < ?1", -1, &s, nullptr) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, unused_before);
    while (sqlite3_step(s) == SQLITE_ROW) {
      Digest d{};
      if (sqlite3_column_bytes(s, 0) == static_cast<int>(d.size()))
        std::memcpy(d.data(), sqlite3_column_blob(s, 0), d.size());
      unused.push_back(d);
    }
    sqlite3_finalize(s);
  }
  exec(db_, "BEGIN", nullptr);
  for (const Digest& d : unused) {
    if (live(d))
      touch_key(d, unix_now);  // someone is in it: in use now
    else if (delete_key(d))
      ++out.meetings_deleted;
  }
  if (sqlite3_prepare_v2(db_,
                         "UPDATE meetings SET creator_ip = '', user_agent = '', country = '', city = '' "
                         "WHERE CAST(strftime('%s', created_at) AS INTEGER) < ?1 "
                         "AND (creator_ip <> '' OR user_agent <> '' OR country <> '' OR city <> '')",
                         -1, &s, nullptr) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, audit_before);
    if (sqlite3_step(s) == SQLITE_DONE) out.audits_erased = static_cast<std::size_t>(sqlite3_changes(db_));
    sqlite3_finalize(s);
  }
  exec(db_, "COMMIT", nullptr);
  if (out.meetings_deleted + out.audits_erased > 0) forget_old_pages();
  return out;
}

std::string rfc3339_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace meshmeet::server
