#include "server/ice_servers.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include <boost/asio/ip/address.hpp>

#include "protocol/messages.hpp"

namespace meshmeet::server {
namespace {

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

bool valid_port(std::string_view s) {
  if (!all_digits(s) || s.size() > 5) return false;
  const int port = std::stoi(std::string(s));
  return port >= 1 && port <= 65535;
}

// A DNS name or IPv4 address: letters, digits, dots and hyphens.
bool valid_name(std::string_view s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-' || s.back() == '-') return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-') return false;
  return true;
}

bool valid_ipv6_literal(std::string_view bracketed) {
  if (bracketed.size() < 3 || bracketed.front() != '[' || bracketed.back() != ']') return false;
  boost::system::error_code ec;
  boost::asio::ip::make_address_v6(std::string(bracketed.substr(1, bracketed.size() - 2)), ec);
  return !ec;
}

// Splits "host[:port]" (host possibly a bracketed IPv6 literal); false when
// it is not of that shape.
bool split_host_port(std::string_view text, std::string_view& host, std::string_view& port) {
  port = {};
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos) return false;
    host = text.substr(0, close + 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
      if (port.empty()) return false;
    }
    return valid_ipv6_literal(host);
  }
  const auto colon = text.find(':');
  host = text.substr(0, colon);
  if (colon != std::string_view::npos) {
    port = text.substr(colon + 1);
    if (port.empty()) return false;
  }
  return valid_name(host);
}

bool is_wildcard(const std::string& host) {
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(host, ec);
  return !ec && address.is_unspecified();
}

}  // namespace

bool valid_turn_url(std::string_view url, std::string& why) {
  std::string_view rest;
  if (url.rfind("turn:", 0) == 0) rest = url.substr(5);
  else if (url.rfind("turns:", 0) == 0) rest = url.substr(6);
  else {
    why = "must start with turn: or turns:";
    return false;
  }
  if (rest.rfind("//", 0) == 0) {
    why = "takes no // (write turn:host:port)";
    return false;
  }
  const auto question = rest.find('?');
  const std::string_view authority = rest.substr(0, question);
  if (question != std::string_view::npos) {
    const std::string_view query = rest.substr(question + 1);
    if (query != "transport=udp" && query != "transport=tcp") {
      why = "may only end in ?transport=udp or ?transport=tcp";
      return false;
    }
  }
  std::string_view host, port;
  if (!split_host_port(authority, host, port)) {
    why = "needs a host name or IP address (IPv6 in brackets), optionally :port";
    return false;
  }
  if (!port.empty() && !valid_port(port)) {
    why = "has a port that is not a number from 1 to 65535";
    return false;
  }
  return true;
}

bool read_turn_secret(const std::string& path, std::string& secret, std::string& error) {
  // Plain POSIX reads: a directory or an unreadable file is an error value
  // here, where a stream would throw from inside its buffer.
  constexpr std::size_t kMaxSecret = 4096;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot read --turn-secret-file " + path + ": " + std::strerror(errno);
    return false;
  }
  std::string text;
  char buf[1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = "cannot read --turn-secret-file " + path + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > kMaxSecret) {
      error = "--turn-secret-file " + path + " is longer than 4096 bytes: not a secret file?";
      ::close(fd);
      return false;
    }
  }
  ::close(fd);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  if (!text.empty() && text.back() == '\r') text.pop_back();
  if (text.empty()) {
    error = "--turn-secret-file " + path + " is empty";
    return false;
  }
  secret = std::move(text);
  return true;
}

std::string turn_username(std::int64_t unix_expiry, std::string_view peer_id) {
  return std::to_string(unix_expiry) + ":" + std::string(peer_id);
}

std::string turn_credential(std::string_view secret, std::string_view username) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_size = 0;
  HMAC(EVP_sha1(), secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(username.data()),
       username.size(), mac, &mac_size);
  unsigned char base64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  const int n = EVP_EncodeBlock(base64, mac, static_cast<int>(mac_size));
  return std::string(reinterpret_cast<const char*>(base64), static_cast<std::size_t>(n));
}

std::string host_without_port(std::string_view header) {
  std::string_view host, port;
  if (!split_host_port(header, host, port)) return {};
  if (!port.empty() && !all_digits(port)) return {};
  return std::string(host);
}

IceServerList::IceServerList(IceServerSettings settings, std::function<std::int64_t()> unix_now)
    : settings_(std::move(settings)), unix_now_(std::move(unix_now)) {}

std::string IceServerList::stun_host(std::string_view host_header) const {
  std::string host = host_without_port(host_header);
  if (!host.empty()) return host;
  // No usable Host header: our own address, unless it is a wildcard, which
  // names no host a client could reach.
  if (is_wildcard(settings_.listen_host)) return {};
  boost::system::error_code ec;
  const auto address = boost::asio::ip::make_address(settings_.listen_host, ec);
  if (!ec && address.is_v6()) return "[" + settings_.listen_host + "]";
  return settings_.listen_host;
}

std::string IceServerList::for_participant(std::string_view peer_id, std::string_view host_header) const {
  std::string out = "[";
  auto next = [&] {
    if (out.size() > 1) out += ',';
  };
  if (stun_port_ != 0) {
    const std::string host = stun_host(host_header);
    if (!host.empty()) {
      next();
      out += R"({"urls":)" + protocol::quote_json("stun:" + host + ":" + std::to_string(stun_port_)) + "}";
    }
  }
  for (const auto& url : settings_.static_urls) {
    next();
    out += R"({"urls":)" + protocol::quote_json(url) + "}";
  }
  if (has_turn()) {
    const std::string username = turn_username(unix_now_() + settings_.turn_ttl, peer_id);
    next();
    out += R"({"urls":[)";
    for (std::size_t i = 0; i < settings_.turn_urls.size(); ++i)
      out += (i ? "," : "") + protocol::quote_json(settings_.turn_urls[i]);
    out += R"(],"username":)" + protocol::quote_json(username) + R"(,"credential":)" +
           protocol::quote_json(turn_credential(settings_.turn_secret, username)) + "}";
  }
  out += "]";
  return out;
}

}  // namespace meshmeet::server
