// Peer negotiation on its own, the test playing the remote peer and the
// browser's peer connection: which end opens a connection, the W3C
// perfect-negotiation rules (who yields in glare, implicit and explicit
// rollback, and not before the connection has gathered), trickle ICE
// queueing and dropping, duplicate and stale signals, connection
// generations, the ICE restart ladder, track changes and the media state
// over the data channel.
#include <doctest/doctest.h>

#include <algorithm>
#include <utility>
#include <variant>

#include "script_harness.hpp"
#include "wasm/core/peer_signal.hpp"
#include "wasm/core/uplink_budget.hpp"

using namespace script;

namespace {

std::string sdp(const std::string& fingerprint, const std::string& ufrag) {
  return "v=0\r\na=fingerprint:sha-256 " + fingerprint + "\r\na=ice-ufrag:" + ufrag + "\r\n";
}

std::string description(int gen, int peer_gen, std::uint64_t seq, const std::string& type, const std::string& body) {
  PeerSignal s;
  s.gen = gen;
  s.peer_gen = peer_gen;
  s.seq = seq;
  s.description_type = type;
  s.sdp = body;
  return serialize(s);
}

std::string candidate(int gen, int peer_gen, std::uint64_t seq, const std::string& ufrag) {
  PeerSignal s;
  s.gen = gen;
  s.peer_gen = peer_gen;
  s.seq = seq;
  s.kind = PeerSignalKind::Candidate;
  s.candidate_json = R"({"candidate":"candidate:)" + std::to_string(seq) +
                     R"( 1 udp 1 10.0.0.2 9 typ host","sdpMid":"0","usernameFragment":")" + ufrag + R"("})";
  return serialize(s);
}

std::string restart_request(int gen, int peer_gen, std::uint64_t seq) {
  PeerSignal s;
  s.kind = PeerSignalKind::IceRestartRequest;
  s.gen = gen;
  s.peer_gen = peer_gen;
  s.seq = seq;
  return serialize(s);
}

// A joined client with one peer; `self` < `peer` makes it polite (and so the
// end that waits for the other's first offer on a new pair).
struct Pair : Harness {
  Pair(const std::string& self, const std::string& peer, ClientConfig config = {}) : Harness(std::move(config)), peer(peer) {
    join_and_welcome(self, {peer});
    pc = one<CreatePeerConnection>(last).pc;
    // The impolite end opens: its first offer goes with the connection.
    if (auto offers = all<SetLocalDescription>(last); !offers.empty()) first_offer = offers.at(0);
  }
  std::string peer;
  int pc = 0;
  SetLocalDescription first_offer{};  // our connection's first offer, made with it (op 0: none, or taken)
  std::vector<Output>& from_peer(const std::string& data) {
    return at(now + 1, [&](Client& c, double t) { c.socket_message(t, socket, signal_from(peer, data)); });
  }
  std::vector<Output>& browser(std::function<void(Client&, double)> event) { return at(now + 1, event); }
  // The browser reports a local candidate of ours.
  std::vector<Output>& gathered(int handle, const std::string& ufrag) {
    return browser([&](Client& c, double t) {
      c.ice_candidate(t, handle, R"({"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","sdpMid":"0","usernameFragment":")" +
                                     ufrag + R"("})");
    });
  }
  // The peer opens: its first offer (seq 1 of its connection 1), applied and
  // answered; then our connection gathers.
  void answer_first_offer(const std::string& remote_sdp, const std::string& local_sdp) {
    from_peer(description(1, 0, 1, "offer", remote_sdp));
    auto srd = one<SetRemoteDescription>(last);
    browser([&](Client& c, double t) { c.signaling_state(t, pc, "have-remote-offer"); });
    browser([&](Client& c, double t) { c.operation_done(t, pc, srd.op); });
    const int answer_op = one<SetLocalDescription>(last).op;
    browser([&](Client& c, double t) { c.signaling_state(t, pc, "stable"); });
    browser([&](Client& c, double t) { c.local_description(t, pc, answer_op, "answer", local_sdp); });
    REQUIRE(sent().at(0).description_type == "answer");
    gathered(pc, "ua");
  }
  // The peer's answer (its connection 1, seq `seq`) to the offer we sent last.
  std::vector<Output>& peer_answers(std::uint64_t seq, const std::string& remote_sdp) {
    PeerSignal answer;
    answer.gen = 1;
    answer.peer_gen = 1;
    answer.seq = seq;
    answer.answers = sent().at(0).seq;
    answer.description_type = "answer";
    answer.sdp = remote_sdp;
    return from_peer(serialize(answer));
  }
  // We open the pair (we are impolite): our first offer, the peer's answer
  // applied. That first offer has no answer timeout: a lost answer is the
  // connect watchdog's (a fresh connection).
  void open_as_impolite(const std::string& local_sdp, const std::string& remote_sdp) {
    make_offer(local_sdp);
    REQUIRE(sent().at(0).description_type == "offer");
    REQUIRE_FALSE(has_timer("answer-timeout"));
    peer_answers(1, remote_sdp);
    const int srd = one<SetRemoteDescription>(last).op;
    browser([&](Client& c, double t) { c.signaling_state(t, pc, "stable"); });
    browser([&](Client& c, double t) { c.operation_done(t, pc, srd); });
  }
  // We offer on `handle` (the pair's connection by default): negotiationneeded,
  // our setLocalDescription, have-local-offer, then the offer, sent to the peer.
  // A connection's first offer, when we opened it, was made with it:
  // `made_op` (or, on the pair's first connection, `first_offer`).
  void make_offer(const std::string& local_sdp, int handle = 0, int made_op = 0) {
    if (handle == 0) handle = pc;
    if (made_op == 0 && handle == pc) made_op = std::exchange(first_offer.op, 0);
    int op = made_op;
    if (op == 0) {
      browser([&](Client& c, double t) { c.negotiation_needed(t, handle); });
      op = one<SetLocalDescription>(last).op;
    }
    browser([&](Client& c, double t) { c.signaling_state(t, handle, "have-local-offer"); });
    browser([&](Client& c, double t) { c.local_description(t, handle, op, "offer", local_sdp); });
  }
  // The peer's offer (its connection 1, seq `seq`) collides with ours in a
  // browser without implicit rollback: setRemoteDescription fails, we roll
  // back and apply the offer again; the rollback completes back in stable.
  // Returns the retried setRemoteDescription, still pending.
  SetRemoteDescription explicit_rollback_of(int seq, const std::string& remote_sdp) {
    from_peer(description(1, 1, seq, "offer", remote_sdp));
    auto srd = one<SetRemoteDescription>(last);
    browser([&](Client& c, double t) { c.operation_failed(t, pc, srd.op, "InvalidStateError", "have-local-offer"); });
    auto rollback = one<SetLocalDescription>(last);
    REQUIRE(rollback.type == "rollback");
    auto retry = one<SetRemoteDescription>(last);
    CHECK(retry.type == "offer");
    CHECK(retry.sdp == remote_sdp);
    browser([&](Client& c, double t) { c.signaling_state(t, pc, "stable"); });
    browser([&](Client& c, double t) { c.operation_done(t, pc, rollback.op); });
    return retry;
  }
  // The signals we sent to the peer in the last batch.
  std::vector<PeerSignal> sent() {
    std::vector<PeerSignal> out;
    for (const auto& s : all<SendText>(last)) {
      auto msg = parse(s.text);
      if (msg["type"] != "signal") continue;
      std::string error;
      auto signal = parse_peer_signal(msg["data"].dump(), error);
      REQUIRE(signal);
      out.push_back(*signal);
    }
    return out;
  }
};

}  // namespace

