// A fake RTCPeerConnection on a simulated network, faithful where the core's
// logic depends on the browser: an operations chain that serialises
// setLocalDescription / setRemoteDescription / addIceCandidate, the
// signaling-state rules (InvalidStateError where the spec says so), implicit
// rollback (optionally missing, as in older implementations), the
// negotiation-needed flag (fired only when stable with an empty chain, once
// per need), ICE credentials that change on restart, trickled candidates
// that must match the remote ufrag, local descriptions that carry the
// candidates gathered so far, and a transport that connects only when both
// ends hold each other's description, fingerprint and candidates — and that
// can be cut to make ICE go disconnected → failed.
//
// M-lines keep their order, as JSEP requires: a connection's mids are
// handed out once (a rolled-back offer's new mids are not used again), a
// later offer lists the negotiated m-lines first, in their order, and an
// offer that does not is refused ("The order of m-lines in subsequent offer
// doesn't match order from previous offer/answer", InvalidAccessError). So a
// peer that applied an offer the offerer then rolled back refuses the
// offerer's next one when that offer adds a m-line.
//
// Chromium behaviours the core has to live with are modelled too (the order
// of events after a rollback is an option, PcOptions):
// rolling back a connection's first offer discards the ICE transport it
// created, so the answer comes with fresh ICE credentials; and a connection
// learns the host's networks once, asynchronously, when its first ICE
// session starts — if that offer is rolled back before the list arrived, no
// session is listening when it does, the list is dropped and never asked for
// again, and the connection never gathers a candidate, for any later
// description or ICE restart either (Chromium's FilteringNetworkManager
// fires its first update only while a session is started; seen in 156).
#pragma once

#include "wasm/core/uplink_budget.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "sim/event_loop.hpp"
#include "wasm/core/random.hpp"

namespace sim {

class FakePeerConnection;
class MediaNetwork;

// One m= section: its mid ("0", "1", …) and its kind (audio, video, application).
struct MediaSection {
  std::string mid;
  std::string kind;
  bool operator==(const MediaSection& o) const { return mid == o.mid && kind == o.kind; }
};

struct FakeDescription {
  std::string type;
  std::string fingerprint;
  std::string ufrag;
  std::vector<MediaSection> mlines;           // in order, as in the SDP
  std::set<std::string> sending;              // media kinds sent (with a track)
  std::map<std::string, std::string> tracks;  // kind → track id (msid)
  std::string stream;
  std::vector<std::string> candidates;        // a=candidate lines gathered before it was taken
  bool has(const std::string& kind) const;
  std::set<std::string> kinds() const;
  std::string to_sdp() const;
  static std::optional<FakeDescription> parse(const std::string& type, const std::string& sdp);
};

// The events a browser would fire, delivered to the fake JS shim.
class PcListener {
 public:
  virtual ~PcListener() = default;
  virtual void pc_negotiation_needed(FakePeerConnection& pc) = 0;
  virtual void pc_signaling_state(FakePeerConnection& pc, const std::string& state) = 0;
  virtual void pc_ice_candidate(FakePeerConnection& pc, const std::string& candidate_json) = 0;
  virtual void pc_ice_connection_state(FakePeerConnection& pc, const std::string& state) = 0;
  virtual void pc_connection_state(FakePeerConnection& pc, const std::string& state) = 0;
  virtual void pc_track(FakePeerConnection& pc, const std::string& track, const std::string& kind,
                        const std::string& stream) = 0;
  virtual void pc_data_channel_open(FakePeerConnection& pc) = 0;
  virtual void pc_data_channel_message(FakePeerConnection& pc, const std::string& text) = 0;
  virtual void pc_local_description(FakePeerConnection& pc, int op, const std::string& type, const std::string& sdp) = 0;
  virtual void pc_operation_done(FakePeerConnection& pc, int op) = 0;
  virtual void pc_operation_failed(FakePeerConnection& pc, int op, const std::string& name, const std::string& message) = 0;
};

struct PcOptions {
  bool implicit_rollback = true;
  std::int64_t op_delay_ms = 1;
  std::int64_t answer_delay_ms = 0;  // extra time to make an answer (a busy browser)
  // Extra time to apply a remote description (a starved CPU: six pages on two cores).
  std::int64_t remote_description_delay_ms = 0;
  // Chrome 156: after a rollback to `stable` that leaves negotiation needed,
  // negotiationneeded reaches the page before the rollback's
  // signalingstatechange and completion, and only once.
  bool negotiation_needed_overtakes_rollback = false;
  // A browser that gathers host and server-reflexive candidates even under
  // iceTransportPolicy "relay" (a bug, or a hostile one): the core must
  // still keep them off the wire.
  bool gathers_past_relay_policy = false;
};

class FakePeerConnection {
 public:
  FakePeerConnection(MediaNetwork& net, int serial, PcListener& listener, std::string host, std::string owner_id,
                     std::string remote_id, int handle, PcOptions options);

