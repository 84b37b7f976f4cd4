// ICE servers from the signaling server and relay-only meetings, one client
// driven by hand: the RTCConfiguration each connection is created with, fresh
// servers (ice-servers, a resume's welcome) reaching live connections with
// setConfiguration, the app's own list winning, a connection the browser
// refuses to create, and in a relay-only meeting no candidate that is not
// `typ relay` going out or coming in, trickled or inside an SDP.
#include <doctest/doctest.h>

#include "script_harness.hpp"
#include "wasm/core/peer_signal.hpp"

using namespace script;

namespace {

const std::string kTurnA = R"([{"urls":"turn:turn.example:3478","username":"100:p","credential":"a"}])";
const std::string kTurnB = R"([{"urls":"turn:turn.example:3478","username":"200:p","credential":"b"}])";

std::string welcome_v2(const std::string& self, std::vector<std::string> peers, const std::string& ice_servers,
                       bool relay_only) {
  meshmeet::protocol::Welcome w;
  w.self = self;
  w.resume = "tok-" + self;
  w.meeting_id = "m";
  for (auto& p : peers) w.peers.push_back({p, "name-" + p});
  w.ice_servers = ice_servers;
  w.relay_only = relay_only;
  w.heartbeat_interval_ms = 10000;
  w.heartbeat_timeout_ms = 30000;
  return meshmeet::protocol::serialize(meshmeet::protocol::ServerMessage{w});
}

std::string ice_servers_message(const std::string& ice_servers) {
  return meshmeet::protocol::serialize(meshmeet::protocol::ServerMessage{meshmeet::protocol::IceServers{ice_servers}});
}

std::string candidate_signal(std::uint64_t seq, const std::string& line) {
  PeerSignal s;
  s.gen = 1;
  s.peer_gen = 1;
  s.seq = seq;
  s.kind = PeerSignalKind::Candidate;
  s.candidate_json = nlohmann::json{{"candidate", line}, {"sdpMid", "0"}, {"usernameFragment", "ub"}}.dump();
  return serialize(s);
}

std::string description_signal(std::uint64_t seq, const std::string& type, const std::string& sdp, std::uint64_t answers = 0) {
  PeerSignal s;
  s.gen = 1;
  s.peer_gen = 1;
  s.seq = seq;
  s.answers = answers;
  s.description_type = type;
  s.sdp = sdp;
  return serialize(s);
}

const std::string kHost = "candidate:1 1 udp 2122260223 10.0.0.5 50000 typ host generation 0";
const std::string kMdns = "candidate:2 1 udp 2113937151 3f2a6c1e.local 54321 typ host";
const std::string kSrflx = "candidate:3 1 udp 1677729535 192.0.2.7 61665 typ srflx raddr 0.0.0.0 rport 0";
const std::string kRelay = "candidate:4 1 udp 41885439 203.0.113.9 59001 typ relay raddr 0.0.0.0 rport 0";
const std::string kActiveTcp = "candidate:5 1 tcp 1518280447 10.0.0.5 9 typ host tcptype active generation 0";
const std::string kPassiveTcp = "candidate:6 1 tcp 1518280447 10.0.0.5 50001 typ host tcptype passive";

std::string sdp_with_candidates(const std::string& ufrag) {
  return "v=0\r\na=fingerprint:sha-256 AA:BB\r\na=ice-ufrag:" + ufrag + "\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=" + kHost +
         "\r\na=" + kSrflx + "\r\na=" + kRelay + "\r\na=end-of-candidates\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=" + kMdns +
         "\r\na=end-of-candidates\r\n";
}

// A joined client ("b") with one peer ("a"): we are impolite, so we make the
// pair's first offer.
struct Meeting : Harness {
  explicit Meeting(const std::string& ice_servers, bool relay_only, ClientConfig config = {}) : Harness(std::move(config)) {
    at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Bob"); });
    socket = one<OpenSocket>(last).socket;
    at(5, [&](Client& c, double t) { c.socket_opened(t, socket); });
    at(10, [&](Client& c, double t) { c.socket_message(t, socket, welcome_v2("b", {"a"}, ice_servers, relay_only)); });
    created = one<CreatePeerConnection>(last);
    pc = created.pc;
    first_offer_op = one<SetLocalDescription>(last).op;  // ours to open: made with the connection
  }
  CreatePeerConnection created;
  int pc = 0;
  int first_offer_op = 0;
  std::vector<Output>& server(const std::string& text) {
    return at(now + 1, [&](Client& c, double t) { c.socket_message(t, socket, text); });
  }
  std::vector<Output>& browser(std::function<void(Client&, double)> event) { return at(now + 1, event); }
  std::vector<Output>& local_candidate(const std::string& line) {
    const std::string json = nlohmann::json{{"candidate", line}, {"sdpMid", "0"}, {"usernameFragment", "ua"}}.dump();
    return browser([&](Client& c, double t) { c.ice_candidate(t, pc, json); });
  }
  // The peer signals we sent in the last batch.
  std::vector<PeerSignal> sent() {
    std::vector<PeerSignal> out;
    for (const auto& text : all<SendText>(last)) {
      auto msg = parse(text.text);
      if (msg.value("type", "") != "signal") continue;
      std::string error;
      auto s = parse_peer_signal(msg["data"].dump(), error);
      REQUIRE_MESSAGE(s, error);
      out.push_back(*s);
    }
    return out;
  }
  // Our first offer made and sent; the peer's answer applied.
  void offer_and_get_answer(const std::string& local_sdp, const std::string& remote_sdp) {
    const int op = first_offer_op;
    browser([&](Client& c, double t) { c.signaling_state(t, pc, "have-local-offer"); });
    browser([&](Client& c, double t) { c.local_description(t, pc, op, "offer", local_sdp); });
    offer_sent = sent().at(0);
    server(signal_from("a", description_signal(1, "answer", remote_sdp, offer_sent.seq)));
    const int srd = one<SetRemoteDescription>(last).op;
    remote_applied = one<SetRemoteDescription>(last).sdp;
    browser([&](Client& c, double t) { c.signaling_state(t, pc, "stable"); });
    browser([&](Client& c, double t) { c.operation_done(t, pc, srd); });
  }
  PeerSignal offer_sent;
  std::string remote_applied;
  // The socket drops; after the backoff a new one is welcomed with `text`.
  std::vector<Output>& reconnect_with(const std::string& text) {
    browser([&](Client& c, double t) { c.socket_closed(t, socket, 1006); });
    fire("reconnect-backoff");
    socket = one<OpenSocket>(last).socket;
    browser([&](Client& c, double t) { c.socket_opened(t, socket); });
    return browser([&](Client& c, double t) { c.socket_message(t, socket, text); });
  }
};

}  // namespace

