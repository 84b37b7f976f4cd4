// server/token_bucket: burst, refill by (virtual) time, rate 0 = unlimited.
#include <doctest/doctest.h>

#include <chrono>

#include "server/token_bucket.hpp"

using meshmeet::server::Duration;
using meshmeet::server::TimePoint;
using meshmeet::server::TokenBucket;
using namespace std::chrono_literals;

namespace {
const TimePoint t0 = TimePoint{} + 24h;

int drain(TokenBucket& bucket, TimePoint now, int limit = 1000000) {
  int n = 0;
  while (n < limit && bucket.take(now)) ++n;
  return n;
}
}  // namespace

TEST_CASE("token bucket: starts full and allows exactly the burst") {
  TokenBucket bucket(50, 200, t0);  // the protocol's default: 50/s, burst 4×50
  CHECK(drain(bucket, t0) == 200);
  CHECK_FALSE(bucket.take(t0));
  CHECK_FALSE(bucket.take(t0));
}

TEST_CASE("token bucket: refills at the rate as time passes") {
  TokenBucket bucket(50, 200, t0);
  REQUIRE(drain(bucket, t0) == 200);
  CHECK_FALSE(bucket.take(t0 + 10ms));  // half a token
  CHECK(bucket.take(t0 + 25ms));        // one token per 20 ms
  CHECK_FALSE(bucket.take(t0 + 25ms));
  CHECK(drain(bucket, t0 + 1025ms) == 50);  // a further second: 50 more
  CHECK_FALSE(bucket.take(t0 + 1025ms));
}

TEST_CASE("token bucket: never saves more than the burst") {
  TokenBucket bucket(50, 200, t0);
  REQUIRE(drain(bucket, t0) == 200);
  CHECK(drain(bucket, t0 + 1h) == 200);
  CHECK_FALSE(bucket.take(t0 + 1h));
}

TEST_CASE("token bucket: many small steps add up like one big one") {
  TokenBucket bucket(10, 5, t0);
  REQUIRE(drain(bucket, t0) == 5);
  TimePoint now = t0;
  int taken = 0;
  for (int i = 0; i < 1000; ++i) {  // 1000 × 1 ms = 1 s = 10 tokens
    now += 1ms;
    taken += drain(bucket, now);
  }
  CHECK(taken >= 9);
  CHECK(taken <= 10);
}

TEST_CASE("token bucket: a slow rate, like meeting creation per minute") {
  TokenBucket bucket(60.0 / 60.0, 60, t0);  // 60 per minute, burst 60
  CHECK(drain(bucket, t0) == 60);
  CHECK_FALSE(bucket.take(t0 + 999ms));
  CHECK(drain(bucket, t0 + 2s) == 2);  // 0.999 saved + 1.001 more
  CHECK(drain(bucket, t0 + 120s) == 60);
}

TEST_CASE("token bucket: a clock that steps back adds nothing and breaks nothing") {
  TokenBucket bucket(1, 2, t0 + 10s);
  REQUIRE(drain(bucket, t0 + 10s) == 2);
  CHECK_FALSE(bucket.take(t0));       // earlier than the last refill
  CHECK_FALSE(bucket.take(t0 + 10s));
  CHECK(bucket.take(t0 + 11s));       // measured from the latest time seen
  CHECK_FALSE(bucket.take(t0 + 11s));
}

TEST_CASE("token bucket: rate 0 means unlimited") {
  TokenBucket bucket(0, 0, t0);
  CHECK(drain(bucket, t0, 100000) == 100000);
  TokenBucket with_burst(0, 1, t0);
  CHECK(drain(with_burst, t0, 1000) == 1000);
  CHECK(with_burst.full(t0));
}

TEST_CASE("token bucket: full() tells when forgetting the bucket changes nothing") {
  TokenBucket bucket(2, 4, t0);
  CHECK(bucket.full(t0));
  REQUIRE(bucket.take(t0));
  CHECK_FALSE(bucket.full(t0));
  CHECK_FALSE(bucket.full(t0 + 499ms));
  CHECK(bucket.full(t0 + 600ms));
  REQUIRE(drain(bucket, t0 + 600ms) == 4);
  CHECK_FALSE(bucket.full(t0 + 1s));
  CHECK(bucket.full(t0 + 3s));
}
