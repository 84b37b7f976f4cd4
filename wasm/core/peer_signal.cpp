#include "wasm/core/peer_signal.hpp"

#include <nlohmann/json.hpp>

namespace meshmeet::core {
namespace {

using json = nlohmann::ordered_json;

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

bool positive_int(const json& doc, const char* key, std::uint64_t& out, bool allow_zero) {
  auto it = doc.find(key);
  if (it == doc.end() || !it->is_number_unsigned()) return false;
  out = it->get<std::uint64_t>();
  return (allow_zero || out > 0) && out <= 9007199254740991ULL;
}

}  // namespace

std::optional<PeerSignal> parse_peer_signal(std::string_view data, std::string& error) {
  json doc = json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "signal data is not a JSON object";
    return std::nullopt;
  }
  auto v = doc.find("v");
  if (v == doc.end() || !v->is_number_unsigned() || v->get<std::uint64_t>() != 1) {
    error = "unsupported signal version";
    return std::nullopt;
  }
  PeerSignal s;
  std::uint64_t gen = 0, peer_gen = 0;
  if (!positive_int(doc, "gen", gen, false) || !positive_int(doc, "peerGen", peer_gen, true) ||
      !positive_int(doc, "seq", s.seq, false) || gen > 1000000 || peer_gen > 1000000) {
    error = "gen, peerGen and seq must be integers (gen, seq ≥ 1)";
    return std::nullopt;
  }
  if (doc.contains("answers") && !positive_int(doc, "answers", s.answers, true)) {
    error = "answers must be a non-negative integer";
    return std::nullopt;
  }
  s.gen = static_cast<int>(gen);
  s.peer_gen = static_cast<int>(peer_gen);
  if (auto view = doc.find("view"); view != doc.end()) {
    if (!view->is_number_unsigned() || view->get<std::uint64_t>() > static_cast<std::uint64_t>(kMaxViewHeight)) {
      error = "view must be an integer from 0 to " + std::to_string(kMaxViewHeight);
      return std::nullopt;
    }
    s.view = static_cast<int>(view->get<std::uint64_t>());
  }
  auto d = doc.find("description");
  auto c = doc.find("candidate");
  auto r = doc.find("iceRestart");
  const int parts = (d != doc.end()) + (c != doc.end()) + (r != doc.end());
  if (parts == 0 && s.view) {
    s.kind = PeerSignalKind::View;
    return s;
  }
  if (parts != 1) {
    error = "a signal carries exactly one of description, candidate, iceRestart and a view alone";
    return std::nullopt;
  }
  if (s.view && d == doc.end()) {
    error = "a view goes alone or with a description";
    return std::nullopt;
  }
  if (r != doc.end()) {
    if (!r->is_boolean() || !r->get<bool>()) {
      error = "iceRestart must be true";
      return std::nullopt;
    }
    s.kind = PeerSignalKind::IceRestartRequest;
    return s;
  }
  if (d != doc.end()) {
    if (!d->is_object()) {
      error = "description must be an object";
      return std::nullopt;
    }
    auto type = d->find("type");
    auto sdp = d->find("sdp");
    if (type == d->end() || !type->is_string() || sdp == d->end() || !sdp->is_string()) {
      error = "description needs string type and sdp";
      return std::nullopt;
    }
    s.description_type = type->get<std::string>();
    if (s.description_type != "offer" && s.description_type != "answer") {
      error = "description type must be offer or answer";
      return std::nullopt;
    }
    s.sdp = sdp->get<std::string>();
    return s;
  }
  if (!read_candidate(dump(*c), s.candidate_json, s.candidate_ufrag)) {
    error = "candidate must be an object with a string 'candidate'";
    return std::nullopt;
  }
  s.kind = PeerSignalKind::Candidate;
  return s;
}

