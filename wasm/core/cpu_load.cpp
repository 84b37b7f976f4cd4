#include "wasm/core/cpu_load.hpp"

#include <algorithm>
#include <string>

#include "wasm/core/uplink_budget.hpp"

namespace meshmeet::core {

namespace {
constexpr const char* kMachine = "cpu-load";
}

std::string_view to_string(CpuLoadState state) {
  switch (state) {
    case CpuLoadState::AtEase: return "at-ease";
    case CpuLoadState::SteppedDown: return "stepped-down";
  }
  return "at-ease";
}

void CpuLoad::set_step(int next, std::string why) {
  if (next == step_) return;
  const CpuLoadState before = state();
  const int from = step_;
  step_ = next;
  ctx_.transition(kMachine, {}, to_string(before), to_string(state()),
                  "step " + std::to_string(from) + " -> " + std::to_string(next) + ": " + why);
}

bool CpuLoad::on_round(std::int64_t now, bool cpu_limited, bool sending_video) {
  if (last_round_ >= 0) round_ms_ = now - last_round_;
  last_round_ = now;
  if (!sending_video) return false;
  const int before = step_;
  const bool pressed = pressure_ >= CpuPressure::Serious;
  if (cpu_limited || pressed) {
    calm_ = 0;
    if (++strained_ < kStrainedRounds || step_ == kMaxCpuStep) return false;
    strained_ = 0;
    // Strained again soon after stepping up: that step was one too many.
    if (stepped_up_at_ >= 0 && now - stepped_up_at_ <= 2 * kStrainedRounds * std::max<std::int64_t>(round_ms_, 1))
      calm_rounds_ = std::min(kMaxCalmRounds, calm_rounds_ * 2);
    const std::string cause = cpu_limited ? std::string("the CPU limited our video encoders")
                                          : "the device's CPU pressure was " + std::string(to_string(pressure_));
    set_step(step_ + 1, cause + " for " + std::to_string(kStrainedRounds) + " rounds in a row");
  } else {
    strained_ = 0;
    if (step_ == 0 || ++calm_ < calm_rounds_) return false;
    calm_ = 0;
    stepped_up_at_ = now;
    set_step(step_ - 1, "no encoder CPU-limited and the CPU pressure below serious for " + std::to_string(calm_rounds_) +
                            " rounds");
  }
  return step_ != before;
}

}  // namespace meshmeet::core
