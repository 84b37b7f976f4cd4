// server/connection_deadlines: the join deadline, the heartbeat and the ICE
// servers refresh of one WebSocket connection, driven by a virtual clock.
#include <doctest/doctest.h>

#include <chrono>
#include <vector>

#include "server/connection_deadlines.hpp"

using meshmeet::server::ConnectionDeadlines;
using meshmeet::server::ConnectionTimeouts;
using meshmeet::server::Duration;
using meshmeet::server::TimePoint;
using namespace std::chrono_literals;
using Due = ConnectionDeadlines::Due;
using Phase = ConnectionDeadlines::Phase;

namespace {

const TimePoint t0 = TimePoint{} + 24h;
// The protocol's defaults: join within 10 s, ping every 10 s, drop after 30 s of silence.
const ConnectionTimeouts kDefaults{10s, 10s, 30s};

}  // namespace

TEST_CASE("deadlines: an unjoined connection times out exactly at the join deadline") {
  ConnectionDeadlines d(kDefaults, t0);
  CHECK(d.phase() == Phase::AwaitingJoin);
  auto tick = d.tick(t0);
  CHECK(tick.due == Due::Nothing);
  CHECK(tick.next == t0 + 10s);
  tick = d.tick(t0 + 10s - 1ms);
  CHECK(tick.due == Due::Nothing);
  CHECK(tick.next == t0 + 10s);
  tick = d.tick(t0 + 10s);
  CHECK(tick.due == Due::JoinTimeout);
  CHECK(tick.next == TimePoint::max());
  CHECK(d.phase() == Phase::Expired);
  // Once expired, nothing more falls due.
  tick = d.tick(t0 + 100s);
  CHECK(tick.due == Due::Nothing);
  CHECK(tick.next == TimePoint::max());
}

TEST_CASE("deadlines: messages do not extend the join deadline; joining ends it") {
  ConnectionDeadlines waiting(kDefaults, t0);
  waiting.heard(t0 + 9s);  // a failed join, a ping: still no welcome
  CHECK(waiting.tick(t0 + 10s).due == Due::JoinTimeout);

  ConnectionDeadlines joined(kDefaults, t0);
  joined.heard(t0 + 5s);
  joined.joined(t0 + 5s);
  CHECK(joined.phase() == Phase::Joined);
  const auto tick = joined.tick(t0 + 10s);
  CHECK(tick.due == Due::Ping);  // the heartbeat, not a timeout
  CHECK(joined.phase() == Phase::Joined);
}

TEST_CASE("deadlines: the heartbeat pings every interval, one ping in flight at a time") {
  ConnectionDeadlines d(kDefaults, t0);
  d.joined(t0);
  CHECK(d.tick(t0 + 9s).due == Due::Nothing);
  auto tick = d.tick(t0 + 10s);
  CHECK(tick.due == Due::Ping);
  CHECK(d.ping_in_flight());
  CHECK(tick.next == t0 + 20s);
  d.heard(t0 + 10s + 20ms);  // the pong
  // The ping frame has not been written yet: no second one.
  CHECK(d.tick(t0 + 20s).due == Due::Nothing);
  d.ping_finished();
  CHECK_FALSE(d.ping_in_flight());
  tick = d.tick(t0 + 20s);
  CHECK(tick.due == Due::Ping);
  CHECK(tick.next == t0 + 30s);
}

TEST_CASE("deadlines: silence for the heartbeat timeout drops; anything heard pushes the drop back") {
  SUBCASE("silent from the start") {
    ConnectionDeadlines d(kDefaults, t0);
    d.joined(t0);
    CHECK(d.tick(t0 + 30s - 1ms).due != Due::SilenceTimeout);
    CHECK(d.tick(t0 + 30s).due == Due::SilenceTimeout);
    CHECK(d.phase() == Phase::Expired);
  }
  SUBCASE("heard at 25 s") {
    ConnectionDeadlines d(kDefaults, t0);
    d.joined(t0);
    d.heard(t0 + 25s);
    auto tick = d.tick(t0 + 30s);
    CHECK(tick.due != Due::SilenceTimeout);
    CHECK(tick.next <= t0 + 55s);
    CHECK(d.tick(t0 + 55s - 1ms).due != Due::SilenceTimeout);
    CHECK(d.tick(t0 + 55s).due == Due::SilenceTimeout);
  }
  SUBCASE("a late report of an earlier frame never moves the deadline back") {
    ConnectionDeadlines d(kDefaults, t0);
    d.joined(t0);
    d.heard(t0 + 25s);
    d.heard(t0 + 5s);
    CHECK(d.tick(t0 + 40s).due != Due::SilenceTimeout);
  }
  SUBCASE("an unjoined connection is dropped for silence when that comes before the join deadline") {
    const ConnectionTimeouts slow_join{60s, 10s, 30s};
    ConnectionDeadlines d(slow_join, t0);
    CHECK(d.tick(t0 + 30s).due == Due::SilenceTimeout);
  }
}

