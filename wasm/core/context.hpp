// What the state machines share: the output queue, the handle and timer
// allocators, the seeded random source and the way a signal reaches a peer.
// The machines never talk to the outside except through here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wasm/core/client_config.hpp"
#include "wasm/core/outputs.hpp"
#include "wasm/core/random.hpp"

namespace meshmeet::core {

// Who a timer belongs to, so a firing can be routed without a lookup in every machine.
enum class TimerOwner { Session, Peer, Stats, PeerReturn, Outage };

struct TimerTag {
  TimerOwner owner;
  std::string peer;  // for TimerOwner::Peer
};

class CoreContext {
 public:
  explicit CoreContext(ClientConfig config);

  const ClientConfig& config() const { return config_; }
  ClientConfig& mutable_config() { return config_; }
  SeededRandom& random() { return random_; }

  void emit(Output output) { outputs_.push_back(std::move(output)); }
  std::vector<Output> drain();
  bool has_outputs() const { return !outputs_.empty(); }

  // 128 bits as 32 hex digits, for the verification exchange: unpredictable
  // to others as long as the config's `entropy` is (SHA-256 over it, the
  // seed and a counter). Not the jitter generator: that one is observable.
  std::string fresh_nonce();

  int new_socket_id() { return ++last_socket_; }
  int new_pc_id() { return ++last_pc_; }
  int new_op_id() { return ++last_op_; }

  // Emits StartTimer and returns its id (never 0).
  int start_timer(std::int64_t delay_ms, TimerTag tag, std::string purpose);
  // Emits CancelTimer if `id` is live, and sets `id` to 0.
  void cancel_timer(int& id);
  // A timer fired: its tag if it was live (it is no longer), nullopt for a
  // cancelled or unknown one (a late firing is normal: cancel races the clock).
  std::optional<TimerTag> take_fired_timer(int id);
  std::size_t active_timer_count() const { return timers_.size(); }
  std::vector<std::string> active_timer_purposes() const;

  void log(LogLevel level, std::string machine, std::string subject, std::string from, std::string to,
           std::string detail);
  // A state machine's transition, at debug level.
  void transition(std::string machine, std::string subject, std::string_view from, std::string_view to,
                  std::string detail);
  void error(CoreError code, std::string message, std::string peer = {});
  // One the server sent (its protocol::ErrorCode, spelled as on the wire).
  void server_error(std::string code, std::string message);

  // Outgoing peer signals go to the signaling session (which buffers them
  // while the server is away); set once by the client.
  using SignalSink = std::function<void(const std::string& to, std::string data)>;
  void set_signal_sink(SignalSink sink) { signal_sink_ = std::move(sink); }
  void send_signal(const std::string& to, std::string data) {
    if (signal_sink_) signal_sink_(to, std::move(data));
  }

  // Whether the signaling session is joined: ICE restarts wait for it.
  bool signaling_up() const { return signaling_up_; }
  void set_signaling_up(bool up) { signaling_up_ = up; }

 private:
  struct LiveTimer {
    TimerTag tag;
    std::string purpose;
  };
  ClientConfig config_;
  SeededRandom random_;
  std::vector<Output> outputs_;
  std::map<int, LiveTimer> timers_;
  int last_socket_ = 0;
  int last_pc_ = 0;
  int last_op_ = 0;
  int last_timer_ = 0;
  std::uint64_t nonces_ = 0;
  SignalSink signal_sink_;
  bool signaling_up_ = false;
};

}  // namespace meshmeet::core
