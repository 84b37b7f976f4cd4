// server/config: flags, their MESHMEET_* twins, defaults of protocol.md.
#include <doctest/doctest.h>

#include <cctype>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "server/config.hpp"

using namespace meshmeet::server;

namespace {

// The injected environment: parse_args takes a plain function pointer.
std::map<std::string, std::string> g_env;
const char* fake_env(const char* name) {
  auto it = g_env.find(name);
  return it == g_env.end() ? nullptr : it->second.c_str();
}

ParsedArgs parse(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  g_env = std::move(env);
  std::vector<const char*> argv{"meshmeet-server"};
  for (const auto& a : args) argv.push_back(a.c_str());
  argv.push_back(nullptr);
  auto out = parse_args(static_cast<int>(args.size() + 1), argv.data(), fake_env);
  g_env.clear();
  return out;
}

Config parse_ok(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  auto out = parse(args, std::move(env));
  REQUIRE_MESSAGE(out.error.empty(), "unexpected error: " << out.error);
  CHECK(out.command == Command::Serve);
  return out.config;
}

std::string parse_error(const std::vector<std::string>& args, std::map<std::string, std::string> env = {}) {
  std::string shown;
  for (const auto& a : args) shown += a + ' ';
  INFO("args: " << shown);
  auto out = parse(args, std::move(env));
  CHECK_FALSE(out.error.empty());
  return out.error;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

using Strings = std::vector<std::string>;

Strings ranges(const Config& c) {
  Strings out;
  for (const auto& r : c.trusted_proxies) out.push_back(r.to_string());
  return out;
}

// One row per flag: a value and what it must do to the config.
struct FlagCase {
  std::string flag;
  std::string value;
  std::function<bool(const Config&)> applied;
};

const std::vector<FlagCase>& flag_cases() {
  static const std::vector<FlagCase> cases = {
      {"host", "0.0.0.0", [](const Config& c) { return c.host == "0.0.0.0"; }},
      {"port", "9443", [](const Config& c) { return c.port == 9443; }},
      {"db", "/var/lib/meshmeet/m.db", [](const Config& c) { return c.db == "/var/lib/meshmeet/m.db"; }},
      {"static", "/srv/web", [](const Config& c) { return c.static_dir == "/srv/web"; }},
      {"allow-origin", "https://meet.example.org",
       [](const Config& c) { return c.allow_origins == Strings{"https://meet.example.org"}; }},
      {"room-cap", "12", [](const Config& c) { return c.room_cap == 12; }},
      {"per-ip", "5", [](const Config& c) { return c.per_ip == 5; }},
      {"resume-grace", "0.5", [](const Config& c) { return c.resume_grace == 0.5; }},
      {"heartbeat-interval", "2.5", [](const Config& c) { return c.heartbeat_interval == 2.5; }},
      {"heartbeat-timeout", "45", [](const Config& c) { return c.heartbeat_timeout == 45; }},
      {"max-frame", "1024", [](const Config& c) { return c.max_frame == 1024; }},
      {"geoip", "/usr/share/GeoIP/city.mmdb", [](const Config& c) { return c.geoip == "/usr/share/GeoIP/city.mmdb"; }},
      {"msg-rate", "100", [](const Config& c) { return c.msg_rate == 100; }},
      {"create-rate", "0", [](const Config& c) { return c.create_rate == 0; }},
      {"join-timeout", "3", [](const Config& c) { return c.join_timeout == 3; }},
      {"max-body", "8192", [](const Config& c) { return c.max_body == 8192; }},
      {"send-queue", "2048", [](const Config& c) { return c.send_queue == 2048; }},
      {"create-token", "s3cret", [](const Config& c) { return c.create_token == "s3cret"; }},
      {"ice-server", "stun:stun.example.org:3478",
       [](const Config& c) { return c.ice_servers == Strings{"stun:stun.example.org:3478"}; }},
      {"trust-proxy", "10.0.0.1", [](const Config& c) { return ranges(c) == Strings{"10.0.0.1/32"}; }},
      {"per-ip-sockets", "32", [](const Config& c) { return c.per_ip_sockets == 32; }},
      {"metrics-listen", "[::1]:9100", [](const Config& c) { return c.metrics_listen == "[::1]:9100"; }},
      {"log-level", "debug", [](const Config& c) { return c.log_level == LogLevel::Debug; }},
      {"stun-port", "3478", [](const Config& c) { return c.stun_port == 3478; }},
      {"turn-ttl", "60", [](const Config& c) { return c.turn_ttl == 60; }},
      {"redis", "redis://:pw@10.0.0.7:6380/2", [](const Config& c) { return c.redis == "redis://:pw@10.0.0.7:6380/2"; }},
  };
  return cases;
}

std::string env_name(const std::string& flag) {
  std::string name = "MESHMEET_";
  for (char c : flag) name.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

}  // namespace

TEST_CASE("config: whether the static directory is the default next to the binary") {
  CHECK(parse({}).static_dir_is_default);
  CHECK_FALSE(parse({"--static", "/srv/web"}).static_dir_is_default);
  CHECK_FALSE(parse({}, {{"MESHMEET_STATIC", "/srv/web"}}).static_dir_is_default);
}

TEST_CASE("config: defaults match protocol.md") {
  const Config c = parse_ok({});
  CHECK(c.host == "127.0.0.1");
  CHECK(c.port == 8080);
  CHECK(ends_with(c.db, "/data/meshmeet.db"));  // a file under the data folder
  CHECK(ends_with(c.static_dir, "/web"));       // the built web app
  CHECK(c.tls_cert.empty());
  CHECK(c.tls_key.empty());
  CHECK(c.allow_origins.empty());  // own origin + localhost
  CHECK(c.room_cap == 8);
  CHECK(c.per_ip == 20);
  CHECK(c.resume_grace == 15);
  CHECK(c.heartbeat_interval == 10);
  CHECK(c.heartbeat_timeout == 30);
  CHECK(c.max_frame == 65536);
  CHECK(c.geoip.empty());
  CHECK(c.msg_rate == 50);
  CHECK(c.create_rate == 60);
  // docs/server-conventions.md
  CHECK(c.join_timeout == 10);
  CHECK(c.max_body == 4096);
  CHECK(c.send_queue == 1048576);
  CHECK(c.create_token.empty());
  CHECK(c.ice_servers.empty());
  CHECK(c.trusted_proxies.empty());
  CHECK(c.log_level == LogLevel::Info);
  // protocol.md v2
  CHECK(c.stun_port == -1);  // the same number as the bound --port
  CHECK(c.turn_urls.empty());
  CHECK(c.turn_secret_file.empty());
  CHECK(c.turn_ttl == 3600);
  CHECK(c.per_ip_sockets == 256);
  CHECK(c.metrics_listen.empty());
  CHECK(c.meeting_ttl_days == 30);
  CHECK(c.audit_retention_days == 90);
  // "at least 50 messages/s with a burst of at least 200; at least 60 creations per minute"
  CHECK(c.msg_rate >= 50);
  CHECK(c.msg_rate * 4 >= 200);
  CHECK(c.create_rate >= 60);
}

TEST_CASE("config: every flag parses as '--flag v' and '--flag=v'") {
  for (const auto& fc : flag_cases()) {
    INFO("--" << fc.flag << " " << fc.value);
    CHECK(fc.applied(parse_ok({"--" + fc.flag, fc.value})));
    CHECK(fc.applied(parse_ok({"--" + fc.flag + "=" + fc.value})));
  }
}

TEST_CASE("config: every flag has its MESHMEET_* twin, and the flag wins") {
  for (const auto& fc : flag_cases()) {
    const std::string var = env_name(fc.flag);
    INFO(var << "=" << fc.value);
    CHECK(fc.applied(parse_ok({}, {{var, fc.value}})));
    // The environment value alone is applied; a flag given as well replaces it.
    auto fresh = parse_ok({});
    CHECK_FALSE(fc.applied(fresh));
  }
  CHECK(parse_ok({"--port", "9001"}, {{"MESHMEET_PORT", "9000"}}).port == 9001);
  CHECK(parse_ok({"--port=9001"}, {{"MESHMEET_PORT", "9000"}}).port == 9001);
  CHECK(parse_ok({}, {{"MESHMEET_PORT", "9000"}}).port == 9000);
  CHECK(parse_ok({"--host", "::"}, {{"MESHMEET_HOST", "0.0.0.0"}}).host == "::");
  CHECK(parse_ok({"--resume-grace", "1"}, {{"MESHMEET_RESUME_GRACE", "99"}}).resume_grace == 1);
  CHECK(parse_ok({"--log-level", "error"}, {{"MESHMEET_LOG_LEVEL", "debug"}}).log_level == LogLevel::Error);
  // An env twin of one flag does not disturb another.
  auto c = parse_ok({"--port", "1"}, {{"MESHMEET_ROOM_CAP", "3"}});
  CHECK(c.port == 1);
  CHECK(c.room_cap == 3);
  // Unrelated variables are ignored.
  CHECK(parse_ok({}, {{"MESHMEET_NOPE", "x"}, {"PORT", "1"}}).port == 8080);
}

TEST_CASE("config: TLS needs both files, from flags or env") {
  auto c = parse_ok({"--tls-cert", "/etc/cert.pem", "--tls-key=/etc/key.pem"});
  CHECK(c.tls_cert == "/etc/cert.pem");
  CHECK(c.tls_key == "/etc/key.pem");
  c = parse_ok({}, {{"MESHMEET_TLS_CERT", "/c.pem"}, {"MESHMEET_TLS_KEY", "/k.pem"}});
  CHECK(c.tls_cert == "/c.pem");
  CHECK(c.tls_key == "/k.pem");
  c = parse_ok({"--tls-cert", "/flag.pem"}, {{"MESHMEET_TLS_CERT", "/c.pem"}, {"MESHMEET_TLS_KEY", "/k.pem"}});
  CHECK(c.tls_cert == "/flag.pem");

  CHECK(parse_error({"--tls-cert", "/etc/cert.pem"}).find("tls") != std::string::npos);
  CHECK(parse_error({"--tls-key", "/etc/key.pem"}).find("tls") != std::string::npos);
  parse_error({}, {{"MESHMEET_TLS_CERT", "/c.pem"}});
}

TEST_CASE("config: repeatable flags collect, and the command line replaces the environment's list") {
  auto c = parse_ok({"--allow-origin", "https://a.example", "--allow-origin=https://b.example", "--allow-origin", "*"});
  CHECK(c.allow_origins == Strings{"https://a.example", "https://b.example", "*"});
  c = parse_ok({"--ice-server", "stun:a", "--ice-server", "turn:b"});
  CHECK(c.ice_servers == Strings{"stun:a", "turn:b"});
  c = parse_ok({"--trust-proxy", "10.0.0.1", "--trust-proxy=::1", "--trust-proxy", "172.16.0.0/12", "--trust-proxy", "fd00::/8"});
  CHECK(ranges(c) == Strings{"10.0.0.1/32", "::1/128", "172.16.0.0/12", "fd00::/8"});

  // The environment takes a comma-separated list.
  c = parse_ok({}, {{"MESHMEET_ALLOW_ORIGIN", "https://x.example,https://y.example"},
                    {"MESHMEET_ICE_SERVER", "stun:a,stun:b,"},
                    {"MESHMEET_TRUST_PROXY", "10.0.0.1"}});
  CHECK(c.allow_origins == Strings{"https://x.example", "https://y.example"});
  CHECK(c.ice_servers == Strings{"stun:a", "stun:b"});
  CHECK(ranges(c) == Strings{"10.0.0.1/32"});

  // Flags replace the environment's list rather than extend it.
  c = parse_ok({"--allow-origin", "https://a.example", "--allow-origin", "https://b.example"},
               {{"MESHMEET_ALLOW_ORIGIN", "https://x.example,https://y.example"}, {"MESHMEET_ICE_SERVER", "stun:e"}});
  CHECK(c.allow_origins == Strings{"https://a.example", "https://b.example"});
  CHECK(c.ice_servers == Strings{"stun:e"});  // untouched: not on the command line
}

TEST_CASE("config: decimal durations") {
  auto c = parse_ok({"--resume-grace", "0.25", "--heartbeat-interval", "0.5", "--heartbeat-timeout", "1.5",
                     "--join-timeout=0.75"});
  CHECK(c.resume_grace == 0.25);
  CHECK(c.heartbeat_interval == 0.5);
  CHECK(c.heartbeat_timeout == 1.5);
  CHECK(c.join_timeout == 0.75);
  CHECK(parse_ok({"--resume-grace", "0"}).resume_grace == 0);
  CHECK(parse_ok({"--port", "0"}).port == 0);  // picks a free port
}

TEST_CASE("config: bad values are errors naming the flag") {
  const std::vector<Strings> bad = {
      {"--port", "70000"},         {"--port", "65536"},          {"--port", "-1"},
      {"--port", "abc"},           {"--port", "80.5"},           {"--port", ""},
      {"--port="},                 {"--port", "8080x"},          {"--port", "nan"},
      {"--port", "inf"},           {"--room-cap", "0"},          {"--room-cap", "1.5"},
      {"--per-ip", "0"},           {"--resume-grace", "-1"},     {"--resume-grace", "soon"},
      {"--heartbeat-interval", "0"}, {"--heartbeat-timeout", "-5"}, {"--max-frame", "10"},
      {"--max-frame", "1e12"},     {"--msg-rate", "0"},          {"--create-rate", "-1"},
      {"--join-timeout", "0"},     {"--max-body", "-1"},         {"--send-queue", "1"},
      {"--log-level", "loud"},     {"--log-level", ""},          {"--host", ""},
      {"--host="},                 {"--db", ""},                 {"--allow-origin", ""},
      {"--create-token="},         {"--ice-server", ""},
      {"--stun-port", "65536"},    {"--stun-port", "-1"},       {"--stun-port", "x"},
      {"--turn-ttl", "0"},         {"--turn-ttl", "1.5"},       {"--turn-ttl", "9999999999"},
      {"--turn-url", ""},          {"--turn-url", "stun:t.example.org"}, {"--turn-url", "turn:"},
      {"--turn-url", "turn:t.example.org?transport=sctp"},      {"--turn-url", "turn://t.example.org"},
      {"--turn-secret-file", ""},
      {"--per-ip-sockets", "0"},   {"--trust-proxy", "proxy.example.org"}, {"--trust-proxy", "10.0.0.0/33"},
      {"--trust-proxy", "::1/129"}, {"--trust-proxy", "10.0.0.1/"}, {"--trust-proxy", "10.0.0.1/x"},
      {"--metrics-listen", "9100"}, {"--metrics-listen", "localhost:9100"}, {"--metrics-listen", "::1:9100"},
      {"--metrics-listen", "127.0.0.1:65536"}, {"--meeting-ttl", "0"}, {"--audit-retention", "-1"},
      {"--meeting-ttl", "forever"}, {"--redis", ""},           {"--redis", "http://10.0.0.7:6379"},
      {"--redis", "redis://10.0.0.7:99999"}, {"--redis", "redis://10.0.0.7:6379/x"},
      {"--node-id", ""},           {"--node-id", "node a"},     {"--node-id", std::string(65, 'n')},
  };
  for (const auto& args : bad) {
    const std::string error = parse_error(args);
    const std::string flag = args[0].substr(0, args[0].find('='));
    INFO(args[0] << " -> " << error);
    CHECK(error.find(flag) != std::string::npos);
  }
}

TEST_CASE("config: --node-id names a node of a cluster: it needs --redis") {
  CHECK(parse_ok({"--redis", "redis://127.0.0.1:6379", "--node-id", "eu-1.b:8443"}).node_id == "eu-1.b:8443");
  CHECK(parse_ok({}, {{"MESHMEET_REDIS", "redis://127.0.0.1"}, {"MESHMEET_NODE_ID", "n2"}}).node_id == "n2");
  CHECK(parse_error({"--node-id", "n1"}).find("--redis") != std::string::npos);
  // A password in the URL is never repeated in an error.
  CHECK(parse_error({"--redis", "redis://:hunter2@10.0.0.7:99999"}).find("hunter2") == std::string::npos);
}

TEST_CASE("config: a bad environment value is an error naming the variable") {
  CHECK(parse_error({}, {{"MESHMEET_PORT", "abc"}}).find("MESHMEET_PORT") != std::string::npos);
  CHECK(parse_error({}, {{"MESHMEET_ROOM_CAP", "0"}}).find("MESHMEET_ROOM_CAP") != std::string::npos);
  CHECK(parse_error({}, {{"MESHMEET_LOG_LEVEL", "verbose"}}).find("MESHMEET_LOG_LEVEL") != std::string::npos);
}

TEST_CASE("config: unknown flags, missing values and stray arguments") {
  CHECK(parse_error({"--nope"}).find("--nope") != std::string::npos);
  CHECK(parse_error({"--nope=1"}).find("--nope") != std::string::npos);
  CHECK(parse_error({"--Port", "80"}).find("--Port") != std::string::npos);
  parse_error({"--"});
  parse_error({"-p", "80"});
  parse_error({"serve"});
  parse_error({"--port", "80", "extra"});
  CHECK(parse_error({"--port"}).find("--port") != std::string::npos);
  CHECK(parse_error({"--host", "0.0.0.0", "--db"}).find("--db") != std::string::npos);
  CHECK(parse_error({"--allow-origin"}).find("--allow-origin") != std::string::npos);
}

TEST_CASE("config: heartbeat timeout must exceed the interval") {
  parse_error({"--heartbeat-interval", "30"});
  parse_error({"--heartbeat-interval", "5", "--heartbeat-timeout", "5"});
  parse_error({"--heartbeat-timeout", "2", "--heartbeat-interval=3"});
  CHECK(parse_ok({"--heartbeat-interval", "5", "--heartbeat-timeout", "5.5"}).heartbeat_timeout == 5.5);
}

TEST_CASE("config: help and version") {
  CHECK(parse({"--help"}).command == Command::Help);
  CHECK(parse({"-h"}).command == Command::Help);
  CHECK(parse({"--version"}).command == Command::Version);
  CHECK(parse({"--port", "1", "--help"}).command == Command::Help);
  const std::string text = usage();
  for (const auto& fc : flag_cases()) {
    INFO(fc.flag);
    CHECK(text.find("--" + fc.flag) != std::string::npos);
    CHECK(text.find(env_name(fc.flag)) != std::string::npos);
  }
  CHECK(text.find("--tls-cert") != std::string::npos);
  CHECK(text.find("--tls-key") != std::string::npos);
}

TEST_CASE("config: the meetings subcommand accepts only --db") {
  auto out = parse({"meetings", "--db", "/tmp/a.db"});
  CHECK(out.error.empty());
  CHECK(out.command == Command::Meetings);
  CHECK(out.config.db == "/tmp/a.db");

  out = parse({"meetings", "--db=/tmp/b.db"});
  CHECK(out.error.empty());
  CHECK(out.command == Command::Meetings);
  CHECK(out.config.db == "/tmp/b.db");

  out = parse({"meetings"});
  CHECK(out.error.empty());
  CHECK(out.command == Command::Meetings);
  CHECK(ends_with(out.config.db, "/data/meshmeet.db"));

  out = parse({"meetings"}, {{"MESHMEET_DB", "/env.db"}});
  CHECK(out.config.db == "/env.db");
  // Other variables are not even looked at: a bad one does not break the audit command.
  out = parse({"meetings"}, {{"MESHMEET_PORT", "not-a-port"}, {"MESHMEET_TLS_CERT", "/c.pem"}});
  CHECK(out.error.empty());
  CHECK(out.command == Command::Meetings);

  for (const Strings& args : {Strings{"meetings", "--port", "1"}, Strings{"meetings", "--host=x"},
                              Strings{"meetings", "--db", "/a.db", "--tls-cert", "/c"}, Strings{"meetings", "extra"},
                              Strings{"meetings", "--db"}}) {
    auto bad = parse(args);
    INFO(args.back());
    CHECK_FALSE(bad.error.empty());
  }
}

TEST_CASE("config: TURN: --turn-url (validated, repeatable) and --turn-secret-file go together, flags or env") {
  auto c = parse_ok({"--turn-url", "turn:t.example.org:3478?transport=udp", "--turn-url=turns:t.example.org:5349",
                     "--turn-secret-file", "/etc/meshmeet/turn-secret"});
  CHECK(c.turn_urls == Strings{"turn:t.example.org:3478?transport=udp", "turns:t.example.org:5349"});
  CHECK(c.turn_secret_file == "/etc/meshmeet/turn-secret");
  CHECK(c.turn_secret.empty());  // read by main at startup, not by the parser

  c = parse_ok({}, {{"MESHMEET_TURN_URL", "turn:a.example,turn:b.example?transport=tcp"},
                    {"MESHMEET_TURN_SECRET_FILE", "/s"},
                    {"MESHMEET_TURN_TTL", "120"},
                    {"MESHMEET_STUN_PORT", "0"}});
  CHECK(c.turn_urls == Strings{"turn:a.example", "turn:b.example?transport=tcp"});
  CHECK(c.turn_secret_file == "/s");
  CHECK(c.turn_ttl == 120);
  CHECK(c.stun_port == 0);
  // The command line replaces the environment's list.
  c = parse_ok({"--turn-url", "turn:c.example"}, {{"MESHMEET_TURN_URL", "turn:a.example"}, {"MESHMEET_TURN_SECRET_FILE", "/s"}});
  CHECK(c.turn_urls == Strings{"turn:c.example"});

  CHECK(parse_error({"--turn-url", "turn:a.example"}).find("--turn-secret-file") != std::string::npos);
  CHECK(parse_error({"--turn-secret-file", "/s"}).find("--turn-url") != std::string::npos);
  CHECK(parse_error({}, {{"MESHMEET_TURN_URL", "http://a.example"}, {"MESHMEET_TURN_SECRET_FILE", "/s"}})
            .find("MESHMEET_TURN_URL") != std::string::npos);
  const std::string why = parse_error({"--turn-url", "stun:a.example", "--turn-secret-file", "/s"});
  CHECK(why.find("stun:a.example") != std::string::npos);  // names the bad URL
  CHECK(why.find("turn:") != std::string::npos);           // and what it should be
}
