// meshmeet-core-bench: what the client core costs, natively and as
// WebAssembly (the same source, built by the top-level CMakeLists natively and
// under emcmake; under Node it runs as a .cjs).
//
// 1. Cost per signaling message. One Client in a meeting of 8 (6 resident
//    peers, connected) sees peer after peer join, negotiate and leave, as a
//    browser's shim would drive it: `socket_message` with `peer-joined`, a
//    `signal` with a ~3 KB SDP offer or answer (tools/loadgen/sdp.cpp, the
//    shape the server benchmarks relay), 4 ICE candidates, `peer-left`; the
//    peer connection's events (operation done, local description, local
//    candidates, connected, data channel, tracks) come back as the browser's
//    would. Every input is timed with std::chrono::steady_clock together with
//    the drain that follows it (drain() or drain_json(), one mode per pass);
//    a batch's mean per message kind, median over the batches.
// 2. Convergence of 8 simulated peers joining at the same instant (the sim of
//    tests/unit/core/sim: fake server, fake peer connections, virtual
//    clock): virtual time until the doctest suite's mesh check passes, and
//    the wall time of the whole run up to that instant. Median over seeds.
//
// Prints human-readable lines on stderr and one machine-readable line on
// stdout: `CORE_BENCH {json}`. Options: --smoke (tiny, no timing claims),
// --batches N, --lifecycles N (per batch), --seeds N, --repeats N (wall-time
// runs per seed), --trace (show the outputs of two peers' lifecycles). Exit status 1 if the core did not behave as expected (a
// benchmark of a broken run would be meaningless), never because of a timing.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"
#include "sim/world.hpp"
#include "wasm/core/client.hpp"

namespace lg {  // tools/loadgen/sdp.cpp
std::string make_sdp(uint64_t seed, bool offer);
std::vector<std::string> make_candidates(uint64_t seed, int n);
}  // namespace lg

