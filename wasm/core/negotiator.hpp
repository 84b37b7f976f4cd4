// W3C webrtc-pc "perfect negotiation" for one peer connection: who offers,
// who yields when offers cross (the polite end, with implicit rollback and
// an explicit-rollback fallback), and the answer timeout. PeerNegotiation
// owns the connection and the signals; this unit decides, and puts the
// description operations (setLocalDescription / setRemoteDescription) in
// the browser's operations chain. The chain serialises them, so they are
// emitted as soon as the W3C example would call them; completions come back
// tagged with the operation id.
//
// Where the W3C example keeps makingOffer and isSettingRemoteAnswerPending,
// this keeps one Phase: the step of the offer/answer exchange this end is
// in, set by the description operation it put in the chain last (the chain
// is serial, so that is the one the browser ends up in). The browser's own
// signalingState is still read, as the example reads it: it says where the
// browser is, the phase says what we have asked of it.
//
//   from                         on                                           to
//   Stable                       negotiationneeded, ours to make              MakingOffer
//   MakingOffer                  our offer set and sent                       AwaitingAnswer
//   AwaitingAnswer               the peer's answer                            ApplyingPeerAnswer
//   ApplyingPeerAnswer           set                                          Stable
//   AwaitingAnswer               no answer in time, signaling up              RollingBack
//   RollingBack                  rolled back                                  Stable
//   AwaitingAnswer               no answer in time, signaling away            AnswerOverdue
//   AnswerOverdue                signaling back: the timer runs again         AwaitingAnswer
//   AwaitingAnswer, -Overdue     the browser left have-local-offer            Stable
//   (not in glare)               the peer's offer                             ApplyingPeerOffer
//   in glare, polite             the peer's offer, our connection gathered    ApplyingPeerOffer
//   in glare, polite             the peer's offer, nothing gathered yet       HoldingPeerOffer
//   HoldingPeerOffer             our first candidate                          ApplyingPeerOffer
//   ApplyingPeerOffer            set (our answer goes in the chain)           Answering
//   Answering                    our answer set and sent                      Stable
//   MakingOffer, Answering,      the operation failed                         Stable
//     Applying*, RollingBack     (a refused implicit rollback is retried explicitly instead)
//   any                          a new connection, or the connection closed   Stable
//
// "In glare": an offer of the peer's finds us making one, or the browser
// out of `stable` for any reason but applying the peer's answer (W3C).
// A phase is left only for the one its operation leads to: a completion
// that a later operation has overtaken (glare during MakingOffer, say)
// leaves the later operation's phase as it is.
//
// The impolite end ignores a colliding offer (its phase does not change)
// and drops that offer's candidates until the next description comes.
//
// Three additions to the W3C example. First, one end opens each connection:
// the end that made it, or, on a new pair where both ends make theirs at
// once, the impolite end. The opener makes that first offer as soon as the
// connection is made (PeerNegotiation::create_pc), not on the browser's
// negotiationneeded. The other end's negotiationneeded waits for that
// first offer (answering it brings the browser back to stable, where it
// fires negotiationneeded again if anything is still missing). Perfect
// negotiation handles every later collision. Why: a polite end that offered
// at once rolled its connection's first offer back when the peer's arrived,
// and Chrome (seen in 156) loses a connection's network list when its first
// offer is rolled back before gathering began. That connection never
// gathers a candidate, and the pair only came up when the connect watchdog
// made a fresh connection 15 s later. It showed with members joining one
// after another. Offers can still cross on a connection that has not
// gathered yet (both ends replace a dead connection at the same moment):
// then the polite end holds the peer's offer until its own connection has
// reported a candidate, and only then yields. The connect watchdog bounds
// the wait.
//
// Second, the W3C example assumes signaling never loses a message: here a
// renegotiation's offer left unanswered (while signaling is up) is rolled
// back, and the browser's negotiation-needed flag makes it again. A message
// in flight when a socket dies is lost for real, and without this a lost
// offer or answer would freeze renegotiation (a camera that never comes
// back). A connection's first offer is left to the connect watchdog instead.
//
// Third, ICE-restart offers come from the impolite end only (PeerNegotiation
// sees to that; peer_signal.hpp says why), so restart offers never cross.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "wasm/core/context.hpp"
#include "wasm/core/webrtc_types.hpp"

namespace meshmeet::core {

// Who made a connection, and so makes its first offer.
enum class Opener { Us, Peer };

class Negotiator {
 public:
  enum class Phase {
    Stable,              // no description operation of ours under way, no offer of ours out
    MakingOffer,         // setLocalDescription() for our offer is in the chain (W3C makingOffer)
    AwaitingAnswer,      // our offer is out (a renegotiation's: the answer timer runs)
    AnswerOverdue,       // the answer timer fired while signaling was away: it runs again once it is back
    RollingBack,         // no answer in time: our offer is rolled back, negotiationneeded makes it again
    HoldingPeerOffer,    // polite, glare before this connection gathered: the peer's offer waits
    ApplyingPeerOffer,   // setRemoteDescription(offer), after an explicit rollback where needed
    Answering,           // setLocalDescription() for our answer
    ApplyingPeerAnswer,  // setRemoteDescription(answer) (W3C isSettingRemoteAnswerPending)
  };

