// A token bucket: `rate` tokens per second, at most `burst` saved up.
#pragma once

#include <algorithm>

#include "server/clock.hpp"

namespace meshmeet::server {

class TokenBucket {
 public:
  TokenBucket(double rate, double burst, TimePoint now) : rate_(rate), burst_(burst), tokens_(burst), last_(now) {}

  // Takes one token if there is one. A rate of 0 means unlimited.
  bool take(TimePoint now) {
    if (rate_ <= 0) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  // True when the bucket is full again, i.e. forgetting it changes nothing.
  bool full(TimePoint now) {
    refill(now);
    return tokens_ >= burst_;
  }

 private:
  void refill(TimePoint now) {
    if (now > last_) {
      tokens_ = std::min(burst_, tokens_ + rate_ * to_seconds(now - last_));
      last_ = now;
    }
  }

  double rate_;
  double burst_;
  double tokens_;
  TimePoint last_;
};

}  // namespace meshmeet::server
