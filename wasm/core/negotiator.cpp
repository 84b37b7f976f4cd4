#include "wasm/core/negotiator.hpp"

#include <utility>

namespace meshmeet::core {
namespace {

// The log's machine name stays the one these lines had inside PeerNegotiation.
constexpr const char* kMachine = "peer-negotiation";

}  // namespace

std::string_view to_string(Negotiator::Phase phase) {
  switch (phase) {
    case Negotiator::Phase::Stable: return "stable";
    case Negotiator::Phase::MakingOffer: return "making-offer";
    case Negotiator::Phase::AwaitingAnswer: return "awaiting-answer";
    case Negotiator::Phase::AnswerOverdue: return "answer-overdue";
    case Negotiator::Phase::RollingBack: return "rolling-back";
    case Negotiator::Phase::HoldingPeerOffer: return "holding-peer-offer";
    case Negotiator::Phase::ApplyingPeerOffer: return "applying-peer-offer";
    case Negotiator::Phase::Answering: return "answering";
    case Negotiator::Phase::ApplyingPeerAnswer: return "applying-peer-answer";
  }
  return "?";
}

Negotiator::Negotiator(CoreContext& ctx, std::string peer, SdpFilter peer_sdp_filter)
    : ctx_(ctx), peer_(std::move(peer)), peer_sdp_filter_(std::move(peer_sdp_filter)) {}

void Negotiator::enter(Phase next, std::string why) {
  if (next == phase_) return;
  ctx_.transition("negotiator", peer_, to_string(phase_), to_string(next), std::move(why));
  if (phase_ == Phase::HoldingPeerOffer) held_offer_.reset();  // released, replaced or overtaken
  phase_ = next;
}

void Negotiator::reset(int pc, bool polite, Opener opener) {
  enter(Phase::Stable, "new connection");
  pc_ = pc;
  polite_ = polite;
  opener_ = opener;
  signaling_ = SignalingState::Stable;
  ops_.clear();
  held_offer_.reset();
  ctx_.cancel_timer(answer_timer_);
  negotiation_deferred_ = peer_offer_ignored_ = gathered_ = peer_description_applied_ = false;
  last_offer_seq_ = last_peer_offer_seq_ = 0;
}

void Negotiator::stop() {
  enter(Phase::Stable, "connection closed");
  pc_ = 0;
  ops_.clear();
  held_offer_.reset();
  ctx_.cancel_timer(answer_timer_);
  negotiation_deferred_ = false;
}

int Negotiator::emit(DescriptionOp op) {
  const int id = ctx_.new_op_id();
  switch (op.kind) {
    case OpKind::Offer:
    case OpKind::Answer:
      ctx_.emit(SetLocalDescription{pc_, id, ""});
      break;
    case OpKind::Rollback:
      ctx_.emit(SetLocalDescription{pc_, id, "rollback"});
      break;
    case OpKind::PeerOffer:
      ctx_.emit(SetRemoteDescription{pc_, id, "offer", op.sdp});
      break;
    case OpKind::PeerAnswer:
      ctx_.emit(SetRemoteDescription{pc_, id, "answer", op.sdp});
      break;
  }
  ops_.emplace(id, std::move(op));
  return id;
}

void Negotiator::arm_answer_timer() {
  ctx_.cancel_timer(answer_timer_);
  answer_timer_ = ctx_.start_timer(ctx_.config().answer_timeout_ms, TimerTag{TimerOwner::Peer, peer_}, "answer-timeout");
}

// ---- our offers ----------------------------------------------------------------------

void Negotiator::on_negotiation_needed(std::int64_t now) {
  (void)now;
  if (pc_ == 0) return;
  if (signaling_ != SignalingState::Stable || description_op_pending() || phase_ == Phase::HoldingPeerOffer) {
    // Not now, but not forgotten. Offering now could answer a peer's offer
    // we have already queued from the wrong operation (node-webrtc delivers
    // negotiationneeded late, after an explicit rollback, with that offer in
    // the chain). Dropping it is no better: the browser fires it once per
    // need, so it may never come again. Chrome (seen in 156) fires it for a
    // rollback before the rollback's signalingstatechange and completion
    // reach us; ignored, the rolled-back offer was never made again and the
    // pair waited for the connect watchdog. So it is acted on as soon as the
    // connection is in `stable` with nothing of ours in the chain. A held
    // offer of the peer's is answered first: it is what we owe.
    negotiation_deferred_ = true;
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {},
             std::string("negotiation needed outside stable (") + std::string(to_string(signaling_)) +
                 (description_op_pending() ? ", a description operation pending" : "") +
                 (phase_ == Phase::HoldingPeerOffer ? ", the peer's offer held" : "") + "): deferred until stable");
    return;
  }
  negotiation_deferred_ = false;
  if (opener_ == Opener::Peer && !peer_description_applied_) {
    // Not ours to open: an offer now would be rolled back when theirs comes
    // (see the header). The browser asks again once we have answered.
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "negotiation needed: waiting for the peer's first offer");
    return;
  }
  emit(DescriptionOp{OpKind::Offer, {}});
  enter(Phase::MakingOffer, "negotiation needed");
}

