// server/message_rate_limit: the per-connection message rate and the
// once-a-second `rate-limited` warning, driven by a virtual clock.
#include <doctest/doctest.h>

#include <chrono>

#include "server/message_rate_limit.hpp"

using meshmeet::server::MessageRateLimit;
using meshmeet::server::TimePoint;
using namespace std::chrono_literals;
using Verdict = MessageRateLimit::Verdict;

namespace {
const TimePoint t0 = TimePoint{} + 24h;

int processed(MessageRateLimit& limit, TimePoint now, int messages) {
  int n = 0;
  for (int i = 0; i < messages; ++i) n += limit.admit(now) == Verdict::Process;
  return n;
}
}  // namespace

TEST_CASE("message rate: the default 50/s with a burst of 200, then dropped with one warning") {
  MessageRateLimit limit(50, 200, t0);
  CHECK(processed(limit, t0, 200) == 200);
  CHECK(limit.admit(t0) == Verdict::DropAndWarn);
  for (int i = 0; i < 100; ++i) CHECK(limit.admit(t0 + 10ms) == Verdict::Drop);  // half a token back
}

TEST_CASE("message rate: the warning goes out at most once per second, counted from the last warning") {
  MessageRateLimit limit(1, 1, t0);
  CHECK(limit.admit(t0) == Verdict::Process);
  CHECK(limit.admit(t0 + 100ms) == Verdict::DropAndWarn);
  CHECK(limit.admit(t0 + 600ms) == Verdict::Drop);
  CHECK(limit.admit(t0 + 1100ms - 1ms) == Verdict::Process);  // a token came back at t0 + 1 s
  CHECK(limit.admit(t0 + 1100ms - 1ms) == Verdict::Drop);      // still within a second of the warning
  CHECK(limit.admit(t0 + 1100ms) == Verdict::DropAndWarn);
}

TEST_CASE("message rate: dropped messages cost nothing; the bucket refills at the rate") {
  MessageRateLimit limit(50, 200, t0);
  CHECK(processed(limit, t0, 1000) == 200);
  CHECK(processed(limit, t0 + 100ms, 1000) == 5);  // 50/s × 0.1 s
  CHECK(processed(limit, t0 + 10s, 1000) == 200);  // full again, never more than the burst
}
