// server/meeting_store: meetings on disk, keyed by the id's SHA-256; the
// database never holds a joinable id.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>

#include <sqlite3.h>

#include "temp_dir.hpp"
#include "protocol/messages.hpp"
#include "server/meeting_store.hpp"
#include "server/secrets.hpp"

using namespace meshmeet::server;
namespace fs = std::filesystem;

namespace {

std::unique_ptr<MeetingStore> open_ok(const std::string& path, bool read_only = false) {
  std::string error;
  auto store = MeetingStore::open(path, read_only, error);
  REQUIRE_MESSAGE(store != nullptr, "open " << path << ": " << error);
  CHECK(error.empty());
  return store;
}

NewMeeting sample(const std::string& id, const std::string& name = "Standup") {
  NewMeeting m;
  m.id = id;
  m.name = name;
  m.created_at = "2026-03-04T05:06:07Z";
  m.creator_ip = "198.51.100.23";
  m.user_agent = "Mozilla/5.0 (X11; Linux x86_64) TestAgent/1.0";
  m.country = "NL";
  m.city = "Amsterdam";
  return m;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

const std::string kId = "k7d2mq4xzr5wb3np6yhf2tsgav";   // 26 chars, like a real id
const std::string kId2 = "a2b3c4d5e6f7g2h3i4j5k6l7mz";

}  // namespace

TEST_CASE("store: create and find by id in a file, parent folders made") {
  TempDir dir;
  const std::string path = dir.path + "/data/nested/meshmeet.db";
  auto store = open_ok(path);
  CHECK(fs::exists(path));
  std::string error;
  REQUIRE(store->create(sample(kId), error));
  REQUIRE(store->create(sample(kId2, "caf\xC3\xA9 \"quoted\" \xF0\x9F\x98\x80"), error));

  auto found = store->find(kId);
  REQUIRE(found.has_value());
  CHECK(found->name == "Standup");
  CHECK(found->created_at == "2026-03-04T05:06:07Z");
  auto second = store->find(kId2);
  REQUIRE(second.has_value());
  CHECK(second->name == "caf\xC3\xA9 \"quoted\" \xF0\x9F\x98\x80");

  // Only the exact id finds it.
  CHECK_FALSE(store->find(kId.substr(0, 25)).has_value());
  CHECK_FALSE(store->find(kId + "a").has_value());
  CHECK_FALSE(store->find(kId.substr(0, 6)).has_value());
  CHECK_FALSE(store->find("").has_value());
  CHECK_FALSE(store->find("zzzzzzzzzzzzzzzzzzzzzzzzzz").has_value());
}

TEST_CASE("store: the same id twice is refused with an error") {
  auto store = open_ok(":memory:");
  std::string error;
  REQUIRE(store->create(sample(kId), error));
  CHECK_FALSE(store->create(sample(kId, "other"), error));
  CHECK_FALSE(error.empty());
  CHECK(store->find(kId)->name == "Standup");
  // The store keeps working after a failed insert.
  error.clear();
  CHECK(store->create(sample(kId2), error));
  CHECK(error.empty());
}

TEST_CASE("store: meetings survive a reopen, read-write and read-only") {
  TempDir dir;
  const std::string path = dir.path + "/meshmeet.db";
  {
    auto store = open_ok(path);
    std::string error;
    REQUIRE(store->create(sample(kId), error));
  }
  {
    auto store = open_ok(path);
    auto found = store->find(kId);
    REQUIRE(found.has_value());
    CHECK(found->name == "Standup");
    std::string error;
    REQUIRE(store->create(sample(kId2, "second"), error));
  }
  auto reader = open_ok(path, /*read_only=*/true);
  CHECK(reader->find(kId).has_value());
  CHECK(reader->find(kId2)->name == "second");
  CHECK(reader->audit().size() == 2);
}

TEST_CASE("store: the audit has the creator's details but never the full id") {
  TempDir dir;
  const std::string path = dir.path + "/meshmeet.db";
  {
    auto store = open_ok(path);
    std::string error;
    REQUIRE(store->create(sample(kId), error));
    REQUIRE(store->create(sample(kId2, "b"), error));
    auto rows = store->audit();
    REQUIRE(rows.size() == 2);
    for (const auto& row : rows) {
      const std::string& id = row.name == "b" ? kId2 : kId;
      INFO("prefix: " << row.id_prefix);
      CHECK_FALSE(row.id_prefix.empty());
      CHECK(id.rfind(row.id_prefix, 0) == 0);   // a prefix of the id…
      CHECK(row.id_prefix.size() <= 8);         // …far too short to join with
      CHECK_FALSE(meshmeet::protocol::is_meeting_id(row.id_prefix));
      for (const std::string* field : {&row.id_prefix, &row.created_at, &row.name, &row.creator_ip, &row.country,
                                       &row.city, &row.user_agent})
        CHECK(field->find(id) == std::string::npos);
      CHECK(row.created_at == "2026-03-04T05:06:07Z");
      CHECK(row.creator_ip == "198.51.100.23");
      CHECK(row.user_agent == "Mozilla/5.0 (X11; Linux x86_64) TestAgent/1.0");
      CHECK(row.country == "NL");
      CHECK(row.city == "Amsterdam");
    }
  }
  // Nor do the bytes on disk hold a joinable id.
  std::string bytes;
  for (const auto& entry : fs::directory_iterator(dir.path)) bytes += slurp(entry.path().string());
  REQUIRE_FALSE(bytes.empty());
  CHECK(bytes.find("Amsterdam") != std::string::npos);  // the audit really is in there
  CHECK(bytes.find(kId) == std::string::npos);
  CHECK(bytes.find(kId2) == std::string::npos);
  CHECK(bytes.find(kId.substr(0, 12)) == std::string::npos);
}

TEST_CASE("store: read-only open of a missing file fails and creates nothing") {
  TempDir dir;
  const std::string path = dir.path + "/missing.db";
  std::string error;
  auto store = MeetingStore::open(path, /*read_only=*/true, error);
  CHECK(store == nullptr);
  CHECK_FALSE(error.empty());
  CHECK_FALSE(fs::exists(path));
  std::string error2;
  CHECK(MeetingStore::open(dir.path + "/no/such/dir/x.db", true, error2) == nullptr);
  CHECK_FALSE(error2.empty());
}

TEST_CASE("store: a path that cannot be a database fails with an error") {
  TempDir dir;
  std::string error;
  CHECK(MeetingStore::open(dir.path, false, error) == nullptr);  // a directory
  CHECK_FALSE(error.empty());
  const std::string junk = dir.path + "/junk.db";
  std::ofstream(junk) << std::string(4096, 'x');
  error.clear();
  CHECK(MeetingStore::open(junk, false, error) == nullptr);  // not SQLite
  CHECK_FALSE(error.empty());
}

TEST_CASE("store: :memory: works and starts empty") {
  auto store = open_ok(":memory:");
  CHECK(store->audit().empty());
  CHECK_FALSE(store->find(kId).has_value());
  std::string error;
  REQUIRE(store->create(sample(kId), error));
  CHECK(store->find(kId).has_value());
  CHECK(store->audit().size() == 1);
}

TEST_CASE("store: rfc3339_now is RFC 3339 UTC with seconds") {
  const std::string now = rfc3339_now();
  REQUIRE(now.size() == 20);
  CHECK(now[4] == '-');
  CHECK(now[7] == '-');
  CHECK(now[10] == 'T');
  CHECK(now[13] == ':');
  CHECK(now[16] == ':');
  CHECK(now[19] == 'Z');
  CHECK(now.substr(0, 2) == "20");
}

TEST_CASE("store: relay-only is kept with the meeting") {
  TempDir dir;
  const std::string path = dir.path + "/m.db";
  {
    auto store = open_ok(path);
    NewMeeting relay = sample(kId);
    relay.relay_only = true;
    std::string error;
    REQUIRE(store->create(relay, error));
    REQUIRE(store->create(sample(kId2), error));
  }
  auto store = open_ok(path);
  CHECK(store->find(kId)->relay_only);
  CHECK_FALSE(store->find(kId2)->relay_only);
}

TEST_CASE("store: a database made before relay_only existed gets the column; its meetings are not relay-only") {
  TempDir dir;
  const std::string path = dir.path + "/old.db";
  {
    // The first schema, as databases in the field have it.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    const std::string key(reinterpret_cast<const char*>(meshmeet::server::sha256(kId).data()), 32);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TABLE meetings (id_sha256 BLOB PRIMARY KEY, id_prefix TEXT NOT NULL, name TEXT NOT "
                         "NULL, created_at TEXT NOT NULL, creator_ip TEXT NOT NULL, user_agent TEXT NOT NULL, country "
                         "TEXT NOT NULL DEFAULT '', city TEXT NOT NULL DEFAULT '') WITHOUT ROWID;",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_stmt* s = nullptr;
    REQUIRE(sqlite3_prepare_v2(db,
                               "INSERT INTO meetings VALUES (?1, 'k7d2mq', 'Old one', '2025-01-01T00:00:00Z', "
                               "'192.0.2.1', 'ua', '', '')",
                               -1, &s, nullptr) == SQLITE_OK);
    sqlite3_bind_blob(s, 1, key.data(), 32, SQLITE_STATIC);
    REQUIRE(sqlite3_step(s) == SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
  }
  // Read-only (the audit command) reads it as it is.
  {
    auto reader = open_ok(path, true);
    auto old = reader->find(kId);
    REQUIRE(old);
    CHECK(old->name == "Old one");
    CHECK_FALSE(old->relay_only);
  }
  // Opened for writing: migrated, old rows kept, new ones may be relay-only.
  auto store = open_ok(path);
  auto old = store->find(kId);
  REQUIRE(old);
  CHECK(old->name == "Old one");
  CHECK_FALSE(old->relay_only);
  NewMeeting relay = sample(kId2);
  relay.relay_only = true;
  std::string error;
  REQUIRE(store->create(relay, error));
  CHECK(store->find(kId2)->relay_only);
  CHECK(store->audit().size() == 2);
  // And opening it again does not try to add the column twice.
  store.reset();
  store = open_ok(path);
  CHECK(store->find(kId2)->relay_only);
  // The old row counts as used from its creation (2025-01-01), not from 1970.
  auto swept = store->sweep(1772600767, 1735689600 - 1, 0, [](const Digest&) { return false; });
  CHECK(swept.meetings_deleted == 0);
  swept = store->sweep(1772600767, 1735689600 + 1, 0, [](const Digest&) { return false; });
  CHECK(swept.meetings_deleted == 1);
  CHECK_FALSE(store->find(kId));
  CHECK(store->find(kId2));
}

// Unix seconds of sample()'s created_at, 2026-03-04T05:06:07Z.
constexpr std::int64_t kCreated = 1772600767;
constexpr std::int64_t kDay = 86400;

TEST_CASE("store: retention deletes meetings unused for the TTL, unless someone is in them; a join counts as use") {
  auto store = open_ok(":memory:");
  std::string error;
  const std::string kId3 = "z2y3x4w5v6u7t2s3r4q5p6o7nm";
  for (const auto& id : {kId, kId2, kId3}) REQUIRE(store->create(sample(id), error));
  store->touch(kId2, kCreated + 20 * kDay);  // joined 20 days later
  const Digest live = sha256(kId3);          // kId3 has people in it now
  auto is_live = [&](const Digest& d) { return d == live; };

  // 29 days after creation, with a 30-day TTL: nothing goes.
  auto swept = store->sweep(kCreated + 29 * kDay, kCreated - kDay, kCreated - 90 * kDay, is_live);
  CHECK(swept.meetings_deleted == 0);
  // 31 days: kId was never used since its creation and goes; kId2 was
  // joined on day 20; kId3 is live, so it counts as used now.
  swept = store->sweep(kCreated + 31 * kDay, kCreated + kDay, kCreated - 90 * kDay, is_live);
  CHECK(swept.meetings_deleted == 1);
  CHECK_FALSE(store->find(kId));
  CHECK(store->find(kId2));
  CHECK(store->find(kId3));
  // 51 days: kId2's 30 days since its last join are over; kId3, used on
  // day 31, is not (even now that nobody is in it).
  swept = store->sweep(kCreated + 51 * kDay, kCreated + 21 * kDay, kCreated - 90 * kDay,
                       [](const Digest&) { return false; });
  CHECK(swept.meetings_deleted == 1);
  CHECK_FALSE(store->find(kId2));
  CHECK(store->find(kId3));
}

TEST_CASE("store: retention erases the creator audit after its period, keeps the meeting; remove deletes at once") {
  auto store = open_ok(":memory:");
  std::string error;
  REQUIRE(store->create(sample(kId), error));
  NewMeeting later = sample(kId2);
  later.created_at = "2026-03-14T05:06:07Z";  // ten days later
  REQUIRE(store->create(later, error));
  auto never = [](const Digest&) { return false; };
  auto swept = store->sweep(kCreated + 95 * kDay, 0, kCreated + 5 * kDay, never);  // audits older than day 5
  CHECK(swept.audits_erased == 1);
  CHECK(swept.meetings_deleted == 0);
  auto rows = store->audit();
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].name == "Standup");
  CHECK(rows[0].created_at == "2026-03-04T05:06:07Z");
  CHECK(rows[0].creator_ip.empty());
  CHECK(rows[0].user_agent.empty());
  CHECK(rows[0].country.empty());
  CHECK(rows[0].city.empty());
  CHECK(rows[1].creator_ip == "198.51.100.23");  // still within its period
  CHECK(store->find(kId));                         // the meeting itself stays
  CHECK(store->sweep(kCreated + 95 * kDay, 0, kCreated + 5 * kDay, never).audits_erased == 0);  // once

