// server/room_registry: the live roster, driven sans-I/O with a recording
// Delivery, a seeded RandomSource and a virtual clock.
#include <doctest/doctest.h>

#include <memory>
#include <ostream>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"
#include "seeded_random.hpp"
#include "server/room_registry.hpp"

#include "protocol_printers.hpp"

using namespace meshmeet::server;
using meshmeet::protocol::ErrorCode;
using meshmeet::protocol::LeaveReason;
namespace proto = meshmeet::protocol;

namespace {

// Everything the registry asked the transport to do, in order.
class RecordingDelivery final : public Delivery {
 public:
  struct Sent {
    ConnId conn;
    std::string text;
  };
  void send(ConnId conn, Message message) override {
    REQUIRE(message != nullptr);
    sent.push_back({conn, *message});
  }
  void retire(ConnId conn) override { retired.push_back(conn); }
  bool joined(ConnId conn, const JoinOutcome& outcome) override {
    answers.emplace_back(conn, outcome);
    return !gone.count(conn);
  }
  void refused(ConnId conn, const proto::Error& error) override { refusals.emplace_back(conn, error); }

  std::vector<std::string> to(ConnId conn) const {
    std::vector<std::string> out;
    for (const auto& s : sent)
      if (s.conn == conn) out.push_back(s.text);
    return out;
  }
  std::vector<proto::ServerMessage> parsed_to(ConnId conn) const {
    std::vector<proto::ServerMessage> out;
    for (const auto& text : to(conn)) {
      auto parsed = proto::parse_server_message(text);
      INFO("sent to " << conn << ": " << text);
      REQUIRE(parsed.ok());
      out.push_back(parsed.value());
    }
    return out;
  }
  void clear() {
    sent.clear();
    retired.clear();
  }

  std::vector<Sent> sent;
  std::vector<ConnId> retired;
  std::vector<std::pair<ConnId, JoinOutcome>> answers;   // Delivery::joined, in order
  std::vector<std::pair<ConnId, proto::Error>> refusals;  // Delivery::refused, in order
  std::set<ConnId> gone;                                  // connections that ended before their answer
};

// Time only moves when a test says so.
struct VirtualClock {
  TimePoint now = TimePoint{} + std::chrono::hours(1000);
  void advance(double s) { now += seconds(s); }
};

template <class T>
T as(const proto::ServerMessage& m) {
  REQUIRE(std::holds_alternative<T>(m));
  return std::get<T>(m);
}

const MeetingRecord kMeeting{"abcdefghijklmnopqrstuvwxyz", "Standup"};
const MeetingRecord kOther{"zyxwvutsrqponmlkjihgfedcba", "Other"};

// The meeting store the registry reads: every meeting a test joins is in it.
std::vector<MeetingRecord>& stored_meetings() {
  static std::vector<MeetingRecord> meetings{kMeeting, kOther};
  return meetings;
}
void store(const MeetingRecord& meeting) {
  for (auto& m : stored_meetings())
    if (m.id == meeting.id) return void(m = meeting);
  stored_meetings().push_back(meeting);
}
RoomSettings with_store(RoomSettings s) {
  s.find_meeting = [](std::string_view id) -> std::optional<MeetingRecord> {
    for (const auto& m : stored_meetings())
      if (m.id == id) return m;
    return std::nullopt;
  };
  return s;
}

struct Joined {
  ConnId conn;
  std::string id;
  std::string token;
  std::string name;
};

struct Fixture {
  explicit Fixture(RoomSettings s = RoomSettings{}) : settings(with_store(std::move(s))) {
    rooms = std::make_unique<LocalRoomRegistry>(settings, delivery, random);
  }

  // One join's answer (the registry gives exactly one per join).
  JoinOutcome attempt(ConnId conn, const MeetingRecord& meeting, const proto::Join& join, std::string_view host = {}) {
    store(meeting);
    const std::size_t before = delivery.answers.size();
    rooms->join(conn, join, host, clock.now);
    REQUIRE(delivery.answers.size() == before + 1);
    CHECK(delivery.answers.back().first == conn);
    return delivery.answers.back().second;
  }

  // A relay's refusal, if any.
  std::optional<proto::Error> relay(ConnId from, const proto::Signal& signal) {
    const std::size_t before = delivery.refusals.size();
    rooms->signal(from, signal);
    if (delivery.refusals.size() == before) return std::nullopt;
    REQUIRE(delivery.refusals.size() == before + 1);
    CHECK(delivery.refusals.back().first == from);
    return delivery.refusals.back().second;
  }

  // A fresh join that must succeed; returns who joined as seen in its welcome.
  Joined join(ConnId conn, const std::string& name, const MeetingRecord& meeting = kMeeting) {
    const std::size_t before = delivery.sent.size();
    auto outcome = attempt(conn, meeting, proto::Join{meeting.id, name, std::nullopt});
    REQUIRE_MESSAGE(!outcome.error, "join refused: " << outcome.error->code);
    CHECK_FALSE(outcome.resumed);
    REQUIRE(delivery.sent.size() > before);
    REQUIRE(delivery.sent[before].conn == conn);
    auto parsed = proto::parse_server_message(delivery.sent[before].text);
    REQUIRE(parsed.ok());
    auto welcome = as<proto::Welcome>(parsed.value());
    return {conn, welcome.self, welcome.resume, name};
  }

  JoinOutcome resume(ConnId conn, const std::string& token, const MeetingRecord& meeting = kMeeting,
                     const std::string& name = "") {
    return attempt(conn, meeting, proto::Join{meeting.id, name, token});
  }

  // A resume that must succeed; returns the welcome it got.
  proto::Welcome resumed(ConnId conn, const std::string& token, const MeetingRecord& meeting = kMeeting) {
    const std::size_t before = delivery.sent.size();
    auto outcome = resume(conn, token, meeting);
    REQUIRE_MESSAGE(!outcome.error, "resume refused: " << outcome.error->code);
    CHECK(outcome.resumed);
    REQUIRE(delivery.sent.size() > before);
    REQUIRE(delivery.sent[before].conn == conn);
    return as<proto::Welcome>(proto::parse_server_message(delivery.sent[before].text).value());
  }

