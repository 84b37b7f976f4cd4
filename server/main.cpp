// meshmeet-server: serve meetings, or print the creation audit.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

#include "server/config.hpp"
#include "server/geoip.hpp"
#include "server/ice_servers.hpp"
#include "server/log.hpp"
#include "server/meeting_store.hpp"
#include "server/redis_address_counts.hpp"
#include "server/redis_connection.hpp"
#include "server/redis_meetings.hpp"
#include "server/redis_room_registry.hpp"
#include "server/resume_tokens.hpp"
#include "server/server.hpp"
#include "server/tls_files.hpp"

using namespace meshmeet::server;

namespace {

constexpr int kUsageExit = 2;

int fail(const std::string& message) {
  std::cerr << "meshmeet-server: " << message << "\n";
  return kUsageExit;
}

bool readable(const std::string& path) { return ::access(path.c_str(), R_OK) == 0; }

bool readable_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode) && ::access(path.c_str(), R_OK | X_OK) == 0;
}

// The folder the database is in: where the server keeps what is its own.
std::string data_folder(const std::string& db) {
  const auto slash = db.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : db.substr(0, slash);
}

// `meetings delete ID`: gone from the database at once. A server running on
// it keeps a live room until its last participant leaves; nobody can join
// it again.
int delete_meeting(const Config& config, const std::string& id) {
  if (!readable(config.db)) return fail("cannot read database " + config.db);
  std::string error;
  auto store = MeetingStore::open(config.db, /*read_only=*/false, error);
  if (!store) return fail(error);
  if (!store->remove(id)) {
    std::cerr << "meshmeet-server: no meeting " << id.substr(0, 6) << "… in " << config.db << "\n";
    return 1;
  }
  std::cout << "deleted meeting " << id.substr(0, 6) << "…\n";
  return 0;
}

int print_audit(const Config& config) {
  if (!readable(config.db)) return fail("cannot read database " + config.db);
  std::string error;
  auto store = MeetingStore::open(config.db, /*read_only=*/true, error);
  if (!store) return fail(error);
  std::cout << "id\tcreated_at\tname\tip\tcountry\tcity\tuser_agent\n";
  auto clean = [](std::string s) {
    for (auto& c : s)
      if (c == '\t' || c == '\n' || c == '\r') c = ' ';
    return s;
  };
  for (const auto& row : store->audit())
    std::cout << row.id_prefix << "…\t" << row.created_at << '\t' << clean(row.name) << '\t' << row.creator_ip << '\t'
              << row.country << '\t' << clean(row.city) << '\t' << clean(row.user_agent) << '\n';
  return 0;
}

std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof name - 1) != 0 || !name[0]) return "localhost";
  return name;
}

// Sockets are file descriptors: take every one the hard limit allows.
void raise_open_file_limit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

}  // namespace

