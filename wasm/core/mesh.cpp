#include "wasm/core/mesh.hpp"

#include <algorithm>
#include <cstdint>
#include <set>

#include "wasm/core/uplink_budget.hpp"

namespace meshmeet::core {
namespace {

constexpr const char* kMachine = "mesh";

}  // namespace

std::string_view to_string(MeshState state) {
  switch (state) {
    case MeshState::Detached: return "detached";
    case MeshState::Active: return "active";
    case MeshState::Closed: return "closed";
  }
  return "closed";
}

Mesh::Mesh(CoreContext& ctx) : ctx_(ctx), uplink_kbps_(ctx.config().uplink_kbps), cpu_load_(ctx) {}

void Mesh::set_state(MeshState next, std::string why) {
  if (next == state_ || state_ == MeshState::Closed) return;
  ctx_.transition(kMachine, {}, to_string(state_), to_string(next), std::move(why));
  state_ = next;
}

template <typename F>
void Mesh::for_each_link(F f) {
  for (auto& [id, member] : roster_) f(*member.link);
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
    // Under a new id we are a stranger to everyone, and they closed their
    // ends when our old id left: every connection is rebuilt.
    std::vector<std::string> everyone;
    for (const auto& [id, member] : roster_) everyone.push_back(id);
    for (const auto& id : everyone) remove(now, id, "rejoined");
  } else if (kind == WelcomeKind::Resumed) {
    // The server's own grace when it says (an operator may set --resume-grace
    // to anything); ours for a server that does not.
    const std::int64_t grace = w.resume_grace_ms ? std::int64_t{*w.resume_grace_ms} : ctx_.config().peer_return_grace_ms;
    expect_back(now, present, grace);
  }
  self_ = w.self;
  set_state(MeshState::Active, "welcome");
  for (const auto& p : w.peers)
    if (p.id != self_ && !roster_.count(p.id)) add(now, p);
  // Connections kept through a resume hold the ICE servers of an earlier
  // welcome, whose TURN credentials may be about to expire.
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
  if (state_ != MeshState::Active || peer.id == self_) return;
  auto it = roster_.find(peer.id);
  if (it == roster_.end())
    add(now, peer);
  else if (it->second.back_by)
    welcome_back(it->second, peer.id);  // "still here": the connection carries on
  roster_changed(now);
}

void Mesh::on_peer_left(std::int64_t now, const std::string& peer, std::string reason) {
  if (state_ != MeshState::Active) return;
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
  ctx_.cancel_timer(return_timer_);
  ctx_.cancel_timer(stats_timer_);
  ctx_.cancel_timer(outage_timer_);
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
  // A description may carry how large the peer draws our video: the
  // uplink is then split anew, before the connection is up.
  PeerNegotiation& link = *it->second.link;
  const int view_before = link.remote_view();
  link.on_signal(now, *signal);
  if (link.remote_view() != view_before && state_ == MeshState::Active) rebalance();
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
  if (auto it = roster_.find(peer); it != roster_.end()) it->second.link->on_timer(now, timer);
}

void Mesh::on_data_channel_message(std::int64_t now, int pc, const std::string& text) {
  PeerNegotiation* link = by_pc(pc);
  if (link && link->on_data_channel_message(now, text) && state_ == MeshState::Active) rebalance();
}

// ---- peers coming back after a server restart ----------------------------------------

// After our resume: members missing from welcome.peers left while we were
// away, or are not back yet from a server restart. Those with a connection
// up are kept until the grace is over; the rest are gone.
void Mesh::expect_back(std::int64_t now, const std::set<std::string>& present, std::int64_t grace_ms) {
  std::vector<std::string> gone;
  for (auto& [id, member] : roster_) {
    if (present.count(id)) {
      if (member.back_by) welcome_back(member, id);
    } else if (member.link->state() != PeerState::Connected) {
      gone.push_back(id);
    } else if (!member.back_by) {
      member.back_by = now + grace_ms;
      ctx_.log(LogLevel::Debug, kMachine, id, {}, {}, "not in our welcome, connection up: kept while it may come back");
    }
  }
  for (const auto& id : gone) remove(now, id, "gone");
}

void Mesh::welcome_back(Member& member, const std::string& id) {
  member.back_by.reset();
  ctx_.log(LogLevel::Debug, kMachine, id, {}, {}, "back under the same id: its connection carries on");
  std::vector<std::string> waiting = std::move(member.signals_waiting);
  member.signals_waiting.clear();
  for (auto& data : waiting) ctx_.send_signal(id, std::move(data));
}

bool Mesh::hold_signal(const std::string& to, std::string& data) {
  constexpr std::size_t kMaxWaiting = 64;  // an offer and its candidates, several times over
  auto it = roster_.find(to);
  if (it == roster_.end() || !it->second.back_by) return false;
  auto& waiting = it->second.signals_waiting;
  if (waiting.size() < kMaxWaiting)
    waiting.push_back(std::move(data));
  else
    ctx_.log(LogLevel::Warn, kMachine, to, {}, {}, "signal to a peer not back yet dropped: too many waiting");
  return true;
}

// After anything that adds or removes a member: split the uplink anew, and
// keep both timers to what is left.
void Mesh::roster_changed(std::int64_t now) {
  media_.audio_packet_ms = audio_packet_ms(static_cast<int>(roster_.size()));
  rebalance();
  update_stats_timer();
  arm_return_timer(now);
}

