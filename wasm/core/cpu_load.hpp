// Whether this device's CPU keeps up with encoding a copy of our video for
// every peer. Each encoder on its own would shrink its picture when it falls
// behind (Chrome reports qualityLimitationReason "cpu"), one after another and
// each at its own moment; here the mesh steps every copy down together, and
// back up once the CPU has been at ease for a while.
//
// Chrome's encoders say so only when they themselves fall behind. When the
// whole device is saturated (decoding, drawing, audio and other programs as
// much as encoding) each encoder still looks fine to itself, and Chrome was
// seen to report no "cpu" limit in a six-page call that held both cores at
// 100 %. So the device's own report counts too: the Compute Pressure API's
// CPU state ("serious" or "critical"), where the browser has it.
//
// Fed once per stats round (every connection's getStats): a step down after
// kStrainedRounds rounds in a row that were strained (a video sender
// CPU-limited, or the device's CPU pressure serious or worse); a step up
// after `calm_rounds_` rounds in a row that were not. A step up
// that is followed by a step down soon after doubles the calm needed before
// the next one (up to kMaxCalmRounds), so a machine at its limit does not
// swing between two steps.
#pragma once

#include <cstdint>
#include <string_view>

#include "wasm/core/context.hpp"
#include "wasm/core/webrtc_types.hpp"

namespace meshmeet::core {

enum class CpuLoadState {
  AtEase,    // every copy as the uplink budget and the views allow
  SteppedDown,  // every copy `step()` steps smaller (uplink_budget.hpp)
};
std::string_view to_string(CpuLoadState state);

class CpuLoad {
 public:
  static constexpr int kStrainedRounds = 2;
  static constexpr int kCalmRounds = 5;
  static constexpr int kMaxCalmRounds = 40;

  explicit CpuLoad(CoreContext& ctx) : ctx_(ctx) {}

  // One stats round: whether any video sender was limited by the CPU, and
  // whether any sent video at all (a round without video says nothing:
  // the step stays where it was).
  // True when the step changed: the mesh splits the uplink anew.
  bool on_round(std::int64_t now, bool cpu_limited, bool sending_video);
  // The device's latest CPU pressure: it holds until the next report.
  void on_pressure(CpuPressure pressure) { pressure_ = pressure; }

  CpuLoadState state() const { return step_ == 0 ? CpuLoadState::AtEase : CpuLoadState::SteppedDown; }
  int step() const { return step_; }

 private:
  void set_step(int next, std::string why);  // the single mutator

  CoreContext& ctx_;
  int step_ = 0;
  int strained_ = 0;  // rounds in a row CPU-limited
  int calm_ = 0;      // rounds in a row not
  int calm_rounds_ = kCalmRounds;
  std::int64_t stepped_up_at_ = -1;  // when the last step up happened (-1: none yet)
  std::int64_t round_ms_ = 0;        // the time between the last two rounds
  std::int64_t last_round_ = -1;
  CpuPressure pressure_ = CpuPressure::Nominal;  // a fact from the device, not a step
};

}  // namespace meshmeet::core