TEST_CASE("perfect negotiation: the impolite peer ignores a colliding offer and drops its candidates") {
  Pair p("b", "a");  // "b" > "a": impolite
  CHECK_FALSE(p.client.peers()[0].polite);
  const int offer_op = std::exchange(p.first_offer.op, 0);  // made with the connection
  CHECK(p.first_offer.type.empty());  // implicit: the browser picks offer/answer

  // Glare: their offer arrives while ours is being made.
  p.from_peer(description(1, 0, 1, "offer", sdp("AA", "ua")));
  CHECK(all<SetRemoteDescription>(p.last).empty());
  p.from_peer(candidate(1, 0, 2, "ua"));
  CHECK(all<AddIceCandidate>(p.last).empty());

  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-local-offer"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, offer_op, "offer", sdp("BB", "ub")); });
  auto ours = p.sent();
  REQUIRE(ours.size() == 1);
  CHECK(ours[0].description_type == "offer");
  CHECK(ours[0].gen == 1);
  CHECK(ours[0].peer_gen == 1);  // we heard their connection 1 (and ignored its offer)

  // They yield and answer ours; the dropped candidate stays dropped.
  p.from_peer(description(1, 1, 3, "answer", sdp("AA", "ua")));
  auto srd = one<SetRemoteDescription>(p.last);
  CHECK(srd.type == "answer");
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, srd.op); });
  CHECK(all<AddIceCandidate>(p.last).empty());
  CHECK(all<SetLocalDescription>(p.last).empty());
  // Later candidates of the same ufrag go straight in.
  p.from_peer(candidate(1, 1, 4, "ua"));
  CHECK(one<AddIceCandidate>(p.last).pc == p.pc);
  // Both fingerprints known, but no code until the commit-then-reveal
  // exchange over the data channel (verification_code.hpp): this end is
  // impolite, so it commits as soon as the channel opens.
  CHECK(p.client.peers()[0].verification_code.empty());
  p.browser([&](Client& c, double t) { c.data_channel_open(t, p.pc); });
  bool committed = false;
  for (const auto& d : all<SendData>(p.last)) committed |= d.text.find("\"vc-commit\"") != std::string::npos;
  CHECK(committed);
}

TEST_CASE("opening: on a new pair the impolite end offers first; the polite end waits for that offer") {
  // The impolite end's offer goes with the connection, before the browser
  // says negotiation is needed: a task behind whatever the page is doing.
  Pair impolite("b", "a");
  CHECK(impolite.first_offer.op != 0);
  CHECK(impolite.first_offer.pc == impolite.pc);
  CHECK(impolite.first_offer.type.empty());  // implicit: the browser makes the offer
  // The browser's own negotiationneeded for the same need (a browser that
  // fires it late) asks nothing while the offer is pending.
  impolite.browser([&](Client& c, double t) { c.negotiation_needed(t, impolite.pc); });
  CHECK(all<SetLocalDescription>(impolite.last).empty());

  Pair p("a", "b");
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  CHECK(all<SetLocalDescription>(p.last).empty());  // an offer now would be rolled back when theirs comes
  CHECK(p.sent().empty());
  p.answer_first_offer(sdp("BB", "ub"), sdp("AA", "ua"));
  // Answered: the browser asks again if something is still missing, and
  // from now on renegotiation is ours to start like any other.
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  CHECK(one<SetLocalDescription>(p.last).type.empty());
}

TEST_CASE("audio: the peer's descriptions reach the browser asking for Opus DTX; ours reach the peer as made") {
  const std::string audio = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\n";
  Pair p("a", "b");
  p.from_peer(description(1, 0, 1, "offer", sdp("BB", "ub") + audio));
  const auto offer = one<SetRemoteDescription>(p.last);
  CHECK(offer.sdp == sdp("BB", "ub") + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;usedtx=1\r\n");
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, offer.op); });
  const int answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, answer_op, "answer", sdp("AA", "ua") + audio); });
  CHECK(p.sent().at(0).sdp == sdp("AA", "ua") + audio);  // the peer's browser decides for its own senders

  Pair impolite("b", "a");
  impolite.make_offer(sdp("BB", "ub") + audio);
  CHECK(impolite.sent().at(0).sdp == sdp("BB", "ub") + audio);
  impolite.peer_answers(1, sdp("AA", "ua") + audio);
  CHECK(one<SetRemoteDescription>(impolite.last).sdp.find("a=fmtp:111 minptime=10;usedtx=1\r\n") != std::string::npos);
}

TEST_CASE("audio: with two peers or more our browser is asked for 40 ms packets to each; in a call of two, its own 20 ms") {
  const std::string audio = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10\r\n";
  Harness h;
  h.join_and_welcome("a", {"b", "c"});
  REQUIRE(all<CreatePeerConnection>(h.last).size() == 2);
  h.at(h.now + 1, [&](Client& c, double t) {
    c.socket_message(t, h.socket, signal_from("b", description(1, 0, 1, "offer", sdp("BB", "ub") + audio)));
  });
  CHECK(one<SetRemoteDescription>(h.last).sdp ==
        sdp("BB", "ub") + "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\na=ptime:40\r\na=fmtp:111 minptime=10;usedtx=1\r\n");
  // The call of two (the test above) leaves the packet time to the browser.
  Pair two("a", "b");
  two.from_peer(description(1, 0, 1, "offer", sdp("BB", "ub") + audio));
  CHECK(one<SetRemoteDescription>(two.last).sdp.find("a=ptime:") == std::string::npos);
  CHECK(meshmeet::core::audio_packet_ms(1) == 20);
  CHECK(meshmeet::core::audio_packet_ms(5) == 40);
}

TEST_CASE("opening: a fresh connection is opened by the end that made it, polite or not") {
  // The polite end gives up waiting and makes a fresh connection: it opens it,
  // with the offer made at once, once the tracks are in it.
  Pair p("a", "b");
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", "mic"); });
  p.stall();
  auto fresh = one<CreatePeerConnection>(p.last);
  CHECK(one<SetLocalDescription>(p.last).pc == fresh.pc);
  const auto is_offer = [](const Output& o) { return std::holds_alternative<SetLocalDescription>(o); };
  const auto is_track = [](const Output& o) { return std::holds_alternative<AddTrack>(o); };
  CHECK(std::find_if(p.last.begin(), p.last.end(), is_track) < std::find_if(p.last.begin(), p.last.end(), is_offer));

  // The impolite end learns of the peer's fresh connection from a candidate
  // that overtook its offer: the new connection waits for that offer.
  Pair q("b", "a");
  q.from_peer(candidate(1, 0, 1, "u1"));
  q.from_peer(candidate(2, 0, 2, "u2"));
  auto theirs = one<CreatePeerConnection>(q.last);
  q.browser([&](Client& c, double t) { c.negotiation_needed(t, theirs.pc); });
  CHECK(all<SetLocalDescription>(q.last).empty());
  q.from_peer(description(2, 0, 3, "offer", sdp("CC", "u2")));
  auto srd = one<SetRemoteDescription>(q.last);
  CHECK(srd.pc == theirs.pc);
  q.browser([&](Client& c, double t) { c.operation_done(t, theirs.pc, srd.op); });
  CHECK(one<SetLocalDescription>(q.last).pc == theirs.pc);  // the answer
  CHECK(all<AddIceCandidate>(q.last).size() == 1);          // the candidate that came first
}

TEST_CASE("perfect negotiation: the polite peer accepts a colliding offer (implicit rollback) and answers it") {
  Pair p("a", "b");
  CHECK(p.client.peers()[0].polite);
  p.answer_first_offer(sdp("BB", "ub"), sdp("AA", "ua"));
  // Both ends renegotiate at once.
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  const int offer_op = one<SetLocalDescription>(p.last).op;
  p.from_peer(description(1, 1, 2, "offer", sdp("BB", "ub")));
  auto srd = one<SetRemoteDescription>(p.last);  // chained behind our setLocalDescription in the browser
  CHECK(srd.type == "offer");
  CHECK(all<SetLocalDescription>(p.last).empty());  // no explicit rollback needed
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, offer_op, "offer", sdp("AA", "ua")); });
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, srd.op); });
  auto answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, answer_op, "answer", sdp("AA", "ua")); });
  auto sent = p.sent();
  REQUIRE(sent.size() == 1);
  CHECK(sent[0].description_type == "answer");
}

