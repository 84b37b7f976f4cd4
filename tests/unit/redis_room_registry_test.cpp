// server/redis_room_registry: the registry of a cluster, as two nodes in one
// process (each with its own two connections and Delivery) on a real
// redis-server. What the lone server's registry promises holds across
// nodes: one roster, relays, the cap, resumes anywhere under the same id,
// and no ghost when a node dies.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "protocol/messages.hpp"
#include "redis_server.hpp"
#include "seeded_random.hpp"
#include "server/redis_meetings.hpp"
#include "server/redis_room_registry.hpp"
#include "server/secrets.hpp"

using namespace meshmeet::server;
using meshmeet::protocol::ErrorCode;
using meshmeet::protocol::LeaveReason;
namespace proto = meshmeet::protocol;
using test_redis::RedisServer;
using test_redis::run_until;
using namespace std::chrono_literals;

namespace {

// What a node's registry asked of its transport, per connection.
struct RecordingDelivery final : Delivery {
  void send(ConnId conn, Message message) override {
    if (!gone.count(conn)) sent[conn].push_back(proto::parse_server_message(*message).value());
  }
  void retire(ConnId conn) override { retired.insert(conn); }
  bool joined(ConnId conn, const JoinOutcome& outcome) override {
    answers[conn] = outcome;
    return !gone.count(conn);
  }
  void refused(ConnId conn, const proto::Error& error) override { refusals[conn].push_back(error.code); }

  template <class T>
  std::vector<T> of(ConnId conn) const {
    std::vector<T> out;
    if (auto it = sent.find(conn); it != sent.end())
      for (const auto& m : it->second)
        if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    return out;
  }

  std::map<ConnId, std::vector<proto::ServerMessage>> sent;
  std::map<ConnId, JoinOutcome> answers;
  std::map<ConnId, std::vector<ErrorCode>> refusals;
  std::set<ConnId> retired;
  std::set<ConnId> gone;  // ended before their join was answered
};

RoomSettings room_settings() {
  RoomSettings s;
  s.room_cap = 3;
  s.resume_grace = 400ms;
  return s;
}

RedisRoomSettings cluster_settings(const std::string& node) {
  RedisRoomSettings c;
  c.node_id = node;
  c.lease = 300ms;
  c.sweep_period = 50ms;
  return c;
}

// One node: its connections, its transport, its registry.
struct Node {
  Node(boost::asio::io_context& io, const RedisServer& redis, const std::string& name, std::uint64_t seed)
      : commands(io, redis.url(), name + "-commands"),
        subscriber(io, redis.url(), name + "-subscriber"),
        random(seed),
        rooms(std::make_unique<RedisRoomRegistry>(room_settings(), cluster_settings(name), delivery, random, commands,
                                                  subscriber)) {
    commands.start();
    subscriber.start();
  }
  redis::Connection commands;
  redis::Connection subscriber;
  RecordingDelivery delivery;
  SeededRandom random;
  std::unique_ptr<RedisRoomRegistry> rooms;
};

struct Cluster {
  Cluster() {
    for (auto* n : {&a, &b}) REQUIRE_MESSAGE(pump([&] { return n->rooms->ready(); }), "a node did not get ready");
    RedisMeetings meetings(a.commands, 3600, 3600, 0);
    NewMeeting m;
    m.id = kMeeting;
    m.name = "Standup";
    m.created_at = "2026-12-04T00:00:00Z";
    std::optional<MeetingDirectory::Created> created;
    meetings.create(m, "203.0.113.1", {}, [&](MeetingDirectory::Created c) { created = c; });
    REQUIRE(pump([&] { return created.has_value(); }));
    REQUIRE(*created == MeetingDirectory::Created::Stored);
  }

  // Runs the io_context, sweeping every node now and then as the server
  // does, until `done` holds.
  template <class Done>
  bool pump(Done done, std::chrono::milliseconds limit = 5000ms) {
    return run_until(io, [&] {
      for (auto* n : {&a, &b})
        if (n->rooms) n->rooms->expire(Clock::now());
      return done();
    }, limit);
  }

  // A fresh join that must be seated; returns the peer id.
  std::string join(Node& n, ConnId conn, const std::string& name) {
    n.rooms->join(conn, proto::Join{kMeeting, name, std::nullopt}, "h", Clock::now());
    REQUIRE(pump([&] { return n.delivery.answers.count(conn) > 0; }));
    const auto& outcome = n.delivery.answers.at(conn);
    REQUIRE_MESSAGE(!outcome.error, "join refused: " << proto::to_string(outcome.error->code));
    return outcome.self;
  }

