// When a WebSocket connection next needs attention, and why: the join
// deadline (an upgraded socket must join in time), the heartbeat (the
// server pings every interval; a client silent for the timeout counts as
// dropped) and, for a participant holding TURN credentials, the refresh
// that hands it fresh ones before they expire. The clock is passed in, so unit tests drive it with virtual
// time; the connection owns the socket and carries out what tick() says.
#pragma once

#include <algorithm>
#include <cstdint>

#include "server/clock.hpp"

namespace meshmeet::server {

struct ConnectionTimeouts {
  Duration join_timeout;        // from the upgrade to the welcome
  Duration heartbeat_interval;  // between server pings
  Duration heartbeat_timeout;   // silence after which the client counts as dropped
  Duration ice_refresh = Duration::max();  // from a welcome to fresh ICE servers; max() = never
};

class ConnectionDeadlines {
 public:
  enum class Phase : std::uint8_t {
    AwaitingJoin,  // upgraded, no welcome yet: the join deadline and the heartbeat run
    Joined,        // a participant: only the heartbeat runs
    Expired,       // a deadline passed; nothing falls due any more
  };

  // What tick() asks the connection to do now.
  enum class Due : std::uint8_t {
    Nothing,
    Ping,            // send a ping frame, then call ping_finished()
    JoinTimeout,     // not joined within join_timeout: close with 1008
    SilenceTimeout,  // nothing heard for heartbeat_timeout: drop it as unclean
    RefreshIceServers,  // send the participant fresh ICE servers (TURN credentials)
  };

  struct Tick {
    Due due;
    TimePoint next;  // when to tick again; TimePoint::max() once Expired
  };

  // `timeouts` must outlive this (the server holds one for all connections).
  ConnectionDeadlines(const ConnectionTimeouts& timeouts, TimePoint opened)
      : timeouts_(&timeouts), opened_(opened), last_heard_(opened), last_ping_(opened) {}
  ConnectionDeadlines(ConnectionTimeouts&&, TimePoint) = delete;  // would dangle

  // The welcome went out at `now`: no join deadline any more; the ICE
  // servers it carried are refreshed ice_refresh from now.
  void joined(TimePoint now) {
    if (phase_ != Phase::AwaitingJoin) return;
    phase_ = Phase::Joined;
    schedule_refresh(now);
  }

  // Any message or control frame from the client.
  void heard(TimePoint now) { last_heard_ = std::max(last_heard_, now); }

  // The ping frame was written (or failed): the next one may go.
  void ping_finished() { ping_in_flight_ = false; }

  Tick tick(TimePoint now) {
    const ConnectionTimeouts& t = *timeouts_;
    if (phase_ == Phase::Expired) return {Due::Nothing, TimePoint::max()};
    if (phase_ == Phase::AwaitingJoin && now - opened_ >= t.join_timeout) {
      phase_ = Phase::Expired;
      return {Due::JoinTimeout, TimePoint::max()};
    }
    if (now - last_heard_ >= t.heartbeat_timeout) {
      phase_ = Phase::Expired;
      return {Due::SilenceTimeout, TimePoint::max()};
    }
    Due due = Due::Nothing;
    if (!ping_in_flight_ && now - last_ping_ >= t.heartbeat_interval) {
      ping_in_flight_ = true;
      last_ping_ = now;
      due = Due::Ping;
    } else if (phase_ == Phase::Joined && now >= next_refresh_) {
      // A ping due at the same time goes first; the refresh then stays due
      // and `next` below is now, so the following tick carries it out.
      schedule_refresh(now);
      due = Due::RefreshIceServers;
    }
    // Nothing can fall due earlier: hearing from the client only moves
    // last_heard_ later.
    TimePoint next = std::min(last_heard_ + t.heartbeat_timeout, last_ping_ + t.heartbeat_interval);
    if (phase_ == Phase::AwaitingJoin) next = std::min(next, opened_ + t.join_timeout);
    if (phase_ == Phase::Joined) next = std::min(next, next_refresh_);
    return {due, next};
  }

  Phase phase() const { return phase_; }
  // When fresh ICE servers are due; TimePoint::max() when never.
  TimePoint next_refresh() const { return next_refresh_; }
  bool ping_in_flight() const { return ping_in_flight_; }

 private:
  void schedule_refresh(TimePoint now) {
    const Duration every = timeouts_->ice_refresh;
    next_refresh_ = every >= TimePoint::max() - now ? TimePoint::max() : now + every;
  }

  const ConnectionTimeouts* timeouts_;
  TimePoint opened_;
  TimePoint last_heard_;
  TimePoint last_ping_;
  TimePoint next_refresh_ = TimePoint::max();
  Phase phase_ = Phase::AwaitingJoin;
  bool ping_in_flight_ = false;
};

}  // namespace meshmeet::server
