// A token bucket per source address, in a table that cannot grow past a
// fixed size: UDP source addresses are forged at will, so a flood of spoofed
// sources must not grow memory. Sources that find the table full share one
// overflow bucket, which bounds what all of them together get.
#pragma once

#include <cstddef>
#include <unordered_map>

#include <boost/asio/ip/address.hpp>

#include "server/clock.hpp"
#include "server/token_bucket.hpp"

namespace meshmeet::server {

struct SourceRateLimits {
  double rate = 16;               // answers per second per address...
  double burst = 64;              // ...with this many saved up
  std::size_t max_sources = 4096; // addresses tracked one by one
  double overflow_rate = 256;     // all untracked addresses together
  double overflow_burst = 512;
};

class SourceRateLimit {
 public:
  SourceRateLimit(SourceRateLimits limits, TimePoint now)
      : limits_(limits), overflow_(limits.overflow_rate, limits.overflow_burst, now) {}

  // Takes one token from `source`'s bucket; false when it has none.
  bool take(const boost::asio::ip::address& source, TimePoint now) {
    auto it = buckets_.find(source);
    if (it == buckets_.end()) {
      if (buckets_.size() >= limits_.max_sources) forget_full(now);
      if (buckets_.size() >= limits_.max_sources) return overflow_.take(now);
      it = buckets_.emplace(source, TokenBucket(limits_.rate, limits_.burst, now)).first;
    }
    return it->second.take(now);
  }

  std::size_t tracked() const { return buckets_.size(); }

 private:
  // A full bucket is the same as no bucket: dropping it changes nothing.
  // Runs only when the table is full, and then at most once per refill
  // period, so a flood of new sources cannot make every packet a full scan.
  void forget_full(TimePoint now) {
    if (now < next_sweep_) return;
    next_sweep_ = now + seconds(limits_.burst / limits_.rate);
    for (auto it = buckets_.begin(); it != buckets_.end();)
      it = it->second.full(now) ? buckets_.erase(it) : std::next(it);
  }

  SourceRateLimits limits_;
  TokenBucket overflow_;
  std::unordered_map<boost::asio::ip::address, TokenBucket> buckets_;  // std::hash<address> comes with Asio
  TimePoint next_sweep_{};
};

}  // namespace meshmeet::server