  // How many signals Redis holds for `peer` (asked on a connection of the test's own).
  redis::Connection& probe_conn() {
    if (!probe) {
      probe = std::make_unique<redis::Connection>(io, redis.url(), "probe");
      probe->start();
      REQUIRE(run_until(io, [&] { return probe->ready(); }));
    }
    return *probe;
  }
  // How many keys match `pattern`.
  long long keys(const std::string& pattern) {
    std::optional<long long> n;
    probe_conn().command({"KEYS", pattern}, [&](const redis::Reply& r) { n = static_cast<long long>(r.elements.size()); });
    REQUIRE(run_until(io, [&] { return n.has_value(); }));
    return *n;
  }
  long long held_for(const std::string& peer) {
    probe_conn();
    std::optional<long long> n;
    probe->command({"LLEN", "mm:held:" + to_hex(sha256(kMeeting)) + ":" + peer},
                   [&](const redis::Reply& r) { n = r.integer; });
    REQUIRE(run_until(io, [&] { return n.has_value(); }));
    return *n;
  }

  static inline const std::string kMeeting = "abcdefghijklmnopqrstuvwxyz";
  RedisServer redis;
  boost::asio::io_context io;
  Node a{io, redis, "node-a", 1};
  Node b{io, redis, "node-b", 2};
  std::unique_ptr<redis::Connection> probe;
};

std::vector<std::string> ids(const std::vector<proto::PeerInfo>& peers) {
  std::vector<std::string> out;
  for (const auto& p : peers) out.push_back(p.id);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_SUITE_BEGIN("redis");

TEST_CASE("redis registry: one roster over two nodes; relays cross them in order; unknown peers are refused") {
  Cluster c;
  const std::string ada = c.join(c.a, 1, "Ada");
  const std::string bob = c.join(c.b, 7, "Bob");
  CHECK(c.b.delivery.of<proto::Welcome>(7).at(0).peers == std::vector<proto::PeerInfo>{{ada, "Ada"}});
  REQUIRE(c.pump([&] { return c.a.delivery.of<proto::PeerJoined>(1).size() == 1; }));
  CHECK(c.a.delivery.of<proto::PeerJoined>(1).at(0).peer == proto::PeerInfo{bob, "Bob"});

  for (int i = 0; i < 50; ++i) c.b.rooms->signal(7, ada, R"({"n":)" + std::to_string(i) + "}");
  REQUIRE(c.pump([&] { return c.a.delivery.of<proto::SignalFrom>(1).size() == 50; }));
  const auto got = c.a.delivery.of<proto::SignalFrom>(1);
  for (int i = 0; i < 50; ++i) {
    CHECK(got[i].from == bob);
    CHECK(got[i].data == R"({"n":)" + std::to_string(i) + "}");
  }

  c.a.rooms->signal(1, "nobody-here", "{}");
  REQUIRE(c.pump([&] { return c.a.delivery.refusals.count(1) > 0; }));
  CHECK(c.a.delivery.refusals.at(1) == std::vector<ErrorCode>{ErrorCode::UnknownPeer});

  // A clean leave is heard on the other node at once.
  c.b.rooms->remove(7, LeaveReason::Left);
  REQUIRE(c.pump([&] { return c.a.delivery.of<proto::PeerLeft>(1).size() == 1; }));
  CHECK(c.a.delivery.of<proto::PeerLeft>(1).at(0).peer == bob);

  // The last one out leaves nothing of the room behind.
  c.a.rooms->remove(1, LeaveReason::Left);
  REQUIRE(c.pump([&] { return c.keys("mm:room:*") == 0 && c.keys("mm:node-members:*") == 0; }));
  CHECK(c.keys("mm:held:*") == 0);
  CHECK(c.keys("mm:holds") == 0);
}

TEST_CASE("redis registry: the cap holds for joins asked on two nodes at once") {
  Cluster c;  // cap 3
  for (ConnId conn = 1; conn <= 3; ++conn) c.a.rooms->join(conn, proto::Join{Cluster::kMeeting, "a", std::nullopt}, "h", Clock::now());
  for (ConnId conn = 1; conn <= 3; ++conn) c.b.rooms->join(conn, proto::Join{Cluster::kMeeting, "b", std::nullopt}, "h", Clock::now());
  REQUIRE(c.pump([&] { return c.a.delivery.answers.size() == 3 && c.b.delivery.answers.size() == 3; }));
  int seated = 0, full = 0;
  for (auto* n : {&c.a, &c.b})
    for (const auto& [conn, outcome] : n->delivery.answers) {
      if (!outcome.error) ++seated;
      else if (outcome.error->code == ErrorCode::MeetingFull) ++full;
    }
  CHECK(seated == 3);
  CHECK(full == 3);
}

TEST_CASE("redis registry: a resume on the other node keeps the id, gets what was held for it, and is silent to the others") {
  Cluster c;
  const std::string ada = c.join(c.a, 1, "Ada");
  const std::string bob = c.join(c.a, 2, "Bob");
  const std::string token = c.a.delivery.of<proto::Welcome>(2).at(0).resume;
  c.a.rooms->hold(2, LeaveReason::Disconnected, Clock::now());
  c.a.rooms->signal(1, bob, R"({"while":"away"})");
  // Node a's commands are done once the signal is held for Bob (node b's
  // connection is not ordered with a's).
  REQUIRE(c.pump([&] { return c.held_for(bob) == 1; }));

  c.b.rooms->join(9, proto::Join{Cluster::kMeeting, "", token}, "h", Clock::now());
  REQUIRE(c.pump([&] { return c.b.delivery.answers.count(9) > 0; }));
  const auto& outcome = c.b.delivery.answers.at(9);
  REQUIRE_FALSE(outcome.error);
  CHECK(outcome.resumed);
  CHECK(outcome.self == bob);
  const auto& to_bob = c.b.delivery.sent.at(9);
  REQUIRE(to_bob.size() >= 2);
  const auto welcome = std::get<proto::Welcome>(to_bob[0]);
  CHECK(ids(welcome.peers) == std::vector<std::string>{ada});
  CHECK(welcome.resume != token);
  CHECK(std::get<proto::SignalFrom>(to_bob[1]).data == R"({"while":"away"})");

  // The old token is spent; the others heard nothing; relays reach the new node.
  c.a.rooms->join(3, proto::Join{Cluster::kMeeting, "", token}, "h", Clock::now());
  REQUIRE(c.pump([&] { return c.a.delivery.answers.count(3) > 0; }));
  CHECK(c.a.delivery.answers.at(3).error->code == ErrorCode::BadResume);
  c.a.rooms->signal(1, bob, R"({"after":1})");
  REQUIRE(c.pump([&] { return c.b.delivery.of<proto::SignalFrom>(9).size() == 2; }));
  CHECK(c.a.delivery.of<proto::PeerLeft>(1).empty());
  CHECK(c.a.delivery.of<proto::PeerJoined>(1).size() == 1);  // Bob's first join only
}

TEST_CASE("redis registry: a resume while the old socket is open retires it on its node") {
  Cluster c;
  c.join(c.a, 1, "Ada");
  c.join(c.a, 2, "Bob");
  const std::string token = c.a.delivery.of<proto::Welcome>(2).at(0).resume;
  c.b.rooms->join(5, proto::Join{Cluster::kMeeting, "", token}, "h", Clock::now());
  // Node a hears of the resume over pub/sub, node b from its own script's
  // reply: two connections, in no set order, so wait for both.
  REQUIRE(c.pump([&] { return c.a.delivery.retired.count(2) > 0 && c.b.delivery.answers.count(5) > 0; }));
  CHECK_FALSE(c.b.delivery.answers.at(5).error);
  // The old socket's end then changes nothing: Bob is still in.
  c.a.rooms->remove(2, LeaveReason::Left);
  c.a.rooms->signal(1, c.b.delivery.answers.at(5).self, "{}");
  REQUIRE(c.pump([&] { return c.b.delivery.of<proto::SignalFrom>(5).size() == 1; }));
  CHECK(c.a.delivery.of<proto::PeerLeft>(1).empty());
}

TEST_CASE("redis registry: a node that dies: its members are held, and announced after its lease and the grace") {
  Cluster c;
  const std::string ada = c.join(c.a, 1, "Ada");
  const std::string bob = c.join(c.b, 1, "Bob");
  REQUIRE(c.pump([&] { return c.a.delivery.of<proto::PeerJoined>(1).size() == 1; }));
  const auto died = Clock::now();
  c.b.rooms.reset();  // as kill -9: nothing told, its lease just stops
  c.b.commands.stop();
  c.b.subscriber.stop();
  REQUIRE(c.pump([&] { return c.a.delivery.of<proto::PeerLeft>(1).size() == 1; }));
  CHECK(Clock::now() - died >= 300ms + 400ms - 50ms);  // lease, then the grace
  const auto left = c.a.delivery.of<proto::PeerLeft>(1).at(0);
  CHECK(left.peer == bob);
  CHECK(left.reason == LeaveReason::Disconnected);
  (void)ada;
}

TEST_CASE("redis registry: a join answered after its connection ended gives the seat back") {
  Cluster c;
  c.join(c.a, 1, "Ada");
  c.b.delivery.gone.insert(4);
  c.b.rooms->join(4, proto::Join{Cluster::kMeeting, "Gone", std::nullopt}, "h", Clock::now());
  REQUIRE(c.pump([&] { return c.a.delivery.of<proto::PeerLeft>(1).size() == 1; }));
  CHECK(c.a.delivery.of<proto::PeerJoined>(1).size() == 1);
  CHECK(c.a.delivery.of<proto::PeerLeft>(1).at(0).peer == c.b.delivery.answers.at(4).self);
}

TEST_SUITE_END();