TEST_CASE("perfect negotiation: offers crossing before our connection gathered: the polite end yields once it has") {
  // Both ends replace a dead connection at the same moment, so both open.
  Pair p("a", "b");
  p.stall();
  const int fresh = one<CreatePeerConnection>(p.last).pc;
  p.make_offer(sdp("AA", "ua"), fresh, one<SetLocalDescription>(p.last).op);
  p.from_peer(description(1, 0, 1, "offer", sdp("BB", "ub")));
  // Yielding now would roll back the first offer of a connection that has
  // no candidate yet (Chrome would never let it gather): theirs waits.
  CHECK(all<SetRemoteDescription>(p.last).empty());
  CHECK(all<SetLocalDescription>(p.last).empty());
  p.from_peer(candidate(1, 0, 2, "ub"));
  CHECK(all<AddIceCandidate>(p.last).empty());
  // Our first candidate: the connection knows its networks; now we yield.
  p.gathered(fresh, "ua");
  CHECK(p.sent().at(0).candidate_json.find("\"ua\"") != std::string::npos);
  auto srd = one<SetRemoteDescription>(p.last);
  CHECK(srd.type == "offer");
  CHECK(srd.sdp == sdp("BB", "ub"));
  p.browser([&](Client& c, double t) { c.signaling_state(t, fresh, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, fresh, srd.op); });
  CHECK(one<AddIceCandidate>(p.last).pc == fresh);  // theirs, queued meanwhile
  const int answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.local_description(t, fresh, answer_op, "answer", sdp("AA", "ua2")); });
  auto answer = p.sent().at(0);
  CHECK(answer.description_type == "answer");
  CHECK(answer.answers == 1);
}

TEST_CASE("perfect negotiation: without implicit rollback, the polite peer rolls back explicitly, then at once") {
  Pair p("a", "b");
  p.answer_first_offer(sdp("BB", "ub"), sdp("AA", "ua"));
  p.make_offer(sdp("AA", "ua"));

  auto retry = p.explicit_rollback_of(2, sdp("BB", "ub"));
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, retry.op); });
  auto answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, answer_op, "answer", sdp("AA", "ua")); });
  CHECK(p.sent().at(0).description_type == "answer");

  // The next collision rolls back first, without waiting for a failure.
  p.make_offer(sdp("AA", "ua"));
  p.from_peer(description(1, 1, 3, "offer", sdp("BB", "ub")));
  auto sld = all<SetLocalDescription>(p.last);
  REQUIRE(sld.size() == 1);
  CHECK(sld[0].type == "rollback");
  CHECK(one<SetRemoteDescription>(p.last).type == "offer");
}

TEST_CASE("perfect negotiation: negotiationneeded outside stable, or with a description operation pending, waits for stable") {
  // node-webrtc (no implicit rollback) fires negotiationneeded after the
  // explicit rollback of a collision, while the peer's offer is already
  // queued behind it. Offering then would make the shim answer that offer
  // from the wrong operation, and our own answer would fail in `stable`.
  // The browser fires it once per need, so it is kept for later.
  Pair p("a", "b");
  p.answer_first_offer(sdp("BB", "ub"), sdp("AA", "ua"));
  p.make_offer(sdp("AA", "ua"));
  // Not stable: not now.
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  CHECK(all<SetLocalDescription>(p.last).empty());

  auto retry = p.explicit_rollback_of(2, sdp("BB", "ub"));
  // Stable again, but the peer's offer is still in the chain.
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  CHECK(all<SetLocalDescription>(p.last).empty());
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  CHECK(all<SetLocalDescription>(p.last).empty());
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, retry.op); });
  auto answer = one<SetLocalDescription>(p.last);  // the answer, nothing else
  CHECK(answer.type.empty());
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });  // the answer is still being made
  CHECK(all<SetLocalDescription>(p.last).empty());
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  CHECK(all<SetLocalDescription>(p.last).empty());  // our answer is not out yet
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, answer.op, "answer", sdp("AA", "ua")); });
  REQUIRE(p.sent().size() == 1);
  CHECK(p.sent()[0].description_type == "answer");
  CHECK(p.sent()[0].answers == 2);
  // Back in stable with nothing pending: the negotiation asked for meanwhile
  // goes ahead, once.
  const int offer = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-local-offer"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, offer, "offer", sdp("AA", "ua")); });
  REQUIRE(p.sent().size() == 1);
  CHECK(p.sent()[0].description_type == "offer");
  CHECK(all<SetLocalDescription>(p.last).empty());
}

TEST_CASE("perfect negotiation: a negotiationneeded that overtakes the rollback's completion still makes the offer") {
  // Chrome 156 fires negotiationneeded for a rolled-back offer before the
  // rollback's signalingstatechange and completion reach the shim, and only
  // once. Ignored, the offer was never made again: the pair waited 15 s for
  // the connect watchdog.
  Pair p("b", "a");  // impolite: opens the pair
  p.open_as_impolite(sdp("AA", "ua"), sdp("BB", "ub"));
  p.make_offer(sdp("AA", "ua"));  // a renegotiation
  const auto first = p.sent().at(0).seq;
  p.fire("answer-timeout");
  auto rollback = one<SetLocalDescription>(p.last);
  REQUIRE(rollback.type == "rollback");
  p.browser([&](Client& c, double t) { c.negotiation_needed(t, p.pc); });
  CHECK(all<SetLocalDescription>(p.last).empty());
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  CHECK(all<SetLocalDescription>(p.last).empty());  // the rollback has not completed yet
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, rollback.op); });
  const int again = one<SetLocalDescription>(p.last).op;
  CHECK(one<SetLocalDescription>(p.last).type.empty());
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-local-offer"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, again, "offer", sdp("AA", "ua")); });
  REQUIRE(p.sent().size() == 1);
  CHECK(p.sent()[0].description_type == "offer");
  CHECK(p.sent()[0].seq > first);
  CHECK(p.timer("answer-timeout").second.due - p.now == 8000);
}

TEST_CASE("trickle ICE: candidates before their description are queued, then added; stale ones dropped") {
  Pair p("a", "b");
  p.from_peer(candidate(1, 0, 2, "u1"));  // overtook the offer
  p.from_peer(candidate(1, 0, 3, "u1"));
  CHECK(all<AddIceCandidate>(p.last).empty());
  p.from_peer(description(1, 0, 1, "offer", sdp("BB", "u1")));
  auto srd = one<SetRemoteDescription>(p.last);
  CHECK(all<AddIceCandidate>(p.last).empty());  // not before the description is set
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, srd.op); });
  CHECK(all<AddIceCandidate>(p.last).size() == 2);
  const int answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, answer_op, "answer", sdp("AA", "ua")); });

  // ICE restart by the peer: a candidate of the new ufrag overtakes the new offer.
  p.from_peer(candidate(1, 1, 5, "u2"));
  CHECK(all<AddIceCandidate>(p.last).empty());
  p.from_peer(description(1, 1, 4, "offer", sdp("BB", "u2")));
  auto srd2 = one<SetRemoteDescription>(p.last);
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, srd2.op); });
  auto added = all<AddIceCandidate>(p.last);
  REQUIRE(added.size() == 1);
  CHECK(added[0].candidate_json.find("\"u2\"") != std::string::npos);
  // A late candidate of the retired ufrag is dropped.
  p.from_peer(candidate(1, 1, 6, "u1"));
  CHECK(all<AddIceCandidate>(p.last).empty());
}

TEST_CASE("signals: duplicates and descriptions older than the newest are dropped") {
  Pair p("a", "b");
  p.from_peer(description(1, 0, 5, "offer", sdp("BB", "u1")));
  auto srd = one<SetRemoteDescription>(p.last);
  p.from_peer(description(1, 0, 5, "offer", sdp("BB", "u1")));  // duplicated by the network
  CHECK(all<SetRemoteDescription>(p.last).empty());
  p.from_peer(description(1, 0, 3, "offer", sdp("BB", "u0")));  // reordered: older
  CHECK(all<SetRemoteDescription>(p.last).empty());
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, srd.op); });
  CHECK(all<SetLocalDescription>(p.last).size() == 1);
  // Garbage inside a well-formed signal is dropped, not fatal.
  p.from_peer(R"({"v":1,"gen":"x"})");
  CHECK(all<ErrorEvent>(p.last).empty());
  CHECK(p.client.peers()[0].state == "connecting");
}