namespace {

namespace core = meshmeet::core;
namespace proto = meshmeet::protocol;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

int g_failures = 0;
void fail(const std::string& what) {
  if (g_failures++ < 20) std::fprintf(stderr, "core-bench: UNEXPECTED: %s\n", what.c_str());
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// ---------------------------------------------------------------------------
// 1. Cost per signaling message
// ---------------------------------------------------------------------------

enum Kind {
  kPeerJoined,    // socket_message: peer-joined
  kOfferIn,       // socket_message: signal with the peer's ~3 KB offer (we answer)
  kAnswerIn,      // socket_message: signal with the peer's ~3 KB answer (we offered)
  kCandidateIn,   // socket_message: signal with one ICE candidate
  kPeerLeft,      // socket_message: peer-left
  kDescriptionOut,  // local_description (our ~3 KB offer/answer) → signal out
  kCandidateOut,    // ice_candidate (one local candidate) → signal out
  kPcEvent,         // every other browser event: negotiation needed, operation done, states, data channel, track
  kKinds
};
const char* kKindNames[kKinds] = {"peer-joined",     "offer-in",      "answer-in", "candidate-in",
                                  "peer-left",       "description-out", "candidate-out", "pc-event"};
bool is_socket_message(int k) { return k <= kPeerLeft; }

// What the shim needs from one output, from either drain form.
struct Act {
  std::string type;
  int pc = 0, op = 0;
  std::string peer, description_type, text;
};

Act act_of(const core::Output& output) {
  Act a;
  std::visit(
      [&](const auto& o) {
        using T = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<T, core::OpenSocket>) {
          a.type = "open-socket", a.pc = o.socket;
        } else if constexpr (std::is_same_v<T, core::CreatePeerConnection>) {
          a.type = "create-peer-connection", a.pc = o.pc, a.peer = o.peer;
        } else if constexpr (std::is_same_v<T, core::ClosePeerConnection>) {
          a.type = "close-peer-connection", a.pc = o.pc;
        } else if constexpr (std::is_same_v<T, core::SetLocalDescription>) {
          a.type = "set-local-description", a.pc = o.pc, a.op = o.op, a.description_type = o.type;
        } else if constexpr (std::is_same_v<T, core::SetRemoteDescription>) {
          a.type = "set-remote-description", a.pc = o.pc, a.op = o.op, a.description_type = o.type;
        } else if constexpr (std::is_same_v<T, core::AddIceCandidate>) {
          a.type = "add-ice-candidate", a.pc = o.pc, a.op = o.op;
        } else if constexpr (std::is_same_v<T, core::SendText>) {
          a.type = "send-text", a.text = o.text;
        } else if constexpr (std::is_same_v<T, core::ErrorEvent>) {
          a.type = "error", a.text = o.code;
        }
      },
      output);
  return a;
}

std::vector<Act> acts_of_json(const std::string& text) {
  std::vector<Act> out;
  const json array = json::parse(text, nullptr, false);
  if (!array.is_array()) {
    fail("drain_json() is not a JSON array");
    return out;
  }
  for (const auto& o : array) {
    Act a;
    a.type = o.value("type", "");
    a.pc = a.type == "open-socket" ? o.value("socket", 0) : o.value("pc", 0);
    a.op = o.value("op", 0);
    a.peer = o.value("peer", "");
    a.description_type = o.value("descriptionType", "");
    a.text = a.type == "error" ? o.value("code", "") : o.value("text", "");
    out.push_back(std::move(a));
  }
  return out;
}

// A remote peer as the bench plays it: its descriptions and candidates, and
// what it has heard from our core (our connection's gen, our offer's seq).
struct Remote {
  std::string id;
  std::string offer, answer;
  // RTCIceCandidateInit JSON, with the ufrag of the offer or of the answer.
  std::vector<std::string> offer_candidates, answer_candidates;
  std::uint64_t next_seq = 1;
  int our_gen = 0;
  std::uint64_t our_offer_seq = 0;
  int descriptions_from_us = 0, candidates_from_us = 0;
};

std::string ufrag_of(const std::string& sdp) {
  const auto at = sdp.find("a=ice-ufrag:");
  if (at == std::string::npos) return {};
  const auto end = sdp.find("\r\n", at);
  return sdp.substr(at + 12, end - at - 12);
}

// Candidates that belong to the SDP's ufrag, as the browser's icecandidate gives them.
std::vector<std::string> candidates_for(std::uint64_t seed, const std::string& ufrag, int n) {
  std::vector<std::string> out;
  for (std::string c : lg::make_candidates(seed, n)) {
    const auto at = c.find(" ufrag ");
    if (at != std::string::npos) c.replace(at + 7, c.find(' ', at + 7) - (at + 7), ufrag);
    out.push_back(json{{"candidate", c}, {"sdpMid", "0"}, {"sdpMLineIndex", 0}, {"usernameFragment", ufrag}}.dump());
  }
  return out;
}

struct Accum {
  double ns[kKinds] = {};
  long count[kKinds] = {};
};

class MessageBench {
 public:
  MessageBench(bool use_json, bool debug_log) : use_json_(use_json), client_(config(debug_log)) {
    local_offer_ = lg::make_sdp(1, true);
    local_answer_ = lg::make_sdp(1, false);
    // One gathering per connection, after its first local description: the
    // ufrag of whichever description that was.
    local_offer_candidates_ = candidates_for(1, ufrag_of(local_offer_), 4);
    local_answer_candidates_ = candidates_for(2, ufrag_of(local_answer_), 4);
  }

  // join, welcome with 6 resident peers, all connected: a meeting of 8 with one seat free.
  void setup() {
    client_.set_local_track(now_, "audio", "mic");
    client_.set_local_track(now_, "video", "cam");
    client_.join(now_, "wss://bench.invalid/ws", "m0123456789abcdef0123456789abcde", "Bench");
    for (const auto& a : drain_untimed())
      if (a.type == "open-socket") socket_ = a.pc;
    if (!socket_) fail("join opened no socket");
    client_.socket_opened(now_, socket_);
    drain_untimed();
    proto::Welcome w;
    w.self = kSelf;
    w.resume = "t0123456789abcdef01234567";
    w.meeting_id = "m0123456789abcdef0123456789abcde";
    w.meeting_name = "bench";
    w.heartbeat_interval_ms = 10000;
    w.heartbeat_timeout_ms = 30000;
    for (int i = 0; i < 6; ++i) {
      Remote& r = remote(resident_id(i), 1000 + static_cast<std::uint64_t>(i));
      w.peers.push_back({r.id, "Resident " + std::to_string(i)});
    }
    recording_ = false;
    input(kPcEvent, [&] { client_.socket_message(now_, socket_, proto::serialize(proto::ServerMessage{w})); });
    for (int i = 0; i < 6; ++i) negotiate(remotes_[resident_id(i)], false);
    if (client_.state() != "joined") fail("not joined after welcome: " + client_.state());
    int connected = 0;
    for (const auto& p : client_.peers()) connected += p.state == "connected";
    if (connected != 6) fail("setup: " + std::to_string(connected) + " of 6 resident peers connected");
  }