int main(int argc, char** argv) {
  ParsedArgs args = parse_args(argc, argv, [](const char* name) -> const char* { return std::getenv(name); });
  if (!args.error.empty()) {
    std::cerr << "meshmeet-server: " << args.error << "\n\n" << usage();
    return kUsageExit;
  }
  Config& config = args.config;
  switch (args.command) {
    case Command::Help: std::cout << usage(); return 0;
    case Command::Version: std::cout << "meshmeet-server " MESHMEET_VERSION " (signaling protocol v2)\n"; return 0;
    case Command::Meetings: return print_audit(config);
    case Command::DeleteMeeting: return delete_meeting(config, args.meeting_id);
    case Command::Serve: break;
  }
  Log::set_level(config.log_level);

  std::string error;
  std::optional<boost::asio::ssl::context> tls;
  if (!config.tls_cert.empty()) {
    tls = load_tls_context(config.tls_cert, config.tls_key, error);
    if (!tls) return fail(error);
  }

  if (!readable_directory(config.static_dir)) {
    if (!args.static_dir_is_default) return fail("--static " + config.static_dir + ": not a readable directory");
    // A server-only build: the API works, pages are 404 until the app is built.
    Log::warn("no-web-app", {{"static", config.static_dir}});
  }

  if (!config.turn_secret_file.empty() && !read_turn_secret(config.turn_secret_file, config.turn_secret, error))
    return fail(error);

  std::unique_ptr<GeoIp> geoip;
  if (!config.geoip.empty()) {
    geoip = GeoIp::open(config.geoip, error);
    if (!geoip) return fail("--geoip " + error);
  }

  // A node of a cluster keeps nothing on disk: meetings, the audit and the
  // resume key are in Redis (an in-memory SQLite stays, empty, for the
  // lone server's parts it never uses).
  const bool cluster = !config.redis.empty();
  auto store = MeetingStore::open(cluster ? ":memory:" : config.db, /*read_only=*/false, error);
  if (!store) return fail(error);

  // Beside the database: the key resume tokens are signed with, so that
  // participants come back under their ids after this process restarts.
  // (An in-memory database keeps nothing, the key neither.) The new key is
  // written once this process is sure to serve: a start that fails (its
  // port taken) must not replace the key of the process still serving.
  SystemRandom random;
  const bool keep_key = !cluster && config.db != ":memory:";
  const std::string key_file = data_folder(config.db) + "/resume-key";
  ResumeKeys resume_keys = keep_key ? next_resume_keys(key_file, random) : ResumeKeys::fresh(random);
  const ResumeKey current_key = resume_keys.current;

  raise_open_file_limit();
  boost::asio::io_context io(1);

  // --redis: this node's two connections (commands, and the subscriber that
  // receives what other nodes send its participants), the shared registry
  // and meetings.
  RoomRegistryFactory make_rooms = make_local_room_registry;
  std::unique_ptr<MeetingDirectory> meetings;
  std::unique_ptr<redis::Connection> redis_commands, redis_subscriber;
  std::string node_id;
  if (cluster) {
    const auto url = std::get<redis::Url>(redis::parse_url(config.redis));
    redis_commands = std::make_unique<redis::Connection>(io, url, "commands");
    redis_subscriber = std::make_unique<redis::Connection>(io, url, "subscriber");
    RedisRoomSettings nodes;
    // Unique without being told: several nodes on one host may share a port.
    node_id = config.node_id.empty()
                  ? host_name() + ":" + std::to_string(config.port) + ":" + std::to_string(getpid())
                  : config.node_id;
    nodes.node_id = node_id;
    nodes.meeting_ttl_s = static_cast<std::int64_t>(config.meeting_ttl_days * 86400);
    make_rooms = [&, nodes](const RoomSettings& settings, Delivery& delivery, RandomSource& rng) {
      return std::make_unique<RedisRoomRegistry>(settings, nodes, delivery, rng, *redis_commands, *redis_subscriber);
    };
    meetings = std::make_unique<RedisMeetings>(*redis_commands, nodes.meeting_ttl_s,
                                               static_cast<std::int64_t>(config.audit_retention_days * 86400),
                                               config.create_rate);
    Log::info("cluster", {{"node", nodes.node_id}, {"redis", url.host + ":" + std::to_string(url.port)}});
    redis_commands->start();
    redis_subscriber->start();
  }
  Server server(io, config, std::move(store), std::move(geoip), std::move(tls), make_rooms, std::move(resume_keys),
                std::move(meetings));
  // A cluster's per-address limits count every node's sockets.
  std::optional<SharedAddressCounts> shared_counts;
  if (cluster) shared_counts.emplace(*redis_commands, node_id, server.socket_counts(), server.websocket_counts());
  if (!server.listen(error)) return fail(error);
  if (keep_key && !save_resume_key(key_file, current_key, error)) return fail(error);
  server.start();
  io.run();
  Log::info("stopped");
  return 0;
}
