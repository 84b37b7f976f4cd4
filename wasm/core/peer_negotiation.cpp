#include "wasm/core/peer_negotiation.hpp"

#include <algorithm>
#include <cstdlib>

#include "wasm/core/sdp_fields.hpp"

namespace meshmeet::core {
namespace {

constexpr const char* kMachine = "peer-negotiation";
constexpr std::size_t kSeqWindow = 512;

}  // namespace

std::string IceSettings::rtc_configuration_json() const {
  return "{\"iceServers\":" + (servers_json.empty() ? std::string("[]") : servers_json) +
         ",\"bundlePolicy\":\"max-bundle\"" + (relay_only ? ",\"iceTransportPolicy\":\"relay\"}" : "}");
}

PeerNegotiation::PeerNegotiation(CoreContext& ctx, std::string self, std::string peer, const IceSettings& ice_settings,
                                 const LocalMedia& media)
    : ctx_(ctx),
      self_(std::move(self)),
      peer_(std::move(peer)),
      polite_(self_ < peer_),  // fixed per pair: both ends compute the same roles
      ice_settings_(ice_settings),
      media_(media),
      recovery_(ctx, peer_),
      negotiator_(ctx, peer_, [this](const std::string& sdp) { return peer_description(sdp); }),
      sender_parameters_(ctx, peer_),
      trust_(ctx, peer_),
      verification_(ctx, peer_, trust_) {}

void PeerNegotiation::open(std::int64_t now) {
  if (state() != PeerState::New) return;
  // Both ends open at once: the impolite one offers first (see the header).
  create_pc(now, polite_ ? Opener::Peer : Opener::Us);
  recovery_.open(now);
}

void PeerNegotiation::close(std::int64_t now, std::string why) {
  close_pc();
  recovery_.close(now, std::move(why));
}

void PeerNegotiation::create_pc(std::int64_t now, Opener opener) {
  (void)now;
  // Roles are per connection. A connection carried over a rejoin keeps the
  // roles of the old ids; a fresh one takes the current ids' at both ends.
  polite_ = self_ < peer_;
  pc_ = ctx_.new_pc_id();
  ++gen_;
  remote_gen_ = 0;
  seen_seqs_.clear();
  newest_description_seq_ = 0;
  negotiator_.reset(pc_, polite_, opener);
  candidate_ops_.clear();
  candidates_.reset();
  ice_ = IceConnectionState::New;
  connection_ = PeerConnectionState::New;
  transport_ = Transport::Pending;
  dc_open_ = false;
  described_ = false;
  signaled_view_ = kViewUnknown;
  verification_.reset(!polite_);  // the impolite end commits
  pc_configuration_ = ice_settings_.rtc_configuration_json();
  ctx_.emit(CreatePeerConnection{pc_, peer_, polite_, pc_configuration_});
  for (MediaKind kind : {MediaKind::Audio, MediaKind::Video})
    if (!media_.track(kind).empty()) ctx_.emit(AddTrack{pc_, kind, media_.track(kind)});
  sender_parameters_.set_sender(media_.video_track.empty() ? 0 : pc_, false);
  // Ours to open: the first offer goes now, not on the browser's
  // negotiationneeded. Everything it carries (tracks, data channels) is in
  // the connection already, and that event is a task queued behind whatever
  // the page is doing: 400–700 ms after the connection was made on a page
  // joining five others (tools/dev/join-timeline.mjs). The event itself then
  // finds our offer in the operations chain and is not fired (W3C webrtc-pc,
  // "update the negotiation-needed flag"); a late one from an older
  // implementation waits for stable and renegotiates nothing new.
  if (opener == Opener::Us) negotiator_.on_negotiation_needed(now);
}

void PeerNegotiation::on_create_failed(std::int64_t now, const std::string& error_name, const std::string& message) {
  if (pc_ == 0) return;
  const std::string why = "the browser could not create the peer connection (" + error_name +
                          (message.empty() ? "" : ": " + message) + ")";
  ctx_.log(LogLevel::Warn, kMachine, peer_, {}, {}, why);
  apply(now, recovery_.on_create_failed(now, why));
}

void PeerNegotiation::on_ice_settings_changed(std::int64_t now) {
  std::string configuration = ice_settings_.rtc_configuration_json();
  if (configuration == pc_configuration_) return;
  pc_configuration_ = std::move(configuration);
  if (pc_ != 0) {
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "new ICE servers for the live connection");
    ctx_.emit(SetConfiguration{pc_, pc_configuration_});
  }
  apply(now, recovery_.on_ice_servers_changed(now));  // an unreachable peer may be reachable through them
}

