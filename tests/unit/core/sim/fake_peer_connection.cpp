#include "sim/fake_peer_connection.hpp"

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

namespace sim {
namespace {

std::set<std::string> intersect(const std::set<std::string>& a, const std::set<std::string>& b) {
  std::set<std::string> out;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::inserter(out, out.end()));
  return out;
}

std::pair<std::string, std::string> ordered(const std::string& a, const std::string& b) {
  return a < b ? std::make_pair(a, b) : std::make_pair(b, a);
}

bool has_kind(const std::vector<MediaSection>& mlines, const std::string& kind) {
  return std::any_of(mlines.begin(), mlines.end(), [&](const MediaSection& m) { return m.kind == kind; });
}

}  // namespace

// ---- descriptions -----------------------------------------------------------------------

bool FakeDescription::has(const std::string& kind) const { return has_kind(mlines, kind); }

std::set<std::string> FakeDescription::kinds() const {
  std::set<std::string> out;
  for (const auto& m : mlines) out.insert(m.kind);
  return out;
}

std::string FakeDescription::to_sdp() const {
  std::ostringstream o;
  o << "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
  o << "a=fingerprint:sha-256 " << fingerprint << "\r\n";
  o << "a=ice-ufrag:" << ufrag << "\r\na=ice-pwd:fakepassword\r\n";
  for (const auto& [mid, m] : mlines) {
    o << "m=" << m << " 9 UDP/TLS/RTP/SAVPF 0\r\na=mid:" << mid << "\r\n";
    if (m == "application") continue;
    o << (sending.count(m) ? "a=sendrecv" : "a=recvonly") << "\r\n";
    auto t = tracks.find(m);
    if (sending.count(m) && t != tracks.end()) o << "a=msid:" << stream << " " << t->second << "\r\n";
  }
  for (const auto& c : candidates) o << "a=" << c << "\r\n";
  return o.str();
}

std::optional<FakeDescription> FakeDescription::parse(const std::string& type, const std::string& sdp) {
  FakeDescription d;
  d.type = type;
  std::istringstream in(sdp);
  std::string line, media;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    auto starts = [&](const char* p) { return line.rfind(p, 0) == 0; };
    if (starts("a=fingerprint:sha-256 ")) d.fingerprint = line.substr(22);
    else if (starts("a=ice-ufrag:")) d.ufrag = line.substr(12);
    else if (starts("m=")) {
      media = line.substr(2, line.find(' ') - 2);
      d.mlines.push_back({"", media});
    } else if (starts("a=mid:") && !d.mlines.empty()) d.mlines.back().mid = line.substr(6);
    else if (line == "a=sendrecv") d.sending.insert(media);
    else if (starts("a=msid:")) {
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      d.stream = rest.substr(0, space);
      d.tracks[media] = rest.substr(space + 1);
    } else if (starts("a=candidate:")) d.candidates.push_back(line.substr(2));
  }
  if (d.fingerprint.empty() || d.ufrag.empty()) return std::nullopt;
  return d;
}

// ---- the peer connection -------------------------------------------------------------------

FakePeerConnection::FakePeerConnection(MediaNetwork& net, int serial, PcListener& listener, std::string host,
                                       std::string owner_id, std::string remote_id, int handle, PcOptions options)
    : net_(net),
      serial_(serial),
      listener_(listener),
      host_(std::move(host)),
      owner_id_(std::move(owner_id)),
      remote_id_(std::move(remote_id)),
      handle_(handle),
      options_(options),
      fingerprint_(net.random_hex(32, true)),
      initial_ufrag_(net.random_hex(4, false)) {
  // The shim creates the negotiated data channel at once: that alone needs negotiation.
  update_negotiation_needed();
}

const FakeDescription* FakePeerConnection::current_local() const {
  if (local_pending_) return &*local_pending_;
  return local_stable_ ? &*local_stable_ : nullptr;
}

const FakeDescription* FakePeerConnection::current_remote() const {
  if (remote_pending_) return &*remote_pending_;
  return remote_stable_ ? &*remote_stable_ : nullptr;
}

