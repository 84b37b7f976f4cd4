// The Negotiator on its own: two ends wired back to back, the test playing
// both browsers. What a user would notice: a new pair opens once, offers
// that cross end with exactly one offer taken (the polite end yields, the
// impolite end ignores), a browser without implicit rollback still yields,
// a renegotiation asked for mid-exchange is not lost, and a lost answer does
// not freeze renegotiation.
#include <doctest/doctest.h>

#include <type_traits>
#include <vector>

#include "wasm/core/negotiator.hpp"

using namespace meshmeet::core;
using Phase = Negotiator::Phase;

namespace {

template <class T>
std::vector<T> all_of(const std::vector<Output>& outputs) {
  std::vector<T> found;
  for (const auto& o : outputs)
    if (const T* t = std::get_if<T>(&o)) found.push_back(*t);
  return found;
}

// What the test, as the browser, is asked to do (logs aside).
std::vector<Output> browser_ops(const std::vector<Output>& outputs) {
  std::vector<Output> ops;
  for (const auto& o : outputs)
    if (std::holds_alternative<SetLocalDescription>(o) || std::holds_alternative<SetRemoteDescription>(o)) ops.push_back(o);
  return ops;
}

template <class T>
T only(const std::vector<Output>& outputs) {
  auto found = all_of<T>(outputs);
  REQUIRE(found.size() == 1);
  return found[0];
}

// One end: its negotiator, and the browser's answers to it played by the test.
struct End {
  explicit End(bool polite) : polite(polite) { ctx.set_signaling_up(true); }
  CoreContext ctx{ClientConfig{}};
  Negotiator negotiator{ctx, "peer", [](const std::string& sdp) { return sdp; }};
  bool polite;
  std::vector<std::string> applied;  // the peer's descriptions as set
  std::uint64_t next_seq = 1;

  void open(Opener opener, bool gathered = true) {
    negotiator.reset(1, polite, opener);
    if (gathered) negotiator.on_local_candidate(0);
    ctx.drain();
  }
  std::vector<Output> drain() { return ctx.drain(); }
  void signaling(SignalingState state) { negotiator.on_signaling_state(0, state); }
  void done(int op) {
    negotiator.on_operation_done(0, op, [&](const std::string& sdp) { applied.push_back(sdp); });
  }
  // The browser set what SLD was asked for: returns the seq it went out with (0: not sent).
  std::uint64_t described(int op, const std::string& type) {
    if (!negotiator.on_local_description(0, op, type)) return 0;
    const std::uint64_t seq = next_seq++;
    negotiator.on_description_sent(0, type, seq);
    return seq;
  }
  // negotiationneeded → SLD(offer) → have-local-offer → the offer goes out.
  std::uint64_t offer() {
    negotiator.on_negotiation_needed(0);
    const int op = only<SetLocalDescription>(drain()).op;
    CHECK(negotiator.phase() == Phase::MakingOffer);
    signaling(SignalingState::HaveLocalOffer);
    return described(op, "offer");
  }
  // The peer's offer arrives, is set, and answered: returns the answer's seq.
  std::uint64_t answer(std::uint64_t offer_seq) {
    negotiator.on_peer_description(0, offer_seq, "offer", 0, "offer-sdp");
    const auto srd = only<SetRemoteDescription>(drain());
    CHECK(negotiator.phase() == Phase::ApplyingPeerOffer);
    return answer_set(srd);
  }
  // The browser set the peer's offer (`srd`); our answer is set and goes
  // out: returns its seq.
  std::uint64_t answer_set(const SetRemoteDescription& srd) {
    signaling(SignalingState::HaveRemoteOffer);
    done(srd.op);
    CHECK(negotiator.phase() == Phase::Answering);
    const int sld = only<SetLocalDescription>(drain()).op;
    signaling(SignalingState::Stable);
    return described(sld, "answer");
  }
  void take_answer(std::uint64_t answers) {
    negotiator.on_peer_description(0, 100 + answers, "answer", answers, "answer-sdp");
    const auto srd = only<SetRemoteDescription>(drain());
    CHECK(srd.type == "answer");
    CHECK(negotiator.phase() == Phase::ApplyingPeerAnswer);
    signaling(SignalingState::Stable);
    done(srd.op);
  }
};

}  // namespace