void Negotiator::negotiate_if_deferred(std::int64_t now) {
  if (!negotiation_deferred_ || pc_ == 0 || signaling_ != SignalingState::Stable || description_op_pending() ||
      phase_ == Phase::HoldingPeerOffer)
    return;
  ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "stable with nothing pending: the deferred negotiation goes ahead");
  on_negotiation_needed(now);
}

bool Negotiator::on_local_description(std::int64_t now, int op, const std::string& type) {
  (void)now;
  auto it = ops_.find(op);
  if (it == ops_.end()) return false;
  const OpKind kind = it->second.kind;
  ops_.erase(it);
  // The browser's localDescription says what was set: an SLD() meant as an
  // answer makes an offer if a rollback got there first, and the other way round.
  const bool describes = type == "offer" || type == "answer";
  const bool current = (kind == OpKind::Offer && phase_ == Phase::MakingOffer) ||
                       (kind == OpKind::Answer && phase_ == Phase::Answering) ||
                       (kind == OpKind::Rollback && phase_ == Phase::RollingBack);
  if (current) enter(type == "offer" ? Phase::AwaitingAnswer : Phase::Stable, "our " + type + " is set");
  return describes;
}

void Negotiator::on_description_sent(std::int64_t now, const std::string& type, std::uint64_t seq) {
  if (type == "offer") {
    last_offer_seq_ = seq;
    // A connection's first offer is never rolled back for want of an answer:
    // the connect watchdog covers a lost one with a fresh connection, while a
    // rollback would undo what a slow peer may have applied already (its
    // next offer then fails there: m-lines in another order), and Chrome
    // loses the network list of a connection whose first offer it rolls back.
    if (peer_description_applied_) arm_answer_timer();
  }
  negotiate_if_deferred(now);
}

void Negotiator::on_signaling_state(std::int64_t now, SignalingState state) {
  signaling_ = state;
  if (state != SignalingState::HaveLocalOffer) {
    ctx_.cancel_timer(answer_timer_);
    if (phase_ == Phase::AwaitingAnswer || phase_ == Phase::AnswerOverdue)
      enter(Phase::Stable, "left have-local-offer");
  }
  negotiate_if_deferred(now);
}

bool Negotiator::on_timer(std::int64_t now, int timer) {
  (void)now;
  if (timer == 0 || timer != answer_timer_) return false;
  answer_timer_ = 0;
  if (pc_ == 0 || signaling_ != SignalingState::HaveLocalOffer) return true;
  if (phase_ == Phase::ApplyingPeerAnswer) return true;  // the answer came: it is being set
  if (!ctx_.signaling_up()) {  // the server queues for us; give it time once we are back (on_signaling_up)
    if (phase_ == Phase::AwaitingAnswer) enter(Phase::AnswerOverdue, "no answer in time, signaling away");
    return true;
  }
  ctx_.log(LogLevel::Info, kMachine, peer_, {}, {},
           "no answer within " + std::to_string(ctx_.config().answer_timeout_ms) + " ms: rolling back to offer again");
  emit(DescriptionOp{OpKind::Rollback, {}});
  if (phase_ != Phase::HoldingPeerOffer) enter(Phase::RollingBack, "no answer in time");
  return true;
}

