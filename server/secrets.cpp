#include "server/secrets.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <openssl/sha.h>

namespace meshmeet::server {

Digest sha256(std::string_view text) {
  Digest d;
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), d.data());
  return d;
}

std::string to_hex(const Digest& digest) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(64);
  for (auto b : digest) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

void SystemRandom::fill(std::uint8_t* out, std::size_t size) {
  while (size > 0) {
    ssize_t n = getrandom(out, size, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::abort();  // no entropy means no secure ids: refusing beats guessable ids
    }
    out += n;
    size -= static_cast<std::size_t>(n);
  }
}

std::string random_id(RandomSource& random, int bits) {
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  const int chars = (bits + 4) / 5;
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(chars));
  random.fill(bytes.data(), bytes.size());
  std::string out(static_cast<std::size_t>(chars), 'a');
  for (int i = 0; i < chars; ++i) out[static_cast<std::size_t>(i)] = alphabet[bytes[static_cast<std::size_t>(i)] & 31];
  return out;
}

}  // namespace meshmeet::server
