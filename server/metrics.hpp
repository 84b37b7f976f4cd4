// Counters for /metrics (Prometheus text format). One event loop thread owns
// them, so they are plain integers.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "protocol/error_code.hpp"
#include "server/clock.hpp"

namespace meshmeet::server {

// Why the server closed or lost a WebSocket connection.
enum class DisconnectReason {
  Left,                // leave or a close frame from the client
  Removed,             // message-level violation
  JoinTimeout,
  Heartbeat,
  SlowConsumer,
  TooLarge,
  BadUtf8,
  Binary,
  TooManyConnections,
  Dropped,             // TCP gone without a close frame
  Replaced,            // a resume took the participant over
  Shutdown,
};
inline constexpr int kDisconnectReasons = 12;
std::string_view to_string(DisconnectReason reason);

// Gauges are read at render time from whoever owns the state.
struct Gauges {
  std::size_t connections = 0;
  std::size_t participants = 0;
  std::size_t meetings_active = 0;
  std::size_t held_signals_dropped = 0;
  std::size_t open_fds = 0;  // the process's open file descriptors…
  std::size_t max_fds = 0;   // …and its limit (RLIMIT_NOFILE): the real capacity limit
};

class Metrics {
 public:
  static constexpr std::array<double, 12> kJoinBuckets = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                          0.01,   0.025,   0.05,   0.1,   0.25,   1.0};

  void error(protocol::ErrorCode code) { ++errors_[static_cast<int>(code)]; }
  void disconnect(DisconnectReason reason) { ++disconnects_[static_cast<int>(reason)]; }
  void join_latency(Duration d);

  std::uint64_t messages_in = 0;
  std::uint64_t messages_out = 0;
  std::uint64_t meetings_created = 0;
  std::uint64_t resumes = 0;
  std::uint64_t resume_expired = 0;
  std::uint64_t meetings_expired = 0;
  std::uint64_t rate_limited_messages = 0;
  std::uint64_t http_requests = 0;
  std::uint64_t refused_fd_limit = 0;  // connections answered 503 at the open-file limit
  std::uint64_t meetings_create_rate_limited = 0;  // POST /api/meetings over --create-rate
  std::uint64_t http_body_too_large = 0;           // HTTP requests over the body limit
  std::uint64_t http_bad_requests = 0;             // requests that were not HTTP, or headers over the limit
  std::uint64_t stun_answered = 0;                 // STUN Binding requests answered
  std::uint64_t stun_ignored = 0;                  // UDP datagrams that were not a valid Binding request
  std::uint64_t stun_rate_limited = 0;             // Binding requests over their source's rate, unanswered
  std::uint64_t ice_refreshes = 0;                 // ice-servers messages sent with fresh TURN credentials

  std::uint64_t errors(protocol::ErrorCode code) const { return errors_[static_cast<int>(code)]; }
  std::uint64_t disconnects(DisconnectReason reason) const { return disconnects_[static_cast<int>(reason)]; }

  std::string render(const Gauges& gauges) const;

 private:
  std::array<std::uint64_t, protocol::kAllErrorCodes.size()> errors_{};
  std::array<std::uint64_t, kDisconnectReasons> disconnects_{};
  std::array<std::uint64_t, kJoinBuckets.size()> join_buckets_{};
  std::uint64_t join_count_ = 0;
  double join_sum_ = 0;
};

}  // namespace meshmeet::server