  std::optional<proto::Error> signal(const Joined& from, const std::string& to, const std::string& data) {
    return relay(from.conn, proto::Signal{to, data});
  }

  RoomSettings settings;
  RecordingDelivery delivery;
  SeededRandom random{20260101};
  VirtualClock clock;
  std::unique_ptr<LocalRoomRegistry> rooms;
};

std::optional<ErrorCode> code_of(const std::optional<proto::Error>& e) {
  return e ? std::optional<ErrorCode>(e->code) : std::nullopt;
}

bool is_base32(const std::string& s) {
  for (char c : s)
    if (!((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'))) return false;
  return true;
}

}  // namespace

TEST_CASE("registry: welcome shape, peers oldest first") {
  RoomSettings s;
  s.ice_servers = R"([{"urls":"stun:stun.example.org:3478"}])";
  s.heartbeat_interval_ms = 7000;
  s.heartbeat_timeout_ms = 21000;
  Fixture f(s);
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.delivery.clear();
  const auto cy = f.join(3, "Cy");

  auto to_cy = f.delivery.to(3);
  REQUIRE(to_cy.size() == 1);  // just the welcome
  auto raw = nlohmann::ordered_json::parse(to_cy[0]);
  std::vector<std::string> keys;
  for (auto it = raw.begin(); it != raw.end(); ++it) keys.push_back(it.key());
  CHECK(keys ==
        std::vector<std::string>{"type", "self", "resume", "meeting", "peers", "iceServers", "relayOnly", "resumeGrace", "heartbeat"});
  CHECK(raw["relayOnly"] == false);
  CHECK(raw["type"] == "welcome");
  CHECK(raw["meeting"] == nlohmann::ordered_json{{"id", kMeeting.id}, {"name", "Standup"}});
  CHECK(raw["iceServers"] == nlohmann::ordered_json::parse(s.ice_servers));
  CHECK(raw["heartbeat"] == nlohmann::ordered_json{{"interval", 7000}, {"timeout", 21000}});

  auto w = as<proto::Welcome>(proto::parse_server_message(to_cy[0]).value());
  CHECK(w.self == cy.id);
  CHECK(w.peers == std::vector<proto::PeerInfo>{{ada.id, "Ada"}, {bob.id, "Bob"}});

  // Ids: 60-bit peer ids (12 base32 chars); signed tokens (base64url), all distinct.
  std::set<std::string> ids{ada.id, bob.id, cy.id}, tokens{ada.token, bob.token, cy.token};
  CHECK(ids.size() == 3);
  CHECK(tokens.size() == 3);
  for (const auto& j : {ada, bob, cy}) {
    CHECK(j.id.size() == 12);
    CHECK(is_base32(j.id));
    CHECK(j.token.size() >= 48);
    CHECK(j.token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  }
  CHECK(f.rooms->participants(kMeeting.id) == 3);
  CHECK(f.rooms->participant_count() == 3);
  CHECK(f.rooms->active_meetings() == 1);
}

TEST_CASE("registry: the first participant sees an empty roster") {
  Fixture f;
  f.join(1, "");
  auto w = as<proto::Welcome>(f.delivery.parsed_to(1).at(0));
  CHECK(w.peers.empty());
  CHECK(w.meeting_id == kMeeting.id);
  CHECK(w.ice_servers == "[]");
  CHECK(w.heartbeat_interval_ms == 10000);
  CHECK(w.heartbeat_timeout_ms == 30000);
  CHECK(w.resume_grace_ms == 15000u);  // the grace a dropped member's seat is held (--resume-grace)
}

TEST_CASE("registry: peer-joined goes to the others only") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  f.delivery.clear();
  const auto bob = f.join(2, "Bob");
  REQUIRE(f.delivery.to(1).size() == 1);
  CHECK(as<proto::PeerJoined>(f.delivery.parsed_to(1)[0]).peer == proto::PeerInfo{bob.id, "Bob"});
  CHECK(f.delivery.to(2).size() == 1);  // welcome only
  f.delivery.clear();
  const auto cy = f.join(3, "Cy");
  for (ConnId other : {ConnId{1}, ConnId{2}}) {
    auto msgs = f.delivery.parsed_to(other);
    REQUIRE(msgs.size() == 1);
    CHECK(as<proto::PeerJoined>(msgs[0]).peer == proto::PeerInfo{cy.id, "Cy"});
  }
  CHECK(f.delivery.to(3).size() == 1);
  CHECK(f.delivery.sent.size() == 3);
  (void)ada;
}

TEST_CASE("registry: a newcomer's peer-joined precedes its first signal") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  f.delivery.clear();
  const auto bob = f.join(2, "Bob");
  CHECK_FALSE(f.signal(bob, ada.id, R"({"sdp":"offer"})"));
  auto msgs = f.delivery.parsed_to(1);
  REQUIRE(msgs.size() == 2);
  CHECK(std::holds_alternative<proto::PeerJoined>(msgs[0]));
  CHECK(as<proto::SignalFrom>(msgs[1]).from == bob.id);
}

TEST_CASE("registry: meeting-full at the cap, held slots included") {
  RoomSettings s;
  s.room_cap = 2;
  Fixture f(s);
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.delivery.clear();
  auto outcome = f.attempt(3, kMeeting, proto::Join{kMeeting.id, "Cy", std::nullopt});
  REQUIRE(outcome.error.has_value());
  CHECK(outcome.error->code == ErrorCode::MeetingFull);
  CHECK(outcome.error->ref == "join");
  CHECK(f.delivery.sent.empty());  // nobody hears of the refused join
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  // A held slot still takes its seat.
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  outcome = f.attempt(3, kMeeting, proto::Join{kMeeting.id, "Cy", std::nullopt});
  REQUIRE(outcome.error.has_value());
  CHECK(outcome.error->code == ErrorCode::MeetingFull);

  // Once someone is really gone there is room again.
  f.rooms->remove(ada.conn, LeaveReason::Left);
  f.join(3, "Cy");
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  // Another meeting is not affected by this one's cap.
  f.join(4, "Dee", kOther);
  f.join(5, "Eve", kOther);
  CHECK(f.rooms->participants(kOther.id) == 2);
}

TEST_CASE("registry: a refused join into a new meeting leaves no empty room behind") {
  RoomSettings s;
  s.room_cap = 0;
  Fixture f(s);
  auto outcome = f.attempt(1, kMeeting, proto::Join{kMeeting.id, "", std::nullopt});
  REQUIRE(outcome.error.has_value());
  CHECK(outcome.error->code == ErrorCode::MeetingFull);
  CHECK(f.rooms->active_meetings() == 0);
  CHECK(f.rooms->participant_count() == 0);
}

TEST_CASE("registry: a signal is relayed with from stamped and data unchanged") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  const auto cy = f.join(3, "Cy");
  f.delivery.clear();
  // `data` as the client parser hands it over: the sender's bytes.
  const std::string text =
      R"({"type":"signal","to":"x","data":{"type":"offer","sdp":"v=0\r\no=- 46117 2 IN IP4 127.0.0.1\r\n","from":"forged","n":[1,2.5,null],"u":"\u0000\u00e9"}})";
  auto parsed = proto::parse_client_message(text);
  REQUIRE(parsed.ok());
  const std::string data = std::get<proto::Signal>(parsed.value()).data;
  // What any full parser makes of it (the receiver's, here: compact, é unescaped).
  auto document = proto::parse_client_message_document(text);
  REQUIRE(document.ok());
  const std::string value = std::get<proto::Signal>(document.value()).data;
  CHECK_FALSE(f.signal(ada, bob.id, data).has_value());
  REQUIRE(f.delivery.sent.size() == 1);
  CHECK(f.delivery.sent[0].conn == bob.conn);
  CHECK(f.delivery.sent[0].text == R"({"type":"signal","from":")" + ada.id + R"(","data":)" + data + "}");
  auto relayed = as<proto::SignalFrom>(f.delivery.parsed_to(bob.conn).at(0));
  CHECK(relayed.from == ada.id);
  CHECK(relayed.data == value);
  (void)cy;
}

TEST_CASE("registry: signals between two peers keep their order") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.delivery.clear();
  for (int i = 0; i < 50; ++i) CHECK_FALSE(f.signal(ada, bob.id, R"({"n":)" + std::to_string(i) + "}"));
  auto msgs = f.delivery.parsed_to(bob.conn);
  REQUIRE(msgs.size() == 50);
  for (int i = 0; i < 50; ++i) CHECK(as<proto::SignalFrom>(msgs[i]).data == R"({"n":)" + std::to_string(i) + "}");
}