void PeerNegotiation::close_pc() {
  if (pc_ != 0) ctx_.emit(ClosePeerConnection{pc_});
  pc_ = 0;
  negotiator_.stop();
  sender_parameters_.set_sender(0, false);
  candidate_ops_.clear();
  candidates_.reset();
  dc_open_ = false;
}

void PeerNegotiation::apply(std::int64_t now, RecoveryAction action) {
  switch (action) {
    case RecoveryAction::None:
      break;
    case RecoveryAction::RestartIce:
      restart_ice(now);
      break;
    case RecoveryAction::FreshConnection:
      close_pc();
      create_pc(now, Opener::Us);
      break;
    case RecoveryAction::DropConnection:
      close_pc();
      break;
  }
}

void PeerNegotiation::restart_ice(std::int64_t now) {
  (void)now;
  if (pc_ == 0) return;
  if (!polite_) {
    ctx_.emit(RestartIce{pc_});
    return;
  }
  // Restart offers must never cross (see peer_signal.hpp): the impolite end makes them.
  ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "asking the peer for an ICE restart (the impolite end offers it)");
  PeerSignal request;
  request.kind = PeerSignalKind::IceRestartRequest;
  send(std::move(request));
}

void PeerNegotiation::on_restart_request(std::int64_t now) {
  (void)now;
  if (polite_) {  // only a polite end asks; two ends asking each other would loop
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "ICE restart request ignored: we are the polite end");
    return;
  }
  if (pc_ == 0 || !candidates_.has_remote_description()) {  // the first negotiation is still under way: its own watchdog covers it
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "ICE restart request ignored: the connection was never negotiated");
    return;
  }
  ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "the peer asked for an ICE restart");
  ctx_.emit(RestartIce{pc_});
}

void PeerNegotiation::on_timer(std::int64_t now, int timer) {
  if (sender_parameters_.on_timer(timer)) return;
  if (negotiator_.on_timer(now, timer)) return;
  // The browser is busy, not stuck, while work of ours is in its
  // operations chain or ICE is checking: the watchdog gives it time.
  const bool busy = negotiator_.description_op_pending() || ice_ == IceConnectionState::Checking;
  apply(now, recovery_.on_timer(now, timer, ConnectionRecovery::Patience{busy, polite_}));
}

void PeerNegotiation::on_signaling_up(std::int64_t now) {
  negotiator_.on_signaling_up(now);
  apply(now, recovery_.on_signaling_up(now));
}

void PeerNegotiation::on_network_change(std::int64_t now, std::int64_t changed_at) {
  apply(now, recovery_.on_network_change(now, changed_at));
}

// connectionState says whether DTLS is up too; iceConnectionState alone is the
// fallback for implementations that lack connectionState.
Transport PeerNegotiation::transport() const {
  if (ice_ == IceConnectionState::Failed || connection_ == PeerConnectionState::Failed) return Transport::Broken;
  if (ice_ == IceConnectionState::Disconnected || connection_ == PeerConnectionState::Disconnected)
    return Transport::Down;
  if (connection_ == PeerConnectionState::Connected) return Transport::Up;
  if (connection_ == PeerConnectionState::New &&
      (ice_ == IceConnectionState::Connected || ice_ == IceConnectionState::Completed))
    return Transport::Up;
  return Transport::Pending;
}