void Mesh::arm_return_timer(std::int64_t now) {
  ctx_.cancel_timer(return_timer_);
  std::optional<std::int64_t> next;
  for (const auto& [id, member] : roster_)
    if (member.back_by && (!next || *member.back_by < *next)) next = member.back_by;
  if (next) return_timer_ = ctx_.start_timer(std::max<std::int64_t>(0, *next - now), TimerTag{TimerOwner::PeerReturn, {}}, "peer-return");
}

void Mesh::on_return_timer(std::int64_t now, int timer) {
  if (timer != return_timer_ || state_ != MeshState::Active) return;
  return_timer_ = 0;
  std::vector<std::string> late;
  for (const auto& [id, member] : roster_)
    if (member.back_by && *member.back_by <= now) late.push_back(id);
  for (const auto& id : late) remove(now, id, "disconnected");  // what the server says of one not back in time
  roster_changed(now);
}

void Mesh::settle(std::int64_t now) {
  // A peer given up on, or back with a fresh connection, changes the split.
  if (state_ == MeshState::Active && uplink_senders() != budget_senders_) rebalance();
  std::vector<std::string> down;
  for (const auto& [id, member] : roster_)
    if (member.back_by && member.link->state() != PeerState::Connected) down.push_back(id);
  if (down.empty()) return;
  for (const auto& id : down) remove(now, id, "gone");
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
  // The samples asked for last time are in: one round for the CPU load.
  const bool limited = cpu_limited_this_round_;
  cpu_limited_this_round_ = false;
  if (cpu_load_.on_round(now, limited, !media_.video_track.empty())) rebalance();
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
    if (sample.cpu_limited) cpu_limited_this_round_ = true;
    // No video is expected from a peer whose video we draw nowhere: it sends none.
    const MediaState& media = member.link->remote_media();
    member.quality->on_sample(now, sample, media.audio || (media.video && member.link->local_view() != 0));
    return;
  }
}

void Mesh::set_local_track(std::int64_t now, MediaKind kind, std::string track, bool screen, int height) {
  std::string& slot = kind == MediaKind::Audio ? media_.audio_track : media_.video_track;
  if (screen && !track.empty()) media_.screens.insert(track);
  if (kind == MediaKind::Video && height != media_.video_height) {
    media_.video_height = height;
    if (slot == track) return rebalance();  // the same track at another size (a camera switched modes)
  }
  if (slot == track) return;
  const auto before = media_state();
  std::string old = slot;
  slot = std::move(track);
  if (!slot.empty()) media_.given[kind].insert(slot);
  // Another camera or microphone while its kind is off: off too.
  if (!slot.empty() && !screen && media_.switched_off.count(kind)) {
    media_.disabled[kind].insert(slot);
    ctx_.emit(SetTrackEnabled{kind, false});
  }
  // The limits for the new source first: a new video sender takes them at once.
  rebalance();
  for_each_link([&](PeerNegotiation& link) { link.on_local_track_changed(kind, old); });
  announce_media(now, before);
}

void Mesh::set_muted(std::int64_t now, MediaKind kind, bool muted) {
  ctx_.emit(SetTrackEnabled{kind, !muted});
  const auto before = media_state();
  // What the shim does with it (see LocalMedia).
  if (muted) {
    media_.switched_off.insert(kind);
    media_.disabled[kind] = media_.given[kind];
    if (kind == MediaKind::Video)
      for (const auto& screen : media_.screens) media_.disabled[kind].erase(screen);
  } else {
    media_.switched_off.erase(kind);
    media_.disabled[kind].clear();
  }
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

void Mesh::set_uplink_budget(int kbps) {
  if (kbps <= 0) {
    ctx_.error(CoreError::BadInput, "the uplink budget must be positive");
    return;
  }
  uplink_kbps_ = kbps;
  rebalance();
}

// Every connection uploads a copy; a peer given up on has none, so it takes
// no share of the budget.
std::size_t Mesh::uplink_senders() {
  std::size_t senders = 0;
  for_each_link([&](PeerNegotiation& link) { senders += link.pc() != 0 ? 1 : 0; });
  return senders;
}

// A link without a connection keeps its last budget: when it has one
// again, the count of senders changes and settle() splits anew.
void Mesh::rebalance() {
  std::vector<PeerNegotiation*> sending;
  std::vector<int> views;
  for_each_link([&](PeerNegotiation& link) {
    if (link.pc() == 0) return;
    sending.push_back(&link);
    views.push_back(link.remote_view());
  });
  budget_senders_ = sending.size();
  if (sending.empty()) return;
  const auto budgets = split_uplink_by_view(uplink_kbps_, ctx_.config().audio_kbps, !media_.audio_track.empty(),
                                            VideoSource{media_.video_height, media_.sharing_screen()}, views,
                                            cpu_load_.step());
  for (std::size_t i = 0; i < sending.size(); ++i) sending[i]->set_sender_budget(budgets[i]);
}

bool Mesh::set_view(std::int64_t now, const std::string& peer, int height) {
  auto it = roster_.find(peer);
  if (it == roster_.end()) return false;
  it->second.link->set_local_view(now, height);
  return true;
}

bool Mesh::mark_verified(std::int64_t now, const std::string& peer) {
  auto it = roster_.find(peer);
  return it != roster_.end() && it->second.link->mark_verified(now);
}

}  // namespace meshmeet::core
