#include "wasm/core/quality.hpp"

#include <algorithm>
#include <cstdio>

namespace meshmeet::core {

std::string_view to_string(QualityLevel level) {
  switch (level) {
    case QualityLevel::Unknown: return "unknown";
    case QualityLevel::Good: return "good";
    case QualityLevel::Fair: return "fair";
    case QualityLevel::Poor: return "poor";
  }
  return "unknown";
}

// Thresholds from common practice for interactive video: beyond ~250 ms RTT
// or ~3 % loss conversation and picture visibly suffer; beyond ~500 ms or
// ~10 % they break down.
// An RTT below 0 is unknown (no candidate pair has measured one yet): the
// loss decides alone, and with nothing received either, nothing is known.
QualityLevel classify(double rtt_ms, double loss, bool received_any) {
  if (rtt_ms < 0 && !received_any) return QualityLevel::Unknown;
  if (rtt_ms > 500 || loss > 0.10) return QualityLevel::Poor;
  if (rtt_ms > 250 || loss > 0.03) return QualityLevel::Fair;
  return QualityLevel::Good;
}

void QualityMonitor::set_level(QualityLevel next, std::string why) {
  if (next == level_) return;
  ctx_.transition("quality", peer_, to_string(level_), to_string(next), std::move(why));
  level_ = next;
}

void QualityMonitor::reset() {
  last_.reset();
  candidate_ = QualityLevel::Unknown;
}

void QualityMonitor::on_sample(std::int64_t now, const StatsSample& s, bool media_expected) {
  if (!last_ || s.packets_received < last_->packets_received || s.bytes_received < last_->bytes_received ||
      s.bytes_sent < last_->bytes_sent || s.packets_sent < last_->packets_sent || now <= last_at_) {
    last_ = s;  // first sample, or counters restarted: a new baseline
    last_at_ = media_seen_at_ = now;
    return;
  }
  const double seconds = static_cast<double>(now - last_at_) / 1000.0;
  const double lost = std::max(0.0, s.packets_lost - last_->packets_lost);
  const double received = s.packets_received - last_->packets_received;
  const double loss_in = lost + received > 0 ? lost / (lost + received) : 0.0;
  // The peer's reports lag ours (RTCP, every second or so): over a few
  // seconds the two counters still describe the same packets.
  const double lost_out = std::max(0.0, s.remote_packets_lost - last_->remote_packets_lost);
  const double sent = std::max(0.0, s.packets_sent - last_->packets_sent);
  const double loss_out = sent > 0 ? std::min(1.0, lost_out / sent) : 0.0;
  const double loss = std::max(loss_in, loss_out);
  if (received > 0 || !media_expected) media_seen_at_ = now;
  const std::int64_t silent_ms = now - media_seen_at_;
  const bool frozen = media_expected && silent_ms >= kFrozenAfterMs;
  const double kbps_in = (s.bytes_received - last_->bytes_received) * 8 / 1000.0 / seconds;
  const double kbps_out = (s.bytes_sent - last_->bytes_sent) * 8 / 1000.0 / seconds;
  last_ = s;
  last_at_ = now;

  const QualityLevel measured =
      frozen ? QualityLevel::Poor : classify(s.rtt_ms, loss, lost + received > 0 || sent > 0);
  char why[128];
  if (frozen)
    std::snprintf(why, sizeof why, "frozen: no media for %lld ms", static_cast<long long>(silent_ms));
  else if (s.rtt_ms < 0)
    std::snprintf(why, sizeof why, "rtt unknown, loss in %.1f %%, out %.1f %%", loss_in * 100, loss_out * 100);
  else
    std::snprintf(why, sizeof why, "rtt %.0f ms, loss in %.1f %%, out %.1f %%", s.rtt_ms, loss_in * 100,
                  loss_out * 100);
  if (measured == QualityLevel::Unknown) {
    candidate_ = QualityLevel::Unknown;  // no news: the level stays what it was
  } else if (level_ == QualityLevel::Unknown || measured > level_) {  // first level, or worse: at once
    candidate_ = QualityLevel::Unknown;
    set_level(measured, why);
  } else if (measured < level_) {  // better: only when it holds twice
    if (candidate_ == measured) {
      candidate_ = QualityLevel::Unknown;
      set_level(measured, why);
    } else {
      candidate_ = measured;
    }
  } else {
    candidate_ = QualityLevel::Unknown;
  }
  if (level_ == QualityLevel::Unknown) return;  // nothing measured yet: nothing to show
  ctx_.emit(QualityReport{peer_, std::string(to_string(level_)), s.rtt_ms, loss, kbps_in, kbps_out});
}

}  // namespace meshmeet::core