TEST_CASE("registry: unknown-peer for yourself, a stranger or someone in another meeting") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  const auto other = f.join(3, "Other", kOther);
  f.delivery.clear();
  for (const std::string& to : {ada.id, std::string("nobody"), std::string(""), other.id, ada.token}) {
    INFO("to: " << to);
    auto e = f.signal(ada, to, "{}");
    REQUIRE(e.has_value());
    CHECK(e->code == ErrorCode::UnknownPeer);
    CHECK(e->ref == "signal");
  }
  CHECK(f.delivery.sent.empty());
  (void)bob;
}

TEST_CASE("registry: a connection that never joined cannot signal") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  auto e = f.relay(99, proto::Signal{ada.id, "{}"});
  REQUIRE(e.has_value());
  CHECK(e->code == ErrorCode::NotJoined);
}

TEST_CASE("registry: remove tells the others with the reason; the last one out ends the room") {
  for (auto reason : {LeaveReason::Left, LeaveReason::Removed}) {
    CAPTURE(reason);
    Fixture f;
    const auto ada = f.join(1, "Ada");
    const auto bob = f.join(2, "Bob");
    const auto cy = f.join(3, "Cy");
    f.delivery.clear();
    f.rooms->remove(bob.conn, reason);
    for (ConnId other : {ada.conn, cy.conn}) {
      auto msgs = f.delivery.parsed_to(other);
      REQUIRE(msgs.size() == 1);
      auto left = as<proto::PeerLeft>(msgs[0]);
      CHECK(left.peer == bob.id);
      CHECK(left.reason == reason);
    }
    CHECK(f.delivery.to(bob.conn).empty());
    CHECK(f.rooms->participants(kMeeting.id) == 2);

    // Removing again, or an unknown connection, changes nothing.
    f.delivery.clear();
    f.rooms->remove(bob.conn, reason);
    f.rooms->remove(12345, reason);
    CHECK(f.delivery.sent.empty());
    // The removed peer is no longer a signal target.
    auto e = f.signal(ada, bob.id, "{}");
    REQUIRE(e.has_value());
    CHECK(e->code == ErrorCode::UnknownPeer);
    // Nor can it signal.
    CHECK(code_of(f.relay(bob.conn, proto::Signal{ada.id, "{}"})) == ErrorCode::NotJoined);

    f.rooms->remove(ada.conn, reason);
    CHECK(f.rooms->active_meetings() == 1);
    f.rooms->remove(cy.conn, reason);
    CHECK(f.rooms->active_meetings() == 0);
    CHECK(f.rooms->participants(kMeeting.id) == 0);
    CHECK(f.rooms->participant_count() == 0);

    // The meeting can be joined again from scratch.
    f.delivery.clear();
    f.join(4, "Dee");
    CHECK(as<proto::Welcome>(f.delivery.parsed_to(4).at(0)).peers.empty());
  }
}

TEST_CASE("registry: meetings are counted separately") {
  Fixture f;
  f.join(1, "a");
  f.join(2, "b");
  f.join(3, "c", kOther);
  CHECK(f.rooms->active_meetings() == 2);
  CHECK(f.rooms->participants(kMeeting.id) == 2);
  CHECK(f.rooms->participants(kOther.id) == 1);
  CHECK(f.rooms->participants("nosuchmeetingnosuchmeeting") == 0);
  CHECK(f.rooms->participant_count() == 3);
}