std::set<std::string> FakePeerConnection::wanted_mlines() const {
  std::set<std::string> out{"application"};
  for (const auto& [kind, track] : tracks_) out.insert(kind);
  return out;
}

std::set<std::string> sending_of(const std::map<std::string, std::string>& tracks) {
  std::set<std::string> out;
  for (const auto& [kind, track] : tracks) out.insert(kind);
  return out;
}

bool FakePeerConnection::negotiation_needed() const {
  if (restart_pending_) return true;
  for (const auto& kind : wanted_mlines())
    if (!has_kind(negotiated_mlines_, kind)) return true;
  return negotiated_sending_ != sending_of(tracks_);
}

// The spec's "update the negotiation-needed flag", task and all.
void FakePeerConnection::update_negotiation_needed() {
  if (closed_) return;
  if (!chain_.empty() || executing_) {
    update_on_empty_chain_ = true;
    return;
  }
  net_.loop().after(0, [this] {
    if (closed_) return;
    if (!chain_.empty() || executing_) {  // an operation came first (W3C step 2)
      update_on_empty_chain_ = true;
      return;
    }
    if (signaling_ != "stable") return;
    if (!negotiation_needed()) {
      nn_flag_ = false;
      return;
    }
    if (nn_flag_) return;
    nn_flag_ = true;
    listener_.pc_negotiation_needed(*this);
  });
}

void FakePeerConnection::reached_stable() {
  nn_flag_ = false;
  update_negotiation_needed();
}

void FakePeerConnection::set_signaling(const std::string& state) {
  if (state == signaling_) return;
  signaling_ = state;
  listener_.pc_signaling_state(*this, state);
}

void FakePeerConnection::enqueue(Op op) {
  if (closed_) return;  // a closed connection rejects silently (the shim stops listening anyway)
  chain_.push_back(std::move(op));
  run_next();
}

void FakePeerConnection::run_next() {
  if (executing_ || chain_.empty() || closed_) return;
  executing_ = true;
  const Op& next = chain_.front();
  const bool answering = next.kind == Op::Sld && next.type.empty() && signaling_ == "have-remote-offer";
  const bool remote = next.kind == Op::Srd && next.type != "rollback";
  net_.loop().after(options_.op_delay_ms + (answering ? options_.answer_delay_ms : 0) +
                        (remote ? options_.remote_description_delay_ms : 0),
                    [this] {
    if (closed_) return;
    Op op = std::move(chain_.front());
    chain_.pop_front();
    execute(op);
    executing_ = false;
    if (chain_.empty() && update_on_empty_chain_) {
      update_on_empty_chain_ = false;
      update_negotiation_needed();
    }
    run_next();
  });
}

void FakePeerConnection::fail(const Op& op, const std::string& name, const std::string& message) {
  listener_.pc_operation_failed(*this, op.id, name, message);
}

void FakePeerConnection::set_local_description(int op, const std::string& type) {
  enqueue(Op{Op::Sld, op, type, {}});
}
void FakePeerConnection::set_remote_description(int op, const std::string& type, const std::string& sdp) {
  enqueue(Op{Op::Srd, op, type, sdp});
}
void FakePeerConnection::add_ice_candidate(int op, const std::string& candidate_json) {
  enqueue(Op{Op::Candidate, op, {}, candidate_json});
}

// setLocalDescription or setRemoteDescription of a rollback, the state checked.
void FakePeerConnection::roll_back(const Op& op) {
  roll_back_local_offer();
  remote_pending_.reset();
  if (options_.negotiation_needed_overtakes_rollback && negotiation_needed()) {
    nn_flag_ = true;  // fired now, so not again on reaching stable
    listener_.pc_negotiation_needed(*this);
    set_signaling("stable");
    return listener_.pc_operation_done(*this, op.id);
  }
  set_signaling("stable");
  reached_stable();
  listener_.pc_operation_done(*this, op.id);
}