TEST_CASE("negotiator: a new pair opens once: the impolite end offers, the polite end waits for it") {
  End impolite(false), polite(true);
  impolite.open(Opener::Us);
  polite.open(Opener::Peer);

  polite.negotiator.on_negotiation_needed(0);
  CHECK(all_of<SetLocalDescription>(polite.drain()).empty());  // not its to open
  CHECK(polite.negotiator.phase() == Phase::Stable);

  const std::uint64_t offer = impolite.offer();
  REQUIRE(offer != 0);
  CHECK(impolite.negotiator.phase() == Phase::AwaitingAnswer);
  CHECK(all_of<StartTimer>(impolite.drain()).empty());  // a first offer is left to the connect watchdog

  const std::uint64_t answer = polite.answer(offer);
  CHECK(answer != 0);
  CHECK(polite.negotiator.last_peer_offer_seq() == offer);
  CHECK(polite.applied == std::vector<std::string>{"offer-sdp"});
  CHECK(polite.negotiator.phase() == Phase::Stable);

  impolite.take_answer(offer);
  CHECK(impolite.applied == std::vector<std::string>{"answer-sdp"});
  CHECK(impolite.negotiator.phase() == Phase::Stable);

  // Once it has answered, the polite end offers for itself.
  polite.negotiator.on_negotiation_needed(0);
  CHECK(only<SetLocalDescription>(polite.drain()).type.empty());
  CHECK(polite.negotiator.phase() == Phase::MakingOffer);
}

TEST_CASE("negotiator: offers that cross: the polite end yields, the impolite end ignores; one exchange completes") {
  End impolite(false), polite(true);
  impolite.open(Opener::Us);
  polite.open(Opener::Us);  // both made a fresh connection at once
  const std::uint64_t impolite_offer = impolite.offer();
  const std::uint64_t polite_offer = polite.offer();
  REQUIRE(impolite_offer != 0);
  REQUIRE(polite_offer != 0);

  impolite.negotiator.on_peer_description(0, polite_offer, "offer", 0, "polite-offer");
  CHECK(browser_ops(impolite.drain()).empty());  // nothing asked of the browser
  CHECK(impolite.negotiator.peer_offer_ignored());  // and the offer's candidates will be dropped
  CHECK(impolite.negotiator.phase() == Phase::AwaitingAnswer);

  polite.negotiator.on_peer_description(0, impolite_offer, "offer", 0, "impolite-offer");
  const auto out = polite.drain();
  CHECK(all_of<SetLocalDescription>(out).empty());  // implicit rollback: no explicit one
  const auto srd = only<SetRemoteDescription>(out);
  CHECK(srd.sdp == "impolite-offer");
  CHECK(polite.negotiator.phase() == Phase::ApplyingPeerOffer);
  CHECK(polite.answer_set(srd) != 0);
  CHECK(polite.negotiator.phase() == Phase::Stable);

  impolite.take_answer(impolite_offer);
  CHECK(impolite.negotiator.phase() == Phase::Stable);
  CHECK_FALSE(impolite.negotiator.peer_offer_ignored());  // the next description ended it
}

