// One meeting participant in the simulation: the real client core plus a
// fake of the JS shim that carries out its outputs against the fake server,
// the fake peer connections and the virtual clock, and feeds the results
// back as inputs. The shim is strict: anything a browser would reject or
// that would leak (an unknown handle, a timer id reused or cancelled twice,
// a send on a closed socket) is recorded as an anomaly, and checks fail on
// anomalies.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/fake_peer_connection.hpp"
#include "wasm/core/client.hpp"

namespace sim {

class World;

struct ParticipantOptions {
  meshmeet::core::ClientConfig config;  // seed is derived from the world's unless set here
  bool seed_given = false;
  PcOptions pc;
  bool with_audio = true;
  bool with_video = true;
};

class Participant : public PcListener {
 public:
  Participant(World& world, std::string name, ParticipantOptions options);

  const std::string& name() const { return name_; }
  meshmeet::core::Client& core() { return client_; }
  const std::string& id() const { return client_.self_id(); }

  // ---- the app
  void join(const std::string& meeting);
  void leave();
  void set_track(const std::string& kind, const std::string& track);
  void set_muted(const std::string& kind, bool muted);
  void set_uplink_budget(int kbps);
  // The app draws `peer`'s video `height` px high (0: not at all): Client::set_view.
  bool set_view(const std::string& peer, int height);
  // The person compared `peer`'s verification code: Client::mark_verified.
  bool mark_verified(const std::string& peer);
  // ---- the device: the browser's `online` event
  void network_changed();
  // The device's CPU pressure, as the Compute Pressure API names it.
  void cpu_pressure(const std::string& state);

  // ---- what the app saw
  std::vector<meshmeet::core::Output> events;  // app-facing outputs only, in order
  template <class T>
  std::vector<T> events_of() const {
    std::vector<T> out;
    for (const auto& e : events)
      if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
    return out;
  }
  std::vector<std::string> states() const;
  std::vector<std::string> error_codes() const;

  // ---- what the shim holds
  std::map<int, FakePeerConnection*> pcs;       // core handle → open fake connection
  std::map<int, std::uint64_t> timers;          // core timer → loop event
  std::map<int, std::string> timer_purposes;    // core timer → purpose
  std::map<int, int> sockets;                   // core socket → server connection
  // The local tracks the app gave, kind → track → MediaStreamTrack.enabled
  // (set-track-enabled reaches every track of the kind given so far, as in
  // web/meshmeet.js), and the one each kind sends now ("" = none).
  std::map<std::string, std::map<std::string, bool>> local_tracks;
  std::map<std::string, std::string> current_track;
  std::set<std::string> screens;  // video tracks given as a shared screen: set-track-enabled leaves them alone
  // The peers receive a live track of this kind: one is set and enabled.
  bool sends_live(const std::string& kind) const;
  std::vector<std::string> anomalies;
  // The next this many setParameters calls are refused (InvalidModificationError),
  // as a browser does before the sender is negotiated, or node-webrtc always.
  int refuse_set_parameters = 0;
  // Every outbound video reports qualityLimitationReason "cpu" while set.
  bool cpu_limited = false;
  // The next this many `new RTCPeerConnection` calls throw.
  int refuse_peer_connections = 0;
  int pcs_refused = 0;
  std::set<int> refused_pcs;
  int set_parameters_refused = 0;
  int pcs_created = 0, pcs_closed = 0, ice_restarts = 0, sockets_opened = 0, texts_sent = 0, logs = 0;
  int glare_ignored = 0, glare_accepted = 0, candidates_queued = 0, explicit_rollbacks = 0;
  std::set<std::string> glared_with;  // peers whose offer crossed one of ours
  std::int64_t max_output_batch = 0;

  std::vector<std::string> sorted_timer_purposes() const;

  // ---- PcListener: browser events, forwarded only while the connection is ours
  void pc_negotiation_needed(FakePeerConnection& pc) override;
  void pc_signaling_state(FakePeerConnection& pc, const std::string& state) override;
  void pc_ice_candidate(FakePeerConnection& pc, const std::string& candidate_json) override;
  void pc_ice_connection_state(FakePeerConnection& pc, const std::string& state) override;
  void pc_connection_state(FakePeerConnection& pc, const std::string& state) override;
  void pc_track(FakePeerConnection& pc, const std::string& track, const std::string& kind,
                const std::string& stream) override;
  void pc_data_channel_open(FakePeerConnection& pc) override;
  void pc_data_channel_message(FakePeerConnection& pc, const std::string& text) override;
  void pc_local_description(FakePeerConnection& pc, int op, const std::string& type, const std::string& sdp) override;
  void pc_operation_done(FakePeerConnection& pc, int op) override;
  void pc_operation_failed(FakePeerConnection& pc, int op, const std::string& name, const std::string& message) override;

 private:
  double now() const;
  bool ours(const FakePeerConnection& pc) const;
  template <class F>
  void feed(F&& input) {
    input(client_, now());
    pump();
  }
  void pump();
  void give_track(const std::string& kind, const std::string& track);
  void carry_out(meshmeet::core::Output& output);
  FakePeerConnection* pc(int handle, const char* what);
  // getStats' cumulative counters per connection, integrated over the time
  // its transport was connected, with the network's loss and frozen ways.
  struct Counters {
    std::int64_t at = -1;
    double received = 0, lost = 0, sent = 0, remote_lost = 0, bytes_in = 0, bytes_out = 0;
  };
  std::map<int, Counters> counters_;

  World& world_;
  std::string name_;
  ParticipantOptions options_;
  meshmeet::core::Client client_;
};

}  // namespace sim