  // The peer's descriptions pass through this before they are applied: in a
  // relay-only meeting it takes out non-relay candidates.
  using SdpFilter = std::function<std::string(const std::string& sdp)>;

  Negotiator(CoreContext& ctx, std::string peer, SdpFilter peer_sdp_filter);
  Negotiator(const Negotiator&) = delete;
  Negotiator& operator=(const Negotiator&) = delete;

  // A new connection (`pc`): everything starts again except what was
  // learned about the browser (whether it rolls back implicitly).
  void reset(int pc, bool polite, Opener opener);
  // The connection is closed: nothing is pending, no timer runs.
  void stop();

  Phase phase() const { return phase_; }
  bool making_offer() const { return phase_ == Phase::MakingOffer; }
  // A setLocalDescription / setRemoteDescription / rollback of ours has not
  // completed yet: the browser's operations chain is not empty.
  bool description_op_pending() const { return !ops_.empty(); }
  bool owns(int op) const { return ops_.count(op) > 0; }
  // The peer's latest offer was ignored in glare: its candidates are dropped.
  bool peer_offer_ignored() const { return peer_offer_ignored_; }
  // What an answer of ours names as the offer it answers.
  std::uint64_t last_peer_offer_seq() const { return last_peer_offer_seq_; }

  // ---- from the browser
  void on_negotiation_needed(std::int64_t now);
  void on_signaling_state(std::int64_t now, SignalingState state);
  // Our connection reported its first candidate (or the end of them): it knows its networks.
  void on_local_candidate(std::int64_t now);
  // A description operation of ours produced a local description. True when
  // it is to be sent to the peer (then on_description_sent follows).
  bool on_local_description(std::int64_t now, int op, const std::string& type);
  void on_description_sent(std::int64_t now, const std::string& type, std::uint64_t seq);
  // `applied` is called with the peer's description (as set) when one of
  // ours setting it completed, before anything else is emitted.
  void on_operation_done(std::int64_t now, int op, const std::function<void(const std::string& sdp)>& applied);
  // The reason when the failure broke the pair's negotiation for good (see
  // ConnectionRecovery::on_negotiation_broken); nothing when the next
  // negotiation puts it right.
  std::optional<std::string> on_operation_failed(std::int64_t now, int op, const std::string& error_name,
                                                 const std::string& message);

  // ---- from the peer (verified, in order, for this connection)
  void on_peer_description(std::int64_t now, std::uint64_t seq, const std::string& type, std::uint64_t answers,
                           const std::string& sdp);

  // ---- from the client
  // True when `timer` was the answer timer.
  bool on_timer(std::int64_t now, int timer);
  void on_signaling_up(std::int64_t now);
  // A negotiationneeded we could not act on when it came, acted on now if
  // the connection is in `stable` with no description operation pending.
  void negotiate_if_deferred(std::int64_t now);

 private:
  enum class OpKind { Offer, Answer, PeerOffer, PeerAnswer, Rollback };
  struct DescriptionOp {
    OpKind kind;
    std::string sdp;                 // the peer's description, as set
    bool collision = false;          // the peer's offer collided with ours (we are polite)
    bool explicit_rollback = false;  // a rollback went before it
  };
  struct HeldOffer {
    std::uint64_t seq;
    std::string sdp;
  };

  void enter(Phase next, std::string why);  // the single mutator of phase_
  int emit(DescriptionOp op);
  void set_remote(const std::string& type, const std::string& sdp, bool collision, bool explicit_rollback);
  void release_held_offer(std::int64_t now);
  void arm_answer_timer();

  CoreContext& ctx_;
  std::string peer_;
  SdpFilter peer_sdp_filter_;

  int pc_ = 0;
  bool polite_ = false;
  Opener opener_ = Opener::Us;
  Phase phase_ = Phase::Stable;
  SignalingState signaling_ = SignalingState::Stable;  // what the browser last reported
  std::map<int, DescriptionOp> ops_;                   // ours, in the browser's operations chain
  std::optional<HeldOffer> held_offer_;                // in HoldingPeerOffer only

  // Facts that come from other inputs than the exchange itself, each with
  // its own lifetime, so not phases:
  bool negotiation_deferred_ = false;     // a negotiationneeded came while we could not act on it
  bool peer_offer_ignored_ = false;       // until the peer's next description
  bool gathered_ = false;                 // this connection reported a candidate
  bool peer_description_applied_ = false;  // the first exchange is done: a lost answer can be rolled back
  bool implicit_rollback_unsupported_ = false;  // learned from a failed implicit rollback, kept across connections

  int answer_timer_ = 0;
  std::uint64_t last_offer_seq_ = 0;       // seq of the last offer we sent
  std::uint64_t last_peer_offer_seq_ = 0;  // seq of the last offer of theirs we applied
};

std::string_view to_string(Negotiator::Phase phase);

}  // namespace meshmeet::core
