// Options of one meeting client. Every duration is in milliseconds of the
// caller's clock (the core owns none).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshmeet::core {

struct ClientConfig {
  // Seeds the jitter of reconnects and ICE restarts. The JS shim passes a value
  // from crypto.getRandomValues; tests pass constants to replay a run.
  std::uint64_t seed = 1;
  // Secret randomness for the verification exchange's nonces (the shim passes
  // 32 bytes from crypto.getRandomValues as hex). Empty: derived from `seed`
  // alone, fine for tests, not for a real call.
  std::string entropy;

  // Uplink budget shared by the video senders (one copy per peer in a mesh);
  // audio keeps `audio_kbps` per peer off the top.
  int uplink_kbps = 2500;
  int audio_kbps = 40;

  // Signaling: reconnect backoff with full jitter, delay = U(0, min(cap, base·2^attempt)).
  std::int64_t reconnect_base_ms = 500;
  std::int64_t reconnect_cap_ms = 10000;
  std::int64_t connect_timeout_ms = 10000;  // socket open, and again join → welcome
  std::int64_t default_heartbeat_interval_ms = 10000;  // until welcome names the server's
  std::int64_t default_heartbeat_timeout_ms = 30000;
  std::size_t signal_buffer_limit = 256;  // signals kept for peers while signaling is away

  // Peer connections.
  // A connection not yet up is rebuilt only after this long without progress
  // (see connection_recovery.hpp), the polite end after half as long again,
  // and whatever its progress after the hard cap.
  std::int64_t connect_watchdog_ms = 30000;
  std::int64_t connect_hard_cap_ms = 120000;
  std::int64_t answer_timeout_ms = 8000;          // a renegotiation's offer unanswered this long (signaling up) is rolled back and redone
  std::int64_t ice_disconnected_grace_ms = 5000;  // `disconnected` this long → ICE restart
  int ice_restart_attempts = 3;                   // then a fresh peer connection
  std::int64_t ice_restart_base_ms = 1000;        // restart k waits U(0, base·2^(k-1))
  std::int64_t ice_restart_timeout_ms = 10000;    // a restart that has not connected by then failed
  int max_fresh_connections = 3;                  // fresh connections of ours in a row before a peer is unreachable
  // An unreachable peer is retried (a fresh connection) after
  // U(c/2, c), c = min(cap, base·2^k) for its k-th retry; at once when the
  // network changes, fresh ICE servers arrive or signaling comes back.
  std::int64_t unreachable_retry_base_ms = 5000;
  std::int64_t unreachable_retry_cap_ms = 60000;
  // A rejected setParameters (the uplink budget) is tried again after this,
  // up to `sender_parameters_attempts` times in a row; then on the next
  // change (budget, roster, track, connection).
  std::int64_t sender_parameters_retry_ms = 1000;
  int sender_parameters_attempts = 4;
  // A change to a sender's limits (other than video turned back on for a
  // peer that draws it again) waits this long for the rest of its burst, so that a join
  // costs one setParameters per sender rather than several
  // (sender_parameters.hpp). Kept short: a hidden tab still stops costing
  // its senders within a second.
  std::int64_t sender_parameters_gather_ms = 300;
  // After a new sender's connection comes up, its first limits wait this
  // long for the peer to say how large it draws our video (it says so when
  // the data channel opens, just after the connection); then they go with
  // the budget alone (sender_parameters.hpp).
  std::int64_t sender_first_view_wait_ms = 600;
  std::int64_t stats_interval_ms = 3000;          // quality sampling period

  // After our resume, a peer missing from the welcome whose connection is
  // still up is kept for the server's resume grace (welcome.resumeGrace) for
  // it to come back under the same id (a server that restarted lists only
  // those back already; see mesh.hpp); this long when the server does not
  // say (servers before it did: their default --resume-grace).
  std::int64_t peer_return_grace_ms = 15000;
  // Refused a seat after being in the meeting (it filled up while we were
  // away): the join is tried again, calls going on, for this long.
  std::int64_t seat_wait_ms = 30000;

  // RTCIceServer array as JSON; when empty, welcome.iceServers is used.
  std::string ice_servers_json;

  // Transition logs (LogEntry at debug level) in the output queue.
  bool debug_log = true;
};

// From a JSON object with camelCase keys (seed, uplinkKbps, audioKbps,
// reconnectBaseMs, reconnectCapMs, connectTimeoutMs, connectWatchdogMs, connectHardCapMs,
// unreachableRetryBaseMs, unreachableRetryCapMs, answerTimeoutMs,
// iceDisconnectedGraceMs, iceRestartAttempts, iceRestartBaseMs,
// iceRestartTimeoutMs, maxFreshConnections, senderParametersRetryMs,
// senderParametersAttempts, senderParametersGatherMs, statsIntervalMs, peerReturnGraceMs, seatWaitMs, entropy,
// iceServers,
// debugLog); absent keys keep their defaults, "" counts as {}. On a bad value
// returns nullopt and sets `error`.
std::optional<ClientConfig> parse_client_config(std::string_view json, std::string& error);

}  // namespace meshmeet::core
