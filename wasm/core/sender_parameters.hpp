// The limits one connection's video sender encodes with (this peer's share
// of the uplink budget, uplink_budget.hpp), carried to the browser with
// setParameters: one request at a time, a refused one asked again.
//
// Every request costs both pages. setParameters is preceded by a
// getParameters, a blocking call into Chromium's WebRTC thread (10–30 ms
// each while a join keeps that thread busy; a four-page join profile had
// 117 of them, 3 s of the pages' main threads), and a new resolution
// reconfigures the encoder and resizes the video at the other end. A join
// changes one sender's limits several times within a second (one more peer
// to share the uplink with, then each peer's view as its tiles re-lay out,
// then maybe a CPU step). So a change (less or more bitrate, a smaller or
// larger copy, no copy for a tile no longer drawn) waits
// `sender_parameters_gather_ms` for the rest of its burst, and they go as
// one request. What someone waits for goes at once: the first limits of a
// new sender, and video turned back on for a peer that draws it again.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wasm/core/context.hpp"
#include "wasm/core/uplink_budget.hpp"

namespace meshmeet::core {

enum class SenderParametersState {
  NoSender,   // no connection, or no video track on it
  Unapplied,  // a sender that has none of ours (new, or refused too often): the next want goes at once
  Settled,    // the browser has what the mesh wants
  Gathering,  // a change waits for the rest of its burst
  Applying,   // one setParameters on its way
  Refused,    // the last one was refused: asked again after sender_parameters_retry_ms
};
std::string_view to_string(SenderParametersState state);

class SenderParameters {
 public:
  SenderParameters(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  // The connection's video sender: `pc` 0 for none. A new sender (a fresh
  // connection, a video track added) has none of our limits yet.
  void set_sender(int pc);
  // What the mesh wants for this copy now.
  void want(SenderBudget budget);
  // A moment the browser may now take what it refused (the connection came
  // up, another track was given to the sender): asked again at once.
  void retry_now();

  bool owns(int op) const { return op != 0 && op == op_; }
  void on_done(int op);
  void on_refused(int op, const std::string& what);
  bool on_timer(int timer);

  SenderParametersState state() const { return state_; }

 private:
  void set_state(SenderParametersState next, std::string why);  // the single mutator
  void apply();
  // Whether the peer waits for what `wanted_` gives it.
  bool wanted_urgently() const;

  CoreContext& ctx_;
  std::string peer_;
  SenderParametersState state_ = SenderParametersState::NoSender;
  int pc_ = 0;
  std::optional<SenderBudget> wanted_;
  std::optional<SenderBudget> applied_;  // what the browser took last (on this sender)
  SenderBudget in_flight_{};             // Applying: what op_ asks for
  int op_ = 0;
  int failures_ = 0;  // refused in a row
  int timer_ = 0;     // Gathering: "sender-parameters-gather"; Refused: "sender-parameters-retry"
};

}  // namespace meshmeet::core
