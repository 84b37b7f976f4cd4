// server/stun_responder: RFC 8489 Binding answers, checked against the RFC
// 5769 test vectors, and everything that must get no answer at all.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include <boost/asio/ip/address.hpp>

#include "server/source_rate_limit.hpp"
#include "server/stun_responder.hpp"

using namespace meshmeet::server;
using Bytes = std::vector<std::uint8_t>;
using boost::asio::ip::make_address;

namespace {

// RFC 5769 §2.1: a Binding request with SOFTWARE, PRIORITY, ICE-CONTROLLED,
// USERNAME, MESSAGE-INTEGRITY and FINGERPRINT.
const Bytes kSampleRequest = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87,
    0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f,
    0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
    0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf};

// RFC 5769 §2.2: the IPv4 response (192.0.2.1 port 32853).
const Bytes kSampleResponseV4 = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96};

// RFC 5769 §2.3: the IPv6 response (2001:db8:1234:5678:11:2233:4455:6677 port 32853).
const Bytes kSampleResponseV6 = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa,
    0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f,
    0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1,
    0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e,
    0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80,
    0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c};

// A bare Binding request: header only, transaction id 1..12.
Bytes bare_request() {
  Bytes b = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42};
  for (std::uint8_t i = 1; i <= 12; ++i) b.push_back(i);
  return b;
}

Bytes respond(const Bytes& in, const char* address = "192.0.2.1", std::uint16_t port = 32853) {
  StunResponse out;
  const std::size_t n = stun_respond(in.data(), in.size(), make_address(address), port, out);
  REQUIRE(n <= kStunMaxResponse);
  return Bytes(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
}

Bytes slice(const Bytes& b, std::size_t from, std::size_t size) {
  return Bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + size));
}

std::uint32_t read32(const Bytes& b, std::size_t at) {
  return static_cast<std::uint32_t>(b[at]) << 24 | static_cast<std::uint32_t>(b[at + 1]) << 16 |
         static_cast<std::uint32_t>(b[at + 2]) << 8 | b[at + 3];
}

}  // namespace

TEST_CASE("stun: FINGERPRINT is CRC-32 xor 0x5354554e, as in every RFC 5769 sample") {
  for (const Bytes* sample : {&kSampleRequest, &kSampleResponseV4, &kSampleResponseV6}) {
    const std::size_t at = sample->size() - 8;
    CHECK(stun_fingerprint(sample->data(), at) == read32(*sample, at + 4));
  }
}

TEST_CASE("stun: the RFC 5769 request from 192.0.2.1:32853 gets the sample's XOR-MAPPED-ADDRESS") {
  const Bytes answer = respond(kSampleRequest);
  REQUIRE(answer.size() == 20 + 12 + 8);
  CHECK(slice(answer, 0, 4) == Bytes{0x01, 0x01, 0x00, 0x14});     // Binding success, 20 bytes of attributes
  CHECK(slice(answer, 4, 16) == slice(kSampleRequest, 4, 16));      // cookie and transaction id
  CHECK(slice(answer, 20, 12) == slice(kSampleResponseV4, 36, 12));  // XOR-MAPPED-ADDRESS, byte for byte
  CHECK(slice(answer, 32, 4) == Bytes{0x80, 0x28, 0x00, 0x04});
  CHECK(read32(answer, 36) == stun_fingerprint(answer.data(), 32));
}

TEST_CASE("stun: from 2001:db8:1234:5678:11:2233:4455:6677 port 32853, the IPv6 sample's XOR-MAPPED-ADDRESS") {
  const Bytes answer = respond(kSampleRequest, "2001:db8:1234:5678:11:2233:4455:6677");
  REQUIRE(answer.size() == 20 + 24 + 8);
  CHECK(answer.size() <= kStunMaxResponse);
  CHECK(slice(answer, 0, 4) == Bytes{0x01, 0x01, 0x00, 0x20});
  CHECK(slice(answer, 20, 24) == slice(kSampleResponseV6, 36, 24));
  CHECK(read32(answer, 48) == stun_fingerprint(answer.data(), 44));
}

TEST_CASE("stun: an IPv4-mapped IPv6 source is answered as IPv4") {
  CHECK(respond(kSampleRequest, "::ffff:192.0.2.1") == respond(kSampleRequest, "192.0.2.1"));
}

