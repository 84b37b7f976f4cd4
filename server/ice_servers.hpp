// The ICE servers a participant is handed (welcome.iceServers and the v2
// `ice-servers` message): the built-in STUN, the operator's static entries,
// and TURN with time-limited credentials in coturn's `use-auth-secret`
// scheme ("TURN REST API"): username `<unix expiry>:<peer id>`, credential
// base64(HMAC-SHA1(secret, username)). coturn, given the same secret,
// accepts them until the expiry and refuses them after.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace meshmeet::server {

// Whether `url` is a TURN URL we hand out (RFC 7065): `turn:` or `turns:`,
// a host name, IPv4 or bracketed IPv6 address, an optional `:port` and an
// optional `?transport=udp|tcp`, nothing else. When not, `why` says why.
bool valid_turn_url(std::string_view url, std::string& why);

// Reads the TURN shared secret: the whole file, one trailing newline (LF or
// CRLF) stripped. False with `error` set when it is unreadable or empty.
// The secret itself never appears in `error`.
bool read_turn_secret(const std::string& path, std::string& secret, std::string& error);

// `<expiry>:<peer id>`.
std::string turn_username(std::int64_t unix_expiry, std::string_view peer_id);
// base64(HMAC-SHA1(secret, username)).
std::string turn_credential(std::string_view secret, std::string_view username);

// The host part of a Host header: without its port, an IPv6 literal kept in
// its brackets. Empty when the header is empty or not a plausible host.
std::string host_without_port(std::string_view host_header);

struct IceServerSettings {
  std::vector<std::string> static_urls;  // --ice-server, handed out as {"urls": URL}
  std::vector<std::string> turn_urls;    // --turn-url
  std::string turn_secret;               // contents of --turn-secret-file
  std::int64_t turn_ttl = 3600;          // seconds
  std::string listen_host;               // --host: the STUN host when the Host header gives none
};

class IceServerList {
 public:
  // `unix_now` is the wall clock in seconds (credentials expire in wall
  // time, which coturn checks); injected so tests can fix it.
  IceServerList(IceServerSettings settings, std::function<std::int64_t()> unix_now);

  // The STUN port once bound; 0 = STUN off.
  void set_stun_port(std::uint16_t port) { stun_port_ = port; }

  // The RTCIceServer array (JSON text) for peer `peer_id`, who reached us
  // with Host header `host_header`. Fresh TURN credentials at every call.
  std::string for_participant(std::string_view peer_id, std::string_view host_header) const;

  bool has_turn() const { return !settings_.turn_urls.empty(); }

 private:
  std::string stun_host(std::string_view host_header) const;

  IceServerSettings settings_;
  std::function<std::int64_t()> unix_now_;
  std::uint16_t stun_port_ = 0;
};

}  // namespace meshmeet::server