namespace {

struct Run {
  int pings = 0;
  std::vector<TimePoint> refreshes;
  Due ended = Due::Nothing;
  TimePoint ended_at{};
  int ticks = 0;
};

// Ticks the way the server does (at `next`, never sooner than `sweep` apart)
// until `until` or a timeout; `answers` says whether the client answers
// each ping at once.
Run follow(ConnectionDeadlines& d, TimePoint until, bool answers, Duration sweep = 250ms) {
  Run run;
  TimePoint now = t0;
  while (now <= until) {
    ++run.ticks;
    const auto tick = d.tick(now);
    if (tick.due == Due::Ping) {
      ++run.pings;
      d.ping_finished();
      if (answers) d.heard(now + 5ms);
    } else if (tick.due == Due::RefreshIceServers) {
      run.refreshes.push_back(now);
    } else if (tick.due == Due::JoinTimeout || tick.due == Due::SilenceTimeout) {
      run.ended = tick.due;
      run.ended_at = now;
      return run;
    }
    if (tick.next == TimePoint::max()) return run;
    now = std::max(tick.next, now + sweep);
  }
  return run;
}

}  // namespace

TEST_CASE("deadlines: followed tick by tick, a live client stays and a dead one goes at the timeout") {
  SUBCASE("answers every ping: ten minutes, a ping every 10 s, never dropped") {
    ConnectionDeadlines d(kDefaults, t0);
    d.joined(t0);
    const Run run = follow(d, t0 + 600s, true);
    CHECK(run.ended == Due::Nothing);
    CHECK(run.pings == 60);
    CHECK(run.ticks <= 2 * 60 + 2);  // ticked only when something falls due
  }
  SUBCASE("silent: pinged at 10 and 20 s, dropped at 30 s") {
    ConnectionDeadlines d(kDefaults, t0);
    d.joined(t0);
    const Run run = follow(d, t0 + 600s, false);
    CHECK(run.ended == Due::SilenceTimeout);
    CHECK(run.ended_at == t0 + 30s);
    CHECK(run.pings == 2);
  }
  SUBCASE("the test suite's short timings: join 1 s, ping 0.5 s, drop after 1.5 s") {
    const ConnectionTimeouts fast{1s, 500ms, 1500ms};
    ConnectionDeadlines d(fast, t0);
    const Run run = follow(d, t0 + 10s, true, 10ms);
    CHECK(run.ended == Due::JoinTimeout);
    CHECK(run.ended_at == t0 + 1s);
    CHECK(run.pings == 1);
  }
}

TEST_CASE("deadlines: fresh ICE servers every ice_refresh after the welcome, only while joined") {
  // --turn-ttl 60: credentials live 60 s, fresh ones follow at 48 s.
  const ConnectionTimeouts turn{10s, 10s, 30s, 48s};
  SUBCASE("joined at 3 s: refreshed at 51, 99, 147 s, through the heartbeat's pings") {
    ConnectionDeadlines d(turn, t0);
    CHECK(d.next_refresh() == TimePoint::max());  // nothing minted before the welcome
    d.joined(t0 + 3s);
    CHECK(d.next_refresh() == t0 + 51s);
    const Run run = follow(d, t0 + 150s, true);
    CHECK(run.ended == Due::Nothing);
    REQUIRE(run.refreshes.size() == 3);
    // Each within one sweep of its due time (a ping due at once goes first).
    for (std::size_t i = 0; i < run.refreshes.size(); ++i) {
      const TimePoint due = t0 + 3s + 48s * static_cast<int>(i + 1);
      CHECK(run.refreshes[i] >= due);
      CHECK(run.refreshes[i] <= due + 250ms);
    }
  }
  SUBCASE("a tick exactly at the refresh says so and names the next one") {
    const ConnectionTimeouts slow_heartbeat{10s, 100s, 300s, 48s};
    ConnectionDeadlines d(slow_heartbeat, t0);
    d.joined(t0);
    d.heard(t0 + 45s);
    auto tick = d.tick(t0 + 48s);
    CHECK(tick.due == Due::RefreshIceServers);
    CHECK(d.next_refresh() == t0 + 96s);
    CHECK(tick.next <= t0 + 96s);
  }
  SUBCASE("a ping and a refresh due together: the ping first, the refresh at the next tick") {
    const ConnectionTimeouts same{10s, 10s, 30s, 10s};
    ConnectionDeadlines d(same, t0);
    d.joined(t0);
    auto tick = d.tick(t0 + 10s);
    CHECK(tick.due == Due::Ping);
    CHECK(tick.next == t0 + 10s);  // still due
    d.ping_finished();
    d.heard(t0 + 10s);
    CHECK(d.tick(t0 + 10s).due == Due::RefreshIceServers);
  }
  SUBCASE("never before joining, never without TURN, never once expired") {
    ConnectionDeadlines waiting(turn, t0);
    const Run unjoined = follow(waiting, t0 + 100s, true);
    CHECK(unjoined.ended == Due::JoinTimeout);
    CHECK(unjoined.refreshes.empty());

    ConnectionDeadlines no_turn(kDefaults, t0);
    no_turn.joined(t0);
    CHECK(no_turn.next_refresh() == TimePoint::max());
    CHECK(follow(no_turn, t0 + 600s, true).refreshes.empty());

    ConnectionDeadlines silent(turn, t0);
    silent.joined(t0);
    const Run dropped = follow(silent, t0 + 600s, false);
    CHECK(dropped.ended == Due::SilenceTimeout);
    CHECK(dropped.refreshes.empty());  // dropped at 30 s, before the first one was due
  }
}