void PeerNegotiation::on_transport_change(std::int64_t now) {
  const Transport t = transport();
  if (t == transport_) return;
  transport_ = t;
  apply(now, recovery_.on_transport(now, t));
  if (t == Transport::Up) sender_parameters_.on_connection_up();
}

void PeerNegotiation::on_ice_connection_state(std::int64_t now, IceConnectionState state) {
  if (state == ice_ || pc_ == 0) return;
  ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "iceConnectionState " + std::string(to_string(state)));
  ice_ = state;
  recovery_.on_progress(now);
  on_transport_change(now);
}

void PeerNegotiation::on_connection_state(std::int64_t now, PeerConnectionState state) {
  if (state == connection_ || pc_ == 0) return;
  ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "connectionState " + std::string(to_string(state)));
  connection_ = state;
  recovery_.on_progress(now);
  on_transport_change(now);
}

void PeerNegotiation::on_signaling_state(std::int64_t now, SignalingState state) {
  recovery_.on_progress(now);
  negotiator_.on_signaling_state(now, state);
}

// ---- signals and pairing ----------------------------------------------------------

std::uint64_t PeerNegotiation::send(PeerSignal s) {
  s.gen = gen_;
  s.peer_gen = remote_gen_;
  s.seq = next_seq_++;
  ctx_.send_signal(peer_, serialize(s));
  return s.seq;
}

void PeerNegotiation::follow_fresh_connection(std::int64_t now) {
  close_pc();
  create_pc(now, Opener::Peer);
  recovery_.on_peer_fresh_connection(now, "the peer made a fresh connection (" + std::to_string(gen_) + ")");
}

void PeerNegotiation::adopt(int remote_gen) {
  remote_gen_ = remote_gen;
  highest_remote_gen_ = std::max(highest_remote_gen_, remote_gen);
  seen_seqs_.clear();
  newest_description_seq_ = 0;
}

void PeerNegotiation::on_signal(std::int64_t now, const PeerSignal& s) {
  if (state() == PeerState::Closed || state() == PeerState::New) return;
  auto drop = [&](const char* why) { ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, std::string("signal dropped: ") + why); };
  if (s.peer_gen != 0 && s.peer_gen != gen_) return drop("meant for an older connection of ours");
  if (pc_ == 0) {  // unreachable between retries: a fresh connection from the peer is a retry too
    if (s.peer_gen != 0 || s.gen <= highest_remote_gen_) return drop("no connection");
    follow_fresh_connection(now);
    adopt(s.gen);
  } else if (remote_gen_ == 0) {
    if (s.peer_gen != gen_ && s.gen <= highest_remote_gen_) return drop("from a retired connection of the peer");
    adopt(s.gen);
  } else if (s.gen < remote_gen_) {
    return drop("from a retired connection of the peer");
  } else if (s.gen > remote_gen_) {
    // A connection pairs with one remote connection for life (DTLS state):
    // the peer started afresh, so must we.
    if (s.peer_gen != 0) return drop("conflicting pairing");
    // Not counted toward Unreachable: the peer's rebuild is not a failure of
    // ours, and counting both ends' against one limit made pairs die early.
    follow_fresh_connection(now);
    adopt(s.gen);
  }
  if (!seen_seqs_.insert(s.seq).second) return drop("duplicate");
  recovery_.on_progress(now);
  while (seen_seqs_.size() > kSeqWindow) seen_seqs_.erase(seen_seqs_.begin());
  switch (s.kind) {
    case PeerSignalKind::Description:
      if (s.seq < newest_description_seq_) return drop("older than a description already seen");
      newest_description_seq_ = s.seq;
      handle_description(now, s);
      break;
    case PeerSignalKind::Candidate:
      handle_candidate(now, s);
      break;
    case PeerSignalKind::IceRestartRequest:
      on_restart_request(now);
      break;
    case PeerSignalKind::View:
      take_signaled_view(s);
      break;
  }
}

// ---- descriptions: the Negotiator decides ---------------------------------------------

