// A RandomSource for tests: reproducible bytes from a seed, so ids and
// tokens are the same on every run.
#pragma once

#include <cstdint>
#include <random>

#include "server/secrets.hpp"

class SeededRandom final : public meshmeet::server::RandomSource {
 public:
  explicit SeededRandom(std::uint64_t seed) : engine_(seed) {}
  void fill(std::uint8_t* out, std::size_t size) override {
    for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<std::uint8_t>(engine_());
  }

 private:
  std::mt19937_64 engine_;
};