  CHECK(store->remove(kId));
  CHECK_FALSE(store->find(kId));
  CHECK_FALSE(store->remove(kId));
  CHECK(store->audit().size() == 1);
}

TEST_CASE("store: what is deleted or erased is gone from the files too, not left in free pages or the log") {
  TempDir dir;
  const std::string path = dir.path + "/meshmeet.db";
  auto store = open_ok(path);
  std::string error;
  NewMeeting m = sample(kId, "Secret planning 7f3a");
  m.creator_ip = "203.0.113.77";
  m.user_agent = "TracelessAgent/9";
  REQUIRE(store->create(m, error));
  REQUIRE(store->create(sample(kId2, "Other meeting 91bc"), error));
  auto on_disk = [&] { return slurp(path) + slurp(path + "-wal"); };
  REQUIRE(on_disk().find("Secret planning 7f3a") != std::string::npos);
  // The audit of both is erased: no address or agent stays behind.
  store->sweep(kCreated + 100 * kDay, 0, kCreated + kDay, [](const Digest&) { return false; });
  CHECK(on_disk().find("203.0.113.77") == std::string::npos);
  CHECK(on_disk().find("TracelessAgent/9") == std::string::npos);
  // The meeting deleted: its name is gone.
  REQUIRE(store->remove(kId));
  CHECK(on_disk().find("Secret planning 7f3a") == std::string::npos);
  CHECK(on_disk().find("Other meeting 91bc") != std::string::npos);
}
