// server/participant_session: one connection's protocol state, driven
// sans-I/O with a recording socket, the real registry and store, and a
// virtual clock. The property that matters: however a connection ends, its
// participant ends exactly once (held then freed, or removed at once), and
// nobody is left in the room as a ghost.
#include <doctest/doctest.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "protocol/messages.hpp"
#include "seeded_random.hpp"
#include "server/participant_session.hpp"
#include "server/server.hpp"

using namespace meshmeet::server;
namespace proto = meshmeet::protocol;

namespace {

const std::string kMeetingId = "abcdefghijklmnopqrstuvwxyz";

// A socket that records what the session asked of it.
struct RecordingSocket final : SessionSocket {
  void send(Message message) override {
    if (!closed && !dropped) sent.push_back(*message);
  }
  void close(std::uint16_t code) override { closed = code; }
  void drop() override { ++dropped; }
  void ping() override { ++pings; }
  std::vector<proto::ServerMessage> parsed() const {
    std::vector<proto::ServerMessage> out;
    for (const auto& text : sent) out.push_back(proto::parse_server_message(text).value());
    return out;
  }
  std::vector<std::string> sent;
  std::uint16_t closed = 0;
  int dropped = 0;
  int pings = 0;
};

// The registry's deliveries go to the sessions' sockets, as the server's do.
struct World final : Delivery {
  World() {
    std::string error;
    store = MeetingStore::open(":memory:", false, error);
    REQUIRE(store);
    NewMeeting m;
    m.id = kMeetingId;
    m.name = "Standup";
    m.created_at = "2026-12-04T00:00:00Z";
    REQUIRE(store->create(m, error));
    RoomSettings settings;
    settings.resume_grace = seconds(15);
    rooms = std::make_unique<LocalRoomRegistry>(with_store(settings, *store), *this, random);
    services = std::make_unique<SessionServices>(SessionServices{*rooms, metrics, ice, timeouts, 50});
  }

  struct Conn {
    RecordingSocket socket;
    std::unique_ptr<ParticipantSession> session;
  };
  Conn& open() {
    auto conn = std::make_unique<Conn>();
    const ConnId id = conns.size() + 1;
    conn->session = std::make_unique<ParticipantSession>(*services, conn->socket, id, "meet.example.org", now);
    conns.push_back(std::move(conn));
    return *conns.back();
  }
  Conn& joined(const std::string& name) {
    Conn& c = open();
    c.session->on_message(R"({"type":"join","meeting":")" + kMeetingId + R"(","name":")" + name + "\"}", now);
    REQUIRE(c.session->state() == ParticipantSession::State::Joined);
    return c;
  }
  void send(ConnId conn, Message message) override { conns.at(conn - 1)->socket.send(std::move(message)); }
  void retire(ConnId conn) override { conns.at(conn - 1)->session->retire(now); }
  bool joined(ConnId conn, const JoinOutcome& outcome) override { return conns.at(conn - 1)->session->on_joined(outcome, now); }
  void refused(ConnId conn, const proto::Error& error) override { conns.at(conn - 1)->session->on_refused(error); }

  // What the others heard about `who`: the reasons of peer-left messages.
  std::vector<proto::LeaveReason> departures_seen_by(const Conn& c) const {
    std::vector<proto::LeaveReason> out;
    for (const auto& m : c.socket.parsed())
      if (auto* left = std::get_if<proto::PeerLeft>(&m)) out.push_back(left->reason);
    return out;
  }
  void advance(double s) {
    now += seconds(s);
    rooms->expire(now);
  }

  TimePoint now = TimePoint{} + std::chrono::hours(5);
  SeededRandom random{99};
  Metrics metrics;
  IceServerList ice{IceServerSettings{}, [] { return std::int64_t{1800000000}; }};
  ConnectionTimeouts timeouts{seconds(10), seconds(10), seconds(30)};
  std::unique_ptr<MeetingStore> store;
  std::unique_ptr<LocalRoomRegistry> rooms;
  std::unique_ptr<SessionServices> services;
  std::vector<std::unique_ptr<Conn>> conns;
};

