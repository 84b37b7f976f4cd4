// server/client_address: whom a socket belongs to, behind proxies or not,
// and the group its sockets are counted in.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "server/client_address.hpp"

using namespace meshmeet::server;

namespace {

std::vector<AddressRange> ranges(std::initializer_list<const char*> texts) {
  std::vector<AddressRange> out;
  for (const char* t : texts) out.push_back(*parse_address_range(t));
  return out;
}

using Headers = std::vector<std::string_view>;

}  // namespace

TEST_CASE("address ranges: an address or a CIDR range, IPv4 or IPv6") {
  CHECK(parse_address_range("10.0.0.1")->to_string() == "10.0.0.1/32");
  CHECK(parse_address_range("10.0.0.0/8")->to_string() == "10.0.0.0/8");
  CHECK(parse_address_range("2001:db8::/32")->to_string() == "2001:db8::/32");
  CHECK(parse_address_range("::ffff:10.1.2.3")->to_string() == "10.1.2.3/32");  // v4-mapped reads as IPv4
  for (const char* bad : {"", "proxy.example.org", "10.0.0.0/33", "::/129", "10.0.0.1/", "10.0.0.1/x", "10.0.0.1/-1",
                          "10.0.0.1/0032", "[::1]", "10.0.0.1:80", "1.2.3"})
    CHECK_MESSAGE(!parse_address_range(bad), bad);

  auto in = [](const char* range, const char* address) { return parse_address_range(range)->contains(*parse_ip(address)); };
  CHECK(in("10.0.0.0/8", "10.255.1.2"));
  CHECK_FALSE(in("10.0.0.0/8", "11.0.0.1"));
  CHECK(in("172.16.0.0/12", "172.31.255.255"));
  CHECK_FALSE(in("172.16.0.0/12", "172.32.0.0"));
  CHECK(in("10.0.0.1", "10.0.0.1"));
  CHECK_FALSE(in("10.0.0.1", "10.0.0.2"));
  CHECK(in("0.0.0.0/0", "203.0.113.9"));
  CHECK(in("2001:db8::/32", "2001:db8:ffff::1"));
  CHECK_FALSE(in("2001:db8::/32", "2001:db9::1"));
  CHECK_FALSE(in("10.0.0.0/8", "::1"));  // families never mix
  CHECK_FALSE(in("::/0", "10.0.0.1"));
}

TEST_CASE("client address: without a trusted proxy, the peer, whatever the headers say") {
  CHECK(client_address("203.0.113.5", {}, {}) == "203.0.113.5");
  CHECK(client_address("203.0.113.5", Headers{"1.2.3.4"}, {}) == "203.0.113.5");
  CHECK(client_address("203.0.113.5", Headers{"1.2.3.4"}, ranges({"10.0.0.1"})) == "203.0.113.5");
  CHECK(client_address("10.0.0.2", Headers{"1.2.3.4"}, ranges({"10.0.0.1"})) == "10.0.0.2");
}

TEST_CASE("client address: behind trusted proxies, the right-most entry that is not one of them") {
  const auto proxies = ranges({"10.0.0.0/8", "::1"});
  CHECK(client_address("10.0.0.1", Headers{"198.51.100.7"}, proxies) == "198.51.100.7");
  CHECK(client_address("::1", Headers{"198.51.100.7"}, proxies) == "198.51.100.7");
  // Each proxy appends what it saw; entries further left are the client's own claims.
  CHECK(client_address("10.0.0.1", Headers{"6.6.6.6, 198.51.100.7"}, proxies) == "198.51.100.7");
  CHECK(client_address("10.0.0.1", Headers{"6.6.6.6,198.51.100.7"}, proxies) == "198.51.100.7");
  // A chain of our own proxies: skipped from the right.
  CHECK(client_address("10.0.0.1", Headers{"6.6.6.6, 198.51.100.7, 10.2.3.4, 10.9.9.9"}, proxies) == "198.51.100.7");
  // Repeated headers are one list, in order.
  CHECK(client_address("10.0.0.1", Headers{"6.6.6.6", "198.51.100.7", "10.2.3.4"}, proxies) == "198.51.100.7");
  CHECK(client_address("10.0.0.1", Headers{"198.51.100.7, 10.2.3.4", "10.3.3.3"}, proxies) == "198.51.100.7");
  // An entry that is not an address is skipped, not believed.
  CHECK(client_address("10.0.0.1", Headers{"198.51.100.7, unknown"}, proxies) == "198.51.100.7");
  CHECK(client_address("10.0.0.1", Headers{"198.51.100.7, <script>, 1.2.3.4:80"}, proxies) == "198.51.100.7");
  CHECK(client_address("10.0.0.1", Headers{"  2001:db8::7  "}, proxies) == "2001:db8::7");
  // Only proxies: the left-most of them. Nothing usable: the peer.
  CHECK(client_address("10.0.0.1", Headers{"10.1.1.1, 10.2.2.2"}, proxies) == "10.1.1.1");
  CHECK(client_address("10.0.0.1", Headers{""}, proxies) == "10.0.0.1");
  CHECK(client_address("10.0.0.1", Headers{"   ", ","}, proxies) == "10.0.0.1");
  CHECK(client_address("10.0.0.1", Headers{std::string_view("x", 1)}, proxies) == "10.0.0.1");
  CHECK(client_address("10.0.0.1", {}, proxies) == "10.0.0.1");
}

TEST_CASE("address groups: IPv4 alone, IPv6 by its /64") {
  CHECK(address_group("203.0.113.5") == "203.0.113.5");
  CHECK(address_group("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64");
  CHECK(address_group("2001:db8:1:2::1") == address_group("2001:db8:1:2:ffff::9"));
  CHECK(address_group("2001:db8:1:2::1") != address_group("2001:db8:1:3::1"));
  CHECK(address_group("::ffff:203.0.113.5") == "203.0.113.5");
  CHECK(address_group("::1") == "::/64");
  CHECK(address_group("unknown") == "unknown");
}