TEST_CASE("stun: a bare Binding request (what browsers send to a STUN server) is answered") {
  const Bytes answer = respond(bare_request(), "203.0.113.7", 54321);
  REQUIRE(answer.size() == 40);
  CHECK(slice(answer, 8, 12) == slice(bare_request(), 8, 12));
  // X-Port and X-Address decode back to the source.
  CHECK(((answer[26] << 8 | answer[27]) ^ 0x2112) == 54321);
  CHECK((read32(answer, 28) ^ 0x2112A442u) == make_address("203.0.113.7").to_v4().to_uint());
}

TEST_CASE("stun: everything but a well-formed Binding request gets no answer") {
  auto silent = [](Bytes in, const char* why) {
    INFO(why);
    CHECK(respond(in).empty());
  };
  silent({}, "empty");
  silent(slice(bare_request(), 0, 19), "shorter than a header");
  Bytes b = bare_request();
  b[1] = 0x11;
  silent(b, "Binding indication");
  b = bare_request();
  b[0] = 0x01;
  b[1] = 0x01;
  silent(b, "Binding success response");
  b = bare_request();
  b[1] = 0x03;
  silent(b, "Allocate request (TURN)");
  b = bare_request();
  b[0] = 0xC0;
  silent(b, "leading bits set: not STUN");
  b = bare_request();
  b[7] = 0x43;
  silent(b, "wrong magic cookie (RFC 3489)");
  b = bare_request();
  b[3] = 4;
  silent(b, "length beyond the datagram");
  b = bare_request();
  b.insert(b.end(), {0, 0, 0, 0});
  silent(b, "datagram beyond the length");
  b = bare_request();
  b[3] = 4;
  b.insert(b.end(), {0x80, 0x22, 0x00, 0x08});
  silent(b, "attribute longer than the message");
  b = bare_request();
  b[3] = 2;
  b.insert(b.end(), {0x80, 0x22});
  silent(b, "length not a multiple of 4");
  b = kSampleRequest;
  b.back() ^= 1;
  silent(b, "FINGERPRINT that does not match");
  b = kSampleRequest;
  b[30] ^= 1;
  silent(b, "a byte changed under the FINGERPRINT");
  // FINGERPRINT not last: move it before a 4-byte attribute.
  b = bare_request();
  b[3] = 16;
  b.insert(b.end(), {0x80, 0x28, 0x00, 0x04, 0, 0, 0, 0, 0x80, 0x22, 0x00, 0x04, 'a', 'b', 'c', 'd'});
  const std::uint32_t fp = stun_fingerprint(b.data(), 20);
  b[24] = static_cast<std::uint8_t>(fp >> 24);
  b[25] = static_cast<std::uint8_t>(fp >> 16);
  b[26] = static_cast<std::uint8_t>(fp >> 8);
  b[27] = static_cast<std::uint8_t>(fp);
  silent(b, "FINGERPRINT not the last attribute");
}

TEST_CASE("stun: the per-address rate limit: a burst, then the rate; the table never grows past its bound") {
  const TimePoint t0 = TimePoint{} + std::chrono::hours(1);
  SourceRateLimits limits;
  limits.rate = 10;
  limits.burst = 20;
  limits.max_sources = 3;
  limits.overflow_rate = 1;
  limits.overflow_burst = 2;
  SourceRateLimit rate(limits, t0);
  const auto a = make_address("192.0.2.1");
  int allowed = 0;
  for (int i = 0; i < 100; ++i) allowed += rate.take(a, t0);
  CHECK(allowed == 20);
  CHECK(rate.take(a, t0 + std::chrono::milliseconds(100)));  // one token back after 0.1 s
  CHECK_FALSE(rate.take(a, t0 + std::chrono::milliseconds(100)));
  // Others have their own buckets, until the table is full...
  for (int i = 0; i < 10; ++i) {
    CHECK(rate.take(make_address("192.0.2.2"), t0));
    CHECK(rate.take(make_address("2001:db8::1"), t0));
  }
  CHECK(rate.tracked() == 3);
  // ...then a flood of new (spoofed) sources shares the small overflow bucket.
  int flood = 0;
  for (std::uint32_t i = 0; i < 10000; ++i)
    flood += rate.take(boost::asio::ip::address_v4(0x0A000000u + i), t0 + std::chrono::milliseconds(200));
  CHECK(flood == 2);
  CHECK(rate.tracked() == 3);
  // Once buckets are full again they are forgotten, and new sources get their own.
  CHECK(rate.take(make_address("198.51.100.9"), t0 + std::chrono::seconds(60)));
  CHECK(rate.tracked() == 1);
}
