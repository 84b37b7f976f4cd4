#include "server/stun_responder.hpp"

#include <cstring>

namespace meshmeet::server {
namespace {

constexpr std::size_t kHeader = 20;
constexpr std::uint32_t kMagicCookie = 0x2112A442;
constexpr std::uint16_t kBindingRequest = 0x0001;
constexpr std::uint16_t kBindingSuccess = 0x0101;
constexpr std::uint16_t kXorMappedAddress = 0x0020;
constexpr std::uint16_t kFingerprint = 0x8028;
constexpr std::uint32_t kFingerprintXor = 0x5354554e;

std::uint16_t read16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }

std::uint32_t read32(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) << 24 | static_cast<std::uint32_t>(p[1]) << 16 |
         static_cast<std::uint32_t>(p[2]) << 8 | p[3];
}

void write16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

void write32(std::uint8_t* p, std::uint32_t v) {
  write16(p, static_cast<std::uint16_t>(v >> 16));
  write16(p + 2, static_cast<std::uint16_t>(v));
}

// Whether the attributes fill the body exactly, and a FINGERPRINT, if any,
// is the last one and matches (RFC 8489 §14.7).
bool attributes_valid(const std::uint8_t* message, std::size_t size) {
  std::size_t at = kHeader;
  while (at < size) {
    if (size - at < 4) return false;
    const std::uint16_t type = read16(message + at);
    const std::size_t length = read16(message + at + 2);
    const std::size_t padded = (length + 3) & ~std::size_t{3};
    if (size - at - 4 < padded) return false;
    if (type == kFingerprint) {
      if (length != 4 || at + 8 != size) return false;
      if (read32(message + at + 4) != stun_fingerprint(message, at)) return false;
    }
    at += 4 + padded;
  }
  return true;
}

}  // namespace

std::uint32_t stun_fingerprint(const std::uint8_t* data, std::size_t size) {
  // Bitwise CRC-32: a few dozen bytes per answer do not need a table.
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) {
    crc ^= data[i];
    for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc ^ kFingerprintXor;
}

std::size_t stun_respond(const std::uint8_t* in, std::size_t size, const boost::asio::ip::address& source,
                         std::uint16_t port, StunResponse& out) {
  if (size < kHeader) return 0;
  // The two leading zero bits tell STUN from other protocols; the type then
  // holds the class and method, and Binding request is 0x0001 alone.
  if (read16(in) != kBindingRequest) return 0;
  if (read16(in + 2) != size - kHeader || size % 4 != 0) return 0;
  if (read32(in + 4) != kMagicCookie) return 0;
  if (!attributes_valid(in, size)) return 0;

  boost::asio::ip::address address = source;
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    address = boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());

  // Header: type, length (filled in below), cookie, the request's transaction id.
  std::memcpy(out.data() + 4, in + 4, 16);
  write16(out.data(), kBindingSuccess);
  std::size_t at = kHeader;

  // XOR-MAPPED-ADDRESS (RFC 8489 §14.2): port XOR the cookie's high half,
  // address XOR the cookie (IPv4) or the cookie and transaction id (IPv6).
  const std::uint8_t* key = out.data() + 4;  // cookie followed by transaction id
  write16(out.data() + at, kXorMappedAddress);
  write16(out.data() + at + 4 + 2, static_cast<std::uint16_t>(port ^ (kMagicCookie >> 16)));
  out[at + 4] = 0;
  if (address.is_v4()) {
    const auto bytes = address.to_v4().to_bytes();
    write16(out.data() + at + 2, 8);
    out[at + 5] = 0x01;
    for (std::size_t i = 0; i < 4; ++i) out[at + 8 + i] = static_cast<std::uint8_t>(bytes[i] ^ key[i]);
    at += 12;
  } else {
    const auto bytes = address.to_v6().to_bytes();
    write16(out.data() + at + 2, 20);
    out[at + 5] = 0x02;
    for (std::size_t i = 0; i < 16; ++i) out[at + 8 + i] = static_cast<std::uint8_t>(bytes[i] ^ key[i]);
    at += 24;
  }

  // FINGERPRINT covers everything before it, with the length already
  // counting the fingerprint itself.
  write16(out.data() + 2, static_cast<std::uint16_t>(at + 8 - kHeader));
  write16(out.data() + at, kFingerprint);
  write16(out.data() + at + 2, 4);
  write32(out.data() + at + 4, stun_fingerprint(out.data(), at));
  return at + 8;
}

}  // namespace meshmeet::server
