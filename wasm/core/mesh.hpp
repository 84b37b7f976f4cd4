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
//
// Connections carried over a rejoin. A server restart forgets every id: all
// members rejoin under new ids (bad-resume), while the peer connections
// between them are still up. Rebuilding them would cut every call for
// nothing, so after our rejoin a connection that is still up is kept (an
// orphan, under the peer's old id) and our new id goes to the peer over its
// data channel; the peer does the same. When the roster shows the id an
// orphan's peer announced, the connection is bound to it (PeerIdChanged)
// instead of a fresh one being opened. Both ends keep their `polite` for
// that connection, so the pair still agrees. A member who appears while a
// connection is still unbound may be its peer: it waits (carry_over_wait_ms)
// for the announcement, and its signals with it. An orphan is closed
// (peer-left "rejoined") when its connection goes down, when its new id
// already has a connection, when another orphan claims the same id, when the
// id it claims belongs to a member with another name (the server keeps names
// across rejoins: a peer cannot take over someone else's tile), or when it
// says nothing within carry_over_window_ms. Members still present under
// their old ids saw us leave and closed their ends: those connections are
// rebuilt as before.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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
  // Whether a signal to `peer` may go out: only to the roster (an orphan's
  // old id means nothing to the server any more).
  bool reachable(const std::string& peer) const { return roster_.count(peer) > 0; }
  // After every input: orphans whose connection went down are closed.
  void settle(std::int64_t now);

  // ---- routing of peer-connection events and timers
  PeerNegotiation* by_pc(int pc);
  void on_peer_timer(std::int64_t now, const std::string& peer, int timer);
  void on_stats_timer(std::int64_t now, int timer);
  void on_stats(std::int64_t now, int pc, const StatsSample& sample);
  void on_data_channel_message(std::int64_t now, int pc, const std::string& text);
  void on_carry_over_timer(std::int64_t now, int timer);

  // ---- from the app
  // `height`: the video track's height in pixels (0: unknown), what the uplink budget scales from.
  void set_local_track(std::int64_t now, MediaKind kind, std::string track, bool screen = false, int height = 0);
  void set_muted(std::int64_t now, MediaKind kind, bool muted);
  void set_uplink_budget(std::int64_t now, int kbps);
  // Chat to everyone (`to` empty) or one peer; errors become ErrorEvent.
  void send_chat(std::int64_t now, const std::string& text, const std::string& to);
  // See PeerNegotiation::mark_verified; false for a peer not in the meeting too.
  bool mark_verified(std::int64_t now, const std::string& peer);

  struct Member {
    std::string name;
    std::unique_ptr<PeerNegotiation> link;
    std::unique_ptr<QualityMonitor> quality;
    int quality_pc = 0;  // the connection the quality counters belong to
  };
  const std::map<std::string, Member>& roster() const { return roster_; }
  struct Orphan {  // a connection kept across our rejoin, under the peer's old id
    Member member;
    std::int64_t expires;
  };
  const std::map<std::string, Orphan>& orphans() const { return orphans_; }
  const LocalMedia& local_media() const { return media_; }
  const IceSettings& ice_settings() const { return ice_settings_; }
  int uplink_kbps() const { return uplink_kbps_; }

 private:
  void set_state(MeshState next, std::string why);  // the single mutator
  void add(std::int64_t now, const protocol::PeerInfo& peer);
  void remove(std::int64_t now, const std::string& peer, std::string reason);
  void rebalance(std::int64_t now);
  std::size_t uplink_senders();  // connections that upload our media
  // Tells every peer our microphone and camera if they changed from `before`.
  void announce_media(std::int64_t now, MediaState before);
  MediaState media_state() const { return media_.state(); }
  void update_stats_timer();
  template <typename F>
  void for_each_link(F f);  // the roster's and the orphans'

  // Carrying connections over a rejoin (see the top of this file).
  void admit(std::int64_t now, const protocol::PeerInfo& peer);  // a member the server names
  bool bind_claimant(std::int64_t now, const protocol::PeerInfo& peer);  // false: none to bind
  void carry_over(std::int64_t now, const std::string& old_id, const protocol::PeerInfo& peer);
  void drop_orphan(std::int64_t now, const std::string& old_id, const std::string& why);
  void on_new_id(std::int64_t now, const std::string& old_id);
  void release_waiting(std::int64_t now);  // opens those whose wait is over
  void replay_held_signals(std::int64_t now, const std::string& peer);
  void arm_carry_over_timer(std::int64_t now);
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
  // When the network changed while signaling was away: the restarts wait
  // for it, and concern only the connections made before that moment.
  std::optional<std::int64_t> network_changed_at_;
  // Every pair down together: None, then Confirming (outage_timer_ runs),
  // then Reported (a network change) until a pair is up again.
  enum class Outage { None, Confirming, Reported };
  Outage outage_ = Outage::None;
  int outage_timer_ = 0;
  bool every_pair_down() const;

  struct Waiting {
    protocol::PeerInfo info;
    std::int64_t until;
  };
  std::map<std::string, Orphan> orphans_;     // old id → kept connection
  std::map<std::string, Waiting> waiting_;    // new members that may be an orphan's peer
  std::map<std::string, std::vector<std::string>> held_signals_;  // from members not admitted yet
  int carry_over_timer_ = 0;
};

}  // namespace meshmeet::core
