// The per-connection message rate of shared/protocol.md: a token bucket
// (`--msg-rate` N per second, burst 4×N) decides whether a message is
// processed; one over the rate is dropped unread, and the client is told
// `rate-limited` at most once per second. The clock is passed in.
#pragma once

#include <cstdint>
#include <optional>

#include "server/clock.hpp"
#include "server/token_bucket.hpp"

namespace meshmeet::server {

class MessageRateLimit {
 public:
  enum class Verdict : std::uint8_t {
    Process,      // within the rate
    Drop,         // over the rate; the client was told within the last second
    DropAndWarn,  // over the rate; send `rate-limited` now
  };

  static constexpr Duration kWarningInterval = std::chrono::seconds(1);

  MessageRateLimit(double rate, double burst, TimePoint now) : bucket_(rate, burst, now) {}

  Verdict admit(TimePoint now) {
    if (bucket_.take(now)) return Verdict::Process;
    if (last_warning_ && now - *last_warning_ < kWarningInterval) return Verdict::Drop;
    last_warning_ = now;
    return Verdict::DropAndWarn;
  }

 private:
  TokenBucket bucket_;
  std::optional<TimePoint> last_warning_;
};

}  // namespace meshmeet::server
