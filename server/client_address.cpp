#include "server/client_address.hpp"

namespace meshmeet::server {

namespace ip = boost::asio::ip;

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool trusted(const std::vector<AddressRange>& ranges, const ip::address& address) {
  for (const auto& r : ranges)
    if (r.contains(address)) return true;
  return false;
}

}  // namespace

std::optional<ip::address> parse_ip(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  boost::system::error_code ec;
  ip::address a = ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::address(ip::make_address_v4(ip::v4_mapped, a.to_v6()));
  return a;
}

std::optional<AddressRange> parse_address_range(std::string_view text) {
  const auto slash = text.find('/');
  auto address = parse_ip(text.substr(0, slash));
  if (!address) return std::nullopt;
  const unsigned bits = address->is_v4() ? 32 : 128;
  unsigned prefix = bits;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3) return std::nullopt;
    prefix = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return std::nullopt;
      prefix = prefix * 10 + static_cast<unsigned>(c - '0');
    }
    if (prefix > bits) return std::nullopt;
  }
  return AddressRange{*address, prefix};
}

bool AddressRange::contains(const ip::address& address) const {
  if (address.is_v4() != network.is_v4()) return false;
  auto match = [this](const auto& a, const auto& b) {  // byte arrays
    unsigned left = prefix;
    for (std::size_t i = 0; i < a.size() && left > 0; ++i) {
      const unsigned take = left >= 8 ? 8 : left;
      const auto mask = static_cast<unsigned char>(0xff << (8 - take));
      if ((a[i] & mask) != (b[i] & mask)) return false;
      left -= take;
    }
    return true;
  };
  if (address.is_v4()) return match(network.to_v4().to_bytes(), address.to_v4().to_bytes());
  return match(network.to_v6().to_bytes(), address.to_v6().to_bytes());
}

std::string AddressRange::to_string() const { return network.to_string() + "/" + std::to_string(prefix); }

bool in_ranges(const std::vector<AddressRange>& ranges, std::string_view address) {
  auto a = parse_ip(address);
  return a && trusted(ranges, *a);
}

std::string client_address(const std::string& peer, const std::vector<std::string_view>& forwarded_for,
                           const std::vector<AddressRange>& trusted_proxies) {
  auto peer_address = parse_ip(peer);
  if (!peer_address || !trusted(trusted_proxies, *peer_address)) return peer;
  std::vector<ip::address> entries;
  for (std::string_view header : forwarded_for) {
    while (!header.empty()) {
      const auto comma = header.find(',');
      if (auto a = parse_ip(trim(header.substr(0, comma)))) entries.push_back(*a);
      header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
    }
  }
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (!trusted(trusted_proxies, *it)) return it->to_string();
  return entries.empty() ? peer : entries.front().to_string();
}

std::string address_group(const std::string& address) {
  auto a = parse_ip(address);
  if (!a) return address;
  if (a->is_v4()) return a->to_string();
  auto bytes = a->to_v6().to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return ip::make_address_v6(bytes).to_string() + "/64";
}

}  // namespace meshmeet::server