void PeerNegotiation::on_negotiation_needed(std::int64_t now) {
  if (pc_ == 0) return;
  negotiator_.on_negotiation_needed(now);
}

void PeerNegotiation::handle_description(std::int64_t now, const PeerSignal& s) {
  if (!verification_.admit_remote_sdp(s.sdp)) return;  // fingerprints that disagree: never applied
  take_signaled_view(s);
  negotiator_.on_peer_description(now, s.seq, s.description_type, s.answers, s.sdp);
}

void PeerNegotiation::on_peer_description_applied(const std::string& sdp) {
  verification_.set_remote_sdp(sdp);
  for (const std::string& candidate : candidates_.on_remote_description(sdp_ice_ufrag(sdp))) add_candidate(candidate);
}

void PeerNegotiation::on_local_description(std::int64_t now, int op, const std::string& type, const std::string& sdp) {
  if (!negotiator_.owns(op)) return;  // only a description op has a local description
  recovery_.on_progress(now);
  if (!negotiator_.on_local_description(now, op, type)) return;
  verification_.set_local_sdp(sdp);
  PeerSignal s;
  s.description_type = type;
  s.sdp = filter_sdp(sdp, "local");
  if (type == "answer") s.answers = negotiator_.last_peer_offer_seq();
  if (local_view_ != kViewUnknown) s.view = local_view_;  // the peer's first frames to us can be that size
  signaled_view_ = local_view_;
  described_ = true;
  const std::uint64_t seq = send(std::move(s));
  negotiator_.on_description_sent(now, type, seq);
}

void PeerNegotiation::on_operation_done(std::int64_t now, int op) {
  if (negotiator_.owns(op)) {
    recovery_.on_progress(now);
    negotiator_.on_operation_done(now, op, [this](const std::string& sdp) { on_peer_description_applied(sdp); });
    return;
  }
  if (sender_parameters_.owns(op)) {
    sender_parameters_.on_done(op);
  } else if (!candidate_ops_.erase(op)) {
    return;
  }
  recovery_.on_progress(now);
  negotiator_.negotiate_if_deferred(now);
}

void PeerNegotiation::on_operation_failed(std::int64_t now, int op, const std::string& error_name,
                                          const std::string& message) {
  if (negotiator_.owns(op)) {
    // A description the browser refuses for good would be refused again: see
    // ConnectionRecovery::on_negotiation_broken.
    if (auto broken = negotiator_.on_operation_failed(now, op, error_name, message))
      apply(now, recovery_.on_negotiation_broken(now, std::move(*broken)));
    return;
  }
  const std::string what = error_name + (message.empty() ? "" : ": " + message);
  if (sender_parameters_.owns(op)) {
    sender_parameters_.on_refused(op, what);
  } else if (candidate_ops_.erase(op)) {
    // addIceCandidate errors are expected around glare and restarts (W3C: ignored).
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "operation failed: " + what);
  } else {
    return;
  }
  negotiator_.negotiate_if_deferred(now);
}

// ---- trickle ICE --------------------------------------------------------------------

void PeerNegotiation::on_ice_candidate(std::int64_t now, const std::string& candidate_json) {
  if (pc_ == 0) return;
  recovery_.on_progress(now);
  PeerSignal s;
  s.kind = PeerSignalKind::Candidate;
  if (read_candidate(candidate_json, s.candidate_json, s.candidate_ufrag)) {  // else: the end of them
    const auto line = candidate_attribute(s.candidate_json);
    if (line && is_active_tcp_candidate(*line))
      // Half of what Chromium gathers (one per interface beside the UDP
      // one), each a signaling message and a blocking addIceCandidate at the
      // peer, for nothing: it only connects out, to a passive candidate of
      // the peer, which needs nothing from us to answer (sdp_fields.hpp);
      // and Chromium has no passive ones.
      ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "an active TCP candidate was not sent: it only connects out");
    else if (candidate_allowed(s.candidate_json))
      send(std::move(s));
    else  // the browser should not have gathered it (iceTransportPolicy "relay"): it never leaves
      ctx_.log(LogLevel::Info, kMachine, peer_, {}, {}, "relay-only: a local non-relay candidate was not sent");
  }
  negotiator_.on_local_candidate(now);
}