std::string serialize(const PeerSignal& s) {
  json out = {{"v", 1}, {"gen", s.gen}, {"peerGen", s.peer_gen}, {"seq", s.seq}};
  if (s.answers) out["answers"] = s.answers;
  switch (s.kind) {
    case PeerSignalKind::Description:
      if (s.view) out["view"] = *s.view;
      out["description"] = {{"type", s.description_type}, {"sdp", s.sdp}};
      break;
    case PeerSignalKind::Candidate: {
      json c = json::parse(s.candidate_json, nullptr, false);
      out["candidate"] = c.is_discarded() ? json::object() : c;
      break;
    }
    case PeerSignalKind::IceRestartRequest:
      out["iceRestart"] = true;
      break;
    case PeerSignalKind::View:
      out["view"] = s.view.value_or(0);
      break;
  }
  return dump(out);
}

bool read_candidate(std::string_view candidate_json, std::string& compact_json, std::string& ufrag) {
  json c = json::parse(candidate_json, nullptr, false);
  if (c.is_discarded() || !c.is_object()) return false;
  auto line = c.find("candidate");
  if (line == c.end() || !line->is_string()) return false;
  ufrag.clear();
  auto u = c.find("usernameFragment");
  if (u != c.end() && u->is_string()) ufrag = u->get<std::string>();
  compact_json = dump(c);
  return true;
}

std::optional<std::string> candidate_attribute(std::string_view candidate_json) {
  json c = json::parse(candidate_json, nullptr, false);
  if (c.is_discarded() || !c.is_object()) return std::nullopt;
  auto line = c.find("candidate");
  if (line == c.end() || !line->is_string()) return std::nullopt;
  return line->get<std::string>();
}

std::string serialize_media_state(const MediaState& state) {
  return dump(json{{"t", "media"}, {"audio", state.audio}, {"video", state.video}, {"screen", state.screen}});
}

bool parse_media_state(std::string_view data, MediaState& state) {
  json doc = json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto t = doc.find("t");
  auto a = doc.find("audio");
  auto v = doc.find("video");
  if (t == doc.end() || !t->is_string() || t->get<std::string>() != "media") return false;
  if (a == doc.end() || !a->is_boolean() || v == doc.end() || !v->is_boolean()) return false;
  state.audio = a->get<bool>();
  state.video = v->get<bool>();
  auto s = doc.find("screen");
  state.screen = s != doc.end() && s->is_boolean() && s->get<bool>() && state.video;
  return true;
}

std::string serialize_view(int height) { return dump(json{{"t", "view"}, {"h", height}}); }

bool parse_view(std::string_view data, int& height) {
  if (data.find("\"view\"") == std::string_view::npos) return false;  // cheap: most messages are media state
  json doc = json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto t = doc.find("t");
  auto h = doc.find("h");
  if (t == doc.end() || !t->is_string() || t->get<std::string>() != "view") return false;
  if (h == doc.end() || !h->is_number_integer()) return false;
  const auto value = h->get<std::int64_t>();
  if (value < 0 || value > kMaxViewHeight) return false;
  height = static_cast<int>(value);
  return true;
}

std::string serialize_verification_message(std::string_view kind, std::string_view value) {
  return dump(json{{"t", std::string(kind)}, {kind == "vc-commit" ? "h" : "n", std::string(value)}});
}

bool parse_verification_message(std::string_view data, std::string& kind, std::string& value) {
  if (data.find("\"vc-") == std::string_view::npos) return false;  // cheap: most messages are media state
  json doc = json::parse(data, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return false;
  auto t = doc.find("t");
  if (t == doc.end() || !t->is_string()) return false;
  const auto& type = t->get_ref<const std::string&>();
  if (type != "vc-commit" && type != "vc-nonce" && type != "vc-reveal") return false;
  auto v = doc.find(type == "vc-commit" ? "h" : "n");
  if (v == doc.end() || !v->is_string()) return false;
  kind = type;
  value = v->get<std::string>();
  return true;
}

}  // namespace meshmeet::core
