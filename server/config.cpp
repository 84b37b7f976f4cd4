#include "server/config.hpp"

#include "server/redis_connection.hpp"

#include "server/ice_servers.hpp"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <sstream>

namespace meshmeet::server {
namespace {

struct Flag {
  const char* name;       // without the leading --
  const char* value;      // metavariable, or nullptr for a switch
  const char* help;
  bool repeatable;
  std::function<std::string(Config&, const std::string&)> apply;  // returns an error or ""
};

std::string parse_number(const std::string& text, double min, double max, double& out) {
  // Plain decimal only: strtod alone would also take hex, "inf" and "nan".
  if (text.empty() || text.find_first_not_of("0123456789.-+eE") != std::string::npos)
    return "expects a number, got '" + text + "'";
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(text.c_str(), &end);
  if (errno != 0 || *end != '\0' || !std::isfinite(v)) return "expects a number, got '" + text + "'";
  if (v < min || v > max) {
    std::ostringstream os;
    os << "must be between " << min << " and " << max << ", got " << text;
    return os.str();
  }
  out = v;
  return "";
}

template <class Int>
std::function<std::string(Config&, const std::string&)> integer(Int Config::*field, double min, double max) {
  return [=](Config& c, const std::string& text) {
    double v;
    if (auto e = parse_number(text, min, max, v); !e.empty()) return e;
    if (v != std::floor(v)) return "expects a whole number, got '" + text + "'";
    c.*field = static_cast<Int>(v);
    return std::string();
  };
}

std::function<std::string(Config&, const std::string&)> real(double Config::*field, double min, double max) {
  return [=](Config& c, const std::string& text) {
    double v;
    if (auto e = parse_number(text, min, max, v); !e.empty()) return e;
    c.*field = v;
    return std::string();
  };
}

std::function<std::string(Config&, const std::string&)> text(std::string Config::*field) {
  return [=](Config& c, const std::string& value) {
    if (value.empty()) return std::string("expects a value");
    c.*field = value;
    return std::string();
  };
}

std::function<std::string(Config&, const std::string&)> list(std::vector<std::string> Config::*field) {
  return [=](Config& c, const std::string& value) {
    if (value.empty()) return std::string("expects a value");
    (c.*field).push_back(value);
    return std::string();
  };
}

const std::vector<Flag>& flags() {
  static const std::vector<Flag> table = {
      {"host", "ADDR", "listen address (default 127.0.0.1)", false, text(&Config::host)},
      {"port", "N", "one port for HTTP, WebSocket and, with TLS, HTTPS (default 8080; 0 picks a free one)", false,
       integer(&Config::port, 0, 65535)},
      {"db", "FILE", "SQLite database of meetings (default <binary dir>/../data/meshmeet.db)", false, text(&Config::db)},
      {"static", "DIR", "static web app to serve (default <binary dir>/../web)", false, text(&Config::static_dir)},
      {"tls-cert", "FILE", "PEM certificate chain: serve https and wss (needs --tls-key)", false, text(&Config::tls_cert)},
      {"tls-key", "FILE", "PEM private key for --tls-cert", false, text(&Config::tls_key)},
      {"allow-origin", "ORIGIN",
       "allowed Origin for the WebSocket and for CORS on the meetings API, repeatable, '*' = any "
       "(default: own origin and localhost)",
       true, list(&Config::allow_origins)},
      {"room-cap", "N", "participants per meeting (default 8)", false, integer(&Config::room_cap, 1, 1000)},
      {"per-ip", "N", "open WebSocket connections per client IP (default 20)", false,
       integer(&Config::per_ip, 1, 1e9)},
      {"metrics-listen", "ADDR:PORT", "serve /metrics there instead of on the public port, e.g. 127.0.0.1:9100 (default off)",
       false,
       [](Config& c, const std::string& v) {
         std::string host;
         std::uint16_t port = 0;
         if (!split_listen_address(v, host, port)) return "'" + v + "' is not ADDR:PORT (an IP address and a port)";
         c.metrics_listen = v;
         return std::string();
       }},
      {"meeting-ttl", "DAYS", "a meeting nobody joined for this long is deleted (default 30)", false,
       real(&Config::meeting_ttl_days, 1e-6, 36500)},
      {"audit-retention", "DAYS", "the creator audit (address, user agent, place) is erased after this long (default 90)",
       false, real(&Config::audit_retention_days, 1e-6, 36500)},
      {"per-ip-sockets", "N",
       "open sockets of any kind (HTTP, upgrades, WebSockets) per client address, IPv6 per /64 (default 256)", false,
       integer(&Config::per_ip_sockets, 1, 1e9)},
      {"resume-grace", "S", "seconds a dropped participant's slot is held (default 15)", false,
       real(&Config::resume_grace, 0, 86400)},
      {"heartbeat-interval", "S", "seconds between server pings (default 10)", false,
       real(&Config::heartbeat_interval, 0.05, 86400)},
      {"heartbeat-timeout", "S", "seconds of silence before a connection counts as dropped (default 30)", false,
       real(&Config::heartbeat_timeout, 0.05, 86400)},
      {"max-frame", "B", "bytes per WebSocket message (default 65536)", false,
       integer(&Config::max_frame, 256, 64 * 1024 * 1024)},
      {"geoip", "FILE", "MaxMind .mmdb: record the creator's country and city (default off)", false,
       text(&Config::geoip)},
      {"msg-rate", "N", "messages per second per connection, burst 4×N (default 50)", false,
       real(&Config::msg_rate, 0.1, 1e9)},
      {"create-rate", "N", "meetings created per client IP per minute, 0 = no limit (default 60)", false,
       real(&Config::create_rate, 0, 1e9)},
      {"join-timeout", "S", "seconds a WebSocket may stay without joining (default 10)", false,
       real(&Config::join_timeout, 0.05, 86400)},
      {"max-body", "B", "bytes of an HTTP request body (default 4096)", false,
       integer(&Config::max_body, 0, 64 * 1024 * 1024)},
      {"send-queue", "B", "bytes queued for one connection before it is closed as a slow consumer (default 1048576)",
       false, integer(&Config::send_queue, 1024, 1e10)},
      {"create-token", "TOKEN", "require 'Authorization: Bearer TOKEN' to create meetings (default off)", false,
       text(&Config::create_token)},
      {"ice-server", "URL",
       "static STUN/TURN URL handed to clients as {\"urls\": URL} in welcome.iceServers, repeatable; TURN with "
       "credentials is --turn-url (default none)",
       true,
       list(&Config::ice_servers)},
      {"stun-port", "N",
       "UDP port of the built-in STUN responder, 0 = off (default: the same number as the bound --port)", false,
       integer(&Config::stun_port, 0, 65535)},
      {"turn-url", "URL",
       "turn:/turns: URL handed out with time-limited credentials, repeatable, e.g. "
       "turn:turn.example.org:3478?transport=udp (needs --turn-secret-file)",
       true,
       [](Config& c, const std::string& v) {
         std::string why;
         if (!valid_turn_url(v, why)) return "'" + v + "' " + why;
         c.turn_urls.push_back(v);
         return std::string();
       }},
      {"turn-secret-file", "FILE",
       "file holding the TURN shared secret (coturn's static-auth-secret); one trailing newline is ignored", false,
       text(&Config::turn_secret_file)},
      {"turn-ttl", "S", "seconds minted TURN credentials are valid; fresh ones are sent at 80% (default 3600)", false,
       integer(&Config::turn_ttl, 1, 30 * 86400)},
      {"trust-proxy", "IP|CIDR", "reverse proxy (or range) whose X-Forwarded-For is believed, repeatable (default none)",
       true,
       [](Config& c, const std::string& v) {
         auto range = parse_address_range(v);
         if (!range) return "'" + v + "' is not an IP address or CIDR range";
         c.trusted_proxies.push_back(*range);
         return std::string();
       }},
      {"redis", "URL",
       "redis://[user:password@]host:port[/db]: share meetings, rosters, relays and audit with the other nodes "
       "(default off: SQLite and memory)",
       false,
       [](Config& c, const std::string& v) {
         auto url = redis::parse_url(v);
         if (auto* why = std::get_if<std::string>(&url)) return *why;
         c.redis = v;
         return std::string();
       }},
      {"node-id", "NAME",
       "this node's name in the cluster, unique among its nodes: letters, digits and .:_- (default hostname:port:pid)",
       false,
       [](Config& c, const std::string& v) {
         const bool ok = !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char ch) {
           return std::isalnum(static_cast<unsigned char>(ch)) || ch == '.' || ch == ':' || ch == '_' || ch == '-';
         });
         if (!ok) return "'" + v + "' is not a node name (1 to 64 letters, digits and .:_-)";
         c.node_id = v;
         return std::string();
       }},
      {"log-level", "LEVEL", "debug, info, warn or error (default info)", false,
       [](Config& c, const std::string& v) {
         return parse_log_level(v, c.log_level) ? std::string() : "expects debug, info, warn or error";
       }},
  };
  return table;
}