TEST_CASE("generations: a fresh connection from the peer retires ours; late messages for old ones are dropped") {
  Pair p("a", "b");
  const int first = p.pc;
  p.from_peer(description(1, 0, 1, "offer", sdp("BB", "u1")));
  one<SetRemoteDescription>(p.last);
  // The peer gave up on its connection 1 and made connection 2.
  p.from_peer(description(2, 0, 2, "offer", sdp("CC", "u2")));
  CHECK(one<ClosePeerConnection>(p.last).pc == first);
  auto created = one<CreatePeerConnection>(p.last);
  CHECK(created.peer == "b");
  auto srd = one<SetRemoteDescription>(p.last);
  CHECK(srd.pc == created.pc);
  CHECK(p.client.peers()[0].generation == 2);
  // Late traffic of its connection 1 is dropped.
  p.from_peer(candidate(1, 1, 3, "u1"));
  CHECK(all<AddIceCandidate>(p.last).empty());
  CHECK(all<ClosePeerConnection>(p.last).empty());
  // So is traffic addressed to our retired connection 1.
  p.from_peer(candidate(2, 1, 4, "u2"));
  CHECK(all<AddIceCandidate>(p.last).empty());
  // What we send now names both generations.
  p.browser([&](Client& c, double t) { c.operation_done(t, created.pc, srd.op); });
  const int answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.local_description(t, created.pc, answer_op, "answer", sdp("AA", "ua")); });
  auto sent = p.sent().at(0);
  CHECK(sent.gen == 2);
  CHECK(sent.peer_gen == 2);
  // Events of the closed connection are ignored.
  p.browser([&](Client& c, double t) { c.connection_state(t, first, "connected"); });
  CHECK(p.client.peers()[0].state == "connecting");
}

TEST_CASE("recovery: disconnected → grace → ICE restarts with jittered backoff → fresh connection") {
  // The impolite end: it makes its ICE-restart offers itself.
  Pair p("b", "a");
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", "mic"); });
  CHECK(one<AddTrack>(p.last).track == "mic");
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); });
  CHECK(p.client.peers()[0].state == "connected");
  CHECK_FALSE(p.has_timer("connect-watchdog"));

  // A short blip: back before the grace ends, nothing else happens.
  p.browser([&](Client& c, double t) { c.ice_connection_state(t, p.pc, "disconnected"); });
  CHECK(p.client.peers()[0].state == "disconnected");
  CHECK(p.timer("ice-disconnected-grace").second.due - p.now == 5000);
  p.browser([&](Client& c, double t) { c.ice_connection_state(t, p.pc, "connected"); });
  CHECK(p.client.peers()[0].state == "connected");
  CHECK_FALSE(p.has_timer("ice-disconnected-grace"));

  // A long one: restart after 5 s, up to 3 times, then a fresh connection.
  p.browser([&](Client& c, double t) { c.ice_connection_state(t, p.pc, "disconnected"); });
  p.fire("ice-disconnected-grace");
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CHECK(p.client.peers()[0].state == "restart-pending");
    CHECK(p.timer("ice-restart-backoff").second.due - p.now <= 1000LL << (attempt - 1));
    p.fire("ice-restart-backoff");
    CHECK(one<RestartIce>(p.last).pc == p.pc);
    CHECK(p.client.peers()[0].state == "restarting");
    p.fire("ice-restart-watchdog");
  }
  CHECK(one<ClosePeerConnection>(p.last).pc == p.pc);
  auto fresh = one<CreatePeerConnection>(p.last);
  CHECK(fresh.pc != p.pc);
  CHECK(p.client.peers()[0].state == "connecting");
  CHECK(p.client.peers()[0].generation == 2);
  CHECK(p.has_timer("connect-watchdog"));
  CHECK(one<AddTrack>(p.last).track == "mic");  // the new connection sends the same tracks
}

TEST_CASE("recovery: ICE restart backoff uses full jitter under 1 s · 2^(attempt-1), over many seeds") {
  // The impolite end: it makes its ICE-restart offers itself.
  std::vector<std::int64_t> max_delay(4, 0), min_delay(4, 1 << 30);
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    ClientConfig config;
    config.seed = seed;
    Pair p("b", "a", config);
    p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); });
    p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "failed"); });
    for (int attempt = 1; attempt <= 3; ++attempt) {
      REQUIRE(p.client.peers()[0].state == "restart-pending");
      const auto delay = p.timer("ice-restart-backoff").second.due - p.now;
      CHECK(delay >= 0);
      CHECK(delay <= 1000LL << (attempt - 1));
      max_delay[attempt] = std::max(max_delay[attempt], delay);
      min_delay[attempt] = std::min(min_delay[attempt], delay);
      p.fire("ice-restart-backoff");
      REQUIRE(one<RestartIce>(p.last).pc == p.pc);
      p.fire("ice-restart-watchdog");
    }
    CHECK(one<CreatePeerConnection>(p.last).pc != p.pc);  // restarts exhausted: a fresh connection
  }
  // Full jitter: each attempt's whole range is used, and it doubles.
  for (int attempt = 1; attempt <= 3; ++attempt) {
    CAPTURE(attempt);
    const std::int64_t ceiling = 1000LL << (attempt - 1);
    CHECK(max_delay[attempt] > ceiling * 7 / 10);
    CHECK(min_delay[attempt] < ceiling * 3 / 10);
  }
  CHECK(max_delay[3] > 2000);  // beyond the first two ceilings: the backoff grows
}

TEST_CASE("recovery: ICE restart waits for signaling, and `failed` restarts at once without the grace") {
  // The impolite end: it makes its ICE-restart offers itself.
  Pair p("b", "a");
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); });
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_closed(t, p.socket, 1006); });  // signaling away
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "failed"); });
  CHECK(p.client.peers()[0].state == "awaiting-signaling");
  CHECK_FALSE(p.has_timer("ice-restart-backoff"));
  p.fire("reconnect-backoff");
  const int s = one<OpenSocket>(p.last).socket;
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_opened(t, s); });
  CHECK(all<RestartIce>(p.last).empty());
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_message(t, s, welcome("b", "tok-b", {"a"})); });
  p.socket = s;
  // Signaling and media went down together (a network change, most likely):
  // the restart goes at once, without a backoff.
  CHECK(one<RestartIce>(p.last).pc == p.pc);
  CHECK(p.client.peers()[0].state == "restarting");
  CHECK_FALSE(p.has_timer("ice-restart-backoff"));
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); });
  CHECK(p.client.peers()[0].state == "connected");
  CHECK(all<CreatePeerConnection>(p.last).empty());
}

TEST_CASE("recovery: a connection that does not come up while signaling is away waits for it, then is made afresh") {
  Pair p("a", "b");
  const int first = p.pc;
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_closed(t, p.socket, 1006); });  // signaling away
  p.stall();
  // No fresh connection into the void: its offer could not reach the peer,
  // and it would count toward giving the peer up.
  CHECK(all<CreatePeerConnection>(p.last).empty());
  CHECK(all<ClosePeerConnection>(p.last).empty());
  CHECK(p.client.peers()[0].state == "awaiting-signaling");
  CHECK(p.client.peers()[0].generation == 1);
  p.fire("reconnect-backoff");
  const int s = one<OpenSocket>(p.last).socket;
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_opened(t, s); });
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_message(t, s, welcome("a", "tok-a", {"b"})); });
  p.socket = s;
  // Never up, so nothing for an ICE restart to repair: a fresh connection.
  CHECK(all<RestartIce>(p.last).empty());
  CHECK(one<ClosePeerConnection>(p.last).pc == first);
  CHECK(one<CreatePeerConnection>(p.last).pc != first);
  CHECK(p.client.peers()[0].state == "connecting");
  CHECK(p.client.peers()[0].generation == 2);
}