TEST_CASE("negotiator: offers that cross before the polite end has gathered: the peer's offer waits for its first candidate") {
  End polite(true);
  polite.open(Opener::Us, /*gathered=*/false);
  polite.offer();
  polite.negotiator.on_peer_description(0, 7, "offer", 0, "peer-offer");
  CHECK(all_of<SetRemoteDescription>(polite.drain()).empty());
  CHECK(polite.negotiator.phase() == Phase::HoldingPeerOffer);

  // A renegotiation meanwhile waits for the held offer to be answered.
  polite.signaling(SignalingState::Stable);
  polite.negotiator.on_negotiation_needed(0);
  CHECK(all_of<SetLocalDescription>(polite.drain()).empty());
  polite.signaling(SignalingState::HaveLocalOffer);

  polite.negotiator.on_local_candidate(0);
  const auto srd = only<SetRemoteDescription>(polite.drain());
  CHECK(srd.sdp == "peer-offer");
  CHECK(polite.negotiator.phase() == Phase::ApplyingPeerOffer);
  CHECK(polite.answer_set(srd) != 0);
  CHECK(polite.negotiator.last_peer_offer_seq() == 7);
  // Stable with nothing pending: the deferred renegotiation goes ahead.
  CHECK(only<SetLocalDescription>(polite.drain()).type.empty());
  CHECK(polite.negotiator.phase() == Phase::MakingOffer);
}

TEST_CASE("negotiator: a browser without implicit rollback: the polite end rolls back explicitly, then at once") {
  End polite(true);
  polite.open(Opener::Us);
  polite.offer();
  polite.negotiator.on_peer_description(0, 3, "offer", 0, "peer-offer");
  const int refused = only<SetRemoteDescription>(polite.drain()).op;
  CHECK_FALSE(polite.negotiator.on_operation_failed(0, refused, "InvalidStateError", "in have-local-offer"));
  auto out = polite.drain();
  CHECK(only<SetLocalDescription>(out).type == "rollback");
  CHECK(only<SetRemoteDescription>(out).sdp == "peer-offer");
  CHECK(polite.negotiator.phase() == Phase::ApplyingPeerOffer);

  // Learned for good, across connections: the next collision rolls back
  // before it sets the offer, without a failure first.
  polite.open(Opener::Us);
  polite.offer();
  polite.negotiator.on_peer_description(0, 4, "offer", 0, "next-offer");
  out = browser_ops(polite.drain());
  REQUIRE(out.size() == 2);
  CHECK(std::get<SetLocalDescription>(out[0]).type == "rollback");
  CHECK(std::get<SetRemoteDescription>(out[1]).sdp == "next-offer");
}

TEST_CASE("negotiator: a description the browser refuses for good breaks the negotiation; a signaling-state race does not") {
  End polite(true);
  polite.open(Opener::Peer);
  polite.negotiator.on_peer_description(0, 1, "offer", 0, "offer-sdp");
  const int srd = only<SetRemoteDescription>(polite.drain()).op;
  const auto broken = polite.negotiator.on_operation_failed(0, srd, "OperationError", "m-lines in another order");
  REQUIRE(broken);
  CHECK(*broken == "could not apply the peer's offer");
  CHECK(polite.negotiator.phase() == Phase::Stable);
}

TEST_CASE("negotiator: negotiationneeded while answering is not lost: it goes ahead once stable") {
  End impolite(false), polite(true);
  impolite.open(Opener::Us);
  polite.open(Opener::Peer);
  const std::uint64_t offer = impolite.offer();
  polite.negotiator.on_peer_description(0, offer, "offer", 0, "offer-sdp");
  const int srd = only<SetRemoteDescription>(polite.drain()).op;
  polite.signaling(SignalingState::HaveRemoteOffer);
  polite.negotiator.on_negotiation_needed(0);  // a camera added meanwhile
  CHECK(browser_ops(polite.drain()).empty());
  polite.done(srd);
  const int sld = only<SetLocalDescription>(polite.drain()).op;  // the answer, not an offer
  polite.signaling(SignalingState::Stable);
  polite.described(sld, "answer");
  CHECK(only<SetLocalDescription>(polite.drain()).type.empty());
  CHECK(polite.negotiator.phase() == Phase::MakingOffer);
}