  // One peer joins, negotiates (offering or answering by the ids' order), connects and leaves.
  void lifecycle(std::uint64_t i, bool record) {
    recording_ = record;
    now_ += 10;
    // Alternate: ids above ours offer to us, ids below ours answer our offer.
    const bool they_offer = i % 2 == 0;
    char id[16];
    std::snprintf(id, sizeof id, "p%c%07llx", they_offer ? 'f' : '0', static_cast<unsigned long long>(i & 0xfffffff));
    Remote& r = remote(id, i % 16);
    const std::size_t texts_before = texts_, added_before = candidates_added_;
    input(kPeerJoined, [&] {
      client_.socket_message(now_, socket_, proto::serialize(proto::ServerMessage{proto::PeerJoined{{r.id, "Guest"}}}));
    });
    negotiate(r, true);
    input(kPeerLeft, [&] {
      client_.socket_message(now_, socket_,
                             proto::serialize(proto::ServerMessage{proto::PeerLeft{r.id, proto::LeaveReason::Left}}));
    });
    if (pcs_.size() != 6) fail("after peer-left: " + std::to_string(pcs_.size()) + " open connections, expected 6");
    // Of the 4 candidates our browser gathers (host, active TCP, srflx,
    // relay), the active TCP one is never sent (peer_negotiation.cpp).
    if (r.descriptions_from_us != 1 || r.candidates_from_us != 3)
      fail(r.id + ": sent " + std::to_string(r.descriptions_from_us) + " descriptions and " +
           std::to_string(r.candidates_from_us) + " candidates, expected 1 and 3");
    if (candidates_added_ - added_before != 4)
      fail(r.id + ": " + std::to_string(candidates_added_ - added_before) + " of its 4 candidates reached addIceCandidate");
    if (texts_ - texts_before != 4) fail("a lifecycle sent " + std::to_string(texts_ - texts_before) + " texts, expected 4");
    const std::string gone = r.id;
    remotes_.erase(gone);
  }

  Accum accum;
  long lifecycle_inputs = 0;
  bool trace = false;  // print every recorded input's drain_json()

 private:
  static constexpr const char* kSelf = "p80000000";
  struct Pc {
    std::string peer;
    std::string signaling = "stable";
    bool gathered = false;
    bool described = false;  // a description operation was asked of it
  };

  static core::ClientConfig config(bool debug_log) {
    core::ClientConfig c;
    c.debug_log = debug_log;
    return c;
  }
  static std::string resident_id(int i) {
    return std::string("p") + (i % 2 ? "c" : "3") + "000000" + std::to_string(i);
  }

  Remote& remote(const std::string& id, std::uint64_t sdp_seed) {
    auto& r = remotes_[id];
    r.id = id;
    auto& pool = pool_[sdp_seed];
    if (pool.offer.empty()) {
      pool.offer = lg::make_sdp(100 + sdp_seed, true);
      pool.answer = lg::make_sdp(100 + sdp_seed, false);
      pool.offer_candidates = candidates_for(100 + sdp_seed, ufrag_of(pool.offer), 4);
      pool.answer_candidates = candidates_for(200 + sdp_seed, ufrag_of(pool.answer), 4);
    }
    r.offer = pool.offer, r.answer = pool.answer;
    r.offer_candidates = pool.offer_candidates, r.answer_candidates = pool.answer_candidates;
    return r;
  }

  int pc_of(const std::string& peer) const {
    for (const auto& [pc, p] : pcs_)
      if (p.peer == peer) return pc;
    return 0;
  }

  std::string signal_from(Remote& r, const json& body) {
    json data = body;
    data["v"] = 1;
    data["gen"] = 1;
    data["peerGen"] = r.our_gen;
    data["seq"] = r.next_seq++;
    return proto::serialize_signal_from(r.id, data.dump());
  }