TEST_CASE("registry: hold is silent, the slot still counts, and expiry tells the others") {
  for (auto reason : {LeaveReason::Disconnected, LeaveReason::Timeout}) {
    CAPTURE(reason);
    Fixture f;  // resume grace 15 s
    const auto ada = f.join(1, "Ada");
    const auto bob = f.join(2, "Bob");
    f.delivery.clear();
    const TimePoint deadline = f.clock.now + f.settings.resume_grace;
    f.rooms->hold(bob.conn, reason, f.clock.now);
    CHECK(f.delivery.sent.empty());
    CHECK(f.rooms->participants(kMeeting.id) == 2);
    CHECK(f.rooms->participant_count() == 2);
    CHECK(f.rooms->active_meetings() == 1);

    // A newcomer sees the held slot in its roster.
    f.clock.advance(1);
    const auto cy = f.join(3, "Cy");
    auto w = as<proto::Welcome>(f.delivery.parsed_to(cy.conn).at(0));
    CHECK(w.peers == std::vector<proto::PeerInfo>{{ada.id, "Ada"}, {bob.id, "Bob"}});
    CHECK(f.delivery.to(bob.conn).empty());  // the held slot hears no peer-joined
    f.delivery.clear();

    // Not yet, not even one tick before the grace ends.
    f.clock.advance(10);
    auto early = f.rooms->expire(f.clock.now);
    CHECK(early.disconnected + early.timed_out == 0);
    f.clock.now = deadline - Duration(1);
    early = f.rooms->expire(f.clock.now);
    CHECK(early.disconnected + early.timed_out == 0);
    CHECK(f.delivery.sent.empty());
    CHECK(f.rooms->participants(kMeeting.id) == 3);

    // Exactly at the end of the grace.
    f.clock.now = deadline;
    auto outcome = f.rooms->expire(f.clock.now);
    CHECK(outcome.disconnected == (reason == LeaveReason::Disconnected ? 1u : 0u));
    CHECK(outcome.timed_out == (reason == LeaveReason::Timeout ? 1u : 0u));
    for (ConnId other : {ada.conn, cy.conn}) {
      auto msgs = f.delivery.parsed_to(other);
      REQUIRE(msgs.size() == 1);
      CHECK(as<proto::PeerLeft>(msgs[0]).peer == bob.id);
      CHECK(as<proto::PeerLeft>(msgs[0]).reason == reason);
    }
    CHECK(f.rooms->participants(kMeeting.id) == 2);

    // Expiring again does nothing.
    f.delivery.clear();
    f.clock.advance(100);
    auto again = f.rooms->expire(f.clock.now);
    CHECK(again.disconnected + again.timed_out == 0);
    CHECK(f.delivery.sent.empty());
  }
}

TEST_CASE("registry: a room of held slots only lives until they expire") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(ada.conn, LeaveReason::Disconnected, f.clock.now);
  f.clock.advance(5);
  f.rooms->hold(bob.conn, LeaveReason::Timeout, f.clock.now);
  CHECK(f.rooms->active_meetings() == 1);
  CHECK(f.rooms->participant_count() == 2);
  f.delivery.clear();
  f.clock.advance(10);
  auto first = f.rooms->expire(f.clock.now);
  CHECK(first.disconnected == 1);
  CHECK(f.delivery.sent.empty());  // bob is held: nobody to tell
  CHECK(f.rooms->participant_count() == 1);
  f.clock.advance(5);
  auto second = f.rooms->expire(f.clock.now);
  CHECK(second.timed_out == 1);
  CHECK(f.rooms->active_meetings() == 0);
  CHECK(f.rooms->participant_count() == 0);
}

TEST_CASE("registry: resume within the grace keeps the id, tells nobody, and delivers queued signals in order") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  f.clock.advance(2);
  const auto cy = f.join(3, "Cy");  // joins while bob is away
  f.clock.advance(1);
  f.rooms->remove(ada.conn, LeaveReason::Left);  // and ada leaves meanwhile
  f.delivery.clear();
  for (int i = 1; i <= 3; ++i) CHECK_FALSE(f.signal(cy, bob.id, R"({"n":)" + std::to_string(i) + "}"));
  CHECK(f.delivery.sent.empty());  // queued, not sent anywhere

  f.clock.advance(10);
  auto outcome = f.resume(22, bob.token, kMeeting, "Robert");
  REQUIRE_FALSE(outcome.error.has_value());
  CHECK(outcome.resumed);
  auto msgs = f.delivery.parsed_to(22);
  REQUIRE(msgs.size() == 4);
  auto w = as<proto::Welcome>(msgs[0]);
  CHECK(w.self == bob.id);
  CHECK(w.resume != bob.token);  // a fresh token at every welcome
  CHECK(w.peers == std::vector<proto::PeerInfo>{{cy.id, "Cy"}});  // reconciled roster
  for (int i = 1; i <= 3; ++i) {
    auto s = as<proto::SignalFrom>(msgs[static_cast<std::size_t>(i)]);
    CHECK(s.from == cy.id);
    CHECK(s.data == R"({"n":)" + std::to_string(i) + "}");
  }
  CHECK(f.delivery.to(cy.conn).empty());  // no peer-joined for a resume
  CHECK(f.delivery.sent.size() == 4);
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  // The name from the first join is kept.
  f.delivery.clear();
  f.join(4, "Dee");
  auto dee_welcome = as<proto::Welcome>(f.delivery.parsed_to(4).at(0));
  CHECK(dee_welcome.peers == std::vector<proto::PeerInfo>{{bob.id, "Bob"}, {cy.id, "Cy"}});

  // The old hold's deadline passes: the resumed participant stays.
  f.delivery.clear();
  f.clock.advance(60);
  auto expired = f.rooms->expire(f.clock.now);
  CHECK(expired.disconnected + expired.timed_out == 0);
  CHECK(f.delivery.sent.empty());
  CHECK(f.rooms->participants(kMeeting.id) == 3);

  // Signals now go straight to the new connection; the queue was emptied.
  CHECK_FALSE(f.signal(cy, bob.id, R"({"n":4})"));
  auto direct = f.delivery.parsed_to(22);
  REQUIRE(direct.size() == 1);
  CHECK(as<proto::SignalFrom>(direct[0]).data == R"({"n":4})");
  // And the resumed participant can signal under its old id.
  f.delivery.clear();
  CHECK_FALSE(f.relay(22, proto::Signal{cy.id, R"({"x":1})"}));
  CHECK(as<proto::SignalFrom>(f.delivery.parsed_to(cy.conn).at(0)).from == bob.id);
}

