// What whole-meeting scenarios share: a crowd of participants, joining it,
// running until the mesh is clean, and problems printed one per line.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sim/world.hpp"

namespace sim {

inline std::string lines(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  - " + p;
  return out;
}

#define CHECK_CLEAN(expr)                                   \
  do {                                                      \
    const auto problems_ = (expr);                          \
    CHECK_MESSAGE(problems_.empty(), ::sim::lines(problems_)); \
  } while (0)

// P0, P1, … (not joined yet).
inline std::vector<Participant*> crowd(World& w, int n, ParticipantOptions options = {}) {
  std::vector<Participant*> out;
  for (int i = 0; i < n; ++i) out.push_back(&w.add("P" + std::to_string(i), options));
  return out;
}

inline void join_all(World& w, const std::vector<Participant*>& people) {
  for (auto* p : people) p->join(w.meeting);
}

// Runs until the members form a clean mesh; the virtual time it took, or -1.
inline std::int64_t run_until_meshed(World& w, const std::vector<Participant*>& members, std::int64_t limit_ms,
                                     const std::vector<std::string>& outsiders = {}) {
  const auto start = w.loop.now();
  while (w.loop.now() - start < limit_ms) {
    w.run_for(50);
    if (w.mesh_problems(members, outsiders).empty()) return w.loop.now() - start;
  }
  return -1;
}

}  // namespace sim