TEST_CASE("negotiator: a renegotiation's lost answer: rolled back after the timeout, later if signaling is away") {
  End impolite(false);
  impolite.open(Opener::Us);
  impolite.take_answer(impolite.offer());  // the first exchange
  impolite.drain();

  const std::uint64_t renegotiation = impolite.offer();
  auto timer = only<StartTimer>(impolite.drain());
  CHECK(timer.purpose == "answer-timeout");
  CHECK(impolite.negotiator.phase() == Phase::AwaitingAnswer);

  impolite.ctx.set_signaling_up(false);  // the answer may be queued at the server
  CHECK(impolite.negotiator.on_timer(0, timer.timer));
  CHECK(all_of<SetLocalDescription>(impolite.drain()).empty());
  CHECK(impolite.negotiator.phase() == Phase::AnswerOverdue);

  impolite.ctx.set_signaling_up(true);
  impolite.negotiator.on_signaling_up(0);
  timer = only<StartTimer>(impolite.drain());  // it gets its time again
  CHECK(impolite.negotiator.phase() == Phase::AwaitingAnswer);

  CHECK(impolite.negotiator.on_timer(0, timer.timer));
  const auto rollback = only<SetLocalDescription>(impolite.drain());
  CHECK(rollback.type == "rollback");
  CHECK(impolite.negotiator.phase() == Phase::RollingBack);
  impolite.signaling(SignalingState::Stable);
  impolite.done(rollback.op);
  CHECK(impolite.negotiator.phase() == Phase::Stable);

  // The browser makes the offer again; the answer to the rolled-back one
  // comes late and is not applied to it.
  CHECK(impolite.offer() > renegotiation);
  impolite.negotiator.on_peer_description(0, 50, "answer", renegotiation, "late-answer");
  CHECK(all_of<SetRemoteDescription>(impolite.drain()).empty());
}

TEST_CASE("negotiator: an answer that comes just in time is set, not rolled back under it") {
  End impolite(false);
  impolite.open(Opener::Us);
  impolite.take_answer(impolite.offer());  // the first exchange
  impolite.drain();

  const std::uint64_t renegotiation = impolite.offer();
  const auto timer = only<StartTimer>(impolite.drain());
  impolite.negotiator.on_peer_description(0, 60, "answer", renegotiation, "answer-sdp");
  const auto srd = only<SetRemoteDescription>(impolite.drain());
  CHECK(impolite.negotiator.phase() == Phase::ApplyingPeerAnswer);

  CHECK(impolite.negotiator.on_timer(0, timer.timer));  // fires while the browser sets the answer
  CHECK(all_of<SetLocalDescription>(impolite.drain()).empty());
  impolite.signaling(SignalingState::Stable);
  impolite.done(srd.op);
  CHECK(impolite.negotiator.phase() == Phase::Stable);
  CHECK(impolite.applied.back() == "answer-sdp");
}

TEST_CASE("negotiator: an offer of ours still unanswered when signaling comes back gets its time again, whatever the phase") {
  End impolite(false);
  impolite.open(Opener::Us);
  impolite.take_answer(impolite.offer());  // the first exchange
  impolite.drain();

  impolite.offer();
  const auto timer = only<StartTimer>(impolite.drain());
  impolite.ctx.set_signaling_up(false);
  // The phase can lag the browser after a race around glare; here the
  // browser reports stable and then our offer again, as after a rollback
  // that crossed our own re-offer.
  impolite.signaling(SignalingState::Stable);
  CHECK(impolite.negotiator.phase() == Phase::Stable);
  impolite.signaling(SignalingState::HaveLocalOffer);
  CHECK(all_of<StartTimer>(impolite.drain()).empty());
  impolite.ctx.set_signaling_up(true);
  impolite.negotiator.on_signaling_up(0);
  const auto again = only<StartTimer>(impolite.drain());
  CHECK(again.purpose == "answer-timeout");
  CHECK(again.timer != timer.timer);
}
