#include "wasm/core/connection_recovery.hpp"

#include <algorithm>

namespace meshmeet::core {
namespace {

constexpr const char* kMachine = "peer-negotiation";  // the machine the logs and tests have always named

std::string ms(std::int64_t v) { return std::to_string(v) + " ms"; }

}  // namespace

std::string_view to_string(PeerState state) {
  switch (state) {
    case PeerState::New: return "new";
    case PeerState::Connecting: return "connecting";
    case PeerState::Connected: return "connected";
    case PeerState::Disconnected: return "disconnected";
    case PeerState::RestartPending: return "restart-pending";
    case PeerState::Restarting: return "restarting";
    case PeerState::AwaitingSignaling: return "awaiting-signaling";
    case PeerState::Unreachable: return "unreachable";
    case PeerState::Retrying: return "retrying";
    case PeerState::Closed: return "closed";
  }
  return "closed";
}

void ConnectionRecovery::set_state(std::int64_t now, PeerState next, std::string why) {
  if (next == state_ || state_ == PeerState::Closed) return;
  ctx_.transition(kMachine, peer_, to_string(state_), to_string(next), std::move(why));
  state_ = next;
  arm_timer(now);
  ctx_.emit(PeerStateChanged{peer_, std::string(to_string(next))});
}

// Each state owns at most one timer; entering a state replaces it.
void ConnectionRecovery::arm_timer(std::int64_t now) {
  (void)now;
  ctx_.cancel_timer(timer_);
  const auto& c = ctx_.config();
  const TimerTag tag{TimerOwner::Peer, peer_};
  switch (state_) {
    case PeerState::Connecting:
    case PeerState::Retrying:
      timer_ = ctx_.start_timer(c.connect_watchdog_ms, tag, "connect-watchdog");
      break;
    case PeerState::Disconnected:
      timer_ = ctx_.start_timer(c.ice_disconnected_grace_ms, tag, "ice-disconnected-grace");
      break;
    case PeerState::RestartPending: {
      const std::int64_t ceiling = c.ice_restart_base_ms << std::min(restart_attempts_, 20);
      timer_ = ctx_.start_timer(ctx_.random().uniform(0, ceiling), tag, "ice-restart-backoff");
      break;
    }
    case PeerState::Restarting:
      timer_ = ctx_.start_timer(c.ice_restart_timeout_ms, tag, "ice-restart-watchdog");
      break;
    case PeerState::Unreachable: {
      // Half the ceiling plus a random half: never at once (both ends and
      // every pair of a dead network would retry together), never in step.
      const std::int64_t ceiling =
          std::min(c.unreachable_retry_cap_ms, c.unreachable_retry_base_ms << std::min(retries_, 20));
      timer_ = ctx_.start_timer(ceiling / 2 + ctx_.random().uniform(0, ceiling - ceiling / 2), tag, "unreachable-retry");
      ++retries_;
      break;
    }
    default:
      break;
  }
}

void ConnectionRecovery::new_connection(std::int64_t now) {
  came_up_ = false;
  restart_attempts_ = 0;
  connecting_since_ = last_progress_ = now;
}

void ConnectionRecovery::open(std::int64_t now) {
  if (state_ != PeerState::New) return;
  new_connection(now);
  set_state(now, PeerState::Connecting, "opened");
}

void ConnectionRecovery::close(std::int64_t now, std::string why) {
  ctx_.cancel_timer(timer_);
  set_state(now, PeerState::Closed, std::move(why));
}

void ConnectionRecovery::on_peer_fresh_connection(std::int64_t now, std::string why) {
  new_connection(now);
  const bool unreachable = state_ == PeerState::Unreachable || state_ == PeerState::Retrying;
  const PeerState next = unreachable ? PeerState::Retrying : PeerState::Connecting;
  if (state_ == next) {  // the same state, a new connection: its watchdog starts over
    ctx_.transition(kMachine, peer_, to_string(state_), to_string(state_), why);
    arm_timer(now);
  } else {
    set_state(now, next, std::move(why));
  }
}

// ---- the ladder ------------------------------------------------------------------------

// What follows a broken connection: an ICE restart, or a fresh connection
// once restarts are used up. Both need signaling to carry their offer, so
// while it is away the pair waits (media may still be flowing, and an offer
// sent into the void would only count toward Unreachable).
RecoveryAction ConnectionRecovery::begin_restart(std::int64_t now, std::string why) {
  if (!ctx_.signaling_up()) {
    set_state(now, PeerState::AwaitingSignaling, why + "; waits for signaling");
    return RecoveryAction::None;
  }
  if (restart_attempts_ >= ctx_.config().ice_restart_attempts) return fresh(now, why + "; ICE restarts exhausted");
  set_state(now, PeerState::RestartPending, std::move(why));
  return RecoveryAction::None;
}

RecoveryAction ConnectionRecovery::restart_now(std::int64_t now, std::string why) {
  const int attempts = ctx_.config().ice_restart_attempts;
  if (restart_attempts_ >= attempts) return fresh(now, why + "; ICE restarts exhausted");
  ++restart_attempts_;
  why += ": ICE restart " + std::to_string(restart_attempts_) + "/" + std::to_string(attempts);
  if (state_ == PeerState::Restarting) {  // a new attempt: its watchdog starts over
    ctx_.transition(kMachine, peer_, to_string(state_), to_string(state_), why);
    arm_timer(now);
  } else {
    set_state(now, PeerState::Restarting, std::move(why));
  }
  return RecoveryAction::RestartIce;
}

RecoveryAction ConnectionRecovery::fresh(std::int64_t now, std::string why) {
  if (!ctx_.signaling_up()) {
    set_state(now, PeerState::AwaitingSignaling, why + "; a fresh connection waits for signaling");
    return RecoveryAction::None;
  }
  if (state_ == PeerState::Retrying || state_ == PeerState::Unreachable) return unreachable(now, std::move(why));
  if (fresh_connections_ >= ctx_.config().max_fresh_connections)
    return unreachable(now, why + "; " + std::to_string(fresh_connections_) + " fresh connections did not connect");
  ++fresh_connections_;
  new_connection(now);
  why = "fresh connection " + std::to_string(fresh_connections_) + "/" +
        std::to_string(ctx_.config().max_fresh_connections) + ": " + why;
  if (state_ == PeerState::Connecting) {
    ctx_.transition(kMachine, peer_, to_string(state_), to_string(state_), why);
    arm_timer(now);
  } else {
    set_state(now, PeerState::Connecting, std::move(why));
  }
  return RecoveryAction::FreshConnection;
}

RecoveryAction ConnectionRecovery::unreachable(std::int64_t now, std::string why) {
  const bool news = state_ != PeerState::Retrying && state_ != PeerState::Unreachable;
  if (state_ == PeerState::Unreachable) arm_timer(now);  // no connection was tried: just wait again
  set_state(now, PeerState::Unreachable, why + "; retrying later");
  // Told once per episode, not at every failed retry.
  if (news) ctx_.error(CoreError::PeerUnreachable, "no connection to this peer could be established; retrying", peer_);
  return RecoveryAction::DropConnection;
}

RecoveryAction ConnectionRecovery::retry(std::int64_t now, std::string why) {
  if (!ctx_.signaling_up()) {  // the retry is due: signaling's return makes it (on_signaling_up)
    ctx_.cancel_timer(timer_);
    return RecoveryAction::None;
  }
  new_connection(now);
  set_state(now, PeerState::Retrying, std::move(why));
  return RecoveryAction::FreshConnection;
}

RecoveryAction ConnectionRecovery::watchdog(std::int64_t now, Patience patience) {
  const auto& c = ctx_.config();
  const std::int64_t window = patience.polite ? c.connect_watchdog_ms * 3 / 2 : c.connect_watchdog_ms;
  const std::int64_t cap = connecting_since_ + c.connect_hard_cap_ms;
  std::string why;
  if (now >= cap) {
    why = "not connected within " + ms(c.connect_hard_cap_ms) + " despite progress";
  } else if (patience.browser_busy || now < last_progress_ + window) {
    // Still moving: look again when the window since the last progress ends.
    const std::int64_t due = std::min(cap, patience.browser_busy ? now + window : last_progress_ + window);
    timer_ = ctx_.start_timer(std::max<std::int64_t>(1, due - now), TimerTag{TimerOwner::Peer, peer_},
                              "connect-watchdog");
    return RecoveryAction::None;
  } else {
    why = "no progress for " + ms(now - last_progress_);
  }
  if (state_ == PeerState::Retrying) return unreachable(now, "retry: " + why);
  return fresh(now, why);
}

RecoveryAction ConnectionRecovery::on_timer(std::int64_t now, int timer, Patience patience) {
  if (timer != timer_ || timer == 0) return RecoveryAction::None;
  timer_ = 0;
  const auto& c = ctx_.config();
  switch (state_) {
    case PeerState::Connecting:
    case PeerState::Retrying:
      return watchdog(now, patience);
    case PeerState::Disconnected:
      return begin_restart(now, "disconnected for " + ms(c.ice_disconnected_grace_ms));
    case PeerState::RestartPending:
      if (!ctx_.signaling_up()) {
        set_state(now, PeerState::AwaitingSignaling, "ICE restart waits for signaling");
        return RecoveryAction::None;
      }
      return restart_now(now, "backoff over");
    case PeerState::Restarting:
      return begin_restart(now, "ICE restart did not connect within " + ms(c.ice_restart_timeout_ms));
    case PeerState::Unreachable:
      return retry(now, "retry " + std::to_string(retries_));
    default:
      return RecoveryAction::None;
  }
}

RecoveryAction ConnectionRecovery::on_transport(std::int64_t now, Transport t) {
  switch (t) {
    case Transport::Up:
      if (state_ == PeerState::Connecting || state_ == PeerState::Disconnected || state_ == PeerState::RestartPending ||
          state_ == PeerState::Restarting || state_ == PeerState::AwaitingSignaling || state_ == PeerState::Retrying) {
        restart_attempts_ = fresh_connections_ = retries_ = 0;
        came_up_ = true;
        set_state(now, PeerState::Connected, "transport up");
      }
      return RecoveryAction::None;
    case Transport::Down:
      if (state_ == PeerState::Connected) set_state(now, PeerState::Disconnected, "transport disconnected");
      return RecoveryAction::None;
    case Transport::Broken:
      // A retry's connection that never came up has nothing for a restart to repair.
      if (state_ == PeerState::Retrying && !came_up_) return unreachable(now, "retry: ICE failed");
      // So has one that never came up: ICE already tried every candidate
      // pair it had, and a restart would only gather the same ones again.
      if (state_ == PeerState::Connecting && !came_up_) return fresh(now, "ICE failed before it ever connected");
      if (state_ == PeerState::Connected || state_ == PeerState::Disconnected || state_ == PeerState::Restarting)
        return begin_restart(now, "ICE failed");
      return RecoveryAction::None;
    case Transport::Pending:
      return RecoveryAction::None;
  }
  return RecoveryAction::None;
}

// As for a connection that never came up: a fresh one, which counts toward
// Unreachable (a configuration the browser refuses is refused again, and the
// app hears peer-unreachable at once instead of after watchdogs).
RecoveryAction ConnectionRecovery::on_create_failed(std::int64_t now, std::string why) {
  if (state_ == PeerState::Closed || state_ == PeerState::New) return RecoveryAction::None;
  return fresh(now, std::move(why));
}

RecoveryAction ConnectionRecovery::on_negotiation_broken(std::int64_t now, std::string why) {
  if (state_ == PeerState::Closed || state_ == PeerState::New) return RecoveryAction::None;
  return fresh(now, std::move(why));
}

RecoveryAction ConnectionRecovery::on_signaling_up(std::int64_t now) {
  switch (state_) {
    case PeerState::AwaitingSignaling:
      // A connection that never came up has nothing for an ICE restart to
      // repair: it is replaced, as the connect watchdog would have done.
      if (!came_up_) {
        if (fresh_connections_ >= ctx_.config().max_fresh_connections)
          return retry(now, "signaling is back; retry " + std::to_string(retries_));
        return fresh(now, "signaling is back; the connection never came up");
      }
      return restart_now(now, "signaling is back");
    case PeerState::Disconnected:
    case PeerState::RestartPending:
      // Signaling and media went down together: most likely the network
      // changed, and the pair's own timers would only delay the restart.
      return restart_now(now, "signaling is back while the transport is down");
    case PeerState::Unreachable:
      return retry(now, "signaling is back; retry " + std::to_string(retries_));
    default:
      return RecoveryAction::None;
  }
}

RecoveryAction ConnectionRecovery::on_network_change(std::int64_t now, std::int64_t changed_at) {
  retries_ = 0;  // a new network: the slow retries start over from short
  if (connecting_since_ > changed_at && state_ != PeerState::Unreachable) {
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "the network changed before this connection began: nothing to redo");
    return RecoveryAction::None;
  }
  switch (state_) {
    case PeerState::Connected:
      // The candidates of the old network are useless now: gather anew. The
      // connection stays what it is meanwhile (its path may well still work:
      // ICE keeps it up through the restart); if it is dead, ICE says so
      // and the ladder takes over.
      ctx_.log(LogLevel::Info, kMachine, peer_, {}, {}, "the network changed: ICE restart of the live connection");
      return RecoveryAction::RestartIce;
    case PeerState::Disconnected:
    case PeerState::RestartPending:
    case PeerState::Restarting:
      restart_attempts_ = 0;  // a new network: a full round of restarts
      return restart_now(now, "the network changed");
    case PeerState::AwaitingSignaling:
      return on_signaling_up(now);
    case PeerState::Unreachable:
      return retry(now, "the network changed");
    case PeerState::Retrying:
      // The retry's connection gathered its candidates on the old network
      // (a browser gathers once per ICE session) and would only fail after
      // ICE's own timeouts, then wait out a backoff: a fresh one, now.
      new_connection(now);
      ctx_.transition(kMachine, peer_, to_string(state_), to_string(state_), "the network changed: a fresh retry");
      arm_timer(now);  // the new connection's watchdog
      return RecoveryAction::FreshConnection;
    case PeerState::Connecting:
      // Likewise a connection still being made: gathered on the old network,
      // it would only fail after ICE's own timeouts (15 s in Chrome). A new
      // network gets a full round of fresh connections, as it gets restarts.
      fresh_connections_ = 0;
      return fresh(now, "the network changed while connecting");
    default:
      return RecoveryAction::None;
  }
}

RecoveryAction ConnectionRecovery::on_ice_servers_changed(std::int64_t now) {
  if (state_ != PeerState::Unreachable) return RecoveryAction::None;
  return retry(now, "fresh ICE servers");
}

}  // namespace meshmeet::core