// Any renegotiation offer of ours still unanswered gets its time again, in
// whatever phase the timer found it (the phase can lag the browser after a
// race around glare: what counts is that the browser holds our offer).
void Negotiator::on_signaling_up(std::int64_t now) {
  (void)now;
  if (pc_ == 0 || signaling_ != SignalingState::HaveLocalOffer || answer_timer_ != 0 || !peer_description_applied_)
    return;
  arm_answer_timer();
  if (phase_ == Phase::AnswerOverdue) enter(Phase::AwaitingAnswer, "signaling is back: the answer gets its time again");
}

// ---- the peer's descriptions ---------------------------------------------------------

void Negotiator::on_peer_description(std::int64_t now, std::uint64_t seq, const std::string& type,
                                     std::uint64_t answers, const std::string& sdp) {
  (void)now;
  if (type == "answer" && answers != 0 && answers != last_offer_seq_) {
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "answer to an offer we no longer have: dropped");
    return;
  }
  // W3C: ready for an offer unless we are making one, or the browser is
  // out of stable for any reason but applying the peer's answer.
  const bool ready_for_offer = phase_ != Phase::MakingOffer &&
                               (signaling_ == SignalingState::Stable || phase_ == Phase::ApplyingPeerAnswer);
  const bool offer_collision = type == "offer" && !ready_for_offer;
  peer_offer_ignored_ = !polite_ && offer_collision;
  if (peer_offer_ignored_) {
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "glare: ignoring the peer's offer (we are impolite)");
    return;
  }
  if (offer_collision && !gathered_) {
    // Yielding rolls our offer back, and Chrome loses the network list of a
    // connection whose first offer is rolled back before it has gathered
    // (see the header). Its candidates queue meanwhile (no remote description).
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {},
             "glare before our first candidate: the peer's offer waits until this connection has gathered");
    enter(Phase::HoldingPeerOffer, "glare before gathering");
    held_offer_ = HeldOffer{seq, sdp};
    return;
  }
  if (offer_collision)
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "glare: accepting the peer's offer (we are polite)");
  if (type == "offer") last_peer_offer_seq_ = seq;
  set_remote(type, sdp, offer_collision, false);
}

void Negotiator::on_local_candidate(std::int64_t now) {
  if (gathered_) return;
  gathered_ = true;
  release_held_offer(now);
}

void Negotiator::release_held_offer(std::int64_t now) {
  (void)now;
  if (phase_ != Phase::HoldingPeerOffer || !held_offer_) return;
  HeldOffer held = std::move(*held_offer_);
  bool our_offer_in_chain = false;
  for (const auto& [id, op] : ops_) our_offer_in_chain |= op.kind == OpKind::Offer;
  const bool collision = our_offer_in_chain || signaling_ != SignalingState::Stable;
  if (collision) ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "glare: accepting the peer's offer (we are polite)");
  last_peer_offer_seq_ = held.seq;
  set_remote("offer", held.sdp, collision, false);
}

void Negotiator::set_remote(const std::string& type, const std::string& sdp, bool collision, bool explicit_rollback) {
  if (collision && implicit_rollback_unsupported_ && !explicit_rollback) {
    emit(DescriptionOp{OpKind::Rollback, {}});
    explicit_rollback = true;
  }
  DescriptionOp op{type == "offer" ? OpKind::PeerOffer : OpKind::PeerAnswer, peer_sdp_filter_(sdp)};
  op.collision = collision;
  op.explicit_rollback = explicit_rollback;
  emit(std::move(op));
  if (type == "offer")
    enter(Phase::ApplyingPeerOffer, collision ? "the peer's offer, ours yielding" : "the peer's offer");
  else if (phase_ != Phase::HoldingPeerOffer)
    enter(Phase::ApplyingPeerAnswer, "the peer's answer");
}