void FakePeerConnection::execute(const Op& op) {
  if (op.kind == Op::Sld) {
    if (op.type == "rollback") {
      if (signaling_ != "have-local-offer" && signaling_ != "have-remote-offer")
        return fail(op, "InvalidStateError", "rollback in " + signaling_);
      return roll_back(op);
    }
    FakeDescription d;
    d.fingerprint = fingerprint_;
    d.stream = owner_id_;
    d.tracks = tracks_;
    const std::string stable_ufrag = local_stable_ ? local_stable_->ufrag : initial_ufrag_;
    if (signaling_ == "stable" || signaling_ == "have-local-offer") {
      d.type = "offer";
      if (restart_pending_)
        d.ufrag = local_pending_ && local_pending_->ufrag != stable_ufrag ? local_pending_->ufrag : net_.random_hex(4, false);
      else
        d.ufrag = stable_ufrag;
      // The negotiated m-lines in their order, then one per transceiver new
      // since (a mid handed out for it now, unless an offer gave it one).
      d.mlines = negotiated_mlines_;
      for (const auto& kind : wanted_mlines()) {
        if (d.has(kind)) continue;
        auto mid = mids_.find(kind);
        if (mid == mids_.end()) mid = mids_.emplace(kind, new_mid()).first;
        d.mlines.push_back({mid->second, kind});
      }
      d.sending = sending_of(tracks_);
      local_pending_ = d;
      set_signaling("have-local-offer");
    } else if (signaling_ == "have-remote-offer") {
      d.type = "answer";
      const bool remote_restarted = remote_stable_ && remote_pending_->ufrag != remote_stable_->ufrag;
      d.ufrag = remote_restarted || restart_pending_ ? net_.random_hex(4, false) : stable_ufrag;
      d.mlines = remote_pending_->mlines;
      d.sending = intersect(sending_of(tracks_), d.kinds());
      if (d.ufrag != stable_ufrag) {
        restart_pending_ = false;
        checking_since_ = -1;
      }
      local_stable_ = d;
      remote_stable_ = remote_pending_;
      local_pending_.reset();
      remote_pending_.reset();
      negotiated_mlines_ = d.mlines;
      negotiated_sending_ = d.sending;
      set_signaling("stable");
      reached_stable();
    } else {
      return fail(op, "InvalidStateError", "setLocalDescription in " + signaling_);
    }
    // The browser's localDescription includes the candidates gathered so far.
    for (const auto& c : gathered_[d.ufrag]) {
      nlohmann::json j = nlohmann::json::parse(c, nullptr, false);
      d.candidates.push_back(j["candidate"].get<std::string>());
    }
    gather(d.ufrag);
    return listener_.pc_local_description(*this, op.id, d.type, d.to_sdp());
  }

  if (op.kind == Op::Srd) {
    if (op.type == "rollback") {
      if (signaling_ != "have-remote-offer" && signaling_ != "have-local-offer")
        return fail(op, "InvalidStateError", "rollback in " + signaling_);
      return roll_back(op);
    }
    auto d = FakeDescription::parse(op.type, op.payload);
    if (!d) return fail(op, "OperationError", "unparsable SDP");
    if (op.type == "offer") {
      // Checked before anything changes, as Chrome does (JSEP 5.10).
      for (std::size_t i = 0; i < negotiated_mlines_.size(); ++i)
        if (i >= d->mlines.size() || !(d->mlines[i] == negotiated_mlines_[i]))
          return fail(op, "InvalidAccessError",
                      "Failed to set remote offer sdp: The order of m-lines in subsequent offer doesn't match order from "
                      "previous offer/answer.");
      if (signaling_ == "have-local-offer") {
        if (!options_.implicit_rollback) return fail(op, "InvalidStateError", "setRemoteDescription(offer) in have-local-offer");
        if (local_pending_ && local_stable_ && local_pending_->ufrag != local_stable_->ufrag) ++restart_offers_yielded_;
        roll_back_local_offer();  // implicit rollback
        set_signaling("stable");
      } else if (signaling_ != "stable" && signaling_ != "have-remote-offer") {
        return fail(op, "InvalidStateError", "setRemoteDescription(offer) in " + signaling_);
      }
      // A transceiver of ours still without a mid takes the offer's new m-line of its kind.
      for (const auto& m : d->mlines) {
        used_mids_.insert(m.mid);
        if (!has_kind(negotiated_mlines_, m.kind)) mids_[m.kind] = m.mid;
      }
      remote_pending_ = *d;
      if (!d->candidates.empty()) remote_cands_.insert(d->ufrag);
      set_signaling("have-remote-offer");
      announce_tracks(*d);
      return listener_.pc_operation_done(*this, op.id);
    }
    if (op.type == "answer") {
      if (signaling_ != "have-local-offer") return fail(op, "InvalidStateError", "setRemoteDescription(answer) in " + signaling_);
      if (d->mlines != local_pending_->mlines)
        return fail(op, "InvalidAccessError", "Failed to set remote answer sdp: The order of m-lines in answer doesn't match order in offer.");
      const std::string old_ufrag = local_stable_ ? local_stable_->ufrag : initial_ufrag_;
      local_stable_ = local_pending_;
      remote_stable_ = *d;
      local_pending_.reset();
      remote_pending_.reset();
      negotiated_mlines_ = local_stable_->mlines;
      negotiated_sending_ = intersect(local_stable_->sending, d->kinds());
      if (local_stable_->ufrag != old_ufrag) restart_pending_ = false;
      checking_since_ = -1;
      if (!d->candidates.empty()) remote_cands_.insert(d->ufrag);
      set_signaling("stable");
      announce_tracks(*d);
      reached_stable();
      return listener_.pc_operation_done(*this, op.id);
    }
    return fail(op, "TypeError", "bad description type " + op.type);
  }

  // addIceCandidate
  const FakeDescription* remote = current_remote();
  if (!remote) return fail(op, "InvalidStateError", "no remote description");
  nlohmann::json j = nlohmann::json::parse(op.payload, nullptr, false);
  if (!j.is_object() || !j.contains("candidate") || !j["candidate"].is_string()) return fail(op, "TypeError", "bad candidate");
  std::string ufrag = j.contains("usernameFragment") && j["usernameFragment"].is_string() ? j["usernameFragment"].get<std::string>() : "";
  if (!ufrag.empty() && ufrag != remote->ufrag) return fail(op, "OperationError", "candidate for unknown ufrag " + ufrag);
  remote_cands_.insert(remote->ufrag);
  listener_.pc_operation_done(*this, op.id);
}

