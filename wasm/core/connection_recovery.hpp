// Whether one pair's connection is up and, when it is not, what is done
// about it: the recovery ladder. PeerNegotiation owns the browser objects and
// the negotiation; this unit owns the pair's state as the user would
// describe it (PeerState), its timers and its counters, and answers each
// input with at most one action for PeerNegotiation to carry out.
//
//   Connecting ─up─▶ Connected ─down─▶ Disconnected ─5 s─▶ RestartPending ─backoff─▶ Restarting
//      │  ▲                                                      ▲                      │ not up in 10 s
//      │  └──────────── fresh connection ◀── restarts used up ───┴──────────────────────┘ (3 restarts)
//      │ stalled (no progress), ICE failed, or the network changed
//      └─▶ fresh connection; after 3 of ours in a row ─▶ Unreachable ─backoff ≤ 60 s─▶ Retrying ─up─▶ Connected
//                                                          ▲   network change, fresh ICE servers,   │
//                                                          │   signaling back: at once              │
//                                                          └──────────── stalled or ICE failed ◀────┘
//
// Why the connect watchdog judges progress, not the clock: a starved CPU
// (six pages on two cores) takes well over 15 s to apply a description, and
// a pair rebuilt in the middle of a slow but healthy negotiation starts
// again from nothing, on the same starved CPU. So a connection is only
// rebuilt when nothing has moved for `connect_watchdog_ms` (no description
// or candidate sent or received, no ICE or signaling state change, no
// operation of ours completing) while the browser has no work of ours in
// its operations chain and ICE is not checking; a generous hard cap
// (`connect_hard_cap_ms`) still bounds a connection that moves forever
// without connecting. The polite end waits half a window longer, so that of
// two ends that stall together one rebuilds and the other follows its fresh
// connection, instead of both rebuilding at once and crossing.
//
// Why there is no permanent give-up: two peers that cannot reach each other
// now (ICE failed through every server, restarts and fresh connections
// included) may reach each other later (the network heals, fresh TURN
// credentials arrive, someone leaves a captive Wi-Fi). So the pair becomes
// Unreachable (the app shows "Can't reach Bob — retrying"), holds no
// connection, and tries a fresh one after a jittered backoff capped at
// `unreachable_retry_cap_ms`, at once when the network changes, fresh ICE
// servers arrive or signaling comes back. Only our own fresh connections
// count toward Unreachable: following the peer's is not a failure of ours,
// and counting both ends' rebuilds against one limit made a pair die twice
// as fast.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "wasm/core/context.hpp"

namespace meshmeet::core {

// The connection's life as the user would describe it: the single source of
// truth for `peer-state` (web/index.d.ts PeerState lists the same strings).
enum class PeerState {
  New,                // not opened yet
  Connecting,         // a peer connection exists and has not connected yet (progress watchdog running)
  Connected,          // media and data flow
  Disconnected,       // ICE/DTLS reported disconnected: waiting a grace period
  RestartPending,     // an ICE restart is due after a jittered backoff
  Restarting,         // ICE restart issued, waiting for it to connect
  AwaitingSignaling,  // a restart or fresh connection is needed but signaling is away
  Unreachable,        // ICE failed through everything we tried; no connection; a retry is due after a backoff
  Retrying,           // unreachable, and a fresh connection is being tried (its own or the peer's)
  Closed,             // the peer left or we did: terminal
};
std::string_view to_string(PeerState state);

// What the browser's two state attributes together say about the transport.
enum class Transport { Pending, Up, Down, Broken };

// What PeerNegotiation is asked to do after an input.
enum class RecoveryAction {
  None,
  RestartIce,       // pc.restartIce() on the current connection
  FreshConnection,  // close the current connection, make a new one that offers first
  DropConnection,   // close the current connection, nothing replaces it (yet)
};

class ConnectionRecovery {
 public:
  ConnectionRecovery(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  PeerState state() const { return state_; }

  void open(std::int64_t now);  // the first connection exists
  void close(std::int64_t now, std::string why);

  // Something moved on the current connection (see the top of this file).
  void on_progress(std::int64_t now) { last_progress_ = now; }
  // The current connection followed a fresh connection of the peer's.
  void on_peer_fresh_connection(std::int64_t now, std::string why);

  // What to tell the watchdog when it fires: work of ours is in the
  // browser's operations chain, or ICE is checking (the browser is busy,
  // not stuck); and whether we are the polite end (it waits longer).
  struct Patience {
    bool browser_busy = false;
    bool polite = false;
  };
  RecoveryAction on_timer(std::int64_t now, int timer, Patience patience);
  RecoveryAction on_transport(std::int64_t now, Transport transport);
  RecoveryAction on_create_failed(std::int64_t now, std::string why);
  // The browser refused to apply a description of the pair's negotiation
  // for a reason other than the signaling state (the peer's offer, our
  // answer, the peer's answer: m-lines in another order than before, say).
  // Offering again would be refused again, and renegotiation (a camera, a
  // shared screen) would never reach the peer: a fresh connection.
  RecoveryAction on_negotiation_broken(std::int64_t now, std::string why);
  // Signaling came back after being away: a pair not up restarts at once
  // (the network may have changed) instead of waiting for its own timers.
  RecoveryAction on_signaling_up(std::int64_t now);
  // The device's network changed (the browser's `online` event), reported
  // only while signaling is up (the mesh defers it until then): every pair
  // restarts ICE at once, an unreachable one retries at once with its
  // backoff reset, and a connection being made or a retry in flight
  // (gathered on the old network) is replaced by a fresh one.
  // `changed_at` is when it changed: a connection begun since then (a
  // rejoin's, while signaling was away) was made on the new network.
  RecoveryAction on_network_change(std::int64_t now, std::int64_t changed_at);
  // The ICE servers changed (fresh TURN credentials): an unreachable pair retries at once.
  RecoveryAction on_ice_servers_changed(std::int64_t now);

 private:
  void set_state(std::int64_t now, PeerState next, std::string why);  // the single mutator
  void arm_timer(std::int64_t now);
  void new_connection(std::int64_t now);  // a connection starts: the watchdog's clocks restart
  RecoveryAction begin_restart(std::int64_t now, std::string why);
  RecoveryAction restart_now(std::int64_t now, std::string why);
  RecoveryAction fresh(std::int64_t now, std::string why);
  RecoveryAction retry(std::int64_t now, std::string why);
  RecoveryAction unreachable(std::int64_t now, std::string why);
  RecoveryAction watchdog(std::int64_t now, Patience patience);

  CoreContext& ctx_;
  std::string peer_;
  PeerState state_ = PeerState::New;
  int timer_ = 0;                  // the current state's timer, if it has one
  int restart_attempts_ = 0;       // ICE restarts of the current connection
  int fresh_connections_ = 0;      // made by us since the pair was last up
  int retries_ = 0;                // unreachable backoffs since the pair was last up (the backoff's exponent)
  bool came_up_ = false;           // the current connection was up once: an ICE restart can repair it
  std::int64_t connecting_since_ = 0;  // the current connection's start (the hard cap counts from here)
  std::int64_t last_progress_ = 0;
};

}  // namespace meshmeet::core