// ---- completions ----------------------------------------------------------------------

void Negotiator::on_operation_done(std::int64_t now, int op, const std::function<void(const std::string& sdp)>& applied) {
  auto it = ops_.find(op);
  if (it == ops_.end()) return;
  DescriptionOp done = std::move(it->second);
  ops_.erase(it);
  switch (done.kind) {
    case OpKind::PeerOffer:
    case OpKind::PeerAnswer:
      peer_description_applied_ = true;
      applied(done.sdp);
      if (done.kind == OpKind::PeerOffer) {
        emit(DescriptionOp{OpKind::Answer, {}});
        if (phase_ == Phase::ApplyingPeerOffer) enter(Phase::Answering, "the peer's offer is set");
      } else if (phase_ == Phase::ApplyingPeerAnswer) {
        enter(Phase::Stable, "the peer's answer is set");
      }
      break;
    case OpKind::Offer:  // a shim that reports SLD as plain done: no description to send
      if (phase_ == Phase::MakingOffer) enter(Phase::Stable, "our offer is set, nothing to send");
      break;
    case OpKind::Answer:
      if (phase_ == Phase::Answering) enter(Phase::Stable, "our answer is set, nothing to send");
      break;
    case OpKind::Rollback:
      if (phase_ == Phase::RollingBack) enter(Phase::Stable, "rolled back");
      break;
  }
  negotiate_if_deferred(now);
}

std::optional<std::string> Negotiator::on_operation_failed(std::int64_t now, int op, const std::string& error_name,
                                                           const std::string& message) {
  auto it = ops_.find(op);
  if (it == ops_.end()) return std::nullopt;
  DescriptionOp failed = std::move(it->second);
  ops_.erase(it);
  const std::string what = error_name + (message.empty() ? "" : ": " + message);
  // The signaling state moved under the operation (a race around glare or a
  // rollback): the next negotiation puts it right. Anything else is the
  // browser refusing the description itself, and it would refuse it again.
  const bool for_good = error_name != "InvalidStateError";
  auto back_to_stable = [&](Phase from, const char* why) {
    if (phase_ == from) enter(Phase::Stable, why);
  };
  switch (failed.kind) {
    case OpKind::Offer:
      back_to_stable(Phase::MakingOffer, "our offer failed");
      ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "setLocalDescription failed: " + what);
      break;
    case OpKind::Answer:
      back_to_stable(Phase::Answering, "our answer failed");
      ctx_.log(LogLevel::Warn, kMachine, peer_, {}, {}, "could not answer: " + what);
      if (for_good) return "could not answer";
      break;
    case OpKind::PeerOffer:
      if (failed.collision && !failed.explicit_rollback) {
        // This implementation has no implicit rollback: roll back explicitly,
        // as the earlier version of the W3C example did, and from now on at once.
        implicit_rollback_unsupported_ = true;
        ctx_.log(LogLevel::Info, kMachine, peer_, {}, {}, "implicit rollback unsupported (" + what + "): rolling back explicitly");
        set_remote("offer", failed.sdp, true, false);
      } else {
        back_to_stable(Phase::ApplyingPeerOffer, "the peer's offer failed");
        ctx_.log(LogLevel::Warn, kMachine, peer_, {}, {}, "could not apply the peer's offer: " + what);
        if (for_good) return "could not apply the peer's offer";
      }
      break;
    case OpKind::PeerAnswer:
      back_to_stable(Phase::ApplyingPeerAnswer, "the peer's answer failed");
      ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "could not apply the peer's answer: " + what);
      if (for_good) return "could not apply the peer's answer";
      break;
    case OpKind::Rollback:
      back_to_stable(Phase::RollingBack, "the rollback failed");
      ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "operation failed: " + what);
      break;
  }
  negotiate_if_deferred(now);
  return std::nullopt;
}

}  // namespace meshmeet::core