void FakePeerConnection::set_configuration(const std::string& config_json) {
  nlohmann::json c = nlohmann::json::parse(config_json, nullptr, false);
  if (!c.is_object()) return;
  ++configurations_set_;
  if (c.contains("iceServers")) ice_servers_ = c["iceServers"].dump();
  relay_policy_ = c.contains("iceTransportPolicy") && c["iceTransportPolicy"] == "relay";
}

// A local description starts an ICE session for its ufrag (once per ufrag),
// with the ICE servers configured at that moment.
void FakePeerConnection::gather(const std::string& ufrag) {
  if (gathering_.count(ufrag)) return;
  gathering_.insert(ufrag);
  session_ice_servers_.push_back(ice_servers_);
  switch (networks_) {
    case Networks::Known:
      emit_candidates(ufrag);
      return;
    case Networks::Unknown:
      networks_ = Networks::Requested;
      net_.loop().after(net_.network_list_ms, [this] { on_network_list(); });
      [[fallthrough]];
    case Networks::Requested:
    case Networks::Missed:
      waiting_for_networks_.insert(ufrag);
      return;
  }
}

void FakePeerConnection::on_network_list() {
  if (closed_ || networks_ != Networks::Requested) return;
  if (waiting_for_networks_.empty()) {
    networks_ = Networks::Missed;  // nobody listening: dropped, and never asked for again
    return;
  }
  networks_ = Networks::Known;
  for (const auto& ufrag : waiting_for_networks_) emit_candidates(ufrag);
  waiting_for_networks_.clear();
}