struct Ending {
  const char* what;
  std::function<void(World&, World::Conn&)> end;
  proto::LeaveReason heard;  // what the other participant hears
  bool held;                 // after the grace (true) or at once
  std::uint16_t close;       // the close code asked for (0: dropped, or none)
  DisconnectReason counted;
};

}  // namespace

TEST_CASE("session: every way a connection ends ends its participant exactly once") {
  const std::vector<Ending> endings = {
      {"leave", [](World& w, World::Conn& c) { c.session->on_message(R"({"type":"leave"})", w.now); },
       proto::LeaveReason::Left, false, close_code::kNormal, DisconnectReason::Left},
      {"a close frame", [](World& w, World::Conn& c) { c.session->on_socket_end(SocketEnd::CloseFrame, w.now); },
       proto::LeaveReason::Left, false, 0, DisconnectReason::Left},
      {"a reset", [](World& w, World::Conn& c) { c.session->on_socket_end(SocketEnd::Reset, w.now); },
       proto::LeaveReason::Disconnected, true, 0, DisconnectReason::Dropped},
      // The defect this file was made for: the write fails (reset under a
      // write in flight), then the read fails too. One hold, then one peer-left.
      {"a reset with a write in flight",
       [](World& w, World::Conn& c) {
         c.session->on_socket_end(SocketEnd::Reset, w.now);
         c.session->on_socket_end(SocketEnd::Reset, w.now);
         c.session->on_socket_end(SocketEnd::CloseFrame, w.now);
       },
       proto::LeaveReason::Disconnected, true, 0, DisconnectReason::Dropped},
      {"a slow consumer", [](World& w, World::Conn& c) { c.session->on_socket_end(SocketEnd::SlowConsumer, w.now); },
       proto::LeaveReason::Disconnected, true, 0, DisconnectReason::SlowConsumer},
      {"a missed heartbeat",
       [](World& w, World::Conn& c) {
         w.now += seconds(31);
         c.session->tick(w.now);
       },
       proto::LeaveReason::Timeout, true, 0, DisconnectReason::Heartbeat},
      {"a message too large", [](World& w, World::Conn& c) { c.session->on_too_large(65536, w.now); },
       proto::LeaveReason::Removed, false, close_code::kTooBig, DisconnectReason::TooLarge},
      {"a binary message", [](World& w, World::Conn& c) { c.session->on_binary(w.now); },
       proto::LeaveReason::Removed, false, close_code::kUnsupportedData, DisconnectReason::Binary},
      {"bad UTF-8", [](World& w, World::Conn& c) { c.session->on_socket_end(SocketEnd::BadUtf8, w.now); },
       proto::LeaveReason::Removed, false, 0, DisconnectReason::BadUtf8},
      {"a frame the WebSocket layer refuses", [](World& w, World::Conn& c) { c.session->on_socket_end(SocketEnd::ProtocolError, w.now); },
       proto::LeaveReason::Removed, false, 0, DisconnectReason::Removed},
      {"the drain", [](World& w, World::Conn& c) { c.session->shutdown(w.now); },
       proto::LeaveReason::Disconnected, true, close_code::kGoingAway, DisconnectReason::Shutdown},
  };
  for (const auto& e : endings) {
    const std::string what = e.what;
    CAPTURE(what);
    World w;
    auto& ada = w.joined("Ada");
    auto& bob = w.joined("Bob");
    ada.socket.sent.clear();
    e.end(w, bob);
    // …and whatever the socket reports afterwards changes nothing.
    bob.session->on_socket_end(SocketEnd::Reset, w.now);
    bob.session->on_message(R"({"type":"leave"})", w.now);
    bob.session->shutdown(w.now);
    CHECK_FALSE(bob.session->open());
    CHECK(bob.socket.closed == e.close);
    CHECK(bob.socket.dropped == (e.close ? 0 : 1));
    CHECK(w.metrics.disconnects(e.counted) == 1);
    CHECK(w.rooms->participants(kMeetingId) == (e.held ? 2u : 1u));
    CHECK(w.departures_seen_by(ada) == (e.held ? std::vector<proto::LeaveReason>{} : std::vector<proto::LeaveReason>{e.heard}));
    w.advance(16);
    CHECK(w.departures_seen_by(ada) == std::vector<proto::LeaveReason>{e.heard});
    CHECK(w.rooms->participants(kMeetingId) == 1);
    w.advance(60);
    CHECK(w.departures_seen_by(ada).size() == 1);  // once, ever
  }
}

