// The mesh: who is in the meeting and one peer connection to each of them.
// The roster comes from welcome, peer-joined and peer-left, and after a
// resume is reconciled against welcome.peers (departures we missed while
// away are applied, arrivals added). Every member opens its connection to
// every other at once; the impolite end of each pair (`polite` is fixed per
// pair by id order) makes the first offer, and perfect negotiation settles
// later collisions (see peer_negotiation.hpp for why one end opens). The uplink
// budget is split across the video senders and recomputed on every join and
// leave, whenever a peer says how large it draws our video, and when the CPU
// load steps every copy down or up (uplink_budget.hpp, cpu_load.hpp). Whether our microphone and camera are live goes to every peer over
// the data channel when it changes (and when a channel opens).
//
// Peers not back yet after a server restart. A lone server that restarted
// knows nobody: when we resume, welcome.peers lists only those already back,
// and the others return under the ids we know, announced with peer-joined
// (protocol v2, "Resume"). So a member missing from our resume's welcome
// whose connection is still up is kept, media flowing, until the resume
// grace after that welcome (welcome.resumeGrace, the server's --resume-grace;
// peer_return_grace_ms from a server that does not say); peer-joined for it means
// "still here", and its connection carries on untouched. Signals to it wait
// in its connection's order until then (the server does not know it yet).
// A member whose connection is down, or who is not back in time, is gone.
// After a rejoin under a new id (bad-resume) everyone sees a stranger: every
// connection is rebuilt.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "protocol/messages.hpp"
#include "wasm/core/context.hpp"
#include "wasm/core/cpu_load.hpp"
#include "wasm/core/peer_negotiation.hpp"
#include "wasm/core/quality.hpp"
#include "wasm/core/signaling_session.hpp"

namespace meshmeet::core {

enum class MeshState {
  Detached,  // no welcome yet
  Active,    // a roster and its connections
  Closed,    // we left or the meeting failed: terminal
};
std::string_view to_string(MeshState state);

class Mesh {
 public:
  explicit Mesh(CoreContext& ctx);

  MeshState state() const { return state_; }
  const std::string& self_id() const { return self_; }

  // ---- from the signaling session
  // `ice_servers_json` and `relay_only`: the session's newest (see IceSettings).
  void on_welcome(std::int64_t now, const protocol::Welcome& welcome, WelcomeKind kind, const std::string& ice_servers_json,
                  bool relay_only);
  // Fresh ICE servers (TURN credentials about to expire): every live
  // connection gets them, and new connections are made with them. The
  // app's own list (ClientConfig::ice_servers_json), if any, still wins.
  void on_ice_servers(std::int64_t now, const std::string& ice_servers_json);
  void on_peer_joined(std::int64_t now, const protocol::PeerInfo& peer);
  void on_peer_left(std::int64_t now, const std::string& peer, std::string reason);
  void on_signal(std::int64_t now, const std::string& from, const std::string& data);
  void on_signaling_up(std::int64_t now);
  // The device's network changed (the browser's `online` event): every
  // connection restarts ICE, now or as soon as signaling is back.
  void on_network_change(std::int64_t now);
  // After a connection's ICE or connection state changed: every pair down
  // together for kOutageConfirmMs is the device's network changing under us,
  // whether or not the browser says so (Wi-Fi roaming or a router's new
  // address fire no `online` event): handled as on_network_change, once per
  // outage. A briefly starved page whose pairs blink is left alone.
  void on_transport_changed(std::int64_t now);
  void on_outage_timer(std::int64_t now, int timer);
  void close(std::int64_t now, std::string why);
  // A signal to a member not back yet after a server restart waits (true);
  // any other goes out now (false).
  bool hold_signal(const std::string& to, std::string& data);
  // After every input: members not back yet whose connection went down are gone.
  void settle(std::int64_t now);