  // ---- the RTCPeerConnection surface the shim uses
  void set_local_description(int op, const std::string& type);  // "" (implicit) or "rollback"
  void set_remote_description(int op, const std::string& type, const std::string& sdp);
  void add_ice_candidate(int op, const std::string& candidate_json);
  void restart_ice();
  // The RTCConfiguration given at creation and by setConfiguration: its
  // iceServers and iceTransportPolicy ("relay": relay candidates only).
  void set_configuration(const std::string& config_json);
  void add_track(const std::string& kind, const std::string& track);
  void remove_track(const std::string& kind);
  void replace_track(const std::string& kind, const std::string& track);
  void send(const std::string& text);
  void close();

  // ---- for the network and the checks
  int serial() const { return serial_; }
  int handle() const { return handle_; }
  const std::string& host() const { return host_; }
  const std::string& owner_id() const { return owner_id_; }
  const std::string& remote_id() const { return remote_id_; }
  bool closed() const { return closed_; }
  const std::string& signaling_state() const { return signaling_; }
  const std::string& ice_state() const { return ice_; }
  const std::string& connection_state() const { return conn_; }
  bool data_channel_open() const { return dc_open_; }
  int partner() const { return partner_; }
  const std::string& fingerprint() const { return fingerprint_; }
  const FakeDescription* current_local() const;
  const FakeDescription* current_remote() const;
  bool has_remote_candidate(const std::string& ufrag) const { return remote_cands_.count(ufrag) > 0; }
  std::int64_t connected_since() const { return connected_since_; }
  int sends_while_closed() const { return sends_while_closed_; }
  std::map<std::string, meshmeet::core::SenderBudget> sender_parameters;  // kind → what the shim set (setParameters)
  int restarts() const { return restarts_; }
  // Local ICE-restart offers rolled back for a colliding remote offer
  // (glare). Chrome can leave the peer's video frozen after that (see
  // wasm/core/peer_signal.hpp): it must never happen.
  int restart_offers_yielded() const { return restart_offers_yielded_; }
  bool missed_network_list() const { return networks_ == Networks::Missed; }
  bool relay_policy() const { return relay_policy_; }
  // The iceServers each ICE session (one per local ufrag) started with, in order.
  const std::vector<std::string>& session_ice_servers() const { return session_ice_servers_; }
  int configurations_set() const { return configurations_set_; }

 private:
  friend class MediaNetwork;
  struct Op {
    enum Kind { Sld, Srd, Candidate } kind;
    int id;
    std::string type;
    std::string payload;
  };
  void enqueue(Op op);
  void run_next();
  void execute(const Op& op);
  void roll_back(const Op& op);
  void fail(const Op& op, const std::string& name, const std::string& message);
  void set_signaling(const std::string& state);
  void reached_stable();
  void update_negotiation_needed();
  bool negotiation_needed() const;
  std::set<std::string> wanted_mlines() const;
  void gather(const std::string& ufrag);
  void emit_candidates(const std::string& ufrag);
  void on_network_list();
  void roll_back_local_offer();
  void announce_tracks(const FakeDescription& remote);
  void set_transport(const std::string& ice, const std::string& conn);
  std::string check_key() const;

  MediaNetwork& net_;
  int serial_;
  PcListener& listener_;
  std::string host_, owner_id_, remote_id_;
  int handle_;
  PcOptions options_;
  bool closed_ = false;

