// Connection quality per peer, from the browser's stats: round-trip time,
// packet loss and bitrate over each sampling interval become a level the UI
// can show (good / fair / poor). Worse news is reported at once; a better
// level must hold for two samples in a row, so the badge does not flicker.
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
  double packets_lost = 0;
  double packets_received = 0;
  double bytes_received = 0;
  double bytes_sent = 0;
};

// The level a single interval's numbers call for: `rtt_ms` < 0 when no RTT is
// known, `received_any` whether any packet arrived (or was lost) in it.
QualityLevel classify(double rtt_ms, double loss, bool received_any);

class QualityMonitor {
 public:
  QualityMonitor(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  // The first sample of a connection only sets the baseline; every later one
  // yields a report (emitted as QualityReport).
  void on_sample(std::int64_t now, const StatsSample& sample);
  void reset();  // a fresh peer connection restarts the counters
  void rename(std::string peer) { peer_ = std::move(peer); }  // the peer rejoined under a new id

  QualityLevel level() const { return level_; }

 private:
  void set_level(QualityLevel next, std::string why);  // the single mutator

  CoreContext& ctx_;
  std::string peer_;
  QualityLevel level_ = QualityLevel::Unknown;
  QualityLevel candidate_ = QualityLevel::Unknown;  // a better level seen once, waiting for confirmation
  std::optional<StatsSample> last_;
  std::int64_t last_at_ = 0;
};

}  // namespace meshmeet::core
