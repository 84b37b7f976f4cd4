#include "wasm/core/mesh.hpp"

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

void Mesh::on_welcome(std::int64_t now, const protocol::Welcome& w, WelcomeKind kind, const std::string& ice_servers_json) {
  if (state_ == MeshState::Closed) return;
  ice_servers_json_ = ctx_.config().ice_servers_json.empty() ? ice_servers_json : ctx_.config().ice_servers_json;
  std::set<std::string> present;
  for (const auto& p : w.peers)
    if (p.id != w.self) present.insert(p.id);

  if (kind == WelcomeKind::Rejoined || (kind == WelcomeKind::Fresh && !roster_.empty())) {
    // A new identity: every connection was made under the old one.
    std::vector<std::string> everyone;
    for (const auto& [id, member] : roster_) everyone.push_back(id);
    for (const auto& id : everyone) remove(now, id, "rejoined");
  } else if (kind == WelcomeKind::Resumed) {
    std::vector<std::string> gone;
    for (const auto& [id, member] : roster_)
      if (!present.count(id)) gone.push_back(id);
    for (const auto& id : gone) remove(now, id, "gone");  // left while we were away
  }
  self_ = w.self;
  set_state(MeshState::Active, "welcome");
  for (const auto& p : w.peers)
    if (p.id != self_ && !roster_.count(p.id)) add(now, p);
  rebalance(now);
  update_stats_timer();
}

void Mesh::on_peer_joined(std::int64_t now, const protocol::PeerInfo& peer) {
  if (state_ != MeshState::Active || peer.id == self_ || roster_.count(peer.id)) return;
  add(now, peer);
  rebalance(now);
  update_stats_timer();
}

void Mesh::on_peer_left(std::int64_t now, const std::string& peer, std::string reason) {
  if (state_ != MeshState::Active || !roster_.count(peer)) return;
  remove(now, peer, std::move(reason));
  rebalance(now);
  update_stats_timer();
}

void Mesh::add(std::int64_t now, const protocol::PeerInfo& peer) {
  Member m;
  m.name = peer.name;
  m.link = std::make_unique<PeerNegotiation>(ctx_, self_, peer.id, ice_servers_json_, media_);
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
  for (auto& [id, member] : roster_) member.link->close(now, why);
  roster_.clear();
  ctx_.cancel_timer(stats_timer_);
  set_state(MeshState::Closed, std::move(why));
}

void Mesh::on_signal(std::int64_t now, const std::string& from, const std::string& data) {
  auto it = roster_.find(from);
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

void Mesh::on_signaling_up(std::int64_t now) {
  for (auto& [id, member] : roster_) member.link->on_signaling_up(now);
}

PeerNegotiation* Mesh::by_pc(int pc) {
  if (pc == 0) return nullptr;
  for (auto& [id, member] : roster_)
    if (member.link->pc() == pc) return member.link.get();
  return nullptr;
}

void Mesh::on_peer_timer(std::int64_t now, const std::string& peer, int timer) {
  auto it = roster_.find(peer);
  if (it != roster_.end()) it->second.link->on_timer(now, timer);
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
    member.quality->on_sample(now, sample);
    return;
  }
}

void Mesh::set_local_track(std::int64_t now, MediaKind kind, std::string track) {
  std::string& slot = kind == MediaKind::Audio ? media_.audio_track : media_.video_track;
  if (slot == track) return;
  const auto before = media_state();
  std::string old = slot;
  slot = std::move(track);
  if (!slot.empty()) media_.given[kind].insert(slot);
  for (auto& [id, member] : roster_) member.link->on_local_track_changed(now, kind, old);
  rebalance(now);
  announce_media(now, before);
}

void Mesh::set_muted(std::int64_t now, MediaKind kind, bool muted) {
  ctx_.emit(SetTrackEnabled{kind, !muted});
  const auto before = media_state();
  // What the shim does with it (see LocalMedia).
  if (muted)
    media_.disabled[kind] = media_.given[kind];
  else
    media_.disabled[kind].clear();
  announce_media(now, before);
}

std::pair<bool, bool> Mesh::media_state() const {
  return {media_.live(MediaKind::Audio), media_.live(MediaKind::Video)};
}

void Mesh::announce_media(std::int64_t now, std::pair<bool, bool> before) {
  const auto after = media_state();
  if (after == before) return;
  ctx_.log(LogLevel::Debug, kMachine, {}, {}, {},
           std::string("our media: microphone ") + (after.first ? "on" : "off") + ", camera " +
               (after.second ? "on" : "off"));
  for (auto& [id, member] : roster_) member.link->send_media_state(now);
}

void Mesh::set_uplink_budget(std::int64_t now, int kbps) {
  if (kbps <= 0) {
    ctx_.error("bad-input", "the uplink budget must be positive");
    return;
  }
  uplink_kbps_ = kbps;
  rebalance(now);
}

void Mesh::rebalance(std::int64_t now) {
  if (roster_.empty()) return;
  const SenderBudget b = split_uplink_budget(uplink_kbps_, ctx_.config().audio_kbps, static_cast<int>(roster_.size()),
                                             !media_.audio_track.empty());
  for (auto& [id, member] : roster_) member.link->set_sender_budget(now, b.max_bitrate_bps, b.scale_resolution_down_by);
}

void Mesh::send_chat(std::int64_t now, const std::string& text, const std::string& to) {
  if (state_ != MeshState::Active) {
    ctx_.error("chat-not-joined", "chat needs a joined meeting");
    return;
  }
  if (text.size() > kMaxChatBytes) {
    ctx_.error("chat-too-long", "a chat message is limited to " + std::to_string(kMaxChatBytes) + " bytes");
    return;
  }
  if (!to.empty()) {
    auto it = roster_.find(to);
    if (it == roster_.end()) {
      ctx_.error("chat-unknown-peer", "no such peer in the meeting", to);
      return;
    }
    if (!it->second.link->send_data(now, serialize_chat(text, true)))
      ctx_.error("chat-queue-full", "too many messages waiting for this peer's connection", to);
    return;
  }
  for (auto& [id, member] : roster_)
    if (!member.link->send_data(now, serialize_chat(text, false)))
      ctx_.error("chat-queue-full", "too many messages waiting for this peer's connection", id);
}

}  // namespace meshmeet::core
