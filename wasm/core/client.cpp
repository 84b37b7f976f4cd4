#include "wasm/core/client.hpp"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

namespace meshmeet::core {

Client::Client(ClientConfig config) : ctx_(std::move(config)), session_(ctx_), mesh_(ctx_) {
  ctx_.set_signal_sink([this](const std::string& to, std::string data) {
    if (!mesh_.hold_signal(to, data)) session_.send_signal(to, std::move(data));
  });
}

std::int64_t Client::ms(double now_ms) {
  return std::isfinite(now_ms) ? static_cast<std::int64_t>(std::floor(now_ms)) : 0;
}

void Client::settle(std::int64_t now) {
  const bool up = session_.joined();
  if (up != ctx_.signaling_up()) {
    ctx_.set_signaling_up(up);
    if (up) mesh_.on_signaling_up(now);
  }
  mesh_.settle(now);
  const SessionState s = session_.state();
  const bool over = s == SessionState::Leaving || s == SessionState::Left || s == SessionState::Failed;
  if (over && mesh_.state() != MeshState::Closed)
    mesh_.close(now, std::string("session ") + std::string(to_string(s)));
}

// ---- app ----------------------------------------------------------------------------

void Client::join(double now_ms, const std::string& server_url, const std::string& meeting_id, const std::string& name) {
  const auto now = ms(now_ms);
  session_.start(now, server_url, meeting_id, name);
  settle(now);
}

void Client::leave(double now_ms) {
  const auto now = ms(now_ms);
  session_.leave(now);
  settle(now);
}

void Client::set_local_track(double now_ms, const std::string& kind, const std::string& track_id, int height) {
  const auto now = ms(now_ms);
  const bool screen = kind == "screen";
  auto k = screen ? std::optional<MediaKind>(MediaKind::Video) : parse_media_kind(kind);
  if (!k) return ctx_.error(CoreError::BadInput, "kind must be audio, video or screen");
  mesh_.set_local_track(now, *k, track_id, screen, std::max(0, height));
  settle(now);
}

void Client::set_muted(double now_ms, const std::string& kind, bool muted) {
  const auto now = ms(now_ms);
  auto k = parse_media_kind(kind);
  if (!k) return ctx_.error(CoreError::BadInput, "kind must be audio or video");
  mesh_.set_muted(now, *k, muted);  // the track, and what the peers are told
  settle(now);
}

bool Client::mark_verified(double now_ms, const std::string& peer) {
  const auto now = ms(now_ms);
  const bool marked = mesh_.mark_verified(now, peer);
  settle(now);
  return marked;
}

bool Client::set_view(double now_ms, const std::string& peer, int height) {
  const auto now = ms(now_ms);
  const bool known = mesh_.set_view(now, peer, height);
  settle(now);
  return known;
}

void Client::set_uplink_budget(double now_ms, int kbps) {
  mesh_.set_uplink_budget(kbps);
  settle(ms(now_ms));
}

// ---- socket -------------------------------------------------------------------------

void Client::socket_opened(double now_ms, int socket) {
  const auto now = ms(now_ms);
  session_.on_socket_opened(now, socket);
  settle(now);
}

void Client::socket_closed(double now_ms, int socket, int code) {
  const auto now = ms(now_ms);
  session_.on_socket_closed(now, socket, code);
  settle(now);
}

void Client::socket_message(double now_ms, int socket, const std::string& text) {
  const auto now = ms(now_ms);
  auto message = session_.on_socket_message(now, socket, text);
  if (message) {
    if (auto* w = std::get_if<protocol::Welcome>(&*message)) {
      mesh_.on_welcome(now, *w, session_.last_welcome(), session_.ice_servers_json(), session_.relay_only());
    } else if (auto* j = std::get_if<protocol::PeerJoined>(&*message)) {
      mesh_.on_peer_joined(now, j->peer);
    } else if (auto* l = std::get_if<protocol::PeerLeft>(&*message)) {
      mesh_.on_peer_left(now, l->peer, std::string(protocol::to_string(l->reason)));
    } else if (auto* s = std::get_if<protocol::SignalFrom>(&*message)) {
      mesh_.on_signal(now, s->from, s->data);
    } else if (std::holds_alternative<protocol::IceServers>(*message)) {
      mesh_.on_ice_servers(now, session_.ice_servers_json());
    }
  }
  settle(now);
}

// ---- peer connections ---------------------------------------------------------------

void Client::create_peer_connection_failed(double now_ms, int pc, const std::string& error_name,
                                          const std::string& message) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_create_failed(now, error_name, message);
  settle(now);
}

void Client::negotiation_needed(double now_ms, int pc) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_negotiation_needed(now);
  settle(now);
}

void Client::local_description(double now_ms, int pc, int op, const std::string& type, const std::string& sdp) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_local_description(now, op, type, sdp);
  settle(now);
}

void Client::operation_done(double now_ms, int pc, int op) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_operation_done(now, op);
  settle(now);
}

void Client::operation_failed(double now_ms, int pc, int op, const std::string& error_name, const std::string& message) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_operation_failed(now, op, error_name, message);
  settle(now);
}

