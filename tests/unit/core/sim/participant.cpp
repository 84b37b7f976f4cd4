#include "sim/participant.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "sim/world.hpp"

namespace sim {

using namespace meshmeet::core;

namespace {

ClientConfig seeded(ParticipantOptions& options, std::uint64_t seed) {
  if (!options.seed_given) options.config.seed = seed;
  return options.config;
}

bool trace_enabled() {
  static const bool on = std::getenv("MESHMEET_SIM_TRACE") != nullptr;
  return on;
}

}  // namespace

Participant::Participant(World& world, std::string name, ParticipantOptions options)
    : world_(world),
      name_(std::move(name)),
      options_(std::move(options)),
      client_(seeded(options_, world.next_seed())) {}

double Participant::now() const { return static_cast<double>(world_.loop.now()); }

void Participant::join(const std::string& meeting) {
  feed([&](Client& c, double t) {
    for (const char* kind : {"audio", "video"}) {
      if (!(std::string(kind) == "audio" ? options_.with_audio : options_.with_video)) continue;
      const std::string track = name_ + (std::string(kind) == "audio" ? "-mic" : "-cam");
      give_track(kind, track);
      c.set_local_track(t, kind, track);
    }
    c.join(t, "ws://sim.invalid/ws", meeting, name_);
  });
}

// What the shim does before handing a track to the core: a new track is
// enabled; a shared screen ("screen") is sent as video.
void Participant::give_track(const std::string& kind, const std::string& track) {
  const std::string sent_as = kind == "screen" ? "video" : kind;
  if (!track.empty()) local_tracks[sent_as].emplace(track, true);
  if (kind == "screen") screens.insert(track);
  current_track[sent_as] = track;
}

bool Participant::sends_live(const std::string& kind) const {
  auto current = current_track.find(kind);
  if (current == current_track.end() || current->second.empty()) return false;
  return local_tracks.at(kind).at(current->second);
}

void Participant::leave() {
  feed([&](Client& c, double t) { c.leave(t); });
}

void Participant::cpu_pressure(const std::string& state) {
  feed([&](Client& c, double t) { c.cpu_pressure(t, state); });
}

void Participant::network_changed() {
  feed([&](Client& c, double t) { c.network_changed(t); });
}

bool Participant::mark_verified(const std::string& peer) {
  bool marked = false;
  feed([&](Client& c, double t) { marked = c.mark_verified(t, peer); });
  return marked;
}

void Participant::set_track(const std::string& kind, const std::string& track) {
  give_track(kind, track);
  feed([&](Client& c, double t) { c.set_local_track(t, kind, track); });
}

void Participant::set_muted(const std::string& kind, bool muted) {
  feed([&](Client& c, double t) { c.set_muted(t, kind, muted); });
}

void Participant::set_uplink_budget(int kbps) {
  feed([&](Client& c, double t) { c.set_uplink_budget(t, kbps); });
}

bool Participant::set_view(const std::string& peer, int height) {
  bool known = false;
  feed([&](Client& c, double t) { known = c.set_view(t, peer, height); });
  return known;
}

std::vector<std::string> Participant::states() const {
  std::vector<std::string> out;
  for (const auto& s : events_of<StateChanged>()) out.push_back(s.state);
  return out;
}

std::vector<std::string> Participant::error_codes() const {
  std::vector<std::string> out;
  for (const auto& e : events_of<ErrorEvent>()) out.push_back(e.code);
  return out;
}

std::vector<std::string> Participant::sorted_timer_purposes() const {
  std::vector<std::string> out;
  for (const auto& [id, purpose] : timer_purposes) out.push_back(purpose);
  std::sort(out.begin(), out.end());
  return out;
}

void Participant::pump() {
  std::vector<Output> batch = client_.drain();
  max_output_batch = std::max<std::int64_t>(max_output_batch, static_cast<std::int64_t>(batch.size()));
  for (auto& output : batch) carry_out(output);
}

FakePeerConnection* Participant::pc(int handle, const char* what) {
  auto it = pcs.find(handle);
  if (it == pcs.end()) {
    if (refused_pcs.count(handle)) return nullptr;  // never created: the shim finds nothing to act on
    anomalies.push_back(std::string(what) + " on unknown or closed peer connection " + std::to_string(handle));
    return nullptr;
  }
  return it->second;
}

bool Participant::ours(const FakePeerConnection& p) const {
  auto it = pcs.find(p.handle());
  return it != pcs.end() && it->second == &p && !p.closed();
}

void Participant::carry_out(Output& output) {
  auto& loop = world_.loop;
  if (auto* o = std::get_if<OpenSocket>(&output)) {
    const int id = o->socket;
    if (sockets.count(id)) anomalies.push_back("socket id reused: " + std::to_string(id));
    ++sockets_opened;
    sockets[id] = world_.server.connect(
        name_, SocketEnds{[this, id] { feed([&](Client& c, double t) { c.socket_opened(t, id); }); },
                          [this, id](const std::string& text) { feed([&](Client& c, double t) { c.socket_message(t, id, text); }); },
                          [this, id](int code) {
                            sockets.erase(id);
                            feed([&](Client& c, double t) { c.socket_closed(t, id, code); });
                          }});
  } else if (auto* o = std::get_if<CloseSocket>(&output)) {
    auto it = sockets.find(o->socket);
    if (it != sockets.end()) {  // closing an already-closed socket is a no-op in browsers
      world_.server.client_close(it->second, o->code);
      sockets.erase(it);
    }
  } else if (auto* o = std::get_if<SendText>(&output)) {
    auto it = sockets.find(o->socket);
    if (it == sockets.end()) {
      anomalies.push_back("send on a closed or unknown socket " + std::to_string(o->socket));
    } else {
      ++texts_sent;
      world_.server.client_send(it->second, o->text);
    }
  } else if (auto* o = std::get_if<CreatePeerConnection>(&output)) {
    if (pcs.count(o->pc)) anomalies.push_back("peer connection id reused: " + std::to_string(o->pc));
    auto config = nlohmann::json::parse(o->config_json, nullptr, false);
    if (!config.is_object() || !config.contains("iceServers")) anomalies.push_back("bad RTCConfiguration " + o->config_json);
    if (refuse_peer_connections > 0) {  // new RTCPeerConnection threw (e.g. a turn: URL without credentials)
      --refuse_peer_connections;
      ++pcs_refused;
      // Reported after the rest of the batch, whose outputs for this handle
      // find no connection (as in web/meshmeet.js, where each output runs on its own).
      const int handle = o->pc;
      refused_pcs.insert(handle);
      world_.loop.after(0, [this, handle] {
        feed([&](Client& c, double t) { c.create_peer_connection_failed(t, handle, "InvalidAccessError", "bad iceServers"); });
      });
      return;
    }
    auto& created = world_.net.create(*this, name_, client_.self_id(), o->peer, o->pc, options_.pc);
    created.set_configuration(o->config_json);
    pcs[o->pc] = &created;
    ++pcs_created;
  } else if (auto* o = std::get_if<SetConfiguration>(&output)) {
    if (auto* p = pc(o->pc, "setConfiguration")) p->set_configuration(o->config_json);
  } else if (auto* o = std::get_if<ClosePeerConnection>(&output)) {
    if (auto* p = pc(o->pc, "close")) {
      p->close();
      pcs.erase(o->pc);
      counters_.erase(o->pc);
      ++pcs_closed;
    }
  } else if (auto* o = std::get_if<AddTrack>(&output)) {
    if (auto* p = pc(o->pc, "addTrack")) p->add_track(std::string(to_string(o->kind)), o->track);
  } else if (auto* o = std::get_if<RemoveTrack>(&output)) {
    if (auto* p = pc(o->pc, "removeTrack")) p->remove_track(std::string(to_string(o->kind)));
  } else if (auto* o = std::get_if<ReplaceTrack>(&output)) {
    if (auto* p = pc(o->pc, "replaceTrack")) p->replace_track(std::string(to_string(o->kind)), o->track);
  } else if (auto* o = std::get_if<SetLocalDescription>(&output)) {
    if (auto* p = pc(o->pc, "setLocalDescription")) p->set_local_description(o->op, o->type);
  } else if (auto* o = std::get_if<SetRemoteDescription>(&output)) {
    if (auto* p = pc(o->pc, "setRemoteDescription")) p->set_remote_description(o->op, o->type, o->sdp);
  } else if (auto* o = std::get_if<AddIceCandidate>(&output)) {
    if (auto* p = pc(o->pc, "addIceCandidate")) p->add_ice_candidate(o->op, o->candidate_json);
  } else if (auto* o = std::get_if<RestartIce>(&output)) {
    if (auto* p = pc(o->pc, "restartIce")) {
      p->restart_ice();
      ++ice_restarts;
    }
  } else if (auto* o = std::get_if<SetSenderParameters>(&output)) {
    // sender.setParameters(): applied or refused, and the promise settles a little later.
    if (auto* p = pc(o->pc, "setParameters")) {
      const int handle = o->pc, op = o->op;
      if (refuse_set_parameters > 0) {
        --refuse_set_parameters;
        ++set_parameters_refused;
        loop.after(1, [this, p, handle, op] {
          if (!ours(*p)) return;
          feed([&](Client& c, double t) {
            c.operation_failed(t, handle, op, "InvalidModificationError", "the number of encodings cannot change");
          });
        });
      } else {
        p->sender_parameters[std::string(to_string(o->kind))] = {o->max_bitrate_bps, o->scale_resolution_down_by, o->max_framerate, o->active};
        loop.after(1, [this, p, handle, op] {
          if (ours(*p)) feed([&](Client& c, double t) { c.operation_done(t, handle, op); });
        });
      }
    }
  } else if (auto* o = std::get_if<SendData>(&output)) {
    if (auto* p = pc(o->pc, "send")) {
      if (!p->data_channel_open()) anomalies.push_back("data sent on a channel that is not open");
      p->send(o->text);
    }
  } else if (auto* o = std::get_if<GetStats>(&output)) {
    const int handle = o->pc;
    if (!pc(handle, "getStats")) return;
    loop.after(2, [this, handle] {
      auto it = pcs.find(handle);
      if (it == pcs.end()) return;
      FakePeerConnection* p = it->second;
      FakePeerConnection* partner = world_.net.by_serial(p->partner());
      const std::string other = partner ? partner->host() : "";
      const auto link = world_.net.link(name_, other);
      const auto in = world_.net.way(other, name_), out = world_.net.way(name_, other);
      Counters& k = counters_[handle];
      const std::int64_t now = world_.loop.now();
      // 100 packets/s each way while the transport is up; none while it is not.
      const double ms = k.at < 0 || p->ice_state() != "connected" ? 0.0 : static_cast<double>(now - k.at);
      if (p->connected_since() >= 0) k.at = now;
      const double loss_in = std::min(1.0, link.loss + in.loss), loss_out = std::min(1.0, link.loss + out.loss);
      if (!in.frozen) {
        k.received += ms * 0.1 * (1 - loss_in);
        k.lost += ms * 0.1 * loss_in;
        k.bytes_in += ms * link.kbps / 8.0;
      }
      if (!out.frozen) {
        k.sent += ms * 0.1;
        k.remote_lost += ms * 0.1 * loss_out;
        k.bytes_out += ms * link.kbps / 8.0;
      }
      feed([&](Client& c, double t) {
        c.stats(t, handle, link.rtt_ms, k.lost, k.received, k.bytes_in, k.bytes_out, k.remote_lost, k.sent, cpu_limited);
      });
    });
  } else if (auto* o = std::get_if<SetTrackEnabled>(&output)) {
    for (auto& [track, enabled] : local_tracks[std::string(to_string(o->kind))])
      if (!screens.count(track)) enabled = o->enabled;
  } else if (auto* o = std::get_if<StartTimer>(&output)) {
    const int id = o->timer;
    if (timers.count(id)) anomalies.push_back("timer id reused: " + std::to_string(id));
    timer_purposes[id] = o->purpose;
    timers[id] = loop.after(o->delay_ms, [this, id] {
      timers.erase(id);
      timer_purposes.erase(id);
      feed([&](Client& c, double t) { c.timer_fired(t, id); });
    });
  } else if (auto* o = std::get_if<CancelTimer>(&output)) {
    auto it = timers.find(o->timer);
    if (it == timers.end()) {
      anomalies.push_back("cancel of a timer that is not running: " + std::to_string(o->timer));
    } else {
      loop.cancel(it->second);
      timers.erase(it);
      timer_purposes.erase(o->timer);
    }
  } else if (auto* o = std::get_if<LogEntry>(&output)) {
    ++logs;
    auto starts = [&](const char* prefix) { return o->detail.rfind(prefix, 0) == 0; };
    if (starts("glare: ignoring")) ++glare_ignored;
    if (starts("glare: accepting")) ++glare_accepted;
    if (starts("glare: ")) glared_with.insert(o->subject);
    if (starts("candidate queued")) ++candidates_queued;
    if (starts("implicit rollback unsupported")) ++explicit_rollbacks;
    if (trace_enabled())
      std::fprintf(stderr, "%8lld %-6s %-18s %-9s %s%s%s %s\n", static_cast<long long>(world_.loop.now()), name_.c_str(),
                   o->machine.c_str(), o->subject.c_str(), o->from.c_str(), o->from.empty() && o->to.empty() ? "" : "→",
                   o->to.c_str(), o->detail.c_str());
  } else {
    events.push_back(output);
    if (trace_enabled())
      std::fprintf(stderr, "%8lld %-6s EVENT %s\n", static_cast<long long>(world_.loop.now()), name_.c_str(),
                   to_json(output).c_str());
  }
}

// ---- browser events ------------------------------------------------------------------------

void Participant::pc_negotiation_needed(FakePeerConnection& p) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.negotiation_needed(t, p.handle()); });
}
void Participant::pc_signaling_state(FakePeerConnection& p, const std::string& state) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.signaling_state(t, p.handle(), state); });
}
void Participant::pc_ice_candidate(FakePeerConnection& p, const std::string& candidate_json) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.ice_candidate(t, p.handle(), candidate_json); });
}
void Participant::pc_ice_connection_state(FakePeerConnection& p, const std::string& state) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.ice_connection_state(t, p.handle(), state); });
}
void Participant::pc_connection_state(FakePeerConnection& p, const std::string& state) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.connection_state(t, p.handle(), state); });
}
void Participant::pc_track(FakePeerConnection& p, const std::string& track, const std::string& kind,
                           const std::string& stream) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.track(t, p.handle(), track, kind, stream); });
}
void Participant::pc_data_channel_open(FakePeerConnection& p) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.data_channel_open(t, p.handle()); });
}
void Participant::pc_data_channel_message(FakePeerConnection& p, const std::string& text) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.data_channel_message(t, p.handle(), text); });
}
void Participant::pc_local_description(FakePeerConnection& p, int op, const std::string& type, const std::string& sdp) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.local_description(t, p.handle(), op, type, sdp); });
}
void Participant::pc_operation_done(FakePeerConnection& p, int op) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.operation_done(t, p.handle(), op); });
}
void Participant::pc_operation_failed(FakePeerConnection& p, int op, const std::string& name, const std::string& message) {
  if (!ours(p)) return;
  feed([&](Client& c, double t) { c.operation_failed(t, p.handle(), op, name, message); });
}

}  // namespace sim