TEST_CASE("registry: resuming while the old socket looks open retires it silently") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.delivery.clear();
  auto outcome = f.resume(3, bob.token);
  REQUIRE_FALSE(outcome.error.has_value());
  CHECK(outcome.resumed);
  CHECK(f.delivery.retired == std::vector<ConnId>{2});
  CHECK(f.delivery.to(ada.conn).empty());
  CHECK(f.delivery.to(2).empty());
  CHECK(as<proto::Welcome>(f.delivery.parsed_to(3).at(0)).self == bob.id);
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  // The transport later closes the retired socket: that is not a departure.
  f.delivery.clear();
  f.rooms->remove(2, LeaveReason::Left);
  f.rooms->hold(2, LeaveReason::Disconnected, f.clock.now);
  CHECK(f.delivery.sent.empty());
  CHECK(f.rooms->participants(kMeeting.id) == 2);
  f.clock.advance(100);
  f.rooms->expire(f.clock.now);
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  // Signals reach the new socket.
  CHECK_FALSE(f.signal(ada, bob.id, "{}"));
  CHECK(f.delivery.to(3).size() == 1);
  CHECK(f.delivery.to(2).empty());
}

TEST_CASE("registry: bad-resume for an unknown token or another meeting's token") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto other = f.join(2, "Other", kOther);
  f.delivery.clear();
  for (const std::string& token : {std::string("unknowntokenunknowntokenunknownt"), std::string(""), ada.id,
                                   other.token}) {
    INFO("token: " << token);
    auto outcome = f.resume(9, token);
    REQUIRE(outcome.error.has_value());
    CHECK(outcome.error->code == ErrorCode::BadResume);
    CHECK(outcome.error->ref == "join");
    CHECK_FALSE(outcome.resumed);
  }
  CHECK(f.delivery.sent.empty());
  CHECK(f.delivery.retired.empty());
  CHECK(f.rooms->participants(kMeeting.id) == 1);
  CHECK(f.rooms->participants(kOther.id) == 1);
  // The failed attempts did not bind connection 9 to anything.
  CHECK(code_of(f.relay(9, proto::Signal{ada.id, "{}"})) == ErrorCode::NotJoined);
  // The token still works in its own meeting.
  auto outcome = f.resume(10, other.token, kOther);
  CHECK_FALSE(outcome.error.has_value());
  CHECK(outcome.resumed);
}

TEST_CASE("registry: the token is dead after a clean remove") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->remove(bob.conn, LeaveReason::Left);
  f.delivery.clear();
  auto outcome = f.resume(3, bob.token);
  REQUIRE(outcome.error.has_value());
  CHECK(outcome.error->code == ErrorCode::BadResume);
  CHECK(f.delivery.sent.empty());
  (void)ada;
}

TEST_CASE("registry: the token is dead once its room has ended") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  f.rooms->remove(ada.conn, LeaveReason::Left);
  CHECK(f.rooms->active_meetings() == 0);
  auto outcome = f.resume(3, ada.token);
  REQUIRE(outcome.error.has_value());
  CHECK(outcome.error->code == ErrorCode::BadResume);
  CHECK(f.rooms->active_meetings() == 0);
}

TEST_CASE("registry: the token is dead after expiry") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  f.clock.advance(15);
  f.rooms->expire(f.clock.now);
  f.delivery.clear();
  auto outcome = f.resume(3, bob.token);
  REQUIRE(outcome.error.has_value());
  CHECK(outcome.error->code == ErrorCode::BadResume);
  CHECK(f.delivery.sent.empty());
  CHECK(f.rooms->participants(kMeeting.id) == 1);
  (void)ada;
}

TEST_CASE("registry: the held queue is bounded by messages") {
  RoomSettings s;
  s.held_queue_messages = 3;
  Fixture f(s);
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  for (int i = 1; i <= 5; ++i) CHECK_FALSE(f.signal(ada, bob.id, R"({"n":)" + std::to_string(i) + "}"));
  CHECK(f.rooms->dropped_held_signals() == 2);
  f.delivery.clear();
  const std::string token = f.resumed(3, bob.token).resume;
  auto msgs = f.delivery.parsed_to(3);
  REQUIRE(msgs.size() == 4);
  for (int i = 1; i <= 3; ++i)
    CHECK(as<proto::SignalFrom>(msgs[static_cast<std::size_t>(i)]).data == R"({"n":)" + std::to_string(i) + "}");

  // A second hold starts with an empty queue of the same bound.
  f.rooms->hold(3, LeaveReason::Disconnected, f.clock.now);
  for (int i = 6; i <= 9; ++i) CHECK_FALSE(f.signal(ada, bob.id, R"({"n":)" + std::to_string(i) + "}"));
  CHECK(f.rooms->dropped_held_signals() == 3);
  f.delivery.clear();
  REQUIRE(f.resume(4, token).resumed);
  CHECK(f.delivery.to(4).size() == 4);
}

