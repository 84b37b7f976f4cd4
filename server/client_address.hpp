// Who a socket belongs to, for the per-address limits, the creation rate and
// the audit: the peer address, or, when the peer is a trusted reverse proxy,
// the client it says it forwards. And the group a client's sockets are
// counted in: an IPv4 address alone, an IPv6 address by its /64 (one
// subscriber's LAN, whose addresses it can vary at will).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/address.hpp>

namespace meshmeet::server {

// An address or a CIDR range: `--trust-proxy 10.0.0.1`, `--trust-proxy 10.0.0.0/8`.
struct AddressRange {
  boost::asio::ip::address network;
  unsigned prefix = 0;  // bits that must match: 32 or 128 for a single address

  bool contains(const boost::asio::ip::address& address) const;
  std::string to_string() const;
};

// An IPv4 or IPv6 address, nothing around it (no port, no brackets); an
// IPv4-mapped IPv6 address reads as its IPv4 address.
std::optional<boost::asio::ip::address> parse_ip(std::string_view text);
// "IP" or "IP/prefix"; nullopt for anything else (a host name, a prefix too long).
std::optional<AddressRange> parse_address_range(std::string_view text);

// Whether `address` (text) lies in one of `ranges`; false for text that is no address.
bool in_ranges(const std::vector<AddressRange>& ranges, std::string_view address);

// The client behind a connection from `peer`. Unless `peer` is within a
// trusted range, `peer` itself. Otherwise the right-most entry of the
// X-Forwarded-For values (every header of the request, in order, taken as
// one list) that is not a trusted proxy: each proxy appends the address it
// saw, so entries further left are only what the client claimed. Entries
// that are not IP addresses are skipped. When every entry is a trusted
// proxy, the left-most of them; with no usable entry, `peer`.
std::string client_address(const std::string& peer, const std::vector<std::string_view>& forwarded_for,
                           const std::vector<AddressRange>& trusted_proxies);

// The key the per-address limits count under: an IPv4 address as it is, an
// IPv6 address as its /64 ("2001:db8:1:2::/64"); text that is not an
// address stays as it is.
std::string address_group(const std::string& address);

}  // namespace meshmeet::server