  // The peer's description (offer, or answer to ours), its 4 candidates, then
  // the connection comes up as a browser's would.
  void negotiate(Remote& r, bool check) {
    const bool they_offer = r.id > kSelf;  // polite = own id < peer id; the impolite end opens
    if (they_offer) {
      const std::string text = signal_from(r, json{{"description", {{"type", "offer"}, {"sdp", r.offer}}}});
      input(kOfferIn, [&] { client_.socket_message(now_, socket_, text); });
    } else {
      if (check && r.our_offer_seq == 0) fail(r.id + ": no offer from us to answer");
      const std::string text = signal_from(
          r, json{{"answers", r.our_offer_seq}, {"description", {{"type", "answer"}, {"sdp", r.answer}}}});
      input(kAnswerIn, [&] { client_.socket_message(now_, socket_, text); });
    }
    for (const auto& c : they_offer ? r.offer_candidates : r.answer_candidates) {
      const std::string text = signal_from(r, json{{"candidate", json::parse(c)}});
      input(kCandidateIn, [&] { client_.socket_message(now_, socket_, text); });
    }
    const int pc = pc_of(r.id);
    if (!pc) return fail(r.id + ": no peer connection");
    const std::string mic = r.id + "-mic", cam = r.id + "-cam", stream = r.id + "-stream";
    input(kPcEvent, [&] { client_.ice_connection_state(now_, pc, "checking"); });
    input(kPcEvent, [&] { client_.connection_state(now_, pc, "connecting"); });
    input(kPcEvent, [&] { client_.ice_connection_state(now_, pc, "connected"); });
    input(kPcEvent, [&] { client_.connection_state(now_, pc, "connected"); });
    input(kPcEvent, [&] { client_.track(now_, pc, mic, "audio", stream); });
    input(kPcEvent, [&] { client_.track(now_, pc, cam, "video", stream); });
    input(kPcEvent, [&] { client_.data_channel_open(now_, pc); });
    for (const auto& p : client_.peers())
      if (p.peer == r.id && p.state != "connected") fail(r.id + " is " + p.state + " after connecting");
  }

  // One input and the drain after it, timed together; then the browser's
  // reactions to the outputs, each one an input of its own.
  template <class F>
  void input(Kind kind, F&& call) {
    step(kind, call);
    if (pumping_) return;
    pumping_ = true;
    while (!reactions_.empty()) {
      auto next = std::move(reactions_.front());
      reactions_.pop_front();
      step(next.first, next.second);
    }
    pumping_ = false;
  }
  template <class F>
  void step(Kind kind, F&& call) {
    const auto t0 = Clock::now();
    call();
    std::vector<Act> acts;
    if (use_json_) {
      std::string text = client_.drain_json();
      const auto t1 = Clock::now();
      record(kind, t1 - t0);
      if (trace && recording_) std::fprintf(stderr, "%-16s → %s\n", kKindNames[kind], text.c_str());
      acts = acts_of_json(text);
    } else {
      std::vector<core::Output> outputs = client_.drain();
      const auto t1 = Clock::now();
      record(kind, t1 - t0);
      for (const auto& o : outputs) acts.push_back(act_of(o));
    }
    carry_out(acts);
  }
  void record(Kind kind, Clock::duration d) {
    if (!recording_) return;
    accum.ns[kind] += static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count());
    accum.count[kind] += 1;
    ++lifecycle_inputs;
  }
  std::vector<Act> drain_untimed() {
    std::vector<Act> acts;
    for (const auto& o : client_.drain()) acts.push_back(act_of(o));
    return acts;
  }
  void react(Kind kind, std::function<void()> fn) { reactions_.emplace_back(kind, std::move(fn)); }