TEST_CASE("recovery: restarts used up while signaling is away: the fresh connection waits for signaling too") {
  // The impolite end: it makes its ICE-restart offers itself.
  Pair p("b", "a");
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); });
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "failed"); });
  for (int attempt = 1; attempt <= 3; ++attempt) {
    p.fire("ice-restart-backoff");
    REQUIRE(one<RestartIce>(p.last).pc == p.pc);
    if (attempt < 3) p.fire("ice-restart-watchdog");
  }
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_closed(t, p.socket, 1006); });  // signaling away
  p.fire("ice-restart-watchdog");
  CHECK(all<CreatePeerConnection>(p.last).empty());
  CHECK(p.client.peers()[0].state == "awaiting-signaling");
  p.fire("reconnect-backoff");
  const int s = one<OpenSocket>(p.last).socket;
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_opened(t, s); });
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_message(t, s, welcome("b", "tok-b", {"a"})); });
  CHECK(one<CreatePeerConnection>(p.last).pc != p.pc);  // restarts exhausted: fresh, now that it can be negotiated
  CHECK(p.client.peers()[0].state == "connecting");
}

// The browser takes a setParameters of ours.
void parameters_taken(Pair& p, const SetSenderParameters& s) {
  p.browser([&](Client& c, double t) { c.operation_done(t, s.pc, s.op); });
}

// The pair's connection comes up.
void connected(Pair& p, int handle) {
  p.browser([&](Client& c, double t) { c.connection_state(t, handle, "connected"); });
}

// Our camera on, the connection up, the peer silent about its view: the
// sender's first limits, the budget's, once the wait for the view is over.
SetSenderParameters camera_on_and_up(Pair& p) {
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); });
  REQUIRE(one<AddTrack>(p.last).kind == MediaKind::Video);
  connected(p, p.pc);
  return one<SetSenderParameters>(p.fire("sender-parameters-first-view"));
}

TEST_CASE("uplink budget: a new sender's first limits wait for its connection, and go with the peer's view") {
  ClientConfig config;
  config.sender_first_view_wait_ms = 600;
  Pair p("a", "b", config);
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); });
  REQUIRE(one<AddTrack>(p.last).kind == MediaKind::Video);
  // Nothing is encoded before the connection is up: no limits yet, however
  // the budget changes meanwhile.
  CHECK(all<SetSenderParameters>(p.last).empty());
  CHECK(all<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 1200); })).empty());
  // Up: the peer says how large it draws us just after, over the data channel.
  connected(p, p.pc);
  CHECK(all<SetSenderParameters>(p.last).empty());
  CHECK(p.timer("sender-parameters-first-view").second.due - p.now == 600);
  // Its view: one request, with the view in it, at once.
  auto params = one<SetSenderParameters>(p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, serialize_view(240)); }));
  const auto expected = split_uplink_by_view(1200, 40, false, {}, {240});
  REQUIRE(expected.size() == 1);
  CHECK(params.max_bitrate_bps == expected[0].max_bitrate_bps);
  CHECK(params.scale_resolution_down_by == expected[0].scale_resolution_down_by);
  CHECK(params.max_framerate == expected[0].max_framerate);
  CHECK_FALSE(p.has_timer("sender-parameters-first-view"));
  parameters_taken(p, params);
  CHECK(all<SetSenderParameters>(p.last).empty());
}

TEST_CASE("uplink budget: a view in the peer's offer sets a new sender's first limits before the connection is up") {
  Pair p("a", "b");  // polite: b opens the pair
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); });
  REQUIRE(one<AddTrack>(p.last).kind == MediaKind::Video);
  CHECK(all<SetSenderParameters>(p.last).empty());
  // b's first offer says it draws us 180 px high: the first frame encoded is that size.
  PeerSignal offer;
  offer.gen = 1;
  offer.seq = 1;
  offer.description_type = "offer";
  offer.sdp = sdp("AA:BB", "ub");
  offer.view = 180;
  auto& outputs = p.from_peer(serialize(offer));
  CHECK(one<SetRemoteDescription>(outputs).pc == p.pc);
  const auto params = one<SetSenderParameters>(outputs);
  const auto expected = split_uplink_by_view(2500, 40, false, {}, {180});
  REQUIRE(expected.size() == 1);
  CHECK(params.scale_resolution_down_by == expected[0].scale_resolution_down_by);
  CHECK(params.max_bitrate_bps == expected[0].max_bitrate_bps);
  CHECK(params.max_framerate == expected[0].max_framerate);
  parameters_taken(p, params);
  // Up, and the same view again over the data channel: nothing more to ask.
  connected(p, p.pc);
  CHECK(all<SetSenderParameters>(p.last).empty());
  CHECK_FALSE(p.has_timer("sender-parameters-first-view"));
  p.browser([&](Client& c, double t) { c.data_channel_open(t, p.pc); });
  CHECK(all<SetSenderParameters>(p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, serialize_view(180)); })).empty());
  CHECK_FALSE(p.has_timer("sender-parameters-gather"));
  // With the channel open, only its view counts: one in a later description
  // (relayed by the server, maybe altered) changes nothing.
  PeerSignal renegotiation = offer;
  renegotiation.peer_gen = 1;
  renegotiation.seq = 2;
  renegotiation.view = 0;
  CHECK(one<SetRemoteDescription>(p.from_peer(serialize(renegotiation))).pc == p.pc);
  CHECK(all<SetSenderParameters>(p.last).empty());
  CHECK_FALSE(p.has_timer("sender-parameters-gather"));  // no change of limits on its way
}

TEST_CASE("views: our offers and answers say how large we draw the peer, once we know") {
  Pair p("a", "b");
  p.answer_first_offer(sdp("AA:BB", "ub"), sdp("CC:DD", "ua"));
  CHECK_FALSE(p.sent().at(0).view);  // no tile laid out yet: nothing said
  p.at(p.now + 1, [&](Client& c, double t) { c.set_view(t, "b", 0); });
  p.at(p.now + 1, [&](Client& c, double t) { c.set_view(t, "b", 270); });
  // b offers again (a renegotiation): our answer carries the view.
  p.from_peer(description(1, 1, 2, "offer", sdp("AA:BB", "ub")));
  const int srd = one<SetRemoteDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "have-remote-offer"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, srd); });
  const int answer_op = one<SetLocalDescription>(p.last).op;
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.local_description(t, p.pc, answer_op, "answer", sdp("CC:DD", "ua")); });
  REQUIRE(p.sent().at(0).description_type == "answer");
  CHECK(p.sent().at(0).view == 270);
}

TEST_CASE("views: a view learnt after our description went out follows it alone, until the data channel opens") {
  Pair p("b", "a");  // impolite: we open the pair
  p.make_offer(sdp("CC:DD", "ub"));
  REQUIRE(p.sent().at(0).description_type == "offer");
  CHECK_FALSE(p.sent().at(0).view);  // our tile of a was not laid out yet
  // Laid out a frame later: the view follows the offer.
  p.at(p.now + 1, [&](Client& c, double t) { c.set_view(t, "a", 240); });
  REQUIRE(p.sent().size() == 1);
  CHECK(p.sent().at(0).kind == PeerSignalKind::View);
  CHECK(p.sent().at(0).view == 240);
  // A step within a tenth says nothing; a larger one does.
  p.at(p.now + 1, [&](Client& c, double t) { c.set_view(t, "a", 250); });
  CHECK(p.sent().empty());
  p.at(p.now + 1, [&](Client& c, double t) { c.set_view(t, "a", 180); });
  CHECK(p.sent().at(0).view == 180);
  // The channel open: views go over it, not through the server.
  p.browser([&](Client& c, double t) { c.data_channel_open(t, p.pc); });
  p.at(p.now + 1, [&](Client& c, double t) { c.set_view(t, "a", 360); });
  CHECK(p.sent().empty());
  const auto over_channel = all<SendData>(p.last);
  REQUIRE(over_channel.size() == 1);
  CHECK(over_channel[0].text == serialize_view(360));
}