  std::string signaling_ = "stable";
  std::optional<FakeDescription> local_stable_, remote_stable_, local_pending_, remote_pending_;
  std::map<std::string, std::string> tracks_;  // kind → local track
  std::vector<MediaSection> negotiated_mlines_;
  std::set<std::string> negotiated_sending_;
  // Our transceivers' mids, by kind (none until a description gives one),
  // and every mid this connection has handed out or seen.
  std::map<std::string, std::string> mids_;
  std::set<std::string> used_mids_;
  std::string new_mid();
  bool restart_pending_ = false;
  std::string fingerprint_, initial_ufrag_;
  std::map<std::string, std::vector<std::string>> gathered_;  // ufrag → candidate JSON
  std::set<std::string> gathering_;
  // What this connection knows of the host's networks (see the top of the file).
  enum class Networks {
    Unknown,    // no ICE session started yet
    Requested,  // the first session started; the list is on its way
    Known,      // sessions gather at once
    Missed,     // the list came while no session was listening: nothing will ever gather
  };
  Networks networks_ = Networks::Unknown;
  std::set<std::string> waiting_for_networks_;  // ufrags of the sessions waiting for the list
  std::set<std::string> remote_cands_;
  bool nn_flag_ = false;
  bool update_on_empty_chain_ = false;
  std::deque<Op> chain_;
  bool executing_ = false;
  std::set<std::string> announced_;

  // transport
  std::string ice_ = "new", conn_ = "new";
  int partner_ = 0;
  std::int64_t checking_since_ = -1;
  std::int64_t last_ok_ = 0;
  std::int64_t connected_since_ = -1;
  std::string failed_key_;
  bool dc_open_ = false;
  std::deque<std::string> early_messages_;  // arrived before our channel's `open`
  int sends_while_closed_ = 0;
  int restarts_ = 0;
  int restart_offers_yielded_ = 0;
  std::string ice_servers_ = "[]";
  bool relay_policy_ = false;
  int configurations_set_ = 0;
  std::vector<std::string> session_ice_servers_;
};

// The network between all fake peer connections: pairs them by the
// credentials they exchanged, and can be told to cut paths.
class MediaNetwork {
 public:
  MediaNetwork(EventLoop& loop, std::uint64_t seed);

  EventLoop& loop() { return loop_; }
  FakePeerConnection& create(PcListener& listener, const std::string& host, const std::string& owner_id,
                             const std::string& remote_id, int handle, PcOptions options);
  FakePeerConnection* by_serial(int serial);
  std::vector<FakePeerConnection*> open_connections();
  std::vector<const FakePeerConnection*> all_connections() const;  // closed ones too
  // Connections, open or closed, that will never gather (see the top of the file).
  int connections_without_networks() const;

  // Cut every path between two hosts (all their connections, present and future).
  void block_hosts(const std::string& a, const std::string& b, bool blocked);
  // Cut the path of the connections now open between two hosts only (a wedged
  // NAT binding, or candidates gathered on a network that is gone), connected
  // or still checking: ICE restarts on them fail, a fresh connection works.
  void wedge_current(const std::string& a, const std::string& b);
  bool blocked(const FakePeerConnection& x, const FakePeerConnection& y) const;

  struct Link {
    double rtt_ms = 30;
    double loss = 0;
    double kbps = 600;
  };
  void set_link(const std::string& a, const std::string& b, Link link);
  Link link(const std::string& a, const std::string& b) const;
  // Media from one host to another only (ICE and the data channel unharmed):
  // extra loss on that way, or nothing at all (a frozen picture).
  struct Way {
    double loss = 0;
    bool frozen = false;
  };
  void set_way(const std::string& from, const std::string& to, Way way) { ways_[{from, to}] = way; }
  Way way(const std::string& from, const std::string& to) const {
    auto it = ways_.find({from, to});
    return it == ways_.end() ? Way{} : it->second;
  }

  std::string random_hex(int bytes, bool colons);
  std::int64_t ice_check_ms = 40;
  std::int64_t disconnected_after_ms = 1000;
  std::int64_t failed_after_ms = 6000;
  std::int64_t checking_timeout_ms = 10000;
  // From a connection's first ICE session to its network list (Chromium asks
  // the browser process; tens to hundreds of ms on a busy machine).
  std::int64_t network_list_ms = 120;

 private:
  void tick();
  void tick(FakePeerConnection& x);
  FakePeerConnection* viable_partner(FakePeerConnection& x);

  EventLoop& loop_;
  meshmeet::core::SeededRandom random_;
  std::map<int, std::unique_ptr<FakePeerConnection>> pcs_;
  int last_serial_ = 0;
  std::set<std::pair<std::string, std::string>> blocked_hosts_;
  std::set<std::pair<int, int>> wedged_;
  std::map<std::pair<std::string, std::string>, Link> links_;
  std::map<std::pair<std::string, std::string>, Way> ways_;
};

}  // namespace sim