std::string env_name(const char* flag) {
  std::string name = "MESHMEET_";
  for (const char* p = flag; *p; ++p) name.push_back(*p == '-' ? '_' : static_cast<char>(std::toupper(*p)));
  return name;
}

const Flag* find_flag(const std::string& name) {
  for (const auto& f : flags())
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace

bool split_listen_address(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 >= text.size() || text.size() - colon - 1 > 5) return false;
  unsigned long value = 0;
  for (char c : text.substr(colon + 1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<unsigned long>(c - '0');
  }
  if (value > 65535) return false;
  std::string h = text.substr(0, colon);
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  else if (h.find(':') != std::string::npos) return false;  // an IPv6 address needs its brackets
  if (!parse_ip(h)) return false;
  host = h;
  port = static_cast<std::uint16_t>(value);
  return true;
}


std::string usage() {
  std::ostringstream os;
  os << "meshmeet-server: signaling server for mesh video meetings\n\n"
        "Usage:\n"
        "  meshmeet-server [flags]              serve HTTP, WebSocket and the web app\n"
        "  meshmeet-server meetings [--db FILE] print the meeting creation audit\n"
        "  meshmeet-server meetings delete ID [--db FILE]\n"
        "                                       delete a meeting now\n"
        "  meshmeet-server --help | --version\n\n"
        "Flags (each also read from the MESHMEET_* variable shown; the flag wins;\n"
        "repeatable flags take a comma-separated list there):\n";
  for (const auto& f : flags()) {
    std::string left = std::string("  --") + f.name + (f.value ? std::string(" ") + f.value : "");
    os << left;
    for (std::size_t i = left.size(); i < 28; ++i) os << ' ';
    os << ' ' << f.help << "  [" << env_name(f.name) << "]\n";
  }
  return os.str();
}

ParsedArgs parse_args(int argc, const char* const* argv, const char* (*env)(const char*)) {
  ParsedArgs out;
  int i = 1;
  if (argc > 1 && std::string(argv[1]) == "meetings") {
    out.command = Command::Meetings;
    i = 2;
    if (argc > 2 && std::string(argv[2]) == "delete") {
      if (argc < 4 || std::string(argv[3]).rfind("--", 0) == 0) {
        out.error = "meetings delete needs the meeting's ID";
        return out;
      }
      out.command = Command::DeleteMeeting;
      out.meeting_id = argv[3];
      i = 4;
    }
  }
  const bool db_only = out.command == Command::Meetings || out.command == Command::DeleteMeeting;

  // Environment first, so flags given on the command line replace it.
  for (const auto& f : flags()) {
    if (db_only && std::string(f.name) != "db") continue;
    const char* value = env(env_name(f.name).c_str());
    if (!value) continue;
    std::string v = value;
    std::vector<std::string> parts;
    if (f.repeatable) {
      std::stringstream ss(v);
      for (std::string part; std::getline(ss, part, ',');)
        if (!part.empty()) parts.push_back(part);
    } else {
      parts.push_back(v);
    }
    for (const auto& part : parts) {
      if (auto e = f.apply(out.config, part); !e.empty()) {
        out.error = env_name(f.name) + " " + e;
        return out;
      }
    }
  }

  bool seen_repeatable_on_cli[64] = {};
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      out.command = Command::Help;
      return out;
    }
    if (arg == "--version") {
      out.command = Command::Version;
      return out;
    }
    if (arg.rfind("--", 0) != 0) {
      out.error = "unexpected argument '" + arg + "'";
      return out;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_value = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    const Flag* flag = find_flag(name);
    if (!flag || (db_only && name != "db")) {
      out.error = "unknown flag '--" + name + "'";
      return out;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        out.error = "--" + name + " needs a value (" + flag->value + ")";
        return out;
      }
      value = argv[++i];
    }
    if (flag->repeatable) {
      // The command line replaces the environment's list, it does not extend it.
      auto index = static_cast<std::size_t>(flag - flags().data());
      if (!seen_repeatable_on_cli[index]) {
        seen_repeatable_on_cli[index] = true;
        if (name == "allow-origin") out.config.allow_origins.clear();
        if (name == "ice-server") out.config.ice_servers.clear();
        if (name == "trust-proxy") out.config.trusted_proxies.clear();
        if (name == "turn-url") out.config.turn_urls.clear();
      }
    }
    if (auto e = flag->apply(out.config, value); !e.empty()) {
      out.error = "--" + name + " " + e;
      return out;
    }
  }

  Config& c = out.config;
  if (c.tls_cert.empty() != c.tls_key.empty()) out.error = "--tls-cert and --tls-key go together";
  else if (c.heartbeat_timeout <= c.heartbeat_interval)
    out.error = "--heartbeat-timeout must be longer than --heartbeat-interval";
  else if (c.turn_urls.empty() != c.turn_secret_file.empty())
    out.error = "--turn-url and --turn-secret-file go together";
  else if (!c.node_id.empty() && c.redis.empty())
    out.error = "--node-id names a node of a cluster: it needs --redis";

  const std::string dir = executable_dir();
  if (c.db.empty()) c.db = dir + "/../data/meshmeet.db";
  if (c.static_dir.empty()) {
    c.static_dir = dir + "/../web";
    out.static_dir_is_default = true;
  }
  return out;
}

std::string executable_dir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<std::size_t>(n));
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

}  // namespace meshmeet::server