TEST_CASE("uplink budget: a view alone from the peer sets a new sender's first limits before the connection is up") {
  Pair p("a", "b");  // polite: b opens the pair
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); });
  p.answer_first_offer(sdp("AA:BB", "ub"), sdp("CC:DD", "ua"));  // b's offer said no view
  CHECK(all<SetSenderParameters>(p.last).empty());
  PeerSignal view;
  view.kind = PeerSignalKind::View;
  view.gen = 1;
  view.peer_gen = 1;
  view.seq = 2;
  view.view = 180;
  const auto params = one<SetSenderParameters>(p.from_peer(serialize(view)));
  CHECK(params.scale_resolution_down_by == split_uplink_by_view(2500, 40, false, {}, {180})[0].scale_resolution_down_by);
}

TEST_CASE("uplink budget: a peer that never says its view gets the budget's limits a moment after the connection is up") {
  ClientConfig config;
  config.sender_first_view_wait_ms = 600;
  Pair p("a", "b", config);
  auto params = camera_on_and_up(p);
  const auto expected = split_uplink_budget(2500, 40, 1, false);
  CHECK(params.max_bitrate_bps == expected.max_bitrate_bps);
  CHECK(params.scale_resolution_down_by == expected.scale_resolution_down_by);
  parameters_taken(p, params);
  // A view said later is a change like any other: gathered.
  CHECK(all<SetSenderParameters>(p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, serialize_view(240)); })).empty());
  CHECK(one<SetSenderParameters>(p.fire("sender-parameters-gather")).scale_resolution_down_by > params.scale_resolution_down_by);
}

TEST_CASE("tracks: add, replace and remove reach every connection; the uplink budget follows") {
  Pair p("a", "b");
  auto params = camera_on_and_up(p);
  const auto expected = split_uplink_budget(2500, 40, 1, false);
  CHECK(params.max_bitrate_bps == expected.max_bitrate_bps);
  CHECK(params.scale_resolution_down_by == expected.scale_resolution_down_by);
  parameters_taken(p, params);
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "screen"); });
  CHECK(one<ReplaceTrack>(p.last).track == "screen");
  CHECK(all<AddTrack>(p.last).empty());
  for (const auto& s : all<SetSenderParameters>(p.last)) parameters_taken(p, s);
  // Less bitrate: gathered for a moment, then one request.
  p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 800); });
  CHECK(all<SetSenderParameters>(p.last).empty());
  auto lower = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(lower.max_bitrate_bps == 800000);
  parameters_taken(p, lower);
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", ""); });
  CHECK(one<RemoveTrack>(p.last).kind == MediaKind::Video);
  // A camera again, on a connection that is up: a new sender, its limits at once.
  auto again = one<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam2"); }));
  CHECK(again.max_bitrate_bps == 800000);
  // A second peer halves each sender's share: the new connection's sender
  // gets its half once that connection is up, ours to b once its request in
  // flight settled and the burst was gathered.
  p.at(p.now + 1, [&](Client& c, double t) {
    c.socket_message(t, p.socket, R"({"type":"peer-joined","peer":{"id":"c","name":"C"}})");
  });
  const int c_pc = one<CreatePeerConnection>(p.last).pc;
  CHECK(all<SetSenderParameters>(p.last).empty());
  connected(p, c_pc);
  auto to_c = one<SetSenderParameters>(p.fire("sender-parameters-first-view"));
  CHECK(to_c.pc == c_pc);
  CHECK(to_c.max_bitrate_bps == 400000);
  parameters_taken(p, again);
  CHECK(all<SetSenderParameters>(p.last).empty());
  auto halved = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(halved.pc == p.pc);
  CHECK(halved.max_bitrate_bps == 400000);
}

TEST_CASE("uplink budget: an unreachable peer takes no share; its fresh connection takes one again") {
  Pair p("a", "b");
  p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 800); });
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); });
  p.at(p.now + 1, [&](Client& c, double t) {
    c.socket_message(t, p.socket, R"({"type":"peer-joined","peer":{"id":"c","name":"C"}})");
  });
  const int to_c = one<CreatePeerConnection>(p.last).pc;
  CHECK(all<SetSenderParameters>(p.last).empty());  // neither connection is up
  connected(p, to_c);
  const auto first_to_c = one<SetSenderParameters>(p.fire("sender-parameters-first-view"));  // only c's
  CHECK(first_to_c.pc == to_c);
  CHECK(first_to_c.max_bitrate_bps == 400000);
  parameters_taken(p, first_to_c);
  // b never comes up: fresh connections until b is unreachable, and none of
  // their senders is ever asked to take limits.
  for (int fresh = 0; fresh < 3; ++fresh) {
    p.stall();
    REQUIRE(all<CreatePeerConnection>(p.last).size() == 1);
    CHECK(all<SetSenderParameters>(p.last).empty());
  }
  p.stall();
  CHECK(all<CreatePeerConnection>(p.last).empty());
  REQUIRE(p.client.peers().size() == 2);
  CHECK(p.client.peers()[0].state == "unreachable");
  // The whole budget now goes to c, the only peer we upload to (after the
  // moment any change is gathered for).
  auto params = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(params.pc == to_c);
  CHECK(params.max_bitrate_bps == 800000);
  parameters_taken(p, params);
  // b comes back with a fresh connection of its own: two shares again, c's
  // gathered, the new sender's once its connection is up.
  p.from_peer(description(5, 0, 1, "offer", sdp("BB", "ub")));
  const int back = one<CreatePeerConnection>(p.last).pc;
  CHECK(all<SetSenderParameters>(p.last).empty());
  auto to_c_again = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(to_c_again.pc == to_c);
  CHECK(to_c_again.max_bitrate_bps == 400000);
  parameters_taken(p, to_c_again);
  connected(p, back);
  auto to_back = one<SetSenderParameters>(p.fire("sender-parameters-first-view"));
  CHECK(to_back.pc == back);
  CHECK(to_back.max_bitrate_bps == 400000);
}

TEST_CASE("uplink budget: a refused setParameters is asked again after a delay, or at once when the connection comes back") {
  ClientConfig config;
  config.sender_parameters_retry_ms = 700;
  Pair p("a", "b", config);
  auto first = camera_on_and_up(p);
  p.browser([&](Client& c, double t) { c.operation_failed(t, p.pc, first.op, "InvalidModificationError", "encodings"); });
  CHECK(p.timer("sender-parameters-retry").second.due - p.now == 700);
  auto again = one<SetSenderParameters>(p.fire("sender-parameters-retry"));
  CHECK(again.op != first.op);
  CHECK(again.max_bitrate_bps == first.max_bitrate_bps);
  CHECK(again.scale_resolution_down_by == first.scale_resolution_down_by);
  parameters_taken(p, again);
  CHECK_FALSE(p.has_timer("sender-parameters-retry"));
  // Applied: the same budget is not asked again.
  CHECK(all<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 2500); })).empty());
  CHECK_FALSE(p.has_timer("sender-parameters-gather"));

  // Refused while the connection is down, then changed while waiting for the
  // retry: nothing is asked until the connection comes back, and then the
  // newest limits at once.
  p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 700); });
  auto lower = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "disconnected"); });
  p.browser([&](Client& c, double t) { c.operation_failed(t, p.pc, lower.op, "InvalidModificationError", "encodings"); });
  CHECK(all<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 600); })).empty());
  auto on_connect = one<SetSenderParameters>(p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); }));
  CHECK(on_connect.max_bitrate_bps == 600000);
  CHECK_FALSE(p.has_timer("sender-parameters-retry"));  // that attempt is the retry
  // The video track removed while a request is on its way, and another
  // added: the old sender's late refusal is not the new sender's.
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", ""); });
  auto fresh = one<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam2"); }));
  p.browser([&](Client& c, double t) { c.operation_failed(t, p.pc, on_connect.op, "InvalidStateError", "the sender is gone"); });
  CHECK_FALSE(p.has_timer("sender-parameters-retry"));
  parameters_taken(p, fresh);

  // Refused every time: after the attempts run out, no more timers; new
  // limits then get a full round of attempts again.
  auto refuse = [&](const SetSenderParameters& s) {
    p.browser([&](Client& c, double t) { c.operation_failed(t, s.pc, s.op, "InvalidModificationError", "encodings"); });
  };
  p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 500); });
  refuse(one<SetSenderParameters>(p.fire("sender-parameters-gather")));
  for (int attempt = 2; attempt <= config.sender_parameters_attempts; ++attempt)
    refuse(one<SetSenderParameters>(p.fire("sender-parameters-retry")));
  CHECK_FALSE(p.has_timer("sender-parameters-retry"));
  auto newer = one<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 450); }));
  CHECK(newer.max_bitrate_bps == 450000);
  refuse(newer);
  CHECK(p.has_timer("sender-parameters-retry"));
}

