// The signaling session: one WebSocket's worth of life at a time, and the
// identity that outlives sockets. Connect, join, welcome, `ping` every
// heartbeat interval, a silent server detected after the heartbeat timeout,
// reconnects with exponential backoff and full jitter, resume with the token
// (peer connections stay up meanwhile), and `bad-resume` → join afresh.
//
// A socket given up for silence is *abandoned*, not closed: a close frame
// would read as a clean leave to a server that was only slow, and end the
// very slot we want to resume. It is closed after the next welcome (the
// server has closed it silently by then) or at leave.
//
// A leave while signaling is away is still told: the others would otherwise
// keep a dead tile for the whole resume grace. The session opens a socket at
// once (or keeps the one opening), sends a resume and a leave back to back
// as soon as it is open, and is Left then, or when that cannot be done
// within the connect timeout.
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/messages.hpp"
#include "wasm/core/context.hpp"

namespace meshmeet::core {

enum class SessionState {
  Idle,          // not started
  Connecting,    // socket opening
  Joining,       // socket open, join sent, waiting for welcome
  Joined,        // welcome received: signals flow
  Reconnecting,  // waiting out a backoff delay before the next socket
  Leaving,       // the app left while signaling was away: a socket opens to tell the server
  Left,          // the app left: terminal, never reconnects
  Failed,        // the server refused the meeting (not found, full): terminal
};
std::string_view to_string(SessionState state);

// How a welcome relates to the identity we had.
enum class WelcomeKind {
  Fresh,     // first join
  Resumed,   // same id again: peer connections were kept
  Rejoined,  // new id after bad-resume: the mesh must be rebuilt
};
std::string_view to_string(WelcomeKind kind);

class SignalingSession {
 public:
  explicit SignalingSession(CoreContext& ctx) : ctx_(ctx) {}

  // ---- from the app
  void start(std::int64_t now, std::string url, std::string meeting, std::string name);
  void leave(std::int64_t now);

  // ---- from the socket (events for sockets other than the current one are ignored)
  void on_socket_opened(std::int64_t now, int socket);
  void on_socket_closed(std::int64_t now, int socket, int code);
  // Keeps what the session owns (pong, errors it handles, welcome bookkeeping)
  // and returns what the mesh must see: welcome, peer-joined, peer-left,
  // signal, ice-servers (kept here too: the newest list the server gave).
  std::optional<protocol::ServerMessage> on_socket_message(std::int64_t now, int socket, std::string_view text);
  void on_timer(std::int64_t now, int timer);
  // The device's network changed: a reconnect waiting out its backoff goes now.
  void on_network_change(std::int64_t now);

  // ---- from the mesh: a signal for a peer; buffered (bounded) while not joined
  void send_signal(const std::string& to, std::string data);

  SessionState state() const { return state_; }
  bool joined() const { return state_ == SessionState::Joined; }
  WelcomeKind last_welcome() const { return last_welcome_; }
  const std::string& self_id() const { return self_; }
  // The newest RTCIceServer array from welcome or ice-servers (JSON text).
  const std::string& ice_servers_json() const { return ice_servers_json_; }
  // A welcome said the meeting is relay-only; never reset by a later one.
  bool relay_only() const { return relay_only_; }
  int socket() const { return socket_; }
  int attempt() const { return attempt_; }
  std::size_t buffered_signals() const { return buffer_.size(); }

 private:
  void set_state(SessionState next, std::string why);  // the single mutator
  void open_socket(std::int64_t now);
  void send_join();
  void send(std::string text);
  void lose_socket(std::int64_t now, std::string why, bool abandon);
  void schedule_reconnect(std::int64_t now, std::string why);
  void fail(std::string code, std::string message);
  void finish_leave(std::string why);  // Leaving (or leaving at once) → Left
  void close_abandoned();
  void handle_welcome(std::int64_t now, const protocol::Welcome& welcome);
  void handle_error(std::int64_t now, const protocol::ErrorMessage& error);
  void arm_watchdog(std::int64_t delay, const char* purpose);
  void cancel_timers();

  CoreContext& ctx_;
  SessionState state_ = SessionState::Idle;
  std::string url_, meeting_, name_;
  std::string self_;
  std::string token_;  // resume token; empty after bad-resume
  std::string ice_servers_json_ = "[]";
  bool relay_only_ = false;
  WelcomeKind last_welcome_ = WelcomeKind::Fresh;

  int socket_ = 0;
  bool socket_open_ = false;
  std::vector<int> abandoned_;

  int attempt_ = 0;  // reconnect attempts since the last welcome
  // Refused a seat after being in the meeting: we keep asking until then.
  std::optional<std::int64_t> seat_wait_until_;
  std::int64_t heartbeat_interval_ = 0;
  std::int64_t heartbeat_timeout_ = 0;
  std::int64_t last_heard_ = 0;

  int ping_timer_ = 0;
  int watchdog_timer_ = 0;  // socket open, join → welcome, or server silence
  int backoff_timer_ = 0;

  struct Buffered {
    std::string to;
    std::string data;
  };
  std::deque<Buffered> buffer_;
};

}  // namespace meshmeet::core
