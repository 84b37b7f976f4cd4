// Time in the server is a value passed in, never read inside the logic, so
// tests drive rooms and limits with a virtual clock.
#pragma once

#include <chrono>

namespace meshmeet::server {

using Clock = std::chrono::steady_clock;
using TimePoint = Clock::time_point;
using Duration = Clock::duration;

inline Duration seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

inline double to_seconds(Duration d) { return std::chrono::duration<double>(d).count(); }

inline long long millis(Duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

}  // namespace meshmeet::server
