// libFuzzer: the built-in STUN responder (server/stun_responder) on any
// datagram from an IPv4 or IPv6 source. Properties:
//  - it never crashes and never answers with more than kStunMaxResponse bytes;
//  - an answer is a Binding success for the request's transaction id, its
//    length field matches, and its FINGERPRINT verifies;
//  - an answer comes only for a datagram that is a Binding request by its
//    first bytes (type 0x0001, magic cookie, length = size - 20);
//  - its XOR-MAPPED-ADDRESS decodes back to the source.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "fuzz_check.hpp"
#include "server/stun_responder.hpp"

using meshmeet::fuzz::check;
using namespace meshmeet::server;

namespace {

std::uint32_t read32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

std::string_view view(const std::uint8_t* p, std::size_t n) { return {reinterpret_cast<const char*>(p), n}; }

void one(const std::uint8_t* data, std::size_t size, const boost::asio::ip::address& source, std::uint16_t port) {
  StunResponse out;
  out.fill(0xAA);
  const std::size_t n = stun_respond(data, size, source, port, out);
  check(n <= kStunMaxResponse, "an answer fits the fixed bound");
  if (n == 0) return;
  check(size >= 20 && data[0] == 0x00 && data[1] == 0x01, "only a Binding request is answered", view(data, size));
  check(read32(data + 4) == 0x2112A442, "only with the magic cookie", view(data, size));
  check(static_cast<std::size_t>(data[2] << 8 | data[3]) + 20 == size, "only when the length matches", view(data, size));
  check(out[0] == 0x01 && out[1] == 0x01, "the answer is a Binding success", view(out.data(), n));
  check(static_cast<std::size_t>(out[2] << 8 | out[3]) + 20 == n, "the answer's length field matches", view(out.data(), n));
  check(std::memcmp(out.data() + 4, data + 4, 16) == 0, "same cookie and transaction id", view(out.data(), n));
  check(read32(out.data() + n - 4) == stun_fingerprint(out.data(), n - 8), "the FINGERPRINT verifies",
        view(out.data(), n));
  const std::uint16_t xport = static_cast<std::uint16_t>(out[26] << 8 | out[27]);
  check((xport ^ 0x2112) == port, "X-Port decodes to the source port", view(out.data(), n));
  if (source.is_v4()) {
    check(n == 40 && out[25] == 0x01, "IPv4 answers are 40 bytes, family 1", view(out.data(), n));
    check((read32(out.data() + 28) ^ 0x2112A442u) == source.to_v4().to_uint(), "X-Address decodes to the source",
          view(out.data(), n));
  } else {
    check(n == 52 && out[25] == 0x02, "IPv6 answers are 52 bytes, family 2", view(out.data(), n));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  one(data, size, boost::asio::ip::make_address_v4("203.0.113.7"), 54321);
  one(data, size, boost::asio::ip::make_address_v6("2001:db8::1"), 1);
  // The same bytes with a correct length field, so the fuzzer reaches the
  // attribute walk and the FINGERPRINT check without having to guess it.
  if (size >= 20 && size <= 1500) {
    std::uint8_t fixed[1500];
    std::memcpy(fixed, data, size);
    fixed[0] = 0x00;
    fixed[1] = 0x01;
    fixed[2] = static_cast<std::uint8_t>((size - 20) >> 8);
    fixed[3] = static_cast<std::uint8_t>(size - 20);
    fixed[4] = 0x21;
    fixed[5] = 0x12;
    fixed[6] = 0xA4;
    fixed[7] = 0x42;
    one(fixed, size, boost::asio::ip::make_address_v4("192.0.2.1"), 32853);
  }
  return 0;
}
