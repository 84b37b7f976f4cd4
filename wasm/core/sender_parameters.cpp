#include "wasm/core/sender_parameters.hpp"

#include <string>

#include "wasm/core/outputs.hpp"

namespace meshmeet::core {

namespace {
constexpr const char* kMachine = "sender-parameters";
}

std::string_view to_string(SenderParametersState state) {
  switch (state) {
    case SenderParametersState::NoSender: return "no-sender";
    case SenderParametersState::AwaitingConnection: return "awaiting-connection";
    case SenderParametersState::AwaitingView: return "awaiting-view";
    case SenderParametersState::Unapplied: return "unapplied";
    case SenderParametersState::Settled: return "settled";
    case SenderParametersState::Gathering: return "gathering";
    case SenderParametersState::Applying: return "applying";
    case SenderParametersState::Refused: return "refused";
  }
  return "no-sender";
}

void SenderParameters::set_state(SenderParametersState next, std::string why) {
  if (next != state_) ctx_.transition(kMachine, peer_, to_string(state_), to_string(next), why);
  state_ = next;
  // Each state owns at most one timer, started on entering it: none
  // survives the state (re-entering one starts its timer afresh).
  ctx_.cancel_timer(timer_);
  const auto& c = ctx_.config();
  if (next == SenderParametersState::Gathering)
    timer_ = ctx_.start_timer(c.sender_parameters_gather_ms, TimerTag{TimerOwner::Peer, peer_}, "sender-parameters-gather");
  else if (next == SenderParametersState::Refused)
    timer_ = ctx_.start_timer(c.sender_parameters_retry_ms, TimerTag{TimerOwner::Peer, peer_}, "sender-parameters-retry");
  else if (next == SenderParametersState::AwaitingView)
    timer_ = ctx_.start_timer(c.sender_first_view_wait_ms, TimerTag{TimerOwner::Peer, peer_}, "sender-parameters-first-view");
}

void SenderParameters::set_sender(int pc, bool connection_up) {
  pc_ = pc;
  op_ = 0;  // a late outcome of the old sender's request is not ours
  applied_.reset();
  failures_ = 0;
  if (pc == 0) {
    set_state(SenderParametersState::NoSender, "no video sender");
    return;
  }
  if (!connection_up) {
    set_state(SenderParametersState::AwaitingConnection, "a new video sender: nothing is encoded yet");
    if (wanted_ && view_known_) apply();  // the peer's view is known: its first frames can be that size
    return;
  }
  set_state(SenderParametersState::Unapplied, "a new video sender on a live connection");
  if (wanted_) apply();
}

void SenderParameters::want(SenderBudget budget, bool view_known) {
  const bool changed = !wanted_ || *wanted_ != budget;
  wanted_ = budget;
  view_known_ = view_known;
  switch (state_) {
    case SenderParametersState::NoSender:
    case SenderParametersState::Applying:  // its outcome decides what follows
      return;
    case SenderParametersState::AwaitingConnection:
      if (view_known_) apply();  // with the peer's view (from its description): the first frames that size
      return;                    // else taken when the connection comes up
    case SenderParametersState::AwaitingView:
      if (view_known_) apply();  // what it waited for
      return;
    case SenderParametersState::Unapplied:
      if (changed) failures_ = 0;  // new limits after the attempts ran out: a full round again
      apply();
      return;
    case SenderParametersState::Settled:
      if (applied_ && *applied_ == budget) return;
      if (wanted_urgently())
        apply();
      else
        set_state(SenderParametersState::Gathering, "changed: waiting for the rest of its burst");
      return;
    case SenderParametersState::Gathering:
      if (wanted_urgently()) apply();
      return;
    case SenderParametersState::Refused:
      if (changed) failures_ = 0;  // new limits: a full round of attempts, at the retry
      if (wanted_urgently()) apply();  // the peer shows an empty tile: not the retry's delay
      return;
  }
}

void SenderParameters::on_connection_up() {
  if (state_ != SenderParametersState::AwaitingConnection) {
    retry_now();  // if the browser refused them before the connection was up
    return;
  }
  if (wanted_ && view_known_)
    apply();
  else
    set_state(SenderParametersState::AwaitingView, "the connection is up: waiting for the peer's view");
}

void SenderParameters::retry_now() {
  if (!wanted_) return;
  if (state_ != SenderParametersState::Unapplied && state_ != SenderParametersState::Refused) return;
  failures_ = 0;
  apply();  // this attempt is the retry
}

void SenderParameters::apply() {
  if (pc_ == 0 || !wanted_) return;
  op_ = ctx_.new_op_id();
  in_flight_ = *wanted_;
  ctx_.emit(SetSenderParameters{pc_, op_, MediaKind::Video, in_flight_.max_bitrate_bps,
                                in_flight_.scale_resolution_down_by, in_flight_.max_framerate, in_flight_.active});
  set_state(SenderParametersState::Applying, "setParameters");
}

void SenderParameters::on_done(int op) {
  if (!owns(op)) return;
  op_ = 0;
  applied_ = in_flight_;
  failures_ = 0;
  if (*wanted_ == *applied_)
    set_state(SenderParametersState::Settled, "the browser took them");
  else if (wanted_urgently())
    apply();
  else
    set_state(SenderParametersState::Gathering, "changed while asked: waiting for the rest of the burst");
}

void SenderParameters::on_refused(int op, const std::string& what) {
  if (!owns(op)) return;  // the outcome of a request for a sender since replaced
  op_ = 0;
  ++failures_;
  const auto& c = ctx_.config();
  if (failures_ < c.sender_parameters_attempts) {
    ctx_.log(LogLevel::Info, kMachine, peer_, {}, {},
             "setParameters (uplink budget) failed: " + what + "; trying again in " +
                 std::to_string(c.sender_parameters_retry_ms) + " ms");
    set_state(SenderParametersState::Refused, what);
  } else {
    ctx_.log(LogLevel::Warn, kMachine, peer_, {}, {},
             "could not apply the uplink budget (" + std::to_string(failures_) + " attempts, last: " + what +
                 "); trying again on the next change");
    set_state(SenderParametersState::Unapplied, "refused " + std::to_string(failures_) + " times");
  }
}

bool SenderParameters::on_timer(int timer) {
  if (timer == 0 || timer != timer_) return false;
  timer_ = 0;
  if (state_ == SenderParametersState::Gathering && applied_ && wanted_ && *applied_ == *wanted_)
    set_state(SenderParametersState::Settled, "the burst ended where it started");
  else if (state_ == SenderParametersState::AwaitingView && !wanted_)
    set_state(SenderParametersState::Unapplied, "the peer said nothing, and no limits are wanted yet");
  else
    apply();
  return true;
}

// Only video turned back on: the peer shows an empty tile until it comes. A
// larger picture is gathered like a smaller one. Its video is flowing
// meanwhile, and within a join a copy is often made larger only for a moment,
// while some peers have not yet said how large they draw it (the bitrate their
// copies will not need goes to the others, and comes back when they say).
bool SenderParameters::wanted_urgently() const {
  return wanted_ && wanted_->active && applied_ && !applied_->active;
}

}  // namespace meshmeet::core