TEST_CASE("registry: the held queue is bounded by bytes") {
  const std::string data = R"({"sdp":")" + std::string(100, 'x') + "\"}";
  const std::size_t one = proto::serialize_signal_from("abcdefghijkl", data).size();
  RoomSettings s;
  s.held_queue_bytes = 2 * one + one / 2;  // room for two
  Fixture f(s);
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  REQUIRE(ada.id.size() == 12);
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  for (int i = 0; i < 4; ++i) CHECK_FALSE(f.signal(ada, bob.id, data));
  CHECK(f.rooms->dropped_held_signals() == 2);
  f.delivery.clear();
  REQUIRE(f.resume(3, bob.token).resumed);
  CHECK(f.delivery.to(3).size() == 3);  // welcome + two
}

TEST_CASE("registry: a resume grace of 0 removes at once") {
  for (auto reason : {LeaveReason::Disconnected, LeaveReason::Timeout}) {
    CAPTURE(reason);
    RoomSettings s;
    s.resume_grace = Duration::zero();
    Fixture f(s);
    const auto ada = f.join(1, "Ada");
    const auto bob = f.join(2, "Bob");
    f.delivery.clear();
    f.rooms->hold(bob.conn, reason, f.clock.now);
    auto msgs = f.delivery.parsed_to(ada.conn);
    REQUIRE(msgs.size() == 1);
    CHECK(as<proto::PeerLeft>(msgs[0]).peer == bob.id);
    CHECK(as<proto::PeerLeft>(msgs[0]).reason == reason);
    CHECK(f.rooms->participants(kMeeting.id) == 1);
    auto outcome = f.resume(3, bob.token);
    REQUIRE(outcome.error.has_value());
    CHECK(outcome.error->code == ErrorCode::BadResume);
    auto expired = f.rooms->expire(f.clock.now + seconds(1));
    CHECK(expired.disconnected + expired.timed_out == 0);
  }
}

TEST_CASE("registry: drop, resume, drop again: only the latest hold counts") {
  Fixture f;  // grace 15 s
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(bob.conn, LeaveReason::Timeout, f.clock.now);  // t=0, until 15
  f.clock.advance(5);
  const std::string token = f.resumed(3, bob.token).resume;     // t=5
  f.clock.advance(5);
  f.rooms->hold(3, LeaveReason::Disconnected, f.clock.now);    // t=10, until 25
  f.delivery.clear();

  f.clock.advance(5);  // t=15: the first hold's deadline
  auto outcome = f.rooms->expire(f.clock.now);
  CHECK(outcome.disconnected + outcome.timed_out == 0);
  CHECK(f.delivery.sent.empty());
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  // Still resumable between the two deadlines.
  f.clock.advance(5);  // t=20
  REQUIRE(f.resume(4, token).resumed);
  f.clock.advance(1);  // t=21
  f.rooms->hold(4, LeaveReason::Disconnected, f.clock.now);  // until 36
  f.delivery.clear();
  f.clock.advance(4);  // t=25: the second hold's deadline, also superseded
  outcome = f.rooms->expire(f.clock.now);
  CHECK(outcome.disconnected + outcome.timed_out == 0);
  CHECK(f.rooms->participants(kMeeting.id) == 2);

  f.clock.advance(11);  // t=36: the latest hold ends
  outcome = f.rooms->expire(f.clock.now);
  CHECK(outcome.disconnected == 1);
  CHECK(outcome.timed_out == 0);
  auto msgs = f.delivery.parsed_to(ada.conn);
  REQUIRE(msgs.size() == 1);
  CHECK(as<proto::PeerLeft>(msgs[0]).peer == bob.id);
  CHECK(as<proto::PeerLeft>(msgs[0]).reason == LeaveReason::Disconnected);
  CHECK(f.rooms->participants(kMeeting.id) == 1);
}

TEST_CASE("registry: a clean leave after a resume is not undone by an old hold") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  f.clock.advance(1);
  REQUIRE(f.resume(3, bob.token).resumed);
  f.delivery.clear();
  f.rooms->remove(3, LeaveReason::Left);
  auto msgs = f.delivery.parsed_to(ada.conn);
  REQUIRE(msgs.size() == 1);
  CHECK(as<proto::PeerLeft>(msgs[0]).reason == LeaveReason::Left);
  f.delivery.clear();
  f.clock.advance(30);
  auto outcome = f.rooms->expire(f.clock.now);
  CHECK(outcome.disconnected + outcome.timed_out == 0);
  CHECK(f.delivery.sent.empty());
  CHECK(f.rooms->participants(kMeeting.id) == 1);
}

TEST_CASE("registry: many meetings, joins and departures keep the counts consistent") {
  RoomSettings s;
  s.room_cap = 4;
  Fixture f(s);
  std::vector<MeetingRecord> meetings;
  for (int m = 0; m < 10; ++m) meetings.push_back({std::string(25, static_cast<char>('a' + m)), ""});
  std::vector<Joined> everyone;
  ConnId next = 1;
  for (const auto& m : meetings)
    for (int i = 0; i < 4; ++i) everyone.push_back(f.join(next++, "p", m));
  CHECK(f.rooms->participant_count() == 40);
  CHECK(f.rooms->active_meetings() == 10);
  for (std::size_t i = 0; i < everyone.size(); i += 2) f.rooms->hold(everyone[i].conn, LeaveReason::Timeout, f.clock.now);
  for (std::size_t i = 1; i < everyone.size(); i += 2) f.rooms->remove(everyone[i].conn, LeaveReason::Left);
  CHECK(f.rooms->participant_count() == 20);
  CHECK(f.rooms->active_meetings() == 10);
  f.clock.advance(15);
  auto outcome = f.rooms->expire(f.clock.now);
  CHECK(outcome.timed_out == 20);
  CHECK(f.rooms->participant_count() == 0);
  CHECK(f.rooms->active_meetings() == 0);
}

