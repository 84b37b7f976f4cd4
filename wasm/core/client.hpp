// The one object the outside talks to: a meeting client as a sans-I/O state
// machine. Every input carries `now_ms` from the caller's monotonic clock; the
// client owns no clock, does no I/O and never throws. What it wants done
// accumulates as Output values (outputs.hpp), drained after each input.
//
// The signature of every method is Embind-friendly on purpose: numbers and
// strings in, a JSON array (drain_json) or Output values out, so a single
// binding file can expose it unchanged.
//
// Inputs the JS shim must report, per output it carries out:
//   OpenSocket            → socket_opened / socket_message / socket_closed
//   CreatePeerConnection  → create_peer_connection_failed if it threw, else negotiation_needed, ice_candidate, signaling_state,
//                           ice_connection_state, connection_state, track,
//                           data_channel_open/closed/message
//   SetLocalDescription   → local_description (or operation_done for a rollback) / operation_failed
//   SetRemoteDescription, AddIceCandidate → operation_done / operation_failed
//   GetStats              → stats
//   StartTimer            → timer_fired
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "wasm/core/client_config.hpp"
#include "wasm/core/context.hpp"
#include "wasm/core/mesh.hpp"
#include "wasm/core/outputs.hpp"
#include "wasm/core/signaling_session.hpp"

namespace meshmeet::core {

struct PeerSnapshot {
  std::string peer;
  std::string name;
  std::string state;  // PeerState
  int pc;
  int generation;
  bool polite;
  bool data_channel_open;
  std::string verification_code;
  std::string trust;  // TrustState
  MediaState media;      // what the peer last said it sends
  std::string quality;   // QualityLevel
};

class Client {
 public:
  explicit Client(ClientConfig config = {});
  // Its parts refer to each other: it stays where it was constructed.
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // ---- the app's requests
  void join(double now_ms, const std::string& server_url, const std::string& meeting_id, const std::string& name);
  void leave(double now_ms);
  // kind "audio"/"video", or "screen" for a video track that is a shared
  // screen; track "" removes it. Adds, replaces or removes the track on every
  // peer connection (renegotiating where the browser needs it).
  // `height`: a video track's height in pixels (0: unknown).
  void set_local_track(double now_ms, const std::string& kind, const std::string& track_id, int height = 0);
  // Disables (or enables again) the local tracks of `kind`; every peer is
  // told whether our microphone and camera are live (peer-media at its end).
  void set_muted(double now_ms, const std::string& kind, bool muted);
  // The person compared `peer`'s verification code and it matched: false
  // when no code is shown for that peer (unknown, or not ready yet).
  bool mark_verified(double now_ms, const std::string& peer);
  void set_uplink_budget(double now_ms, int kbps);
  // How large the app draws `peer`'s video: `height` in device pixels (of
  // the whole picture as drawn, cropped or not), 0 when it draws none (tile
  // off-screen, tab hidden). The peer then sends no larger a picture, or
  // none. A peer never told this is sent what the uplink budget affords.
  // False for a peer not in the meeting.
  bool set_view(double now_ms, const std::string& peer, int height);

  // ---- the signaling socket
  void socket_opened(double now_ms, int socket);
  void socket_closed(double now_ms, int socket, int code);
  void socket_message(double now_ms, int socket, const std::string& text);

  // ---- peer connections (events for closed or unknown handles are ignored)
  // `new RTCPeerConnection(config)` threw: a fresh connection is tried (see PeerNegotiation::on_create_failed).
  void create_peer_connection_failed(double now_ms, int pc, const std::string& error_name, const std::string& message);
  void negotiation_needed(double now_ms, int pc);
  void local_description(double now_ms, int pc, int op, const std::string& type, const std::string& sdp);
  void operation_done(double now_ms, int pc, int op);
  void operation_failed(double now_ms, int pc, int op, const std::string& error_name, const std::string& message);
  void ice_candidate(double now_ms, int pc, const std::string& candidate_json);  // "" or "null" = end of candidates
  void signaling_state(double now_ms, int pc, const std::string& state);
  void ice_connection_state(double now_ms, int pc, const std::string& state);
  void connection_state(double now_ms, int pc, const std::string& state);
  void track(double now_ms, int pc, const std::string& track_id, const std::string& kind, const std::string& stream_id);
  // The certificate DTLS authenticated on `pc` (RTCDtlsTransport
  // getRemoteCertificates(), where the browser has it), as "sha-256 AB:…".
  void remote_certificate(double now_ms, int pc, const std::string& fingerprint);
  void data_channel_open(double now_ms, int pc);
  void data_channel_closed(double now_ms, int pc);
  void data_channel_message(double now_ms, int pc, const std::string& text);
  // getStats() summed per connection (cumulative counters, see StatsSample):
  // inbound-rtp packetsLost / packetsReceived, bytes in and out, the
  // remote-inbound-rtp packetsLost the peer reports and outbound-rtp packetsSent;
  // `cpu_limited`: an outbound video's qualityLimitationReason is "cpu".
  void stats(double now_ms, int pc, double rtt_ms, double packets_lost, double packets_received, double bytes_received,
             double bytes_sent, double remote_packets_lost, double packets_sent, bool cpu_limited);

  // ---- the device
  // The network changed (the browser's `online` event): every connection
  // restarts ICE as soon as signaling is up, an unreachable peer is retried
  // at once, and a signaling reconnect waiting out its backoff goes now.
  void network_changed(double now_ms);
  // The device's CPU pressure (the Compute Pressure API's state for "cpu":
  // nominal, fair, serious, critical) changed; an unknown state is ignored.
  void cpu_pressure(double now_ms, const std::string& state);

  // ---- timers
  void timer_fired(double now_ms, int timer);

  // ---- outputs
  std::vector<Output> drain() { return ctx_.drain(); }
  std::string drain_json() { return to_json(ctx_.drain()); }
  bool has_outputs() const { return ctx_.has_outputs(); }

  // ---- introspection (tests, debugging, the app's status line)
  std::string state() const { return std::string(to_string(session_.state())); }
  const std::string& self_id() const { return session_.self_id(); }
  std::vector<PeerSnapshot> peers() const;
  std::size_t active_timer_count() const { return ctx_.active_timer_count(); }
  std::vector<std::string> active_timer_purposes() const { return ctx_.active_timer_purposes(); }
  const SignalingSession& session() const { return session_; }
  const Mesh& mesh() const { return mesh_; }
  // {"state","self","peers":[{…PeerSnapshot}],"timers":[purposes]}
  std::string snapshot_json() const;

 private:
  static std::int64_t ms(double now_ms);
  void settle(std::int64_t now);  // after every input: propagate session edges to the mesh
  PeerNegotiation* link(int pc) { return mesh_.by_pc(pc); }

  CoreContext ctx_;
  SignalingSession session_;
  Mesh mesh_;
};

}  // namespace meshmeet::core