  // ---- routing of peer-connection events and timers
  PeerNegotiation* by_pc(int pc);
  void on_peer_timer(std::int64_t now, const std::string& peer, int timer);
  void on_stats_timer(std::int64_t now, int timer);
  void on_stats(std::int64_t now, int pc, const StatsSample& sample);
  // The device's CPU pressure changed (see cpu_load.hpp): counted at the next stats round.
  void on_cpu_pressure(CpuPressure pressure) { cpu_load_.on_pressure(pressure); }
  void on_data_channel_message(std::int64_t now, int pc, const std::string& text);
  void on_return_timer(std::int64_t now, int timer);

  // ---- from the app
  // `height`: the video track's height in pixels (0: unknown), what the uplink budget scales from.
  void set_local_track(std::int64_t now, MediaKind kind, std::string track, bool screen = false, int height = 0);
  void set_muted(std::int64_t now, MediaKind kind, bool muted);
  void set_uplink_budget(int kbps);
  // How large we draw `peer`'s video (a view height in pixels, 0: not at
  // all); false for a peer not in the meeting.
  bool set_view(std::int64_t now, const std::string& peer, int height);
  // See PeerNegotiation::mark_verified; false for a peer not in the meeting too.
  bool mark_verified(std::int64_t now, const std::string& peer);

  struct Member {
    std::string name;
    std::unique_ptr<PeerNegotiation> link;
    std::unique_ptr<QualityMonitor> quality;
    int quality_pc = 0;  // the connection the quality counters belong to
    // Missing from our resume's welcome, connection up: kept until then for
    // a peer coming back after a server restart (see the top of this file).
    std::optional<std::int64_t> back_by;
    std::vector<std::string> signals_waiting;  // to it, until it is back
  };
  const std::map<std::string, Member>& roster() const { return roster_; }
  const LocalMedia& local_media() const { return media_; }
  const IceSettings& ice_settings() const { return ice_settings_; }
  int uplink_kbps() const { return uplink_kbps_; }
  const CpuLoad& cpu_load() const { return cpu_load_; }

 private:
  void set_state(MeshState next, std::string why);  // the single mutator
  void add(std::int64_t now, const protocol::PeerInfo& peer);
  void remove(std::int64_t now, const std::string& peer, std::string reason);
  void rebalance();
  std::size_t uplink_senders();  // connections that upload our media
  // Tells every peer our microphone and camera if they changed from `before`.
  void announce_media(std::int64_t now, MediaState before);
  MediaState media_state() const { return media_.state(); }
  void update_stats_timer();
  template <typename F>
  void for_each_link(F f);

  // Peers coming back after a server restart (see the top of this file).
  void expect_back(std::int64_t now, const std::set<std::string>& present, std::int64_t grace_ms);
  void welcome_back(Member& member, const std::string& id);  // it is back: its waiting signals go out
  void arm_return_timer(std::int64_t now);
  void roster_changed(std::int64_t now);
  // The app's own ICE servers win over the server's.
  void set_ice_settings(const std::string& servers_json, bool relay_only);

  CoreContext& ctx_;
  MeshState state_ = MeshState::Detached;
  std::string self_;
  IceSettings ice_settings_;  // every link refers to it: declared before them
  std::map<std::string, Member> roster_;
  LocalMedia media_;
  int uplink_kbps_;
  std::size_t budget_senders_ = 0;  // the senders the last split was made for
  int stats_timer_ = 0;
  CpuLoad cpu_load_;
  bool cpu_limited_this_round_ = false;  // a stats sample since the last round said so
  // When the network changed while signaling was away: the restarts wait
  // for it, and concern only the connections made before that moment.
  std::optional<std::int64_t> network_changed_at_;
  // Every pair down together: None, then Confirming (outage_timer_ runs),
  // then Reported (a network change) until a pair is up again.
  enum class Outage { None, Confirming, Reported };
  Outage outage_ = Outage::None;
  int outage_timer_ = 0;
  bool every_pair_down() const;

  int return_timer_ = 0;  // the earliest back_by
};

}  // namespace meshmeet::core
