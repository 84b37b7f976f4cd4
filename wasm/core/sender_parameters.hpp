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
// one request. What someone waits for goes at once: video turned back on for
// a peer that draws it again.
//
// A new sender's first limits go once, with the peer's view, instead of
// once when the connection is made (a guess from the budget alone) and
// again when the view comes: a six-page join asked 20–27 getParameters per
// page, holding each main thread 0.3–1 s. The peer says its view in its
// offer or answer when it knows it (peer_signal.hpp): then they go at once,
// before the connection is up, and the first frame encoded is already the
// size the peer draws. Otherwise they wait for the connection (nothing is
// encoded before), and the view comes as soon as the data channel opens,
// just after. A peer that says nothing (an older one) gets the budget's
// limits `sender_first_view_wait_ms` after the connection is up.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wasm/core/context.hpp"
#include "wasm/core/uplink_budget.hpp"

namespace meshmeet::core {

enum class SenderParametersState {
  NoSender,            // no connection, or no video track on it
  AwaitingConnection,  // a new sender whose connection is not up yet, the peer's view unknown: nothing is encoded
  AwaitingView,        // the connection is up: the first limits wait a moment for the peer's view
  Unapplied,           // none of ours (new on a live connection, or refused too often): the next want goes at once
  Settled,             // the browser has what the mesh wants
  Gathering,           // a change waits for the rest of its burst
  Applying,            // one setParameters on its way
  Refused,             // the last one was refused: asked again after sender_parameters_retry_ms
};
std::string_view to_string(SenderParametersState state);

class SenderParameters {
 public:
  SenderParameters(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  // The connection's video sender: `pc` 0 for none. A new sender (a fresh
  // connection, a video track added) has none of our limits yet; whether its
  // connection is up decides whether they wait (see the top).
  void set_sender(int pc, bool connection_up);
  // What the mesh wants for this copy now, and whether the peer has said how
  // large it draws our video (the budget then counts it).
  void want(SenderBudget budget, bool view_known);
  // The connection came up: a new sender's first limits go with the peer's
  // view, and what the browser refused before is asked again at once.
  void on_connection_up();
  // Another track was given to the sender: it may take what it refused.
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
  bool view_known_ = false;              // whether wanted_ counts the peer's view
  std::optional<SenderBudget> applied_;  // what the browser took last (on this sender)
  SenderBudget in_flight_{};             // Applying: what op_ asks for
  int op_ = 0;
  int failures_ = 0;  // refused in a row
  int timer_ = 0;     // Gathering: "sender-parameters-gather"; Refused: "sender-parameters-retry";
                      // AwaitingView: "sender-parameters-first-view"
};

}  // namespace meshmeet::core
