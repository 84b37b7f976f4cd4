// Connection quality per peer, from the browser's stats: round-trip time,
// packet loss and bitrate over each sampling interval become a level the UI
// can show (good / fair / poor). Worse news is reported at once; a better
// level must hold for two samples in a row, so the badge does not flicker.
//
// Two ways the numbers used to lie. A connection whose media stopped (a
// frozen picture: the path died but ICE has not noticed yet, or the peer's
// encoder stalled) measures no loss and a fine RTT, so a connected pair from
// which no RTP arrived for `kFrozenAfterMs` while the peer says it sends
// (peer-media) is `poor`. And what we send can be lost while what we receive
// is fine: the loss the other end reports (remote-inbound-rtp) counts as
// much as our own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "wasm/core/context.hpp"

namespace meshmeet::core {

enum class QualityLevel { Unknown, Good, Fair, Poor };
std::string_view to_string(QualityLevel level);

// Cumulative counters as getStats reports them (summed over the inbound and
// outbound RTP streams of one peer connection) plus the current RTT (< 0:
// not measured yet).
struct StatsSample {
  double rtt_ms = 0;
  double packets_lost = 0;         // inbound-rtp packetsLost: what we did not get
  double packets_received = 0;     // inbound-rtp packetsReceived (media only: no data channel)
  double bytes_received = 0;
  double bytes_sent = 0;
  double remote_packets_lost = 0;  // remote-inbound-rtp packetsLost: what the peer says it did not get of ours
  double packets_sent = 0;         // outbound-rtp packetsSent
  bool cpu_limited = false;        // an outbound video's qualityLimitationReason is "cpu"
};

// No RTP for this long from a peer that says it sends: its picture is frozen.
constexpr std::int64_t kFrozenAfterMs = 2000;

// The level a single interval's numbers call for: `rtt_ms` < 0 when no RTT is
// known, `received_any` whether any packet arrived (or was lost) in it.
QualityLevel classify(double rtt_ms, double loss, bool received_any);

class QualityMonitor {
 public:
  QualityMonitor(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  // The first sample of a connection only sets the baseline; every later one
  // yields a report (emitted as QualityReport). `media_expected`: the peer
  // says its microphone or camera is live (its latest peer-media).
  void on_sample(std::int64_t now, const StatsSample& sample, bool media_expected = false);
  void reset();  // a fresh peer connection restarts the counters

  QualityLevel level() const { return level_; }

 private:
  void set_level(QualityLevel next, std::string why);  // the single mutator

  CoreContext& ctx_;
  std::string peer_;
  QualityLevel level_ = QualityLevel::Unknown;
  QualityLevel candidate_ = QualityLevel::Unknown;  // a better level seen once, waiting for confirmation
  std::optional<StatsSample> last_;
  std::int64_t last_at_ = 0;
  std::int64_t media_seen_at_ = 0;  // the last sample in which RTP arrived (or none was expected)
};

}  // namespace meshmeet::core
