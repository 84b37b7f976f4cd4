// The server's settings: command-line flags, each with a MESHMEET_* twin in
// the environment (the flag wins). Names and units are part of the contract
// in shared/protocol.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "server/client_address.hpp"
#include "server/log.hpp"

namespace meshmeet::server {

// "ADDR:PORT" or "[v6]:PORT" into its parts; false when it is neither.
bool split_listen_address(const std::string& text, std::string& host, std::uint16_t& port);

struct Config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::string db;           // default: <binary>/../data/meshmeet.db
  std::string static_dir;   // default: <binary>/../web
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::string> allow_origins;  // empty: own origin + localhost
  std::size_t room_cap = 8;
  std::size_t per_ip = 20;            // open WebSockets per client address
  std::size_t per_ip_sockets = 256;  // open sockets of any kind per client address (IPv6: per /64)
  std::string metrics_listen;        // ADDR:PORT serving /metrics instead of the public port; empty: off
  double meeting_ttl_days = 30;      // a meeting nobody joined for this long is deleted
  double audit_retention_days = 90;  // the creator audit is erased after this long
  double resume_grace = 15;
  double heartbeat_interval = 10;
  double heartbeat_timeout = 30;
  std::size_t max_frame = 65536;
  std::string geoip;
  double msg_rate = 50;     // burst is 4×
  double create_rate = 60;  // per IP per minute; 0 = unlimited
  double join_timeout = 10;
  std::size_t max_body = 4096;
  std::size_t send_queue = 1 << 20;
  std::string create_token;
  std::vector<std::string> ice_servers;
  int stun_port = -1;                      // -1: the same number as the bound TCP port; 0: off
  std::vector<std::string> turn_urls;      // validated turn:/turns: URLs
  std::string turn_secret_file;            // read at startup (main), never logged
  std::string turn_secret;                 // that file's contents, filled in by main; never logged
  std::int64_t turn_ttl = 3600;            // seconds minted TURN credentials live
  std::vector<AddressRange> trusted_proxies;  // --trust-proxy: addresses and CIDR ranges
  std::string redis;                       // --redis URL (validated; may hold a password: never logged); empty: lone server
  std::string node_id;                     // --node-id; empty: host:port
  LogLevel log_level = LogLevel::Info;
};

enum class Command { Serve, Meetings, DeleteMeeting, Help, Version };

struct ParsedArgs {
  Command command = Command::Serve;
  Config config;
  std::string error;  // non-empty: print it with the usage and exit 2
  std::string meeting_id;  // meetings delete ID
  // Neither --static nor MESHMEET_STATIC: static_dir is the built app next
  // to the binary, which a server-only build may lack.
  bool static_dir_is_default = false;
};

// `env` looks up an environment variable (nullptr when unset); injected so
// tests need not touch the process environment.
ParsedArgs parse_args(int argc, const char* const* argv, const char* (*env)(const char*));

std::string usage();

// The directory holding the running binary, for defaults found next to it.
std::string executable_dir();

}  // namespace meshmeet::server