TEST_CASE("relay-only meeting: connections are created with iceTransportPolicy relay and the server's ICE servers") {
  Meeting m(kTurnA, true);
  auto config = parse(m.created.config_json);
  CHECK(config["iceTransportPolicy"] == "relay");
  CHECK(config["bundlePolicy"] == "max-bundle");
  CHECK(config["iceServers"] == parse(kTurnA));
  Harness fresh;  // the Welcomed the app sees says so
  fresh.at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Bob"); });
  const int socket = one<OpenSocket>(fresh.last).socket;
  fresh.at(1, [&](Client& c, double t) { c.socket_opened(t, socket); });
  fresh.at(2, [&](Client& c, double t) { c.socket_message(t, socket, welcome_v2("b", {}, kTurnA, true)); });
  CHECK(one<Welcomed>(fresh.last).relay_only);
  CHECK(parse(to_json(Output{one<Welcomed>(fresh.last)}))["relayOnly"] == true);
}

TEST_CASE("an ordinary meeting: no transport policy, every candidate goes out but a browser's active TCP ones") {
  Meeting m(kTurnA, false);
  CHECK_FALSE(parse(m.created.config_json).contains("iceTransportPolicy"));
  // One transport for audio, video and data from the first offer: a third of the candidates.
  CHECK(parse(m.created.config_json)["bundlePolicy"] == "max-bundle");
  m.local_candidate(kHost);
  CHECK(m.sent().size() == 1);
  m.local_candidate(kSrflx);
  CHECK(m.sent().size() == 1);
  // An active TCP candidate only connects out, to a passive one of the
  // peer, which needs nothing from us to answer: it would be a message and
  // a blocking addIceCandidate for nothing. A passive one is sent.
  m.local_candidate(kActiveTcp);
  CHECK(m.sent().empty());
  m.local_candidate(kPassiveTcp);
  REQUIRE(m.sent().size() == 1);
  CHECK(parse(m.sent()[0].candidate_json)["candidate"] == kPassiveTcp);
}

TEST_CASE("relay-only: local candidates that are not relay never reach the wire") {
  Meeting m(kTurnA, true);
  for (const auto& line : {kHost, kMdns, kSrflx, std::string("candidate:garbage")}) {
    m.local_candidate(line);
    CHECK_MESSAGE(m.sent().empty(), line);
  }
  m.local_candidate(kRelay);
  REQUIRE(m.sent().size() == 1);
  CHECK(parse(m.sent()[0].candidate_json)["candidate"] == kRelay);
  m.local_candidate("");  // a generation's end of candidates carries no address
  CHECK(m.sent().size() == 1);
}