void FakePeerConnection::emit_candidates(const std::string& ufrag) {
  // Under iceTransportPolicy "relay" a browser gathers relay candidates only.
  std::vector<std::string> types;
  if (!relay_policy_ || options_.gathers_past_relay_policy) types = {"host", "srflx"};
  if (relay_policy_) types.push_back("relay");
  for (int i = 0; i < static_cast<int>(types.size()); ++i) {
    const std::string type = types[i];
    net_.loop().after(4 + 8 * i, [this, ufrag, i, type] {
      if (closed_) return;
      const std::string address = type == "relay" ? "203.0.113." + std::to_string(serial_ % 250)
                                                  : "10.0." + std::to_string(serial_ % 250) + "." + std::to_string(i + 1);
      nlohmann::json c = {{"candidate", "candidate:" + std::to_string(serial_) + std::to_string(i) + " 1 udp 2122260223 " +
                                            address + " " + std::to_string(50000 + serial_) + " typ " + type +
                                            (type == "relay" ? " raddr 0.0.0.0 rport 0" : "")},
                          {"sdpMid", "0"},
                          {"sdpMLineIndex", 0},
                          {"usernameFragment", ufrag}};
      gathered_[ufrag].push_back(c.dump());
      listener_.pc_ice_candidate(*this, c.dump());
    });
  }
}

// Rolling back the first offer discards the ICE transport it created, with
// its session: the next description gets fresh credentials and a new session.
// If that session was the only one waiting for the network list, the list is
// lost. In Chromium this is a race between the rollback and the list's
// delivery, which the rollback wins even when the answer follows within the
// same millisecond (seen in Chromium 156): modelled as lost at once.
std::string FakePeerConnection::new_mid() {
  int n = 0;
  while (used_mids_.count(std::to_string(n))) ++n;
  used_mids_.insert(std::to_string(n));
  return std::to_string(n);
}

void FakePeerConnection::roll_back_local_offer() {
  // A transceiver whose mid came from the rolled-back offer loses it (JSEP);
  // the mid stays used, so the next offer gives it another.
  for (auto it = mids_.begin(); it != mids_.end();) {
    const bool negotiated = std::any_of(negotiated_mlines_.begin(), negotiated_mlines_.end(),
                                        [&](const MediaSection& n) { return n.mid == it->second; });
    it = negotiated ? std::next(it) : mids_.erase(it);
  }
  if (local_pending_ && !local_stable_) {
    waiting_for_networks_.erase(local_pending_->ufrag);
    if (networks_ == Networks::Requested && waiting_for_networks_.empty()) networks_ = Networks::Missed;
    initial_ufrag_ = net_.random_hex(4, false);
  }
  local_pending_.reset();
}

void FakePeerConnection::announce_tracks(const FakeDescription& remote) {
  for (const auto& kind : remote.sending) {
    auto t = remote.tracks.find(kind);
    const std::string track = t == remote.tracks.end() ? remote.stream + "-" + kind : t->second;
    if (announced_.insert(kind + "/" + track).second) listener_.pc_track(*this, track, kind, remote.stream);
  }
}

void FakePeerConnection::restart_ice() {
  if (closed_) return;
  ++restarts_;
  restart_pending_ = true;
  update_negotiation_needed();
}

void FakePeerConnection::add_track(const std::string& kind, const std::string& track) {
  if (closed_) return;
  tracks_[kind] = track;
  update_negotiation_needed();
}

void FakePeerConnection::remove_track(const std::string& kind) {
  if (closed_) return;
  tracks_.erase(kind);
  update_negotiation_needed();
}

void FakePeerConnection::replace_track(const std::string& kind, const std::string& track) {
  if (!closed_ && tracks_.count(kind)) tracks_[kind] = track;  // no renegotiation
}

