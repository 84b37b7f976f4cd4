// server/ice_servers: TURN URL validation, the coturn use-auth-secret
// credentials (HMAC checked against a vector made with
// `openssl dgst -sha1 -hmac`), the Host header's host, and the list a
// participant is handed.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "server/ice_servers.hpp"

using namespace meshmeet::server;
using nlohmann::json;

TEST_CASE("ice: TURN URLs: turn:/turns:, host, optional port and transport, nothing else") {
  std::string why;
  for (const char* good : {"turn:turn.example.org", "turns:turn.example.org:5349", "turn:192.0.2.10:3478?transport=udp",
                           "turn:[2001:db8::1]:3478?transport=tcp", "turn:localhost", "turns:[::1]"}) {
    INFO(good);
    CHECK(valid_turn_url(good, why));
  }
  for (const char* bad : {"", "stun:stun.example.org", "http://turn.example.org", "turn:", "turn://turn.example.org",
                          "turn:turn.example.org:0", "turn:turn.example.org:70000", "turn:turn.example.org:34x",
                          "turn:turn.example.org:", "turn:turn.example.org?transport=sctp",
                          "turn:turn.example.org?foo=bar", "turn:user@turn.example.org", "turn:[2001:db8::1",
                          "turn:2001:db8::1", "turn:[not-v6]:3478", "turn:turn example.org", "TURN:turn.example.org"}) {
    INFO(bad);
    why.clear();
    CHECK_FALSE(valid_turn_url(bad, why));
    CHECK_FALSE(why.empty());
  }
}

TEST_CASE("ice: the credential is base64(HMAC-SHA1(secret, username)), username <expiry>:<peer id>") {
  // printf '%s' '1700003600:abcdefghijkl' | openssl dgst -sha1 -hmac 'north-wind-secret' -binary | base64
  CHECK(turn_username(1700003600, "abcdefghijkl") == "1700003600:abcdefghijkl");
  CHECK(turn_credential("north-wind-secret", "1700003600:abcdefghijkl") == "vFSJ5vi6HywHbBUI+6p1/ZKg604=");
  CHECK(turn_credential("north-wind-secreT", "1700003600:abcdefghijkl") != "vFSJ5vi6HywHbBUI+6p1/ZKg604=");
}

TEST_CASE("ice: the host of a Host header, port dropped, IPv6 kept in brackets") {
  CHECK(host_without_port("meet.example.org:8443") == "meet.example.org");
  CHECK(host_without_port("meet.example.org") == "meet.example.org");
  CHECK(host_without_port("127.0.0.1:8080") == "127.0.0.1");
  CHECK(host_without_port("[::1]:8080") == "[::1]");
  CHECK(host_without_port("[2001:db8::5]") == "[2001:db8::5]");
  for (const char* bad : {"", ":8080", "::1", "[::1", "[::1]x", "[zz]:80", "host:port", "a b", "a\"b:1", "h/x"}) {
    INFO(bad);
    CHECK(host_without_port(bad).empty());
  }
}

TEST_CASE("ice: reading the secret file: one trailing newline stripped; empty or unreadable is an error") {
  const std::string path = "/tmp/meshmeet-ice-test-secret-" + std::to_string(::getpid());
  std::string secret, error;
  {
    std::ofstream(path) << "s3cret value\n";
  }
  CHECK(read_turn_secret(path, secret, error));
  CHECK(secret == "s3cret value");
  {
    std::ofstream(path) << "crlf\r\n";
  }
  CHECK(read_turn_secret(path, secret, error));
  CHECK(secret == "crlf");
  {
    std::ofstream(path) << "\n";
  }
  CHECK_FALSE(read_turn_secret(path, secret, error));
  CHECK(error.find("empty") != std::string::npos);
  std::remove(path.c_str());
  CHECK_FALSE(read_turn_secret(path, secret, error));
  CHECK(error.find("cannot read") != std::string::npos);
  CHECK(error.find("crlf") == std::string::npos);  // never the secret
}

TEST_CASE("ice: a participant's list: STUN on the host it used, static entries, then TURN with fresh credentials") {
  IceServerSettings settings;
  settings.static_urls = {"stun:stun.example.net:3478"};
  settings.turn_urls = {"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"};
  settings.turn_secret = "north-wind-secret";
  settings.turn_ttl = 3600;
  settings.listen_host = "0.0.0.0";
  std::int64_t now = 1700000000;
  IceServerList ice(settings, [&] { return now; });
  ice.set_stun_port(8080);

  const json list = json::parse(ice.for_participant("abcdefghijkl", "meet.example.org:8443"));
  REQUIRE(list.size() == 3);
  CHECK(list[0] == json{{"urls", "stun:meet.example.org:8080"}});
  CHECK(list[1] == json{{"urls", "stun:stun.example.net:3478"}});
  CHECK(list[2]["urls"] == json::array({"turn:turn.example.org:3478?transport=udp", "turns:turn.example.org:5349"}));
  CHECK(list[2]["username"] == "1700003600:abcdefghijkl");
  CHECK(list[2]["credential"] == "vFSJ5vi6HywHbBUI+6p1/ZKg604=");

  // Minted from the clock at every call.
  now += 100;
  CHECK(json::parse(ice.for_participant("abcdefghijkl", "x"))[2]["username"] == "1700003700:abcdefghijkl");

  // IPv6 Host keeps its brackets; no usable Host and a wildcard --host: no STUN entry.
  CHECK(json::parse(ice.for_participant("p", "[2001:db8::5]:8080"))[0]["urls"] == "stun:[2001:db8::5]:8080");
  const json without_host = json::parse(ice.for_participant("p", ""));
  REQUIRE(without_host.size() == 2);
  CHECK(without_host[0]["urls"] == "stun:stun.example.net:3478");
}

TEST_CASE("ice: without a usable Host header the STUN host is --host (bracketed when IPv6); STUN off, no entry") {
  IceServerSettings v4;
  v4.listen_host = "192.0.2.1";
  IceServerList ice4(v4, [] { return std::int64_t{0}; });
  ice4.set_stun_port(3478);
  CHECK(ice4.for_participant("p", "") == R"([{"urls":"stun:192.0.2.1:3478"}])");
  CHECK(ice4.for_participant("p", "bad host") == R"([{"urls":"stun:192.0.2.1:3478"}])");
  CHECK_FALSE(ice4.has_turn());

  IceServerSettings v6;
  v6.listen_host = "::1";
  IceServerList ice6(v6, [] { return std::int64_t{0}; });
  ice6.set_stun_port(3478);
  CHECK(ice6.for_participant("p", "") == R"([{"urls":"stun:[::1]:3478"}])");
  ice6.set_stun_port(0);
  CHECK(ice6.for_participant("p", "example.org") == "[]");

  IceServerSettings wildcard6;
  wildcard6.listen_host = "::";
  IceServerList any(wildcard6, [] { return std::int64_t{0}; });
  any.set_stun_port(3478);
  CHECK(any.for_participant("p", "") == "[]");
}
