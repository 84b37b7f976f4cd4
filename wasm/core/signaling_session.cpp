#include "wasm/core/signaling_session.hpp"

#include <algorithm>
#include <set>

namespace meshmeet::core {
namespace {

constexpr const char* kMachine = "signaling-session";
constexpr int kCloseNormal = 1000;
constexpr int kCloseAbandoned = 4000;  // application range: "this client gave the socket up"

}  // namespace

std::string_view to_string(SessionState state) {
  switch (state) {
    case SessionState::Idle: return "idle";
    case SessionState::Connecting: return "connecting";
    case SessionState::Joining: return "joining";
    case SessionState::Joined: return "joined";
    case SessionState::Reconnecting: return "reconnecting";
    case SessionState::Leaving: return "leaving";
    case SessionState::Left: return "left";
    case SessionState::Failed: return "failed";
  }
  return "idle";
}

std::string_view to_string(WelcomeKind kind) {
  switch (kind) {
    case WelcomeKind::Fresh: return "fresh";
    case WelcomeKind::Resumed: return "resumed";
    case WelcomeKind::Rejoined: return "rejoined";
  }
  return "fresh";
}

void SignalingSession::set_state(SessionState next, std::string why) {
  if (next == state_) return;
  if (state_ == SessionState::Left || state_ == SessionState::Failed) return;  // terminal
  ctx_.transition(kMachine, {}, to_string(state_), to_string(next), std::move(why));
  state_ = next;
  ctx_.emit(StateChanged{std::string(to_string(next)), attempt_});
}

void SignalingSession::start(std::int64_t now, std::string url, std::string meeting, std::string name) {
  if (state_ != SessionState::Idle) {
    ctx_.log(LogLevel::Warn, kMachine, {}, {}, {}, "join ignored: the session has already started");
    return;
  }
  url_ = std::move(url);
  meeting_ = std::move(meeting);
  name_ = std::move(name);
  open_socket(now);
}

void SignalingSession::open_socket(std::int64_t now) {
  (void)now;
  socket_ = ctx_.new_socket_id();
  socket_open_ = false;
  ctx_.emit(OpenSocket{socket_, url_});
  set_state(SessionState::Connecting, "opening socket " + std::to_string(socket_));
  arm_watchdog(ctx_.config().connect_timeout_ms, "connect-timeout");
}

void SignalingSession::arm_watchdog(std::int64_t delay, const char* purpose) {
  ctx_.cancel_timer(watchdog_timer_);
  watchdog_timer_ = ctx_.start_timer(delay, TimerTag{TimerOwner::Session, {}}, purpose);
}

void SignalingSession::cancel_timers() {
  ctx_.cancel_timer(ping_timer_);
  ctx_.cancel_timer(watchdog_timer_);
  ctx_.cancel_timer(backoff_timer_);
}

void SignalingSession::send(std::string text) {
  if (socket_ != 0 && socket_open_) ctx_.emit(SendText{socket_, std::move(text)});
}

void SignalingSession::send_join() {
  protocol::Join join{meeting_, name_, std::nullopt};
  if (!token_.empty()) join.resume = token_;
  send(protocol::serialize(protocol::ClientMessage{std::move(join)}));
}

void SignalingSession::on_socket_opened(std::int64_t now, int socket) {
  if (socket == socket_ && state_ == SessionState::Leaving) {
    // The server processes them in order: the resume takes our slot back,
    // the leave ends it, and the others see us leave now.
    socket_open_ = true;
    send_join();
    send(protocol::serialize(protocol::ClientMessage{protocol::Leave{}}));
    return finish_leave("the app left; told the server once a socket was up");
  }
  if (socket != socket_ || state_ != SessionState::Connecting) return;
  socket_open_ = true;
  last_heard_ = now;
  send_join();
  set_state(SessionState::Joining, token_.empty() ? "join sent" : "join with resume token sent");
  arm_watchdog(ctx_.config().connect_timeout_ms, "join-timeout");
}

void SignalingSession::on_socket_closed(std::int64_t now, int socket, int code) {
  abandoned_.erase(std::remove(abandoned_.begin(), abandoned_.end(), socket), abandoned_.end());
  if (socket != socket_ || socket_ == 0) return;
  if (state_ == SessionState::Leaving) {
    socket_ = 0;
    return finish_leave("the app left; the server could not be told (socket closed with code " + std::to_string(code) + ")");
  }
  if (state_ != SessionState::Connecting && state_ != SessionState::Joining && state_ != SessionState::Joined) return;
  socket_open_ = false;
  socket_ = 0;  // already closed: nothing to close or abandon
  lose_socket(now, "socket closed with code " + std::to_string(code), false);
}

// The current socket can no longer be used: close or abandon it, then back off.
void SignalingSession::lose_socket(std::int64_t now, std::string why, bool abandon) {
  if (socket_ != 0) {
    if (abandon)
      abandoned_.push_back(socket_);
    else
      ctx_.emit(CloseSocket{socket_, kCloseAbandoned, why});
  }
  socket_ = 0;
  socket_open_ = false;
  schedule_reconnect(now, std::move(why));
}

void SignalingSession::schedule_reconnect(std::int64_t now, std::string why) {
  (void)now;
  ctx_.cancel_timer(ping_timer_);
  ctx_.cancel_timer(watchdog_timer_);
  const auto& c = ctx_.config();
  const int shift = std::min(attempt_, 30);
  const std::int64_t ceiling = std::min<std::int64_t>(c.reconnect_cap_ms, c.reconnect_base_ms << shift);
  const std::int64_t delay = ctx_.random().uniform(0, ceiling);  // full jitter
  ++attempt_;
  ctx_.cancel_timer(backoff_timer_);
  backoff_timer_ = ctx_.start_timer(delay, TimerTag{TimerOwner::Session, {}}, "reconnect-backoff");
  // Re-entering Reconnecting (a failed attempt) still tells the app the new attempt number.
  if (state_ == SessionState::Reconnecting) {
    ctx_.transition(kMachine, {}, to_string(state_), to_string(state_),
                    why + "; attempt " + std::to_string(attempt_) + " in " + std::to_string(delay) + " ms");
    ctx_.emit(StateChanged{std::string(to_string(state_)), attempt_});
  } else {
    set_state(SessionState::Reconnecting,
              why + "; attempt " + std::to_string(attempt_) + " in " + std::to_string(delay) + " ms");
  }
}

void SignalingSession::on_network_change(std::int64_t now) {
  // The backoff waits out a server or network that was down; a new network
  // is worth trying at once (the attempt count, and so the next backoff, stays).
  if (state_ != SessionState::Reconnecting || backoff_timer_ == 0) return;
  ctx_.cancel_timer(backoff_timer_);
  ctx_.log(LogLevel::Info, kMachine, {}, {}, {}, "the network changed: reconnecting now");
  open_socket(now);
}

void SignalingSession::on_timer(std::int64_t now, int timer) {
  if (timer == backoff_timer_) {
    backoff_timer_ = 0;
    if (state_ == SessionState::Reconnecting) open_socket(now);
    return;
  }
  if (timer == ping_timer_) {
    ping_timer_ = 0;
    if (state_ != SessionState::Joined) return;
    send(protocol::serialize(protocol::ClientMessage{protocol::Ping{std::to_string(now)}}));
    ping_timer_ = ctx_.start_timer(heartbeat_interval_, TimerTag{TimerOwner::Session, {}}, "heartbeat-ping");
    return;
  }
  if (timer == watchdog_timer_) {
    watchdog_timer_ = 0;
    switch (state_) {
      case SessionState::Connecting:
        lose_socket(now, "socket did not open in time", false);
        break;
      case SessionState::Joining:
        // The server may have taken our resume already: abandon, do not close.
        lose_socket(now, "no welcome in time", true);
        break;
      case SessionState::Leaving:
        finish_leave("the app left; the server could not be told in time");
        break;
      case SessionState::Joined: {
        const std::int64_t silent = now - last_heard_;
        if (silent < heartbeat_timeout_) {
          watchdog_timer_ = ctx_.start_timer(heartbeat_timeout_ - silent, TimerTag{TimerOwner::Session, {}}, "server-silence");
        } else {
          lose_socket(now, "server silent for " + std::to_string(silent) + " ms", true);
        }
        break;
      }
      default:
        break;
    }
  }
}

std::optional<protocol::ServerMessage> SignalingSession::on_socket_message(std::int64_t now, int socket,
                                                                          std::string_view text) {
  if (socket != socket_ || !socket_open_) return std::nullopt;
  if (state_ != SessionState::Joining && state_ != SessionState::Joined) return std::nullopt;
  last_heard_ = now;
  auto parsed = protocol::parse_server_message(text);
  if (!parsed.ok()) {
    ctx_.log(LogLevel::Warn, kMachine, {}, {}, {}, "unreadable server message: " + parsed.error().message);
    return std::nullopt;
  }
  protocol::ServerMessage& message = parsed.value();
  if (auto* welcome = std::get_if<protocol::Welcome>(&message)) {
    if (state_ != SessionState::Joining) return std::nullopt;
    handle_welcome(now, *welcome);
    return std::move(message);
  }
  if (auto* error = std::get_if<protocol::ErrorMessage>(&message)) {
    handle_error(now, *error);
    return std::nullopt;
  }
  if (std::holds_alternative<protocol::Pong>(message)) return std::nullopt;
  if (state_ != SessionState::Joined) return std::nullopt;  // peer-joined/left/signal/ice-servers before welcome
  if (auto* ice = std::get_if<protocol::IceServers>(&message)) ice_servers_json_ = ice->ice_servers;
  return std::move(message);
}

void SignalingSession::handle_welcome(std::int64_t now, const protocol::Welcome& w) {
  if (self_.empty())
    last_welcome_ = WelcomeKind::Fresh;
  else
    last_welcome_ = w.self == self_ ? WelcomeKind::Resumed : WelcomeKind::Rejoined;
  self_ = w.self;
  token_ = w.resume;
  seat_wait_until_.reset();
  ice_servers_json_ = w.ice_servers;
  // Once relay-only, always: a later welcome (a resume, perhaps from another
  // node or a hostile server) cannot turn the protection off mid-meeting.
  relay_only_ = relay_only_ || w.relay_only;
  const auto& c = ctx_.config();
  heartbeat_interval_ = w.heartbeat_interval_ms ? w.heartbeat_interval_ms : c.default_heartbeat_interval_ms;
  heartbeat_timeout_ = w.heartbeat_timeout_ms ? w.heartbeat_timeout_ms : c.default_heartbeat_timeout_ms;
  attempt_ = 0;
  set_state(SessionState::Joined, std::string("welcome (") + std::string(to_string(last_welcome_)) + ") as " + self_);
  ctx_.cancel_timer(ping_timer_);
  ping_timer_ = ctx_.start_timer(heartbeat_interval_, TimerTag{TimerOwner::Session, {}}, "heartbeat-ping");
  last_heard_ = now;
  arm_watchdog(heartbeat_timeout_, "server-silence");
  close_abandoned();
  ctx_.emit(Welcomed{self_, w.meeting_id, w.meeting_name, std::string(to_string(last_welcome_)), relay_only_});

  // Signals written while away: still meaningful after a resume, to peers
  // that are still here; meaningless after a rejoin (new id, new connections).
  std::deque<Buffered> pending;
  pending.swap(buffer_);
  if (last_welcome_ == WelcomeKind::Resumed) {
    std::set<std::string> present;
    for (const auto& p : w.peers) present.insert(p.id);
    for (auto& b : pending)
      if (present.count(b.to)) send_signal(b.to, std::move(b.data));
  }
}

void SignalingSession::handle_error(std::int64_t now, const protocol::ErrorMessage& error) {
  using protocol::ErrorCode;
  const std::string code(protocol::to_string(error.code));
  switch (error.code) {
    case ErrorCode::BadResume:
      if (state_ == SessionState::Joining && !token_.empty()) {
        ctx_.log(LogLevel::Info, kMachine, {}, {}, {}, "resume refused (bad-resume): joining afresh");
        token_.clear();
        send_join();
        arm_watchdog(ctx_.config().connect_timeout_ms, "join-timeout");
      }
      return;
    case ErrorCode::MeetingFull:
      if (state_ != SessionState::Joining) return;
      if (!self_.empty() && (!seat_wait_until_ || now < *seat_wait_until_)) {
        // We were in the meeting and it filled up while we were away (a
        // restarted server gave our seat to someone who joined first). The
        // calls we had may still carry media: they go on while we ask again
        // now and then, for seat_wait_ms, before giving up.
        if (!seat_wait_until_) seat_wait_until_ = now + ctx_.config().seat_wait_ms;
        ctx_.server_error(code, error.message);
        lose_socket(now, "the meeting is full: waiting for a seat", false);
        return;
      }
      fail(code, error.message);
      return;
    case ErrorCode::Unavailable:
      // The server cannot take joins now (its Redis is away, or it drains):
      // ask again after the reconnect backoff, as after a lost socket.
      if (state_ != SessionState::Joining) return;
      ctx_.server_error(code, error.message);
      lose_socket(now, "the server cannot take joins now: trying again", false);
      return;
    case ErrorCode::MeetingNotFound:
      // The meeting is gone (deleted): nothing to wait for.
      if (state_ == SessionState::Joining) fail(code, error.message);
      return;
    case ErrorCode::UnknownPeer:
      // A signal crossed a peer's departure: the peer-left is on its way.
      ctx_.log(LogLevel::Debug, kMachine, {}, {}, {}, "unknown-peer: " + error.message);
      return;
    default:
      ctx_.server_error(code, error.message);
      return;
  }
}

void SignalingSession::fail(std::string code, std::string message) {
  ctx_.server_error(code, message);
  if (socket_ != 0) ctx_.emit(CloseSocket{socket_, kCloseNormal, code});
  socket_ = 0;
  socket_open_ = false;
  close_abandoned();
  cancel_timers();
  buffer_.clear();
  set_state(SessionState::Failed, code);
}

void SignalingSession::close_abandoned() {
  for (int s : abandoned_) ctx_.emit(CloseSocket{s, kCloseAbandoned, "replaced"});
  abandoned_.clear();
}

void SignalingSession::leave(std::int64_t now) {
  (void)now;
  if (state_ == SessionState::Left || state_ == SessionState::Failed || state_ == SessionState::Leaving) return;
  if (socket_ != 0 && socket_open_ && (state_ == SessionState::Joining || state_ == SessionState::Joined)) {
    send(protocol::serialize(protocol::ClientMessage{protocol::Leave{}}));
    return finish_leave("the app left");
  }
  const bool away = state_ == SessionState::Reconnecting || state_ == SessionState::Connecting;
  if (!away || token_.empty()) return finish_leave("the app left");  // never joined: nobody to tell
  cancel_timers();
  if (socket_ == 0) {  // waiting out a backoff: a socket now (the one opening is kept)
    socket_ = ctx_.new_socket_id();
    socket_open_ = false;
    ctx_.emit(OpenSocket{socket_, url_});
  }
  set_state(SessionState::Leaving, "the app left while signaling was away: telling the server once a socket is up");
  arm_watchdog(ctx_.config().connect_timeout_ms, "leave-timeout");
}

void SignalingSession::finish_leave(std::string why) {
  if (socket_ != 0) ctx_.emit(CloseSocket{socket_, kCloseNormal, "leave"});
  socket_ = 0;
  socket_open_ = false;
  close_abandoned();
  cancel_timers();
  buffer_.clear();
  set_state(SessionState::Left, std::move(why));
}

void SignalingSession::send_signal(const std::string& to, std::string data) {
  if (state_ == SessionState::Joined) {
    send(protocol::serialize(protocol::ClientMessage{protocol::Signal{to, std::move(data)}}));
    return;
  }
  if (state_ == SessionState::Idle || state_ == SessionState::Left || state_ == SessionState::Failed) return;
  if (buffer_.size() >= ctx_.config().signal_buffer_limit) {
    buffer_.pop_front();
    ctx_.log(LogLevel::Warn, kMachine, {}, {}, {}, "signal buffer full while away: dropped the oldest");
  }
  buffer_.push_back(Buffered{to, std::move(data)});
}

}  // namespace meshmeet::core