TEST_CASE("session: a connection that never joined ends without touching the registry") {
  World w;
  auto& ada = w.joined("Ada");
  auto& idle = w.open();
  w.now += seconds(10);
  idle.session->tick(w.now);
  CHECK(idle.socket.closed == close_code::kPolicy);
  CHECK(w.metrics.disconnects(DisconnectReason::JoinTimeout) == 1);
  idle.session->on_socket_end(SocketEnd::Reset, w.now);
  CHECK(w.metrics.disconnects(DisconnectReason::Dropped) == 0);
  CHECK(w.rooms->participants(kMeetingId) == 1);
  (void)ada;

  auto& crowded = w.open();
  crowded.session->refuse(DisconnectReason::TooManyConnections, w.now);
  CHECK(crowded.socket.closed == close_code::kPolicy);
  auto sent = crowded.socket.parsed();
  REQUIRE(sent.size() == 1);
  CHECK(std::get<proto::ErrorMessage>(sent[0]).code == proto::ErrorCode::TooManyConnections);
}

TEST_CASE("session: a resume elsewhere retires the old connection silently; its later end is no departure") {
  World w;
  auto& ada = w.joined("Ada");
  auto& bob = w.joined("Bob");
  const auto welcome = std::get<proto::Welcome>(bob.socket.parsed().at(0));
  ada.socket.sent.clear();
  auto& bob2 = w.open();
  bob2.session->on_message(R"({"type":"join","meeting":")" + kMeetingId + R"(","resume":")" + welcome.resume + "\"}", w.now);
  CHECK(bob2.session->state() == ParticipantSession::State::Joined);
  CHECK_FALSE(bob.session->open());  // retired by the registry, through the server
  CHECK(bob.socket.dropped == 1);
  CHECK(w.metrics.disconnects(DisconnectReason::Replaced) == 1);
  bob.session->on_socket_end(SocketEnd::Reset, w.now);
  w.advance(60);
  CHECK(w.departures_seen_by(ada).empty());
  CHECK(w.rooms->participants(kMeetingId) == 2);
}

TEST_CASE("session: the heartbeat pings, hears and refreshes ICE servers only while joined") {
  World w;
  w.timeouts.ice_refresh = seconds(100);
  auto& ada = w.joined("Ada");
  TimePoint next = ada.session->tick(w.now);
  CHECK(next == w.now + seconds(10));
  w.now = next;
  ada.session->tick(w.now);
  CHECK(ada.socket.pings == 1);
  ada.session->ping_finished();
  ada.session->heard(w.now);
  w.now += seconds(25);
  ada.session->tick(w.now);
  CHECK(ada.session->open());  // heard 25 s ago: still alive
  w.now += seconds(75);
  ada.socket.sent.clear();
  for (int i = 0; i < 3; ++i) {
    ada.session->heard(w.now);
    ada.session->ping_finished();
    ada.session->tick(w.now);
  }
  bool refreshed = false;
  for (const auto& m : ada.socket.parsed()) refreshed |= std::holds_alternative<proto::IceServers>(m);
  CHECK(refreshed);
}