  void carry_out(const std::vector<Act>& acts) {
    std::vector<int> created;
    for (const Act& a : acts) {
      const int pc = a.pc;
      if (a.type == "create-peer-connection") {
        pcs_[pc] = Pc{a.peer};
        created.push_back(pc);
      } else if (a.type == "close-peer-connection") {
        pcs_.erase(pc);
      } else if (a.type == "set-local-description") {
        auto it = pcs_.find(pc);
        if (it == pcs_.end()) return fail("setLocalDescription on unknown pc");
        Pc& p = it->second;
        p.described = true;
        const int op = a.op;
        if (a.description_type == "rollback") {
          p.signaling = "stable";
          react(kPcEvent, [this, pc] { client_.signaling_state(now_, pc, "stable"); });
          react(kPcEvent, [this, pc, op] { client_.operation_done(now_, pc, op); });
          continue;
        }
        const bool answer = p.signaling == "have-remote-offer";
        p.signaling = answer ? "stable" : "have-local-offer";
        const std::string state = p.signaling;
        react(kPcEvent, [this, pc, state] { client_.signaling_state(now_, pc, state); });
        react(kDescriptionOut, [this, pc, op, answer] {
          client_.local_description(now_, pc, op, answer ? "answer" : "offer", answer ? local_answer_ : local_offer_);
        });
        if (!p.gathered) {
          p.gathered = true;
          for (const auto& c : answer ? local_answer_candidates_ : local_offer_candidates_)
            react(kCandidateOut, [this, pc, c] { client_.ice_candidate(now_, pc, c); });
          react(kPcEvent, [this, pc] { client_.ice_candidate(now_, pc, "null"); });
        }
      } else if (a.type == "set-remote-description") {
        auto it = pcs_.find(pc);
        if (it == pcs_.end()) return fail("setRemoteDescription on unknown pc");
        it->second.described = true;
        it->second.signaling = a.description_type == "offer" ? "have-remote-offer" : "stable";
        const std::string state = it->second.signaling;
        const int op = a.op;
        react(kPcEvent, [this, pc, state] { client_.signaling_state(now_, pc, state); });
        react(kPcEvent, [this, pc, op] { client_.operation_done(now_, pc, op); });
      } else if (a.type == "add-ice-candidate") {
        ++candidates_added_;
        const int op = a.op;
        react(kPcEvent, [this, pc, op] { client_.operation_done(now_, pc, op); });
      } else if (a.type == "send-text") {
        ++texts_;
        const json m = json::parse(a.text, nullptr, false);
        if (!m.is_object() || m.value("type", "") != "signal") continue;
        auto r = remotes_.find(m.value("to", ""));
        if (r == remotes_.end() || !m.contains("data") || !m["data"].is_object()) continue;
        const json& d = m["data"];
        r->second.our_gen = d.value("gen", 0);
        if (d.contains("description")) {
          ++r->second.descriptions_from_us;
          if (d["description"].value("type", "") == "offer") r->second.our_offer_seq = d.value("seq", 0ULL);
        } else if (d.contains("candidate")) {
          ++r->second.candidates_from_us;
        }
      } else if (a.type == "error") {
        fail("error output: " + a.text);
      }
    }
    // The browser's negotiationneeded, queued after these calls (addTrack),
    // is not fired at a connection that already has a description operation
    // of ours (the opener's first offer is made with the connection): W3C
    // webrtc-pc, "update the negotiation-needed flag".
    for (int pc : created) {
      auto it = pcs_.find(pc);
      if (it != pcs_.end() && !it->second.described)
        react(kPcEvent, [this, pc] { client_.negotiation_needed(now_, pc); });
    }
  }

  bool use_json_;
  core::Client client_;
  double now_ = 1000;
  int socket_ = 0;
  bool recording_ = false;
  bool pumping_ = false;
  std::size_t texts_ = 0, candidates_added_ = 0;
  std::string local_offer_, local_answer_;
  std::vector<std::string> local_offer_candidates_, local_answer_candidates_;
  std::map<int, Pc> pcs_;
  std::map<std::string, Remote> remotes_;
  std::map<std::uint64_t, Remote> pool_;
  std::deque<std::pair<Kind, std::function<void()>>> reactions_;
};

struct ModeResult {
  std::string name;
  double per_message_us = 0;    // socket_message + drain, all signaling messages of a lifecycle
  double per_lifecycle_us = 0;  // every input of one peer's join → negotiate → connect → leave
  double kind_us[kKinds] = {};
  long messages_per_lifecycle = 0, inputs_per_lifecycle = 0;
};