TEST_CASE("uplink budget: a burst of changes is one setParameters; video turned back on goes at once") {
  ClientConfig config;
  config.sender_parameters_gather_ms = 300;
  Pair p("a", "b", config);
  parameters_taken(p, camera_on_and_up(p));
  // Three cuts within the window (2500 → 1200 → 1000 → 900 kbps): one
  // request, with the last, when the window that the first opened ends.
  const std::int64_t first_cut = p.now + 1;
  CHECK(all<SetSenderParameters>(p.at(first_cut, [](Client& c, double t) { c.set_uplink_budget(t, 1200); })).empty());
  CHECK(all<SetSenderParameters>(p.at(first_cut + 100, [](Client& c, double t) { c.set_uplink_budget(t, 1000); })).empty());
  CHECK(all<SetSenderParameters>(p.at(first_cut + 200, [](Client& c, double t) { c.set_uplink_budget(t, 900); })).empty());
  CHECK(p.timer("sender-parameters-gather").second.due == first_cut + 300);
  auto cut = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(cut.max_bitrate_bps == 900000);
  // Changes while it is on its way wait for its outcome, then are gathered
  // in turn (one request, not one per change).
  CHECK(all<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 800); })).empty());
  CHECK(all<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 700); })).empty());
  parameters_taken(p, cut);
  CHECK(all<SetSenderParameters>(p.last).empty());
  auto next = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(next.max_bitrate_bps == 700000);
  CHECK(next.scale_resolution_down_by == 2.0);
  parameters_taken(p, next);
  // A burst that ends where it started asks nothing.
  p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 600); });
  p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 700); });
  CHECK(all<SetSenderParameters>(p.fire("sender-parameters-gather")).empty());
  // More budget and a larger picture (2× → 1× down): gathered too.
  CHECK(all<SetSenderParameters>(p.at(p.now + 1, [](Client& c, double t) { c.set_uplink_budget(t, 2500); })).empty());
  auto larger = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK(larger.scale_resolution_down_by == 1.0);
  parameters_taken(p, larger);
  // The peer stops drawing our video (its tab hidden): gathered as well.
  CHECK(all<SetSenderParameters>(p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, serialize_view(0)); })).empty());
  auto off = one<SetSenderParameters>(p.fire("sender-parameters-gather"));
  CHECK_FALSE(off.active);
  parameters_taken(p, off);
  // It draws it again: at once, for the tile is empty until the video comes.
  auto on = one<SetSenderParameters>(p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, serialize_view(360)); }));
  CHECK(on.active);
  CHECK_FALSE(p.has_timer("sender-parameters-gather"));
}

TEST_CASE("lost answers: an unanswered renegotiation is rolled back and redone; a late answer to it is dropped") {
  Pair p("b", "a");  // impolite: opens the pair
  p.open_as_impolite(sdp("AA", "ua"), sdp("BB", "ub"));
  auto offer = [&]() {
    p.make_offer(sdp("AA", "ua"));
    return p.sent().at(0).seq;
  };
  const auto first = offer();
  CHECK(p.timer("answer-timeout").second.due - p.now == 8000);
  p.fire("answer-timeout");
  auto rollback = one<SetLocalDescription>(p.last);
  CHECK(rollback.type == "rollback");
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  p.browser([&](Client& c, double t) { c.operation_done(t, p.pc, rollback.op); });
  const auto second = offer();  // the browser's negotiation-needed flag asks again
  CHECK(second > first);

  PeerSignal late;
  late.gen = 1;
  late.peer_gen = 1;
  late.seq = 2;
  late.answers = first;
  late.description_type = "answer";
  late.sdp = sdp("BB", "ub");
  p.from_peer(serialize(late));
  CHECK(all<SetRemoteDescription>(p.last).empty());
  late.seq = 3;
  late.answers = second;
  p.from_peer(serialize(late));
  CHECK(one<SetRemoteDescription>(p.last).type == "answer");
  p.browser([&](Client& c, double t) { c.signaling_state(t, p.pc, "stable"); });
  CHECK_FALSE(p.has_timer("answer-timeout"));
}

TEST_CASE("lost answers: no rollback while signaling is away; the wait starts over once it is back") {
  Pair p("b", "a");  // impolite: opens the pair
  p.open_as_impolite(sdp("AA", "ua"), sdp("BB", "ub"));
  p.make_offer(sdp("AA", "ua"));  // a renegotiation
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_closed(t, p.socket, 1006); });
  p.fire("answer-timeout");
  CHECK(all<SetLocalDescription>(p.last).empty());  // the server may still deliver it after the resume
  p.fire("reconnect-backoff");
  const int s = one<OpenSocket>(p.last).socket;
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_opened(t, s); });
  p.at(p.now + 1, [&](Client& c, double t) { c.socket_message(t, s, welcome("b", "tok-b", {"a"})); });
  CHECK(p.timer("answer-timeout").second.due - p.now == 8000);
  p.fire("answer-timeout");
  CHECK(one<SetLocalDescription>(p.last).type == "rollback");
}

