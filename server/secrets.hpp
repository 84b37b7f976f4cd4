// Random identifiers and the digests secrets are looked up by.
//
// Meeting ids and resume tokens are bearer secrets: whoever holds one gets in.
// The server never indexes them directly; it indexes their SHA-256, so a
// lookup's timing depends on the digest, not on how much of a guess matched,
// and the database never holds a joinable id.
#pragma once

#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>

namespace meshmeet::server {

using Digest = std::array<std::uint8_t, 32>;

Digest sha256(std::string_view text);
std::string to_hex(const Digest& digest);

struct DigestHash {
  std::size_t operator()(const Digest& d) const noexcept {
    std::size_t h;
    static_assert(sizeof(h) <= sizeof(Digest));
    std::memcpy(&h, d.data(), sizeof(h));
    return h;
  }
};

// A source of random bytes. The server uses the OS CSPRNG; tests pass a
// seeded one so ids are reproducible.
class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual void fill(std::uint8_t* out, std::size_t size) = 0;
};

class SystemRandom final : public RandomSource {
 public:
  void fill(std::uint8_t* out, std::size_t size) override;  // getrandom(2); aborts if the OS cannot supply
};

// `bits` of randomness as lowercase base32 ([a-z2-7]): meeting ids (130 bits →
// 26 characters), resume tokens (160 bits → 32), peer ids (60 bits → 12).
std::string random_id(RandomSource& random, int bits);

}  // namespace meshmeet::server