void PeerNegotiation::handle_candidate(std::int64_t now, const PeerSignal& s) {
  (void)now;
  if (negotiator_.peer_offer_ignored()) return;  // belongs to an offer we ignored: dropped silently
  if (!candidate_allowed(s.candidate_json)) {
    ctx_.log(LogLevel::Info, kMachine, peer_, {}, {}, "relay-only: a non-relay candidate from the peer was dropped");
    return;
  }
  switch (candidates_.on_candidate(s.candidate_json, s.candidate_ufrag)) {
    case CandidateQueue::Verdict::AddNow:
      add_candidate(s.candidate_json);
      break;
    case CandidateQueue::Verdict::Queued:
      ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "candidate queued until its description is set");
      break;
    case CandidateQueue::Verdict::Dropped:  // for a description already replaced
      break;
  }
}

void PeerNegotiation::add_candidate(const std::string& candidate_json) {
  const int op = ctx_.new_op_id();
  ctx_.emit(AddIceCandidate{pc_, op, candidate_json});
  candidate_ops_.insert(op);
}

bool PeerNegotiation::candidate_allowed(const std::string& candidate_json) const {
  if (!ice_settings_.relay_only) return true;
  const auto line = candidate_attribute(candidate_json);
  return line && (line->empty() || ice_candidate_type(*line) == CandidateType::Relay);
}

std::string PeerNegotiation::peer_description(const std::string& sdp) {
  int changed = 0;
  std::string ours = sdp_with_opus_dtx(sdp, changed);
  if (media_.audio_packet_ms != kBrowserAudioPacketMs) ours = sdp_with_audio_packet_time(ours, media_.audio_packet_ms, changed);
  return filter_sdp(ours, "remote");
}

std::string PeerNegotiation::filter_sdp(const std::string& sdp, const char* direction) {
  if (!ice_settings_.relay_only) return sdp;
  int removed = 0;
  std::string kept = sdp_relay_candidates_only(sdp, removed);
  if (removed > 0)
    ctx_.log(LogLevel::Info, kMachine, peer_, {}, {},
             "relay-only: " + std::to_string(removed) + " non-relay candidate line(s) taken out of the " + direction +
                 " description");
  return kept;
}

// ---- media, data, stats ---------------------------------------------------------------

void PeerNegotiation::on_track(std::int64_t now, const std::string& track, MediaKind kind, const std::string& stream) {
  (void)now;
  if (pc_ == 0) return;
  ctx_.emit(RemoteTrack{peer_, pc_, track, kind, stream});
}

void PeerNegotiation::on_local_track_changed(MediaKind kind, const std::string& old_track) {
  if (pc_ == 0) return;
  const std::string& track = media_.track(kind);
  const bool video = kind == MediaKind::Video;
  if (old_track.empty() && !track.empty()) {
    ctx_.emit(AddTrack{pc_, kind, track});  // negotiationneeded follows
    if (video) sender_parameters_.set_sender(pc_, transport_ == Transport::Up);  // a new sender: none of our limits yet
  } else if (!old_track.empty() && track.empty()) {
    ctx_.emit(RemoveTrack{pc_, kind});  // negotiationneeded follows
    if (video) sender_parameters_.set_sender(0, false);
  } else if (old_track != track) {
    ctx_.emit(ReplaceTrack{pc_, kind, track});  // renegotiates only if the browser needs it
    if (video) sender_parameters_.retry_now();  // the sender may take what it refused for the old track
  }
}

void PeerNegotiation::set_sender_budget(SenderBudget wanted) {
  sender_parameters_.want(wanted, remote_view_ != kViewUnknown);
}

void PeerNegotiation::request_stats(std::int64_t now) {
  (void)now;
  if (pc_ != 0 && (state() == PeerState::Connected || state() == PeerState::Disconnected)) ctx_.emit(GetStats{pc_});
}