TEST_CASE("media state: sent as the data channel opens and on every change while it is open; received as peer-media") {
  Pair p("a", "b");
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", "mic"); });
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); });
  // Muted before the channel is open: the track is disabled, nothing to send yet.
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "audio", true); });
  CHECK_FALSE(one<SetTrackEnabled>(p.last).enabled);
  CHECK(all<SendData>(p.last).empty());
  // Nor for the changes that follow: nothing is queued.
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", true); });
  CHECK(all<SendData>(p.last).empty());
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", false); });
  CHECK(all<SendData>(p.last).empty());

  auto said = [](bool audio, bool video, bool screen = false) { return serialize_media_state({audio, video, screen}); };
  // The channel opens: where we stand then, once.
  p.browser([&](Client& c, double t) { c.data_channel_open(t, p.pc); });
  auto sends = all<SendData>(p.last);
  REQUIRE(sends.size() == 1);
  CHECK(sends[0].text == said(false, true));

  auto told = [&](std::vector<Output>& outs) {
    auto data = all<SendData>(outs);
    return data.size() == 1 ? data[0].text : std::string("(" + std::to_string(data.size()) + " messages)");
  };
  // Changes go out at once; a repeat is no change.
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", true); })) == said(false, false));
  CHECK(all<SendData>(p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", true); })).empty());
  // A screen shared with the camera off is live (and said to be a screen),
  // and the camera is still off afterwards.
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "screen", "screen-1"); })) ==
        said(false, true, true));
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); })) ==
        said(false, false));
  // "Camera off" while sharing is the camera's: the screen stays live, the
  // peers hear nothing; back on the camera, it is off.
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", false); });
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "screen", "screen-2"); })) ==
        said(false, true, true));
  CHECK(all<SendData>(p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", true); })).empty());
  CHECK_FALSE(one<SetTrackEnabled>(p.last).enabled);  // the shim leaves screens alone
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam"); })) ==
        said(false, false));
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", false); })) == said(false, true));
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "audio", false); })) == said(true, true));
  // No track is not live either.
  CHECK(told(p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", ""); })) == said(false, true));

  // From the peer: peer-media.
  p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, R"({"t":"media","audio":false,"video":true})"); });
  auto media = one<PeerMediaChanged>(p.last);
  CHECK(media.peer == "b");
  CHECK_FALSE(media.audio);
  CHECK(media.video);
  CHECK_FALSE(media.screen);
  p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, said(true, true, true)); });
  CHECK(one<PeerMediaChanged>(p.last).screen);
  p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, R"({"t":"media","audio":false})"); });
  CHECK(all<PeerMediaChanged>(p.last).empty());
  CHECK(all<ErrorEvent>(p.last).empty());
  // An older peer's chat (the core carried it once) is an unknown message: ignored.
  p.browser([&](Client& c, double t) { c.data_channel_message(t, p.pc, R"({"t":"chat","text":"hi","direct":false})"); });
  CHECK(all<PeerMediaChanged>(p.last).empty());
  CHECK(all<SendData>(p.last).empty());
  CHECK(all<ErrorEvent>(p.last).empty());

  // A fresh connection: no channel until it opens, then the state again.
  p.stall();
  const int fresh = one<CreatePeerConnection>(p.last).pc;
  CHECK(all<SendData>(p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", true); })).empty());
  p.browser([&](Client& c, double t) { c.data_channel_open(t, fresh); });
  CHECK(one<SendData>(p.last).pc == fresh);
  CHECK(one<SendData>(p.last).text == said(false, false));
}

TEST_CASE("media state: another camera or microphone picked while its kind is off stays off") {
  Pair p("a", "b");
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", "mic-1"); });
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam-1"); });
  p.browser([&](Client& c, double t) { c.data_channel_open(t, p.pc); });
  auto said = [](bool audio, bool video) { return serialize_media_state({audio, video, false}); };
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", true); });
  CHECK(one<SendData>(p.last).text == said(true, false));
  // "Camera off", then another camera: the shim disables it, the peers hear nothing new.
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "video", "cam-2"); });
  CHECK_FALSE(one<SetTrackEnabled>(p.last).enabled);
  CHECK(one<SetTrackEnabled>(p.last).kind == MediaKind::Video);
  CHECK(all<SendData>(p.last).empty());
  // On again: the new camera is live.
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "video", false); });
  CHECK(one<SendData>(p.last).text == said(true, true));
  // The same for a microphone switched while muted; one given unmuted starts enabled.
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "audio", true); });
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", "mic-2"); });
  CHECK_FALSE(one<SetTrackEnabled>(p.last).enabled);
  CHECK(all<SendData>(p.last).empty());
  p.at(p.now + 1, [](Client& c, double t) { c.set_muted(t, "audio", false); });
  p.at(p.now + 1, [](Client& c, double t) { c.set_local_track(t, "audio", "mic-3"); });
  CHECK(all<SetTrackEnabled>(p.last).empty());
  CHECK(all<SendData>(p.last).empty());  // live before, live now: no change to tell
}

TEST_CASE("recovery: the polite end asks the impolite end for an ICE restart instead of offering one itself") {
  // Polite: its restart is a request to the peer, never an offer of its own
  // (crossed restart offers freeze Chrome's video; see peer_signal.hpp).
  Pair polite("a", "b");
  polite.browser([&](Client& c, double t) { c.connection_state(t, polite.pc, "connected"); });
  polite.browser([&](Client& c, double t) { c.connection_state(t, polite.pc, "failed"); });
  polite.fire("ice-restart-backoff");
  CHECK(all<RestartIce>(polite.last).empty());
  CHECK(polite.client.peers()[0].state == "restarting");
  auto asked = polite.sent();
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].kind == PeerSignalKind::IceRestartRequest);
  // A request reaching a polite end is ignored: only the impolite end restarts.
  polite.from_peer(restart_request(1, 1, 5));
  CHECK(all<RestartIce>(polite.last).empty());

  // Impolite: a request restarts ICE on a negotiated connection...
  Pair impolite("b", "a");
  impolite.open_as_impolite(sdp("BB", "ub"), sdp("AA", "ua"));
  impolite.from_peer(restart_request(1, 1, 2));
  CHECK(one<RestartIce>(impolite.last).pc == impolite.pc);
  // ...and one for a connection never negotiated is left to the connect watchdog.
  Pair fresh("b", "a");
  fresh.from_peer(restart_request(1, 0, 1));
  CHECK(all<RestartIce>(fresh.last).empty());
}

TEST_CASE("verification: a description whose fingerprints disagree is never applied, and the peer is reported") {
  // A hostile signaling server keeps the honest fingerprint where a reader
  // of the first line would look and adds its own where the browser looks.
  Pair p("a", "b");
  const std::string forged = "v=0\r\na=fingerprint:sha-256 BB:BB\r\na=ice-ufrag:ub\r\nm=audio 9\r\na=fingerprint:sha-256 EE:EE\r\n";
  p.from_peer(description(1, 0, 1, "offer", forged));
  CHECK(all<SetRemoteDescription>(p.last).empty());
  auto error = one<ErrorEvent>(p.last);
  CHECK(error.code == "verification-failed");
  CHECK(error.peer == "b");
  CHECK(p.client.peers()[0].verification_code.empty());
  // The same certificate named twice (session and media level) is not a disagreement.
  Pair q("a", "b");
  q.answer_first_offer("v=0\r\na=fingerprint:sha-256 BB:BB\r\na=ice-ufrag:ub\r\nm=audio 9\r\na=fingerprint:sha-256 bb:bb\r\n",
                       sdp("AA", "ua"));
  CHECK(all<ErrorEvent>(q.last).empty());
}

TEST_CASE("negotiation: a description the browser refuses for itself (not for the signaling state) gets the pair a fresh connection") {
  // The peer's renegotiation offer, refused: m-lines in another order than
  // before (Chrome, after an offer of the peer's was rolled back past the
  // answer we had sent). The peer would offer the same again and again.
  Pair p("a", "b");
  p.answer_first_offer(sdp("BB", "ub"), sdp("AA", "ua"));
  p.browser([&](Client& c, double t) { c.connection_state(t, p.pc, "connected"); });
  const int first = p.pc;
  p.from_peer(description(1, 1, 3, "offer", sdp("BB", "ub")));
  auto srd = one<SetRemoteDescription>(p.last);
  p.browser([&](Client& c, double t) {
    c.operation_failed(t, first, srd.op, "InvalidAccessError", "The order of m-lines in subsequent offer doesn't match");
  });
  CHECK(one<ClosePeerConnection>(p.last).pc == first);
  CHECK(one<CreatePeerConnection>(p.last).pc != first);
  CHECK(p.client.peers()[0].state == "connecting");
  CHECK(p.client.peers()[0].generation == 2);

  // A refusal for the signaling state is a race that the next negotiation
  // puts right: no fresh connection for it.
  Pair q("a", "b");
  q.answer_first_offer(sdp("BB", "ub"), sdp("AA", "ua"));
  q.browser([&](Client& c, double t) { c.connection_state(t, q.pc, "connected"); });
  q.from_peer(description(1, 1, 3, "offer", sdp("BB", "ub")));
  auto srd2 = one<SetRemoteDescription>(q.last);
  q.browser([&](Client& c, double t) { c.operation_failed(t, q.pc, srd2.op, "InvalidStateError", "wrong state"); });
  CHECK(all<CreatePeerConnection>(q.last).empty());
  CHECK(q.client.peers()[0].state == "connected");

  // Our renegotiation's answer refused: the same.
  Pair r("b", "a");
  r.open_as_impolite(sdp("BB", "ub"), sdp("AA", "ua"));
  r.browser([&](Client& c, double t) { c.connection_state(t, r.pc, "connected"); });
  const int mine = r.pc;
  r.make_offer(sdp("BB", "ub"));
  r.peer_answers(2, sdp("AA", "ua"));
  auto sra = one<SetRemoteDescription>(r.last);
  r.browser([&](Client& c, double t) { c.operation_failed(t, mine, sra.op, "OperationError", "m-lines do not match the offer"); });
  CHECK(one<ClosePeerConnection>(r.last).pc == mine);
  CHECK(one<CreatePeerConnection>(r.last).pc != mine);
}
