#include "wasm/core/mesh.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

#include "wasm/core/uplink_budget.hpp"

namespace meshmeet::core {
namespace {

constexpr const char* kMachine = "mesh";
constexpr std::size_t kMaxChatBytes = 16384;

}  // namespace

std::string_view to_string(MeshState state) {
  switch (state) {
    case MeshState::Detached: return "detached";
    case MeshState::Active: return "active";
    case MeshState::Closed: return "closed";
  }
  return "closed";
}

Mesh::Mesh(CoreContext& ctx) : ctx_(ctx), uplink_kbps_(ctx.config().uplink_kbps) {}

void Mesh::set_state(MeshState next, std::string why) {
  if (next == state_ || state_ == MeshState::Closed) return;
  ctx_.transition(kMachine, {}, to_string(state_), to_string(next), std::move(why));
  state_ = next;
}

template <typename F>
void Mesh::for_each_link(F f) {
  for (auto& [id, member] : roster_) f(*member.link);
  for (auto& [id, orphan] : orphans_) f(*orphan.member.link);
}

void Mesh::set_ice_settings(const std::string& servers_json, bool relay_only) {
  const std::string& own = ctx_.config().ice_servers_json;
  ice_settings_.servers_json = own.empty() ? servers_json : own;
  ice_settings_.relay_only = relay_only;
}

void Mesh::on_welcome(std::int64_t now, const protocol::Welcome& w, WelcomeKind kind, const std::string& ice_servers_json,
                      bool relay_only) {
  if (state_ == MeshState::Closed) return;
  set_ice_settings(ice_servers_json, relay_only);  // new connections are made with these
  std::set<std::string> present;
  for (const auto& p : w.peers)
    if (p.id != w.self) present.insert(p.id);

  const bool new_identity = kind == WelcomeKind::Rejoined || (kind == WelcomeKind::Fresh && !roster_.empty());
  if (new_identity) {
    // Members still here under their old ids saw us leave and closed their
    // ends: rebuild those. One gone from the server may have rejoined under
    // a new id as we did (a restart forgets everyone): keep its connection
    // if it is up, until it tells us that id.
    std::vector<std::string> everyone;
    for (const auto& [id, member] : roster_) everyone.push_back(id);
    for (const auto& id : everyone) {
      auto it = roster_.find(id);
      if (present.count(id) || !it->second.link->carry_over_ready()) {
        remove(now, id, "rejoined");
        continue;
      }
      ctx_.log(LogLevel::Debug, kMachine, id, {}, {}, "connection kept across our rejoin, waiting for the peer's new id");
      orphans_.emplace(id, Orphan{std::move(it->second), now + ctx_.config().carry_over_window_ms});
      roster_.erase(it);
    }
    waiting_.clear();
    held_signals_.clear();
  } else if (kind == WelcomeKind::Resumed) {
    std::vector<std::string> gone;
    for (const auto& [id, member] : roster_)
      if (!present.count(id)) gone.push_back(id);
    for (const auto& id : gone) remove(now, id, "gone");  // left while we were away
    for (auto it = waiting_.begin(); it != waiting_.end();)
      it = present.count(it->first) ? std::next(it) : waiting_.erase(it);
  }
  self_ = w.self;
  set_state(MeshState::Active, "welcome");
  if (new_identity)
    for (auto& [id, orphan] : orphans_) orphan.member.link->announce_new_id(now, self_);
  for (const auto& p : w.peers) admit(now, p);
  // Connections kept through a resume or a rejoin hold the ICE servers of an
  // earlier welcome, whose TURN credentials may be about to expire.
  for_each_link([&](PeerNegotiation& link) { link.on_ice_settings_changed(now); });
  roster_changed(now);
}

void Mesh::on_ice_servers(std::int64_t now, const std::string& ice_servers_json) {
  if (state_ != MeshState::Active) return;
  if (!ctx_.config().ice_servers_json.empty()) {
    ctx_.log(LogLevel::Debug, kMachine, {}, {}, {}, "fresh ICE servers from the server not used: the app gave its own");
    return;
  }
  set_ice_settings(ice_servers_json, ice_settings_.relay_only);
  for_each_link([&](PeerNegotiation& link) { link.on_ice_settings_changed(now); });
}

void Mesh::on_peer_joined(std::int64_t now, const protocol::PeerInfo& peer) {
  if (state_ != MeshState::Active) return;
  admit(now, peer);
  roster_changed(now);
}

void Mesh::on_peer_left(std::int64_t now, const std::string& peer, std::string reason) {
  if (state_ != MeshState::Active) return;
  if (waiting_.erase(peer)) held_signals_.erase(peer);
  std::vector<std::string> claimed;  // orphans whose peer announced this id
  for (const auto& [old, orphan] : orphans_)
    if (orphan.member.link->announced_id() == peer) claimed.push_back(old);
  for (const auto& old : claimed) drop_orphan(now, old, "its new id left");
  remove(now, peer, std::move(reason));
  roster_changed(now);
}

void Mesh::add(std::int64_t now, const protocol::PeerInfo& peer) {
  Member m;
  m.name = peer.name;
  m.link = std::make_unique<PeerNegotiation>(ctx_, self_, peer.id, ice_settings_, media_);
  m.quality = std::make_unique<QualityMonitor>(ctx_, peer.id);
  ctx_.log(LogLevel::Debug, kMachine, peer.id, {}, {},
           "joined the roster (" + std::to_string(roster_.size() + 1) + " peers); we are " +
               (m.link->polite() ? "polite" : "impolite"));
  PeerNegotiation& link = *m.link;
  roster_.emplace(peer.id, std::move(m));
  ctx_.emit(PeerJoinedEvent{peer.id, peer.name});
  link.open(now);
}

void Mesh::remove(std::int64_t now, const std::string& peer, std::string reason) {
  auto it = roster_.find(peer);
  if (it == roster_.end()) return;
  it->second.link->close(now, "peer left: " + reason);
  roster_.erase(it);
  ctx_.log(LogLevel::Debug, kMachine, peer, {}, {}, "left the roster (" + reason + ")");
  ctx_.emit(PeerLeftEvent{peer, std::move(reason)});
}

void Mesh::close(std::int64_t now, std::string why) {
  for_each_link([&](PeerNegotiation& link) { link.close(now, why); });
  roster_.clear();
  orphans_.clear();
  waiting_.clear();
  held_signals_.clear();
  ctx_.cancel_timer(carry_over_timer_);
  ctx_.cancel_timer(stats_timer_);
  ctx_.cancel_timer(outage_timer_);
  set_state(MeshState::Closed, std::move(why));
}

void Mesh::on_signal(std::int64_t now, const std::string& from, const std::string& data) {
  constexpr std::size_t kMaxHeldPerPeer = 64, kMaxHeldPeers = 16;
  auto it = roster_.find(from);
  if (state_ == MeshState::Active && it == roster_.end() && (waiting_.count(from) || !orphans_.empty())) {
    // Maybe from an orphan's peer under its new id: kept until we know.
    auto held = held_signals_.find(from);
    if (held == held_signals_.end() && held_signals_.size() < kMaxHeldPeers)
      held = held_signals_.emplace(from, std::vector<std::string>{}).first;
    if (held != held_signals_.end() && held->second.size() < kMaxHeldPerPeer) {
      held->second.push_back(data);
      return;
    }
  }
  if (state_ != MeshState::Active || it == roster_.end()) {
    ctx_.log(LogLevel::Debug, kMachine, from, {}, {}, "signal from a peer not in the roster dropped");
    return;
  }
  std::string error;
  auto signal = parse_peer_signal(data, error);
  if (!signal) {
    ctx_.log(LogLevel::Warn, kMachine, from, {}, {}, "unreadable signal dropped: " + error);
    return;
  }
  it->second.link->on_signal(now, *signal);
}

void Mesh::on_network_change(std::int64_t now) {
  if (state_ != MeshState::Active) return;
  ctx_.log(LogLevel::Info, "mesh", self_, {}, {},
           ctx_.signaling_up() ? "the network changed: every connection restarts ICE"
                               : "the network changed: every connection restarts ICE once signaling is back");
  // An ICE restart's offer needs signaling: until it is back, the change is remembered.
  if (!ctx_.signaling_up()) {
    if (!network_changed_at_) network_changed_at_ = now;
    return;
  }
  for (auto& [id, member] : roster_) member.link->on_network_change(now, now);
}

namespace {
constexpr std::int64_t kOutageConfirmMs = 1500;  // well inside a pair's own disconnected grace
}  // namespace

bool Mesh::every_pair_down() const {
  // One pair down is that peer's network (its own recovery handles it); a
  // lone pair cannot tell the two apart.
  if (state_ != MeshState::Active || roster_.size() < 2) return false;
  for (const auto& [id, member] : roster_) {
    const Transport t = member.link->transport_state();
    if (t != Transport::Down && t != Transport::Broken) return false;
  }
  return true;
}

void Mesh::on_transport_changed(std::int64_t) {
  if (!every_pair_down()) {
    ctx_.cancel_timer(outage_timer_);
    outage_ = Outage::None;
    return;
  }
  if (outage_ != Outage::None) return;
  outage_ = Outage::Confirming;
  outage_timer_ = ctx_.start_timer(kOutageConfirmMs, TimerTag{TimerOwner::Outage, {}}, "outage-confirm");
}

void Mesh::on_outage_timer(std::int64_t now, int timer) {
  if (timer != outage_timer_) return;
  outage_timer_ = 0;
  if (outage_ != Outage::Confirming || !every_pair_down()) {
    outage_ = Outage::None;
    return;
  }
  outage_ = Outage::Reported;
  ctx_.log(LogLevel::Info, kMachine, self_, {}, {}, "every connection down together: taken as a network change");
  on_network_change(now);
}

void Mesh::on_signaling_up(std::int64_t now) {
  for (auto& [id, member] : roster_) member.link->on_signaling_up(now);
  if (network_changed_at_) {
    const std::int64_t changed_at = *network_changed_at_;
    network_changed_at_.reset();
    for (auto& [id, member] : roster_) member.link->on_network_change(now, changed_at);
  }
}

PeerNegotiation* Mesh::by_pc(int pc) {
  if (pc == 0) return nullptr;
  PeerNegotiation* found = nullptr;
  for_each_link([&](PeerNegotiation& link) {
    if (link.pc() == pc) found = &link;
  });
  return found;
}

void Mesh::on_peer_timer(std::int64_t now, const std::string& peer, int timer) {
  if (auto it = roster_.find(peer); it != roster_.end()) return it->second.link->on_timer(now, timer);
  if (auto it = orphans_.find(peer); it != orphans_.end()) it->second.member.link->on_timer(now, timer);
}

void Mesh::on_data_channel_message(std::int64_t now, int pc, const std::string& text) {
  PeerNegotiation* link = by_pc(pc);
  if (!link) return;
  const std::string announced = link->announced_id();
  link->on_data_channel_message(now, text);
  if (link->announced_id() == announced) return;
  for (const auto& [old, orphan] : orphans_)
    if (orphan.member.link.get() == link) return on_new_id(now, std::string(old));
}

// ---- connections carried over a rejoin ------------------------------------------------

void Mesh::admit(std::int64_t now, const protocol::PeerInfo& peer) {
  if (peer.id == self_ || roster_.count(peer.id) || waiting_.count(peer.id)) return;
  if (bind_claimant(now, peer)) return;
  if (!orphans_.empty()) {
    // Even an orphan that announced an id may be this member: the id it
    // announced may be from before another restart.
    ctx_.log(LogLevel::Debug, kMachine, peer.id, {}, {}, "new member may be a kept connection's peer: waiting for its new id");
    waiting_.emplace(peer.id, Waiting{peer, now + ctx_.config().carry_over_wait_ms});
    return;
  }
  add(now, peer);
  replay_held_signals(now, peer.id);
}

// The orphan whose peer announced `peer.id` gets it. The server keeps a
// participant's name across rejoins, so a claimant under another name is
// someone else's connection claiming that id (an impostor, or confusion):
// closed, as are rival claimants, which cannot be told apart.
bool Mesh::bind_claimant(std::int64_t now, const protocol::PeerInfo& peer) {
  std::vector<std::string> claimants, impostors;
  for (const auto& [old, orphan] : orphans_)
    if (orphan.member.link->announced_id() == peer.id)
      (orphan.member.name == peer.name ? claimants : impostors).push_back(old);
  for (const auto& old : impostors) drop_orphan(now, old, "it claims the id of a member with another name");
  if (claimants.size() > 1)
    for (const auto& old : claimants) drop_orphan(now, old, "another connection claims the same id");
  if (claimants.size() != 1) return false;
  carry_over(now, claimants.front(), peer);
  return true;
}

void Mesh::carry_over(std::int64_t now, const std::string& old_id, const protocol::PeerInfo& peer) {
  auto it = orphans_.find(old_id);
  Member member = std::move(it->second.member);
  orphans_.erase(it);
  waiting_.erase(peer.id);
  member.name = peer.name;
  member.link->rebind(now, self_, peer.id);
  member.quality->rename(peer.id);
  ctx_.log(LogLevel::Debug, kMachine, peer.id, {}, {}, "connection carried over from " + old_id);
  roster_.emplace(peer.id, std::move(member));
  ctx_.emit(PeerIdChanged{peer.id, old_id, peer.name});
  replay_held_signals(now, peer.id);
}

void Mesh::drop_orphan(std::int64_t now, const std::string& old_id, const std::string& why) {
  auto it = orphans_.find(old_id);
  if (it == orphans_.end()) return;
  it->second.member.link->close(now, "not carried over: " + why);
  orphans_.erase(it);
  ctx_.log(LogLevel::Debug, kMachine, old_id, {}, {}, "kept connection closed: " + why);
  ctx_.emit(PeerLeftEvent{old_id, "rejoined"});
}

// An orphan's peer told us its new id.
void Mesh::on_new_id(std::int64_t now, const std::string& old_id) {
  const std::string id = orphans_.at(old_id).member.link->announced_id();
  if (id == self_ || roster_.count(id))
    drop_orphan(now, old_id, "its new id already has a connection");
  else if (auto w = waiting_.find(id); w != waiting_.end())
    bind_claimant(now, protocol::PeerInfo(w->second.info));
  // Otherwise the server has not named that id yet: its peer-joined will.
  roster_changed(now);
}

void Mesh::release_waiting(std::int64_t now) {
  const bool keep_waiting = !orphans_.empty();
  std::vector<protocol::PeerInfo> ready;
  for (const auto& [id, w] : waiting_)
    if (!keep_waiting || w.until <= now) ready.push_back(w.info);
  for (const auto& info : ready) {
    waiting_.erase(info.id);
    add(now, info);
    replay_held_signals(now, info.id);
  }
}

void Mesh::replay_held_signals(std::int64_t now, const std::string& peer) {
  auto it = held_signals_.find(peer);
  if (it == held_signals_.end()) return;
  std::vector<std::string> signals = std::move(it->second);
  held_signals_.erase(it);
  for (const auto& data : signals) on_signal(now, peer, data);
}

// After anything that adds, removes or binds a member: open those whose
// wait is over, split the uplink anew, and keep both timers to what is left.
void Mesh::roster_changed(std::int64_t now) {
  release_waiting(now);
  rebalance(now);
  update_stats_timer();
  arm_carry_over_timer(now);
}

void Mesh::arm_carry_over_timer(std::int64_t now) {
  ctx_.cancel_timer(carry_over_timer_);
  if (orphans_.empty() && waiting_.empty()) {
    held_signals_.clear();
    return;
  }
  std::int64_t next = INT64_MAX;
  for (const auto& [old, orphan] : orphans_) next = std::min(next, orphan.expires);
  for (const auto& [id, w] : waiting_) next = std::min(next, w.until);
  carry_over_timer_ = ctx_.start_timer(next - now, TimerTag{TimerOwner::CarryOver, {}}, "carry-over");
}

void Mesh::on_carry_over_timer(std::int64_t now, int timer) {
  if (timer != carry_over_timer_ || state_ != MeshState::Active) return;
  carry_over_timer_ = 0;
  std::vector<std::string> expired;
  for (const auto& [old, orphan] : orphans_)
    if (orphan.expires <= now) expired.push_back(old);
  for (const auto& old : expired) drop_orphan(now, old, "no new id from the peer in time");
  roster_changed(now);
}

void Mesh::settle(std::int64_t now) {
  // A peer given up on, or back with a fresh connection, changes the split.
  if (state_ == MeshState::Active && uplink_senders() != budget_senders_) rebalance(now);
  if (orphans_.empty()) return;
  std::vector<std::string> down;
  for (const auto& [old, orphan] : orphans_)
    if (!orphan.member.link->carry_over_ready()) down.push_back(old);
  if (down.empty()) return;
  for (const auto& old : down) drop_orphan(now, old, "its connection went down");
  roster_changed(now);
}

// The stats timer runs while there is someone to measure.
void Mesh::update_stats_timer() {
  const bool wanted = state_ == MeshState::Active && !roster_.empty();
  if (wanted && stats_timer_ == 0)
    stats_timer_ = ctx_.start_timer(ctx_.config().stats_interval_ms, TimerTag{TimerOwner::Stats, {}}, "stats");
  else if (!wanted)
    ctx_.cancel_timer(stats_timer_);
}

void Mesh::on_stats_timer(std::int64_t now, int timer) {
  if (timer != stats_timer_) return;
  stats_timer_ = 0;
  for (auto& [id, member] : roster_) member.link->request_stats(now);
  update_stats_timer();
}

void Mesh::on_stats(std::int64_t now, int pc, const StatsSample& sample) {
  for (auto& [id, member] : roster_) {
    if (member.link->pc() != pc) continue;
    if (member.quality_pc != pc) {
      member.quality->reset();
      member.quality_pc = pc;
    }
    const MediaState& media = member.link->remote_media();
    member.quality->on_sample(now, sample, media.audio || media.video);
    return;
  }
}

void Mesh::set_local_track(std::int64_t now, MediaKind kind, std::string track, bool screen, int height) {
  std::string& slot = kind == MediaKind::Audio ? media_.audio_track : media_.video_track;
  if (screen && !track.empty()) media_.screens.insert(track);
  if (kind == MediaKind::Video && height != media_.video_height) {
    media_.video_height = height;
    if (slot == track) return rebalance(now);  // the same track at another size (a camera switched modes)
  }
  if (slot == track) return;
  const auto before = media_state();
  std::string old = slot;
  slot = std::move(track);
  if (!slot.empty()) media_.given[kind].insert(slot);
  for_each_link([&](PeerNegotiation& link) { link.on_local_track_changed(now, kind, old); });
  rebalance(now);
  announce_media(now, before);
}

void Mesh::set_muted(std::int64_t now, MediaKind kind, bool muted) {
  ctx_.emit(SetTrackEnabled{kind, !muted});
  const auto before = media_state();
  // What the shim does with it (see LocalMedia).
  if (muted) {
    media_.disabled[kind] = media_.given[kind];
    if (kind == MediaKind::Video)
      for (const auto& screen : media_.screens) media_.disabled[kind].erase(screen);
  } else
    media_.disabled[kind].clear();
  announce_media(now, before);
}

void Mesh::announce_media(std::int64_t now, MediaState before) {
  const auto after = media_state();
  if (after == before) return;
  ctx_.log(LogLevel::Debug, kMachine, {}, {}, {},
           std::string("our media: microphone ") + (after.audio ? "on" : "off") + ", video " +
               (after.video ? (after.screen ? "a shared screen" : "the camera") : "off"));
  for_each_link([&](PeerNegotiation& link) { link.send_media_state(now); });
}

void Mesh::set_uplink_budget(std::int64_t now, int kbps) {
  if (kbps <= 0) {
    ctx_.error(CoreError::BadInput, "the uplink budget must be positive");
    return;
  }
  uplink_kbps_ = kbps;
  rebalance(now);
}

// Every connection uploads a copy (an orphan's too); a peer given up on has
// none, so it takes no share of the budget.
std::size_t Mesh::uplink_senders() {
  std::size_t senders = 0;
  for_each_link([&](PeerNegotiation& link) { senders += link.pc() != 0 ? 1 : 0; });
  return senders;
}

void Mesh::rebalance(std::int64_t now) {
  const std::size_t senders = uplink_senders();
  budget_senders_ = senders;
  if (senders == 0) return;
  const SenderBudget b = split_uplink_budget(uplink_kbps_, ctx_.config().audio_kbps, static_cast<int>(senders),
                                             !media_.audio_track.empty(),
                                             VideoSource{media_.video_height, media_.sharing_screen()});
  for_each_link([&](PeerNegotiation& link) { link.set_sender_budget(now, b); });
}

bool Mesh::mark_verified(std::int64_t now, const std::string& peer) {
  auto it = roster_.find(peer);
  return it != roster_.end() && it->second.link->mark_verified(now);
}

void Mesh::send_chat(std::int64_t now, const std::string& text, const std::string& to) {
  if (state_ != MeshState::Active) {
    ctx_.error(CoreError::ChatNotJoined, "chat needs a joined meeting");
    return;
  }
  if (text.size() > kMaxChatBytes) {
    ctx_.error(CoreError::ChatTooLong, "a chat message is limited to " + std::to_string(kMaxChatBytes) + " bytes");
    return;
  }
  if (!to.empty()) {
    auto it = roster_.find(to);
    if (it == roster_.end()) {
      ctx_.error(CoreError::ChatUnknownPeer, "no such peer in the meeting", to);
      return;
    }
    if (!it->second.link->send_data(now, serialize_chat(text, true)))
      ctx_.error(CoreError::ChatQueueFull, "too many messages waiting for this peer's connection", to);
    return;
  }
  for_each_link([&](PeerNegotiation& link) {
    if (!link.send_data(now, serialize_chat(text, false)))
      ctx_.error(CoreError::ChatQueueFull, "too many messages waiting for this peer's connection", link.peer());
  });
}

}  // namespace meshmeet::core
