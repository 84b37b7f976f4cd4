// The mesh: who is in the meeting and one peer connection to each of them.
// The roster comes from welcome, peer-joined and peer-left, and after a
// resume is reconciled against welcome.peers (departures we missed while
// away are applied, arrivals added). Every member opens its connection to
// every other at once; the impolite end of each pair (`polite` is fixed per
// pair by id order) makes the first offer, and perfect negotiation settles
// later collisions (see peer_negotiation.hpp for why one end opens). The uplink
// budget is split across the video senders and recomputed on every join and
// leave. Whether our microphone and camera are live goes to every peer over
// the data channel when it changes (and when a channel opens).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "protocol/messages.hpp"
#include "wasm/core/context.hpp"
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
  void on_welcome(std::int64_t now, const protocol::Welcome& welcome, WelcomeKind kind, const std::string& ice_servers_json);
  void on_peer_joined(std::int64_t now, const protocol::PeerInfo& peer);
  void on_peer_left(std::int64_t now, const std::string& peer, std::string reason);
  void on_signal(std::int64_t now, const std::string& from, const std::string& data);
  void on_signaling_up(std::int64_t now);
  void close(std::int64_t now, std::string why);

  // ---- routing of peer-connection events and timers
  PeerNegotiation* by_pc(int pc);
  void on_peer_timer(std::int64_t now, const std::string& peer, int timer);
  void on_stats_timer(std::int64_t now, int timer);
  void on_stats(std::int64_t now, int pc, const StatsSample& sample);

  // ---- from the app
  void set_local_track(std::int64_t now, MediaKind kind, std::string track);
  void set_muted(std::int64_t now, MediaKind kind, bool muted);
  void set_uplink_budget(std::int64_t now, int kbps);
  // Chat to everyone (`to` empty) or one peer; errors become ErrorEvent.
  void send_chat(std::int64_t now, const std::string& text, const std::string& to);

  struct Member {
    std::string name;
    std::unique_ptr<PeerNegotiation> link;
    std::unique_ptr<QualityMonitor> quality;
    int quality_pc = 0;  // the connection the quality counters belong to
  };
  const std::map<std::string, Member>& roster() const { return roster_; }
  const LocalMedia& local_media() const { return media_; }
  int uplink_kbps() const { return uplink_kbps_; }

 private:
  void set_state(MeshState next, std::string why);  // the single mutator
  void add(std::int64_t now, const protocol::PeerInfo& peer);
  void remove(std::int64_t now, const std::string& peer, std::string reason);
  void rebalance(std::int64_t now);
  // Tells every peer our microphone and camera if they changed from `before`.
  void announce_media(std::int64_t now, std::pair<bool, bool> before);
  std::pair<bool, bool> media_state() const;  // {audio live, video live}
  void update_stats_timer();

  CoreContext& ctx_;
  MeshState state_ = MeshState::Detached;
  std::string self_;
  std::string ice_servers_json_ = "[]";
  std::map<std::string, Member> roster_;
  LocalMedia media_;
  int uplink_kbps_;
  int stats_timer_ = 0;
};

}  // namespace meshmeet::core