void PeerNegotiation::on_remote_certificate(std::int64_t now, const std::string& fingerprint) {
  (void)now;
  if (pc_ != 0) verification_.on_remote_certificate(fingerprint);
}

void PeerNegotiation::on_data_channel_open(std::int64_t now) {
  if (pc_ == 0) return;
  dc_open_ = true;
  for (auto& text : verification_.on_channel_open()) ctx_.emit(SendData{pc_, std::move(text)});
  // Each opening (a fresh connection's too) tells the peer where we stand,
  // whatever it saw or missed before.
  send_media_state(now);
  sent_view_ = kViewUnknown;
  send_view();
}

void PeerNegotiation::on_data_channel_closed(std::int64_t now) {
  (void)now;
  dc_open_ = false;
}

bool PeerNegotiation::on_data_channel_message(std::int64_t now, const std::string& text) {
  (void)now;
  MediaState media;
  int view = 0;
  std::vector<std::string> replies;
  if (verification_.on_message(text, replies)) {
    // Replies go back on the channel the message came over, which the browser
    // opens before it delivers anything.
    if (dc_open_ && pc_ != 0)
      for (auto& reply : replies) ctx_.emit(SendData{pc_, std::move(reply)});
  } else if (parse_media_state(text, media)) {
    remote_media_ = media;
    ctx_.emit(PeerMediaChanged{peer_, media.audio, media.video, media.screen});
  } else if (parse_view(text, view)) {
    return take_remote_view(view);
  } else
    ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {}, "unknown data-channel message ignored");
  return false;
}

// A view through signaling is for a connection's first frames: once the
// data channel (the peers' own, where signals pass the server) is open, it
// alone says the view.
void PeerNegotiation::take_signaled_view(const PeerSignal& s) {
  if (s.view && !dc_open_) take_remote_view(*s.view);
}

bool PeerNegotiation::take_remote_view(int view) {
  if (view == remote_view_) return false;
  ctx_.log(LogLevel::Debug, kMachine, peer_, {}, {},
           view == 0 ? std::string("the peer draws none of our video") : "the peer draws our video " + std::to_string(view) + " px high");
  remote_view_ = view;
  return true;
}

// A tile being resized reports every step of it: the peer hears of a new
// height only when it differs by more than a tenth from what it last heard
// (what an encoder's scaling could not show anyway), and at once of any
// change between drawing none and drawing some.
void PeerNegotiation::set_local_view(std::int64_t now, int height) {
  (void)now;
  local_view_ = std::clamp(height, 0, kMaxViewHeight);
  send_view();
  signal_view();
}

namespace {
// Whether the peer, which last heard `heard`, should hear `view` (the rule above).
bool view_worth_telling(int heard, int view) {
  if (view == kViewUnknown || view == heard) return false;
  const bool small_change = heard > 0 && view > 0 && std::abs(view - heard) * 10 <= heard;
  return !small_change;
}
}  // namespace

void PeerNegotiation::signal_view() {
  if (dc_open_ || pc_ == 0 || !described_ || !ctx_.signaling_up() || !view_worth_telling(signaled_view_, local_view_))
    return;
  signaled_view_ = local_view_;
  PeerSignal s;
  s.kind = PeerSignalKind::View;
  s.view = local_view_;
  send(std::move(s));
}

void PeerNegotiation::send_view() {
  if (!dc_open_ || pc_ == 0 || !view_worth_telling(sent_view_, local_view_)) return;
  sent_view_ = local_view_;
  ctx_.emit(SendData{pc_, serialize_view(local_view_)});
}

bool PeerNegotiation::mark_verified(std::int64_t now) {
  (void)now;
  return verification_.mark_verified();
}

void PeerNegotiation::send_media_state(std::int64_t now) {
  (void)now;
  if (!dc_open_ || pc_ == 0) return;
  ctx_.emit(SendData{pc_, serialize_media_state(media_.state())});
}

}  // namespace meshmeet::core