// Modes interleaved, batch by batch, each batch on a fresh Client (set up and
// warmed up untimed): load from elsewhere on the machine and the state of one
// heap spread over all modes instead of landing on one.
std::vector<ModeResult> run_messages(const std::vector<std::pair<bool, bool>>& modes, int batches, int lifecycles) {
  struct Samples {
    std::vector<double> per_message, per_lifecycle, kinds[kKinds];
    long messages = 0, inputs = 0;
  };
  std::vector<Samples> samples(modes.size());
  std::uint64_t i = 0;
  for (int b = 0; b < batches; ++b) {
    for (std::size_t m = 0; m < modes.size(); ++m) {
      MessageBench bench(modes[m].first, modes[m].second);
      bench.setup();
      for (int w = 0; w < std::max(4, lifecycles / 5); ++w) bench.lifecycle(i++, false);
      bench.accum = Accum{};
      bench.lifecycle_inputs = 0;
      for (int l = 0; l < lifecycles; ++l) bench.lifecycle(i++, true);
      Samples& s = samples[m];
      double msg_ns = 0, all_ns = 0;
      long msgs = 0;
      for (int k = 0; k < kKinds; ++k) {
        all_ns += bench.accum.ns[k];
        if (is_socket_message(k)) msg_ns += bench.accum.ns[k], msgs += bench.accum.count[k];
        if (bench.accum.count[k]) s.kinds[k].push_back(bench.accum.ns[k] / bench.accum.count[k] / 1000.0);
      }
      s.per_message.push_back(msg_ns / msgs / 1000.0);
      s.per_lifecycle.push_back(all_ns / lifecycles / 1000.0);
      s.messages = msgs / lifecycles;
      s.inputs = bench.lifecycle_inputs / lifecycles;
    }
  }
  std::vector<ModeResult> out;
  for (std::size_t m = 0; m < modes.size(); ++m) {
    ModeResult res;
    res.name = std::string(modes[m].first ? "drain_json" : "drain") + (modes[m].second ? "+debugLog" : "");
    res.per_message_us = median(samples[m].per_message);
    res.per_lifecycle_us = median(samples[m].per_lifecycle);
    for (int k = 0; k < kKinds; ++k) res.kind_us[k] = median(samples[m].kinds[k]);
    res.messages_per_lifecycle = samples[m].messages;
    res.inputs_per_lifecycle = samples[m].inputs;
    out.push_back(res);
  }
  return out;
}

