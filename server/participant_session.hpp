// One WebSocket connection's protocol state, without the socket: what the
// client sent, what the clock says, and how the connection ended. The
// transport (server.cpp) owns the socket and reports what happens on it; the
// session decides, and asks its SessionSocket to send, close or drop.
//
// Every way a connection can end (a leave, a close frame, a reset with or
// without a write in flight, a missed heartbeat, a slow consumer, an
// oversized or binary message, a frame the WebSocket layer refuses, the
// drain, a resume elsewhere) goes through end(), the one exit: it counts the
// reason and tells the registry about a joined participant exactly once.
// The clock is passed in, so unit tests drive it with virtual time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "protocol/error_code.hpp"
#include "server/clock.hpp"
#include "server/connection_deadlines.hpp"
#include "server/ice_servers.hpp"
#include "server/message_rate_limit.hpp"
#include "server/metrics.hpp"
#include "server/room_registry.hpp"

namespace meshmeet::server {

// WebSocket close codes the session uses (RFC 6455 §7.4.1).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kPolicy = 1008;
inline constexpr std::uint16_t kTooBig = 1009;
}  // namespace close_code

// What the session asks of its socket.
class SessionSocket {
 public:
  virtual ~SessionSocket() = default;
  virtual void send(Message message) = 0;     // queued, written in order
  virtual void close(std::uint16_t code) = 0;  // a close frame once the queue is written
  virtual void drop() = 0;                     // the socket torn down now, no close frame
  virtual void ping() = 0;                     // a ping frame; then ping_finished()
};

// What every session shares: the server's parts, by reference.
struct SessionServices {
  RoomRegistry& rooms;
  Metrics& metrics;
  const IceServerList& ice;
  const ConnectionTimeouts& timeouts;
  double msg_rate;  // --msg-rate: messages per second, burst 4×
};

// How the socket ended under the session, as the transport saw it.
enum class SocketEnd : std::uint8_t {
  CloseFrame,     // any close frame from the client: a clean leave
  ProtocolError,  // the WebSocket layer refused a frame (it closed with 1002)
  BadUtf8,        // a text message that is not UTF-8 (it closed with 1007)
  Reset,          // TCP gone without a close frame: a read or a write failed
  SlowConsumer,   // the bounded send queue is full: the client does not read
};

class ParticipantSession {
 public:
  enum class State : std::uint8_t {
    Unjoined,  // open, no welcome yet
    Joining,   // a join asked of the registry, its answer not back yet
    Joined,    // a participant of a meeting
    Closing,   // ended; our close frame is queued or sent
    Gone,      // ended; the socket is torn down or going
  };

  // `host`: the upgrade's Host header, which the STUN entry of the ICE
  // servers names.
  ParticipantSession(const SessionServices& services, SessionSocket& socket, ConnId id, std::string host, TimePoint now);

  State state() const { return state_; }
  bool open() const { return state_ == State::Unjoined || state_ == State::Joining || state_ == State::Joined; }
  ConnId id() const { return id_; }

  // ---- from the transport
  // Over the per-IP cap, or opened while the server drains.
  void refuse(DisconnectReason reason, TimePoint now);
  // A whole text message.
  void on_message(std::string_view text, TimePoint now);
  void on_too_large(std::size_t limit, TimePoint now);
  void on_binary(TimePoint now);
  // Any frame from the client, control frames included: it is alive.
  void heard(TimePoint now) { deadlines_.heard(now); }
  void on_socket_end(SocketEnd how, TimePoint now);
  void ping_finished() { deadlines_.ping_finished(); }

  // ---- from the registry, through the transport
  // The answer to our join; false when the session has ended meanwhile (the
  // registry then takes the seat back).
  bool on_joined(const JoinOutcome& outcome, TimePoint now);
  // A signal of ours the registry could not relay.
  void on_refused(const protocol::Error& error);
  // Heartbeat, join deadline, fresh ICE servers; returns when to tick next.
  TimePoint tick(TimePoint now);
  // The server drains: close with 1001 (the slot is held, for a resume elsewhere).
  void shutdown(TimePoint now);
  // A resume on another connection took the participant over (the registry
  // already moved it): drop this socket, tell nobody.
  void retire(TimePoint now);

 private:
  // The one exit. Counts `reason`, tells the registry about a joined
  // participant as the reason says (remove, hold, or nothing when a resume
  // took it over), then closes or drops the socket (drops it when the
  // socket itself `ended`). Later calls do nothing.
  void end(DisconnectReason reason, TimePoint now, bool socket_ended = false);
  void send_error(protocol::ErrorCode code, std::string_view message, std::string_view ref);
  void join(const protocol::Join& join, TimePoint now);

  const SessionServices& services_;
  SessionSocket& socket_;
  ConnId id_;
  std::string host_;
  std::string self_;  // the peer id, once joined: TURN usernames carry it
  State state_ = State::Unjoined;
  TimePoint join_asked_{};  // for the join latency: from the join read to its answer
  ConnectionDeadlines deadlines_;
  MessageRateLimit rate_;
};

std::string_view to_string(ParticipantSession::State state);

}  // namespace meshmeet::server