void FakePeerConnection::send(const std::string& text) {
  if (closed_ || !dc_open_) {
    ++sends_while_closed_;
    return;
  }
  const int to = partner_;
  net_.loop().after(10, [this, to, text] {
    FakePeerConnection* p = net_.by_serial(to);
    if (!p || p->closed_ || p->partner_ != serial_ || closed_) return;
    // SCTP is up at both ends once one end's channel is open; a message
    // that beats the other end's `open` event is delivered right after it.
    if (p->dc_open_)
      p->listener_.pc_data_channel_message(*p, text);
    else
      p->early_messages_.push_back(text);
  });
}

void FakePeerConnection::close() {
  closed_ = true;
  signaling_ = "closed";
  ice_ = conn_ = "closed";
  dc_open_ = false;
  chain_.clear();
}

void FakePeerConnection::set_transport(const std::string& ice, const std::string& conn) {
  if (ice != ice_) {
    ice_ = ice;
    listener_.pc_ice_connection_state(*this, ice);
  }
  if (closed_) return;
  if (conn != conn_) {
    conn_ = conn;
    listener_.pc_connection_state(*this, conn);
  }
}

std::string FakePeerConnection::check_key() const {
  const auto* l = current_local();
  const auto* r = current_remote();
  return (l ? l->ufrag : "") + "/" + (r ? r->ufrag : "");
}

// ---- the network ------------------------------------------------------------------------

MediaNetwork::MediaNetwork(EventLoop& loop, std::uint64_t seed) : loop_(loop), random_(seed) {
  loop_.after(20, [this] { tick(); });
}

std::string MediaNetwork::random_hex(int bytes, bool colons) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (int i = 0; i < bytes; ++i) {
    if (colons && i) out += ':';
    const auto b = random_.uniform(0, 255);
    out += kHex[b >> 4];
    out += kHex[b & 15];
  }
  return out;
}

FakePeerConnection& MediaNetwork::create(PcListener& listener, const std::string& host, const std::string& owner_id,
                                         const std::string& remote_id, int handle, PcOptions options) {
  const int serial = ++last_serial_;
  auto pc = std::make_unique<FakePeerConnection>(*this, serial, listener, host, owner_id, remote_id, handle, options);
  return *pcs_.emplace(serial, std::move(pc)).first->second;
}

FakePeerConnection* MediaNetwork::by_serial(int serial) {
  auto it = pcs_.find(serial);
  return it == pcs_.end() ? nullptr : it->second.get();
}

std::vector<FakePeerConnection*> MediaNetwork::open_connections() {
  std::vector<FakePeerConnection*> out;
  for (auto& [serial, pc] : pcs_)
    if (!pc->closed()) out.push_back(pc.get());
  return out;
}

std::vector<const FakePeerConnection*> MediaNetwork::all_connections() const {
  std::vector<const FakePeerConnection*> out;
  for (const auto& [serial, pc] : pcs_) out.push_back(pc.get());
  return out;
}

int MediaNetwork::connections_without_networks() const {
  int n = 0;
  for (const auto& [serial, pc] : pcs_) n += pc->missed_network_list() ? 1 : 0;
  return n;
}

void MediaNetwork::block_hosts(const std::string& a, const std::string& b, bool blocked) {
  if (blocked)
    blocked_hosts_.insert(ordered(a, b));
  else
    blocked_hosts_.erase(ordered(a, b));
}

void MediaNetwork::wedge_current(const std::string& a, const std::string& b) {
  // Every open connection of one host with every open one of the other:
  // those still checking (gathered on the old network) too, not only the
  // partnered ones.
  for (auto& [x, pc] : pcs_)
    for (auto& [y, other] : pcs_)
      if (!pc->closed() && !other->closed() && pc->host() == a && other->host() == b) wedged_.insert(std::minmax(x, y));
}

bool MediaNetwork::blocked(const FakePeerConnection& x, const FakePeerConnection& y) const {
  return blocked_hosts_.count(ordered(x.host(), y.host())) || wedged_.count(std::minmax(x.serial(), y.serial()));
}