TEST_CASE("registry: a live room answers for its meeting, so joins skip the database") {
  Fixture f;
  CHECK_FALSE(f.rooms->live_meeting(kMeeting.id).has_value());
  const auto ada = f.join(1, "Ada");
  auto live = f.rooms->live_meeting(kMeeting.id);
  REQUIRE(live.has_value());
  CHECK(live->id == kMeeting.id);
  CHECK(live->name == kMeeting.name);
  CHECK_FALSE(f.rooms->live_meeting(kOther.id).has_value());
  // Held slots keep the room live; the last one out ends it.
  f.rooms->hold(ada.conn, LeaveReason::Disconnected, f.clock.now);
  CHECK(f.rooms->live_meeting(kMeeting.id).has_value());
  f.clock.now += f.settings.resume_grace + seconds(1);
  f.rooms->expire(f.clock.now);
  CHECK_FALSE(f.rooms->live_meeting(kMeeting.id).has_value());
}

TEST_CASE("registry: every welcome (fresh and resumed) asks for the participant's own ICE servers") {
  std::vector<std::pair<std::string, std::string>> asked;  // (peer id, host)
  RoomSettings s;
  s.ice_servers_for = [&](std::string_view peer, std::string_view host) {
    asked.emplace_back(std::string(peer), std::string(host));
    return R"([{"urls":["turn:t.example.org"],"username":"u-)" + std::string(peer) + R"(","credential":"c"}])";
  };
  Fixture f(s);
  const MeetingRecord relay{"relayrelayrelayrelayrelayr", "Private", true};

  auto outcome = f.attempt(1, relay, proto::Join{relay.id, "Ada", std::nullopt}, "meet.example.org:8443");
  REQUIRE_FALSE(outcome.error);
  auto w = as<proto::Welcome>(proto::parse_server_message(f.delivery.to(1).at(0)).value());
  CHECK(outcome.self == w.self);
  CHECK(w.relay_only);
  REQUIRE(asked.size() == 1);
  CHECK(asked[0] == std::make_pair(w.self, std::string("meet.example.org:8443")));
  CHECK(nlohmann::json::parse(w.ice_servers)[0]["username"] == "u-" + w.self);

  // A refused join mints nothing.
  auto refused = f.attempt(2, relay, proto::Join{relay.id, "", std::string("not-a-token")}, "h");
  CHECK(refused.error);
  CHECK(refused.self.empty());
  CHECK(asked.size() == 1);

  // The resume gets its own, under the same peer id and the new socket's host.
  f.rooms->hold(1, LeaveReason::Disconnected, f.clock.now);
  auto resumed = f.attempt(3, relay, proto::Join{relay.id, "", w.resume}, "[::1]:8080");
  REQUIRE_FALSE(resumed.error);
  CHECK(resumed.resumed);
  CHECK(resumed.self == w.self);
  REQUIRE(asked.size() == 2);
  CHECK(asked[1] == std::make_pair(w.self, std::string("[::1]:8080")));
  CHECK(as<proto::Welcome>(proto::parse_server_message(f.delivery.to(3).at(0)).value()).relay_only);
}

// ---- identity through restarts (protocol v2 "Resume") -------------------------------

TEST_CASE("registry: every welcome carries a fresh token, and the earlier ones are refused from then on") {
  Fixture f;
  const auto ada = f.join(1, "Ada");
  const auto bob = f.join(2, "Bob");
  f.rooms->hold(bob.conn, LeaveReason::Disconnected, f.clock.now);
  const std::string second = f.resumed(3, bob.token).resume;
  CHECK(second != bob.token);
  f.delivery.clear();
  // A leaked first token cannot take the session over, dropped or not.
  CHECK(code_of(f.resume(4, bob.token).error) == ErrorCode::BadResume);
  f.rooms->hold(3, LeaveReason::Disconnected, f.clock.now);
  CHECK(code_of(f.resume(5, bob.token).error) == ErrorCode::BadResume);
  CHECK(f.delivery.retired.empty());
  const auto third = f.resumed(6, second);
  CHECK(third.self == bob.id);
  CHECK(code_of(f.resume(7, second).error) == ErrorCode::BadResume);
  CHECK(f.resumed(8, third.resume).self == bob.id);
  (void)ada;
}

namespace {

// A server process and the one started after it: the second has the first's
// key as its previous key, and takes tokens signed with it back for the
// grace after its start. Nothing else carries over.
struct Restart {
  Restart() {
    first.settings = settings_of(keys_before);
    first.rooms = std::make_unique<LocalRoomRegistry>(first.settings, first.delivery, first.random);
  }
  RoomSettings settings_of(const ResumeKeys& keys) {
    RoomSettings s;
    s.resume_keys = keys;
    s.earlier_tokens_until = first.clock.now + s.resume_grace;
    return with_store(s);
  }
  // The process restarts now: `second` knows nobody.
  void restart() {
    ResumeKeys after = ResumeKeys::fresh(first.random);
    after.previous = keys_before.current;
    second.clock = first.clock;
    second.settings = settings_of(after);
    second.settings.earlier_tokens_until = second.clock.now + second.settings.resume_grace;
    second.rooms = std::make_unique<LocalRoomRegistry>(second.settings, second.delivery, second.random);
  }
  SeededRandom keys_random{77};
  ResumeKeys keys_before = ResumeKeys::fresh(keys_random);
  Fixture first;
  Fixture second;
};

}  // namespace