// The clock itself: two steady_clock::now() calls, ns (in WASM each is a call out to JS).
double clock_overhead_ns() {
  std::vector<double> v;
  for (int b = 0; b < 21; ++b) {
    const int n = 20000;
    double sum = 0;
    for (int i = 0; i < n; ++i) {
      const auto t0 = Clock::now();
      const auto t1 = Clock::now();
      sum += static_cast<double>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    v.push_back(sum / n);
  }
  return median(v);
}

// ---------------------------------------------------------------------------
// 2. 8 simulated peers joining at the same instant
// ---------------------------------------------------------------------------

struct SimRun {
  std::uint64_t seed = 0;
  std::int64_t virtual_ms = -1;
  double wall_ms = 0;
  std::uint64_t events = 0;
  long texts = 0, pcs = 0;
};

std::vector<sim::Participant*> join_crowd(sim::World& w, int n) {
  std::vector<sim::Participant*> people;
  for (int i = 0; i < n; ++i) people.push_back(&w.add("P" + std::to_string(i)));
  for (auto* p : people) p->join(w.meeting);
  return people;
}

SimRun run_sim(std::uint64_t seed, int n, int repeats) {
  SimRun r;
  r.seed = seed;
  {  // Virtual time: the first millisecond at which the suite's mesh check passes.
    sim::World w(seed);
    auto people = join_crowd(w, n);
    while (w.loop.now() < 10000) {
      w.run_for(1);
      if (w.mesh_problems(people).empty()) {
        r.virtual_ms = w.loop.now();
        break;
      }
    }
    if (r.virtual_ms < 0) {
      fail("seed " + std::to_string(seed) + ": " + std::to_string(n) + " peers not meshed within 10 s: " +
           sim::join_strings(w.mesh_problems(people)));
      return r;
    }
  }
  // Wall time: the same run again (a run is a pure function of its seed), up
  // to that instant, without the checks: world, participants, joins, run.
  std::vector<double> walls;
  for (int k = 0; k < repeats; ++k) {
    const auto t0 = Clock::now();
    sim::World w(seed);
    auto people = join_crowd(w, n);
    w.loop.run_until(r.virtual_ms);
    const auto t1 = Clock::now();
    walls.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    const auto problems = w.mesh_problems(people);
    if (!problems.empty()) fail("seed " + std::to_string(seed) + ": replay not meshed: " + sim::join_strings(problems));
    r.events = w.loop.executed();
    r.texts = r.pcs = 0;
    for (auto* p : people) r.texts += p->texts_sent, r.pcs += p->pcs_created;
  }
  r.wall_ms = median(walls);
  return r;
}

int arg_int(int argc, char** argv, const char* name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (!std::strcmp(argv[i], name)) return std::atoi(argv[i + 1]);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  bool smoke = false;
  for (int i = 1; i < argc; ++i) smoke |= !std::strcmp(argv[i], "--smoke");
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--trace")) continue;
    // One peer that offers and one that answers, every output shown: what the bench feeds and gets.
    MessageBench bench(true, false);
    bench.setup();
    bench.trace = true;
    bench.lifecycle(0, true);
    bench.lifecycle(1, true);
    return g_failures ? 1 : 0;
  }
  const int batches = arg_int(argc, argv, "--batches", smoke ? 3 : 31);
  const int lifecycles = arg_int(argc, argv, "--lifecycles", smoke ? 4 : 100);
  const int seeds = arg_int(argc, argv, "--seeds", smoke ? 1 : 9);
  const int repeats = arg_int(argc, argv, "--repeats", smoke ? 1 : 5);
  const int peers = arg_int(argc, argv, "--peers", 8);

#ifdef __EMSCRIPTEN__
  const char* platform = "wasm";
#else
  const char* platform = "native";
#endif
  json out;
  out["platform"] = platform;
  out["compiler"] = __VERSION__;
#ifdef MESHMEET_BENCH_BUILD_TYPE
  out["buildType"] = MESHMEET_BENCH_BUILD_TYPE;
#endif
  out["smoke"] = smoke;
  out["clockOverheadNs"] = clock_overhead_ns();

  json modes = json::array();
  // drain(); drain_json() as the JS shim calls it (debugLog off unless the app
  // passes a logger); drain_json() with the transition logs on.
  const std::vector<std::pair<bool, bool>> mode_list = {{false, false}, {true, false}, {true, true}};
  for (const ModeResult& m : run_messages(mode_list, batches, lifecycles)) {
    json kinds = json::object();
    for (int k = 0; k < kKinds; ++k) kinds[kKindNames[k]] = m.kind_us[k];
    modes.push_back({{"mode", m.name},
                     {"perMessageUs", m.per_message_us},
                     {"perLifecycleUs", m.per_lifecycle_us},
                     {"messagesPerLifecycle", m.messages_per_lifecycle},
                     {"inputsPerLifecycle", m.inputs_per_lifecycle},
                     {"kindsUs", kinds}});
    std::fprintf(stderr, "%s %-20s %8.2f us per signaling message (socket_message+drain), %8.1f us per peer lifecycle\n",
                 platform, m.name.c_str(), m.per_message_us, m.per_lifecycle_us);
    for (int k = 0; k < kKinds; ++k) std::fprintf(stderr, "    %-16s %8.2f us\n", kKindNames[k], m.kind_us[k]);
  }
  out["messages"] = {{"batches", batches}, {"lifecyclesPerBatch", lifecycles}, {"modes", modes}};

  json runs = json::array();
  std::vector<double> virt, wall;
  if (!smoke) run_sim(1000, peers, 2);  // warm-up (in WASM: lets V8 tier up), not reported
  for (int s = 1; s <= seeds; ++s) {
    const SimRun r = run_sim(static_cast<std::uint64_t>(s), peers, repeats);
    runs.push_back({{"seed", r.seed},
                    {"virtualMs", r.virtual_ms},
                    {"wallMs", r.wall_ms},
                    {"events", r.events},
                    {"textsSent", r.texts},
                    {"pcsCreated", r.pcs}});
    virt.push_back(static_cast<double>(r.virtual_ms));
    wall.push_back(r.wall_ms);
    std::fprintf(stderr, "%s sim seed %d: %d peers meshed at %lld ms virtual, %.2f ms wall (%llu events, %ld texts)\n",
                 platform, s, peers, static_cast<long long>(r.virtual_ms), r.wall_ms,
                 static_cast<unsigned long long>(r.events), r.texts);
  }
  out["sim"] = {{"peers", peers},
                {"repeatsPerSeed", repeats},
                {"runs", runs},
                {"medianVirtualMs", median(virt)},
                {"medianWallMs", median(wall)}};
  out["failures"] = g_failures;
  std::printf("CORE_BENCH %s\n", out.dump().c_str());
  return g_failures ? 1 : 0;
}
