// ICE servers and relay-only meetings in whole simulated meetings: what
// goes on the wire in a relay-only meeting (nothing but relay candidates,
// even from browsers that gather the others), fresh TURN credentials that
// reach every live connection before an ICE restart needs them, and a
// connection the browser refuses to create.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "sim/world.hpp"
#include "wasm/core/peer_signal.hpp"
#include "wasm/core/sdp_fields.hpp"

using namespace sim;
using meshmeet::core::CandidateType;
using meshmeet::core::ErrorEvent;
using meshmeet::core::Welcomed;

namespace {

const std::string kTurnA = R"([{"urls":"turn:turn.example:3478","username":"100:p","credential":"a"}])";
const std::string kTurnB = R"([{"urls":"turn:turn.example:3478","username":"200:p","credential":"b"}])";

std::string lines(const std::vector<std::string>& problems) {
  std::string out;
  for (const auto& p : problems) out += "\n  - " + p;
  return out;
}

std::vector<Participant*> crowd(World& w, int n, ParticipantOptions options = {}) {
  std::vector<Participant*> out;
  for (int i = 0; i < n; ++i) out.push_back(&w.add("P" + std::to_string(i), options));
  for (auto* p : out) p->join(w.meeting);
  return out;
}

std::int64_t run_until_meshed(World& w, const std::vector<Participant*>& members, std::int64_t limit_ms) {
  const auto start = w.loop.now();
  while (w.loop.now() - start < limit_ms) {
    w.run_for(50);
    if (w.mesh_problems(members).empty()) return w.loop.now() - start;
  }
  return -1;
}

// Every candidate in the signals a client sent: trickled ones, and the
// a=candidate lines of its descriptions.
struct WireTap {
  int relay = 0, end_of_candidates = 0;
  std::vector<std::string> leaks;
  void see(const std::string& from, const std::string& data) {
    std::string error;
    auto s = meshmeet::core::parse_peer_signal(data, error);
    if (!s) return leaks.push_back(from + " sent an unreadable signal: " + error);
    auto check = [&](const std::string& line) {
      if (meshmeet::core::ice_candidate_type(line) == CandidateType::Relay)
        ++relay;
      else
        leaks.push_back(from + " sent " + line);
    };
    if (s->is_description()) {
      std::size_t pos = 0;
      while ((pos = s->sdp.find("a=candidate:", pos)) != std::string::npos) {
        const auto end = s->sdp.find('\n', pos);
        check(s->sdp.substr(pos, end - pos));
        pos = end;
      }
      return;
    }
    const auto line = meshmeet::core::candidate_attribute(s->candidate_json);
    if (line && line->empty())
      ++end_of_candidates;
    else
      check(line.value_or("(none)"));
  }
};

}  // namespace

TEST_CASE("relay-only meeting: every pair connects and no participant ever sends a candidate that is not relay") {
  WorldOptions options(31);
  options.server.relay_only = true;
  options.server.ice_servers = kTurnA;
  World w(options);
  WireTap tap;
  w.server.signal_tap = [&](const std::string& from, const std::string& data) { tap.see(from, data); };
  ParticipantOptions leaky;
  leaky.pc.gathers_past_relay_policy = true;  // a browser that gathers host and srflx candidates all the same
  auto people = crowd(w, 3, leaky);
  REQUIRE_MESSAGE(run_until_meshed(w, people, 15000) >= 0, lines(w.mesh_problems(people)));
  CHECK_MESSAGE(tap.leaks.empty(), lines(tap.leaks));
  CHECK(tap.relay > 0);
  for (auto* p : people) {
    CHECK(p->events_of<Welcomed>().back().relay_only);
    for (auto& [handle, pc] : p->pcs) CHECK(pc->relay_policy());
  }
}

TEST_CASE("fresh ICE servers reach every live connection, and the ICE restart after them uses them") {
  WorldOptions options(32);
  options.server.ice_servers = kTurnA;
  World w(options);
  auto people = crowd(w, 3);
  REQUIRE(run_until_meshed(w, people, 10000) >= 0);
  for (auto* p : people)
    for (auto& [handle, pc] : p->pcs) CHECK(pc->session_ice_servers().back() == nlohmann::json::parse(kTurnA).dump());

  w.server.send_ice_servers(kTurnB);  // the credentials held are about to expire
  w.run_for(100);
  for (auto* p : people)
    for (auto& [handle, pc] : p->pcs) CHECK(pc->configurations_set() == 2);  // at creation, and now

  // The path between two of them breaks and comes back: their ICE restart
  // must reach TURN with the fresh credentials.
  w.net.block_hosts(people[0]->name(), people[1]->name(), true);
  w.run_for(9000);
  w.net.block_hosts(people[0]->name(), people[1]->name(), false);
  REQUIRE_MESSAGE(run_until_meshed(w, people, 30000) >= 0, lines(w.mesh_problems(people)));
  int restarted = 0;
  for (auto* p : {people[0], people[1]})
    for (auto& [handle, pc] : p->pcs) {
      if (pc->remote_id() != people[0]->id() && pc->remote_id() != people[1]->id()) continue;
      restarted += pc->session_ice_servers().size() > 1 ? 1 : 0;
      CHECK(pc->session_ice_servers().back() == nlohmann::json::parse(kTurnB).dump());
    }
  CHECK(restarted > 0);

  // Someone who arrives now: every connection to it is made with the fresh list.
  auto& late = w.add("Late");
  late.join(w.meeting);
  people.push_back(&late);
  REQUIRE(run_until_meshed(w, people, 10000) >= 0);
  for (auto* p : people)
    for (auto& [handle, pc] : p->pcs)
      if (pc->remote_id() == late.id() || p == &late)
        CHECK(pc->session_ice_servers().front() == nlohmann::json::parse(kTurnB).dump());
}

TEST_CASE("a connection the browser refuses to create: the rest goes on and a fresh one connects") {
  World w(33);
  ParticipantOptions refusing;
  auto& a = w.add("A", refusing);
  auto& b = w.add("B");
  a.refuse_peer_connections = 1;
  a.join(w.meeting);
  b.join(w.meeting);
  std::vector<Participant*> people{&a, &b};
  REQUIRE_MESSAGE(run_until_meshed(w, people, 20000) >= 0, lines(w.mesh_problems(people)));
  CHECK(a.pcs_refused == 1);
  CHECK(a.error_codes().empty());
}

TEST_CASE("a browser that refuses every connection: the peer is given up on at once, with peer-unreachable") {
  World w(34);
  auto& a = w.add("A");
  auto& b = w.add("B");
  a.refuse_peer_connections = 100;
  a.join(w.meeting);
  b.join(w.meeting);
  w.run_for(2000);  // well before any watchdog
  CHECK(a.pcs_refused == 4);  // the first, and three fresh ones
  const auto codes = a.error_codes();
  CHECK(std::count(codes.begin(), codes.end(), "peer-unreachable") == 1);
}