TEST_CASE("registry: after a restart, participants come back under their ids and names; those present hear peer-joined") {
  Restart r;
  const auto ada = r.first.join(1, "Ada");
  const auto bob = r.first.join(2, "Bob");
  const auto cy = r.first.join(3, "Cy");
  r.restart();
  r.second.clock.advance(2);

  // Bob is back first: nobody is present yet. He keeps id and name.
  const auto bob_back = r.second.resumed(12, bob.token);
  CHECK(bob_back.self == bob.id);
  CHECK(bob_back.peers.empty());
  CHECK(bob_back.resume != bob.token);
  // Then Ada: she sees Bob, Bob hears peer-joined for the id he knew.
  r.second.delivery.clear();
  const auto ada_back = r.second.resumed(11, ada.token, kMeeting);
  CHECK(ada_back.self == ada.id);
  CHECK(ada_back.peers == std::vector<proto::PeerInfo>{{bob.id, "Bob"}});
  auto to_bob = r.second.delivery.parsed_to(12);
  REQUIRE(to_bob.size() == 1);
  CHECK(as<proto::PeerJoined>(to_bob[0]).peer == proto::PeerInfo{ada.id, "Ada"});
  CHECK(r.second.rooms->participants(kMeeting.id) == 2);

  // Relays work under the old ids.
  r.second.delivery.clear();
  CHECK_FALSE(r.second.relay(11, proto::Signal{bob.id, R"({"k":1})"}));
  CHECK(as<proto::SignalFrom>(r.second.delivery.parsed_to(12).at(0)).from == ada.id);

  // The token each came back with is spent, so is the one they left with;
  // the fresh one works as any token does.
  CHECK(code_of(r.second.resume(20, ada.token).error) == ErrorCode::BadResume);
  r.second.rooms->remove(11, LeaveReason::Left);
  CHECK(code_of(r.second.resume(21, ada.token).error) == ErrorCode::BadResume);  // not after a clean leave either
  r.second.rooms->hold(12, LeaveReason::Disconnected, r.second.clock.now);
  CHECK(r.second.resumed(22, bob_back.resume).self == bob.id);

  // Cy never comes back: after the grace that followed the restart, the
  // token from before is dead too.
  r.second.clock.advance(14);
  r.second.rooms->expire(r.second.clock.now);
  CHECK(code_of(r.second.resume(23, cy.token).error) == ErrorCode::BadResume);
  CHECK(r.second.rooms->participants(kMeeting.id) == 1);
}

TEST_CASE("registry: after a restart, a token from before in time is refused when forged, for another meeting, or two restarts old") {
  Restart r;
  const auto ada = r.first.join(1, "Ada");
  const auto other = r.first.join(2, "Other", kOther);
  r.restart();
  // Another meeting's token, in this meeting.
  CHECK(code_of(r.second.resume(10, other.token, kMeeting).error) == ErrorCode::BadResume);
  // Any byte changed.
  for (std::size_t i = 0; i < ada.token.size(); i += 5) {
    std::string forged = ada.token;
    forged[i] = forged[i] == 'A' ? 'B' : 'A';
    CAPTURE(i);
    CHECK(code_of(r.second.resume(11, forged).error) == ErrorCode::BadResume);
  }
  CHECK(code_of(r.second.resume(12, ada.token + "A").error) == ErrorCode::BadResume);
  CHECK(code_of(r.second.resume(12, ada.token.substr(0, 40)).error) == ErrorCode::BadResume);
  CHECK(r.second.delivery.sent.empty());

  // A third process: the first one's tokens no longer verify at all.
  ResumeKeys third = ResumeKeys::fresh(r.first.random);
  third.previous = r.second.settings.resume_keys->current;
  RoomSettings s = r.second.settings;
  s.resume_keys = third;
  RecordingDelivery delivery;
  LocalRoomRegistry rooms(s, delivery, r.second.random);
  rooms.join(13, proto::Join{kMeeting.id, "", ada.token}, {}, r.second.clock.now);
  REQUIRE(delivery.answers.size() == 1);
  CHECK(code_of(delivery.answers[0].second.error) == ErrorCode::BadResume);
  // While the second process's token still works for Other.
  CHECK(r.second.resumed(14, other.token, kOther).self == other.id);
}

TEST_CASE("registry: after a restart, one whose seat was taken meanwhile is told meeting-full, and may try again") {
  Restart r;
  r.first.settings.room_cap = 2;
  r.first.rooms = std::make_unique<LocalRoomRegistry>(r.first.settings, r.first.delivery, r.first.random);
  const auto ada = r.first.join(1, "Ada");
  const auto bob = r.first.join(2, "Bob");
  r.restart();
  r.second.settings.room_cap = 2;
  r.second.rooms = std::make_unique<LocalRoomRegistry>(r.second.settings, r.second.delivery, r.second.random);
  r.second.resumed(11, ada.token);
  r.second.join(13, "Dee");  // a newcomer takes the second seat
  CHECK(code_of(r.second.resume(12, bob.token).error) == ErrorCode::MeetingFull);
  CHECK(r.second.rooms->participants(kMeeting.id) == 2);
  r.second.rooms->remove(13, LeaveReason::Left);
  CHECK(r.second.resumed(12, bob.token).self == bob.id);  // the refusal did not spend the token
}

TEST_CASE("registry: a join answered after its connection ended gives the seat back, and the others hear it left") {
  RoomSettings s;
  s.room_cap = 2;
  Fixture f(s);
  const auto ada = f.join(1, "Ada");
  f.delivery.clear();
  f.delivery.gone.insert(2);  // Bob's socket ends while the registry seats him
  auto outcome = f.attempt(2, kMeeting, proto::Join{kMeeting.id, "Bob", std::nullopt});
  CHECK_FALSE(outcome.error);
  CHECK(f.rooms->participants(kMeeting.id) == 1);
  auto to_ada = f.delivery.parsed_to(ada.conn);
  REQUIRE(to_ada.size() == 2);
  const auto bob = as<proto::PeerJoined>(to_ada[0]).peer;
  CHECK(as<proto::PeerLeft>(to_ada[1]).peer == bob.id);
  // No ghost: the seat is free for the next one.
  f.join(3, "Cy");
}

TEST_CASE("registry: a meeting the store does not have, or a malformed id, is meeting-not-found") {
  Fixture f;
  for (const std::string id : {"nosuchmeetingnosuchmeeting", "SHOUTING-IS-NOT-AN-ID-AT-ALL", "short"}) {
    const std::size_t before = f.delivery.answers.size();
    f.rooms->join(1, proto::Join{id, "Ada", std::nullopt}, {}, f.clock.now);
    REQUIRE(f.delivery.answers.size() == before + 1);
    CHECK(code_of(f.delivery.answers.back().second.error) == ErrorCode::MeetingNotFound);
  }
  CHECK(f.rooms->participant_count() == 0);
  CHECK(f.delivery.sent.empty());
}