void MediaNetwork::set_link(const std::string& a, const std::string& b, Link l) { links_[ordered(a, b)] = l; }

MediaNetwork::Link MediaNetwork::link(const std::string& a, const std::string& b) const {
  auto it = links_.find(ordered(a, b));
  return it == links_.end() ? Link{} : it->second;
}

// Both ends hold each other's current credentials and fingerprint, and each
// has at least one candidate of the other's current ufrag.
FakePeerConnection* MediaNetwork::viable_partner(FakePeerConnection& x) {
  const auto* xl = x.current_local();
  const auto* xr = x.current_remote();
  if (!xl || !xr) return nullptr;
  for (auto& [serial, pc] : pcs_) {
    FakePeerConnection& y = *pc;
    if (&y == &x || y.closed() || y.owner_id() != x.remote_id() || y.remote_id() != x.owner_id()) continue;
    const auto* yl = y.current_local();
    const auto* yr = y.current_remote();
    if (!yl || !yr) continue;
    if (xr->ufrag != yl->ufrag || xr->fingerprint != y.fingerprint()) continue;
    if (yr->ufrag != xl->ufrag || yr->fingerprint != x.fingerprint()) continue;
    if (!x.has_remote_candidate(yl->ufrag) || !y.has_remote_candidate(xl->ufrag)) continue;
    if (blocked(x, y)) continue;
    return &y;
  }
  return nullptr;
}

void MediaNetwork::tick() {
  for (auto& [serial, pc] : pcs_)
    if (!pc->closed()) tick(*pc);
  loop_.after(20, [this] { tick(); });
}

void MediaNetwork::tick(FakePeerConnection& x) {
  const std::int64_t now = loop_.now();
  FakePeerConnection* p = x.partner_ ? by_serial(x.partner_) : nullptr;
  bool alive = p && !p->closed() && p->partner_ == x.serial() && !blocked(x, *p);
  if (!alive) {
    if (FakePeerConnection* y = viable_partner(x)) {
      if (x.checking_since_ < 0) {
        x.checking_since_ = now;
        if (x.ice_ != "connected") x.set_transport("checking", "connecting");
      } else if (now - x.checking_since_ >= ice_check_ms) {
        x.partner_ = y->serial();
        y->partner_ = x.serial();
        p = y;
        alive = true;
      }
    } else if (x.current_remote() && x.has_remote_candidate(x.current_remote()->ufrag) && x.ice_ != "connected" &&
               x.ice_ != "disconnected" && x.check_key() != x.failed_key_ && x.checking_since_ < 0) {
      x.checking_since_ = now;  // checks that will not succeed
      x.set_transport("checking", "connecting");
    }
  }
  if (alive) {
    x.last_ok_ = now;
    x.checking_since_ = -1;
    if (x.ice_ != "connected") {
      if (x.connected_since_ < 0) x.connected_since_ = now;
      x.set_transport("connected", "connected");
    }
    if (!x.dc_open_ && has_kind(x.negotiated_mlines_, "application") && has_kind(p->negotiated_mlines_, "application")) {
      x.dc_open_ = true;
      x.listener_.pc_data_channel_open(x);
      std::deque<std::string> early;
      early.swap(x.early_messages_);
      for (const auto& text : early)
        if (!x.closed_) x.listener_.pc_data_channel_message(x, text);
    }
    return;
  }
  if (x.ice_ == "connected" && now - x.last_ok_ >= disconnected_after_ms) {
    x.set_transport("disconnected", "disconnected");
  } else if (x.ice_ == "disconnected" && now - x.last_ok_ >= failed_after_ms) {
    x.failed_key_ = x.check_key();
    x.set_transport("failed", "failed");
  } else if (x.ice_ == "checking" && x.checking_since_ >= 0 && now - x.checking_since_ >= checking_timeout_ms) {
    x.failed_key_ = x.check_key();
    x.checking_since_ = -1;
    x.set_transport("failed", "failed");
  }
}

}  // namespace sim
