// The whole simulation: virtual clock, signaling server, media network and
// participants, plus the end-state checks every scenario shares. A check
// returns the list of problems a user would notice (an unconnected pair, a
// ghost in a roster, a stray connection or timer); empty means all is well.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/event_loop.hpp"
#include "sim/fake_peer_connection.hpp"
#include "sim/fake_server.hpp"
#include "sim/participant.hpp"

namespace sim {

struct WorldOptions {
  WorldOptions(std::uint64_t seed = 1) : seed(seed) {}  // implicit: World w({7}) reads well
  std::uint64_t seed;
  ServerOptions server;
};

class World {
 public:
  explicit World(WorldOptions options = {});

  EventLoop loop;
  FakeServer server;
  MediaNetwork net;
  std::string meeting;

  Participant& add(const std::string& name, ParticipantOptions options = {});
  std::vector<Participant*> everyone();
  void run_for(std::int64_t ms) { loop.run_for(ms); }
  std::uint64_t next_seed() { return seed_ * 1000003ULL + ++seeds_; }

  // Every member joined, each pair connected exactly once through one pair of
  // peer connections paired with each other, data channels open, matching
  // verification codes, rosters exact, no other connection open anywhere,
  // timers exactly the steady-state ones, no anomaly in any shim.
  // `outsiders`: ids that may (must) also be in every roster, not part of the checks.
  std::vector<std::string> mesh_problems(const std::vector<Participant*>& members,
                                         const std::vector<std::string>& outsiders = {});
  // After leaving: state left, no connection, no timer, no socket.
  std::vector<std::string> left_problems(Participant& p);
  // Each member's latest peer-media from every other member says what that
  // member sends: a live (set and enabled) microphone and camera track.
  std::vector<std::string> media_problems(const std::vector<Participant*>& members);
  // Each pair's data channel carries the core's messages now, both ways:
  // every member turns its microphone off (its camera without one) and on
  // again, and each time every other member receives exactly one peer-media
  // from it saying so. Takes 1 s; every member ends as it began. `when`
  // starts each problem.
  std::vector<std::string> data_channel_problems(const std::vector<Participant*>& members, const std::string& when);

 private:
  std::uint64_t seed_;
  std::uint64_t seeds_ = 0;
  std::vector<std::unique_ptr<Participant>> people_;
};

// "a, b, c" for messages.
std::string join_strings(const std::vector<std::string>& items);

}  // namespace sim