void Client::ice_candidate(double now_ms, int pc, const std::string& candidate_json) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_ice_candidate(now, candidate_json);
  settle(now);
}

void Client::signaling_state(double now_ms, int pc, const std::string& state) {
  const auto now = ms(now_ms);
  auto s = parse_signaling_state(state);
  if (auto* l = link(pc); l && s) l->on_signaling_state(now, *s);
  settle(now);
}

void Client::ice_connection_state(double now_ms, int pc, const std::string& state) {
  const auto now = ms(now_ms);
  auto s = parse_ice_connection_state(state);
  if (auto* l = link(pc); l && s) l->on_ice_connection_state(now, *s);
  mesh_.on_transport_changed(now);
  settle(now);
}

void Client::connection_state(double now_ms, int pc, const std::string& state) {
  const auto now = ms(now_ms);
  auto s = parse_peer_connection_state(state);
  if (auto* l = link(pc); l && s) l->on_connection_state(now, *s);
  mesh_.on_transport_changed(now);
  settle(now);
}

void Client::track(double now_ms, int pc, const std::string& track_id, const std::string& kind,
                   const std::string& stream_id) {
  const auto now = ms(now_ms);
  auto k = parse_media_kind(kind);
  if (auto* l = link(pc); l && k) l->on_track(now, track_id, *k, stream_id);
  settle(now);
}

void Client::remote_certificate(double now_ms, int pc, const std::string& fingerprint) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_remote_certificate(now, fingerprint);
  settle(now);
}

void Client::data_channel_open(double now_ms, int pc) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_data_channel_open(now);
  settle(now);
}

void Client::data_channel_closed(double now_ms, int pc) {
  const auto now = ms(now_ms);
  if (auto* l = link(pc)) l->on_data_channel_closed(now);
  settle(now);
}

void Client::data_channel_message(double now_ms, int pc, const std::string& text) {
  const auto now = ms(now_ms);
  mesh_.on_data_channel_message(now, pc, text);  // the mesh hears a peer's new id
  settle(now);
}

void Client::stats(double now_ms, int pc, double rtt_ms, double packets_lost, double packets_received,
                   double bytes_received, double bytes_sent, double remote_packets_lost, double packets_sent,
                   bool cpu_limited) {
  const auto now = ms(now_ms);
  mesh_.on_stats(now, pc,
                 StatsSample{rtt_ms, packets_lost, packets_received, bytes_received, bytes_sent, remote_packets_lost,
                             packets_sent, cpu_limited});
  settle(now);
}

void Client::network_changed(double now_ms) {
  const auto now = ms(now_ms);
  session_.on_network_change(now);
  mesh_.on_network_change(now);
  settle(now);
}

void Client::cpu_pressure(double now_ms, const std::string& state) {
  const auto now = ms(now_ms);
  if (const auto pressure = parse_cpu_pressure(state)) {
    mesh_.on_cpu_pressure(*pressure);
  } else {
    ctx_.log(LogLevel::Warn, "cpu-load", {}, {}, {}, "unknown CPU pressure state ignored: " + state.substr(0, 32));
  }
  settle(now);
}

void Client::timer_fired(double now_ms, int timer) {
  const auto now = ms(now_ms);
  auto tag = ctx_.take_fired_timer(timer);
  if (tag) {
    switch (tag->owner) {
      case TimerOwner::Session: session_.on_timer(now, timer); break;
      case TimerOwner::Peer: mesh_.on_peer_timer(now, tag->peer, timer); break;
      case TimerOwner::Stats: mesh_.on_stats_timer(now, timer); break;
      case TimerOwner::PeerReturn: mesh_.on_return_timer(now, timer); break;
      case TimerOwner::Outage: mesh_.on_outage_timer(now, timer); break;
    }
  }
  settle(now);
}

// ---- introspection ---------------------------------------------------------------------

std::vector<PeerSnapshot> Client::peers() const {
  std::vector<PeerSnapshot> out;
  for (const auto& [id, m] : mesh_.roster()) {
    const PeerNegotiation& l = *m.link;
    out.push_back(PeerSnapshot{id, m.name, std::string(to_string(l.state())), l.pc(), l.generation(), l.polite(),
                               l.data_channel_open(), l.verification_code(), std::string(to_string(l.trust())),
                               l.remote_media(), std::string(to_string(m.quality ? m.quality->level() : QualityLevel::Unknown))});
  }
  return out;
}

std::string Client::snapshot_json() const {
  using json = nlohmann::ordered_json;
  json peers = json::array();
  for (const auto& p : this->peers())
    peers.push_back({{"peer", p.peer},
                     {"name", p.name},
                     {"state", p.state},
                     {"pc", p.pc},
                     {"generation", p.generation},
                     {"polite", p.polite},
                     {"dataChannelOpen", p.data_channel_open},
                     {"verificationCode", p.verification_code},
                     {"trust", p.trust},
                     {"audio", p.media.audio},
                     {"video", p.media.video},
                     {"screen", p.media.screen},
                     {"quality", p.quality}});
  json doc = {{"state", state()}, {"self", self_id()}, {"peers", peers}, {"timers", active_timer_purposes()}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace meshmeet::core