TEST_CASE("relay-only: non-relay candidates are taken out of our descriptions and of the peer's") {
  Meeting m(kTurnA, true);
  m.offer_and_get_answer(sdp_with_candidates("ua"), sdp_with_candidates("ub"));
  const std::string expected_local = "v=0\r\na=fingerprint:sha-256 AA:BB\r\na=ice-ufrag:ua\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=" +
                                     kRelay + "\r\na=end-of-candidates\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=end-of-candidates\r\n";
  CHECK(m.offer_sent.sdp == expected_local);
  CHECK(m.remote_applied.find("typ relay") != std::string::npos);
  CHECK(m.remote_applied.find("typ host") == std::string::npos);
  CHECK(m.remote_applied.find("typ srflx") == std::string::npos);
  CHECK(m.remote_applied.find(".local") == std::string::npos);
}

TEST_CASE("relay-only: the peer's trickled candidates that are not relay are dropped") {
  Meeting m(kTurnA, true);
  m.offer_and_get_answer(sdp_with_candidates("ua"), sdp_with_candidates("ub"));
  std::uint64_t seq = 2;
  for (const auto& line : {kHost, kMdns, kSrflx, std::string("candidate:1 1 tcp 1518280447 192.0.2.7 9 typ host tcptype active")}) {
    m.server(signal_from("a", candidate_signal(seq++, line)));
    CHECK_MESSAGE(all<AddIceCandidate>(m.last).empty(), line);
  }
  m.server(signal_from("a", candidate_signal(seq++, kRelay)));
  CHECK(parse(one<AddIceCandidate>(m.last).candidate_json)["candidate"] == kRelay);
}

TEST_CASE("ice-servers: live connections get the fresh list by setConfiguration, new ones are made with it") {
  Meeting m(kTurnA, true);
  m.server(ice_servers_message(kTurnB));
  auto set = one<SetConfiguration>(m.last);
  CHECK(set.pc == m.pc);
  auto config = parse(set.config_json);
  CHECK(config["iceServers"] == parse(kTurnB));
  CHECK(config["iceTransportPolicy"] == "relay");  // kept as created
  CHECK(parse(to_json(Output{set}))["type"] == "set-configuration");
  m.server(ice_servers_message(kTurnB));  // nothing new
  CHECK(all<SetConfiguration>(m.last).empty());
  // A member who arrives now gets a connection made with the fresh list.
  m.server(meshmeet::protocol::serialize(meshmeet::protocol::ServerMessage{meshmeet::protocol::PeerJoined{{"c", "Cy"}}}));
  CHECK(parse(one<CreatePeerConnection>(m.last).config_json)["iceServers"] == parse(kTurnB));
}

TEST_CASE("ice-servers: a resume's welcome with other ICE servers updates the live connections") {
  Meeting m(kTurnA, false);
  m.reconnect_with(welcome_v2("b", {"a"}, kTurnA, false));
  CHECK(all<SetConfiguration>(m.last).empty());  // the same list: nothing to do
  m.reconnect_with(welcome_v2("b", {"a"}, kTurnB, false));
  CHECK(one<Welcomed>(m.last).how == "resumed");
  CHECK(parse(one<SetConfiguration>(m.last).config_json)["iceServers"] == parse(kTurnB));
}

TEST_CASE("relay-only stays on: a later welcome cannot turn it off") {
  Meeting m(kTurnA, true);
  m.reconnect_with(welcome_v2("b", {"a"}, kTurnA, false));
  CHECK(one<Welcomed>(m.last).relay_only);
  m.local_candidate(kHost);
  CHECK(m.sent().empty());
}

TEST_CASE("ice-servers: the app's own iceServers win over the server's") {
  ClientConfig config;
  config.ice_servers_json = R"([{"urls":"stun:own.example"}])";
  Meeting m(kTurnA, false, config);
  CHECK(parse(m.created.config_json)["iceServers"] == parse(config.ice_servers_json));
  m.server(ice_servers_message(kTurnB));
  CHECK(all<SetConfiguration>(m.last).empty());
}

TEST_CASE("a connection the browser refuses to create is made afresh, and the peer given up on when it keeps refusing") {
  Meeting m("[]", false);
  m.browser([&](Client& c, double t) { c.create_peer_connection_failed(t, m.pc, "InvalidAccessError", "no credentials"); });
  auto fresh = one<CreatePeerConnection>(m.last);
  CHECK(fresh.pc != m.pc);
  int handle = fresh.pc;
  for (int i = 0; i < 3; ++i) {
    m.browser([&](Client& c, double t) { c.create_peer_connection_failed(t, handle, "InvalidAccessError", "no credentials"); });
    auto again = all<CreatePeerConnection>(m.last);
    if (again.empty()) break;
    handle = again.front().pc;
  }
  auto error = one<ErrorEvent>(m.last);
  CHECK(error.code == "peer-unreachable");
  CHECK(error.peer == "a");
  // Late events for a handle that never existed change nothing.
  m.browser([&](Client& c, double t) { c.create_peer_connection_failed(t, m.pc, "InvalidAccessError", "again"); });
  CHECK(all<CreatePeerConnection>(m.last).empty());
}
