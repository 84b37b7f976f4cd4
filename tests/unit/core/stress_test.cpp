// The chaos scenarios over many seeds: skipped in a plain run of the suite
// (its fixed seeds keep it quick to iterate on); ctest (`core-stress`) and
// the sanitize suite run them with
//   meshmeet-core-tests -tc='stress*' --no-skip
// A failing seed is printed, and replays exactly.
#include <doctest/doctest.h>

#include <cstdlib>

#include "sim/world.hpp"

using namespace sim;

namespace {

std::string lines(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  - " + p;
  return out;
}

std::int64_t run_until_meshed(World& w, const std::vector<Participant*>& members, std::int64_t limit_ms) {
  const auto start = w.loop.now();
  while (w.loop.now() - start < limit_ms) {
    w.run_for(100);
    if (w.mesh_problems(members).empty()) return w.loop.now() - start;
  }
  return -1;
}

}  // namespace

TEST_CASE("stress: lossy, reordering, duplicating signaling with renegotiations, over many seeds" * doctest::skip()) {
  for (std::uint64_t seed = 1; seed <= 300; ++seed) {
    CAPTURE(seed);
    WorldOptions options(seed);
    options.server.signal_loss = 0.25;
    options.server.signal_duplicate = 0.2;
    options.server.signal_jitter_ms = 300;
    World w(options);
    // Lost answers mean rollbacks: half the seeds in Chrome's order of events after one.
    ParticipantOptions browser;
    browser.pc.negotiation_needed_overtakes_rollback = seed % 2 == 0;
    std::vector<Participant*> people;
    const int n = 2 + static_cast<int>(seed % 7);
    for (int i = 0; i < n; ++i) people.push_back(&w.add("P" + std::to_string(i), browser));
    for (auto* p : people) p->join(w.meeting);
    w.run_for(3000);
    for (auto* p : people) p->set_track("video", "");
    w.run_for(3000);
    for (auto* p : people) p->set_track("video", p->name() + "-cam2");
    w.run_for(6000);
    w.server.options().signal_loss = 0;
    w.server.options().signal_duplicate = 0;
    w.server.options().signal_jitter_ms = 0;
    const auto took = run_until_meshed(w, people, 120000);
    CHECK_MESSAGE(took >= 0, lines(w.mesh_problems(people)));
    for (auto* p : people)
      for (auto& [h, pc] : p->pcs) CHECK((pc->current_remote() && pc->current_remote()->sending.count("video")));
  }
}

TEST_CASE("stress: outages, restarts and network cuts, over many seeds" * doctest::skip()) {
  for (std::uint64_t seed = 1; seed <= 200; ++seed) {
    CAPTURE(seed);
    World w(seed);
    std::vector<Participant*> people;
    const int n = 2 + static_cast<int>(seed % 5);
    for (int i = 0; i < n; ++i) people.push_back(&w.add("P" + std::to_string(i)));
    for (auto* p : people) p->join(w.meeting);
    w.run_for(static_cast<std::int64_t>(seed % 7) * 13);  // sometimes mid-negotiation
    switch (seed % 4) {
      case 0:
        w.server.drop_all();
        break;
      case 1:
        w.server.restart();
        break;
      case 2:
        w.server.set_host_unreachable("P0", true);
        for (auto* q : people) w.net.block_hosts("P0", q->name(), true);
        w.run_for(static_cast<std::int64_t>(seed % 3) * 10000);
        w.server.set_host_unreachable("P0", false);
        for (auto* q : people) w.net.block_hosts("P0", q->name(), false);
        break;
      case 3:
        w.net.block_hosts("P0", "P1", true);
        w.run_for(12000);
        w.net.block_hosts("P0", "P1", false);
        break;
    }
    const auto took = run_until_meshed(w, people, 180000);
    CHECK_MESSAGE(took >= 0, lines(w.mesh_problems(people)));
  }
}

TEST_CASE("stress: server restarts of a settled meeting keep the connections, over many seeds" * doctest::skip()) {
  int carried_all = 0;
  const int seeds = 200;
  for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
    if (std::getenv("ONLY_SEED") && seed != std::strtoull(std::getenv("ONLY_SEED"), nullptr, 10)) continue;
    CAPTURE(seed);
    World w(seed);
    std::vector<Participant*> people;
    const int n = 2 + static_cast<int>(seed % 7);
    for (int i = 0; i < n; ++i) people.push_back(&w.add("P" + std::to_string(i)));
    for (auto* p : people) p->join(w.meeting);
    REQUIRE(run_until_meshed(w, people, 20000) >= 0);
    int created = 0;
    for (auto* p : people) created += p->pcs_created;
    w.server.restart();
    if (seed % 3 == 0) {  // and again while some are still rejoining
      w.run_for(static_cast<std::int64_t>(seed % 11) * 400);
      w.server.restart();
    }
    const auto took = run_until_meshed(w, people, 180000);
    CHECK_MESSAGE(took >= 0, lines(w.mesh_problems(people)));
    int after = 0;
    for (auto* p : people) after += p->pcs_created;
    carried_all += after == created;
  }
  MESSAGE(carried_all << " of " << seeds << " meetings kept every connection across the restarts");
  CHECK(carried_all >= seeds * 9 / 10);
}
