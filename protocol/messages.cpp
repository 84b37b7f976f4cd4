#include "protocol/messages.hpp"

#include <cmath>
#include <set>

#include <nlohmann/json.hpp>

#include "protocol/utf8.hpp"

namespace meshmeet::protocol {
namespace {

using json = nlohmann::ordered_json;

Error error(ErrorCode code, std::string message, std::string ref = {}) {
  return Error{code, std::move(message), std::move(ref)};
}

// Serialize without ever throwing: every string we emit was validated on the
// way in, and `replace` turns anything that slipped through into U+FFFD.
std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

// Parses one JSON document, refusing what a careful public protocol refuses
// even though the grammar allows it: nesting deeper than kMaxJsonDepth (it
// would make every later recursive walk a stack hazard) and duplicate keys
// (two readers could disagree on which one counts).
Parsed<json> parse_json(std::string_view text, ErrorCode shape_error) {
  int depth = 0;
  bool too_deep = false;
  bool duplicate_key = false;
  std::vector<std::set<std::string>> keys;
  auto watch = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
        keys.emplace_back();
        [[fallthrough]];
      case json::parse_event_t::array_start:
        if (++depth > kMaxJsonDepth) too_deep = true;
        break;
      case json::parse_event_t::object_end:
        if (!keys.empty()) keys.pop_back();
        [[fallthrough]];
      case json::parse_event_t::array_end:
        --depth;
        break;
      case json::parse_event_t::key:
        if (!keys.empty() && parsed.is_string() && !keys.back().insert(parsed.get_ref<const std::string&>()).second)
          duplicate_key = true;
        break;
      case json::parse_event_t::value:
        break;
    }
    return true;
  };
  // nlohmann's lexer takes a raw NUL for the end of input, which would
  // accept `{"type":"ping"}\0anything`. A raw NUL is never valid JSON.
  if (text.find('\0') != std::string_view::npos) return error(ErrorCode::BadJson, "not valid JSON (raw NUL byte)");
  json value = json::parse(text.begin(), text.end(), watch, /*allow_exceptions=*/false);
  if (value.is_discarded()) return error(ErrorCode::BadJson, "not valid JSON");
  if (too_deep) return error(shape_error, "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  if (duplicate_key) return error(shape_error, "duplicate key in object");
  return value;
}

// `text` as a JSON string literal, byte for byte what dump() makes of it
// (minimal escapes, \u00xx for other control characters, UTF-8 kept), without
// building a document. Invalid UTF-8 goes to dump() for its U+FFFD.
void append_quoted(std::string& out, std::string_view text) {
  if (!is_valid_utf8(text)) {
    out += dump(json(std::string(text)));
    return;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  std::size_t run = 0;  // start of the pending run of bytes that stand for themselves
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(text.data() + run, text.size() - run);
  out += '"';
}

void append_peer(std::string& out, const PeerInfo& peer) {
  out += R"({"id":)";
  append_quoted(out, peer.id);
  out += R"(,"name":)";
  append_quoted(out, peer.name);
  out += '}';
}

// A field lookup that reports the protocol's errors instead of throwing.
class Fields {
 public:
  Fields(const json& object, std::string ref, ErrorCode code) : object_(object), ref_(std::move(ref)), code_(code) {}

  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }

  // A required or optional string field with an optional code-point limit.
  std::optional<Error> string(const char* key, std::string& out, bool required, std::size_t max_code_points = 0) const {
    const json* v = find(key);
    if (!v) return required ? std::optional(fail(std::string("missing field '") + key + "'")) : std::nullopt;
    if (!v->is_string()) return fail(std::string("field '") + key + "' must be a string");
    const auto& s = v->get_ref<const std::string&>();
    if (max_code_points && count_code_points(s) > max_code_points)
      return fail(std::string("field '") + key + "' is longer than " + std::to_string(max_code_points) + " characters");
    out = s;
    return std::nullopt;
  }

  std::optional<Error> name(const char* key, std::string& out) const {
    if (auto e = string(key, out, false, kMaxNameCodePoints)) return e;
    if (has_control_characters(out)) return fail(std::string("field '") + key + "' holds control characters");
    return std::nullopt;
  }

  Error fail(std::string message) const { return error(code_, std::move(message), ref_); }

 private:
  const json& object_;
  std::string ref_;
  ErrorCode code_;
};

bool is_uint32(const json& v) {
  return v.is_number_unsigned() && v.get<std::uint64_t>() <= 0xFFFFFFFFull;
}

std::optional<std::string> number_text(const json* v) {
  if (!v) return std::nullopt;
  return dump(*v);
}

}  // namespace

// ---- Client → server -------------------------------------------------------

std::string_view type_name(const ClientMessage& message) {
  struct Visitor {
    std::string_view operator()(const Join&) const { return "join"; }
    std::string_view operator()(const Signal&) const { return "signal"; }
    std::string_view operator()(const Leave&) const { return "leave"; }
    std::string_view operator()(const Ping&) const { return "ping"; }
  };
  return std::visit(Visitor{}, message);
}

Parsed<ClientMessage> parse_client_message(std::string_view text) {
  if (auto signal = scan_signal(text)) return ClientMessage{Signal{std::move(signal->to), std::string(signal->data)}};
  return parse_client_message_document(text);
}

Parsed<ClientMessage> parse_client_message_document(std::string_view text) {
  auto parsed = parse_json(text, ErrorCode::BadMessage);
  if (!parsed.ok()) return parsed.error();
  const json& doc = parsed.value();
  if (!doc.is_object()) return error(ErrorCode::BadMessage, "a message must be a JSON object");
  auto type_it = doc.find("type");
  if (type_it == doc.end()) return error(ErrorCode::BadMessage, "missing field 'type'");
  if (!type_it->is_string()) return error(ErrorCode::BadMessage, "field 'type' must be a string");
  const std::string& type = type_it->get_ref<const std::string&>();
  Fields fields(doc, type, ErrorCode::BadMessage);

  if (type == "join") {
    Join join;
    if (auto e = fields.string("meeting", join.meeting, true)) return *e;
    if (auto e = fields.name("name", join.name)) return *e;
    if (fields.find("resume")) {
      std::string token;
      if (auto e = fields.string("resume", token, true)) return *e;
      join.resume = std::move(token);
    }
    return ClientMessage{std::move(join)};
  }
  if (type == "signal") {
    Signal signal;
    if (auto e = fields.string("to", signal.to, true)) return *e;
    const json* data = fields.find("data");
    if (!data) return fields.fail("missing field 'data'");
    if (!data->is_object()) return fields.fail("field 'data' must be a JSON object");
    signal.data = dump(*data);
    return ClientMessage{std::move(signal)};
  }
  if (type == "leave") return ClientMessage{Leave{}};
  if (type == "ping") {
    const json* t = fields.find("t");
    if (t && !t->is_number()) return fields.fail("field 't' must be a number");
    if (!t) return ClientMessage{Ping{}};
    // Echoed as the client spelled it (1.50 stays 1.50), like a signal's data.
    auto raw = scan_member(text, "t");
    return ClientMessage{Ping{raw ? std::optional<std::string>(*raw) : number_text(t)}};
  }
  return error(ErrorCode::BadMessage, "unknown message type", type);
}

std::string serialize(const ClientMessage& message) {
  struct Visitor {
    std::string operator()(const Join& m) const {
      json j = {{"type", "join"}, {"meeting", m.meeting}};
      if (!m.name.empty()) j["name"] = m.name;
      if (m.resume) j["resume"] = *m.resume;
      return dump(j);
    }
    std::string operator()(const Signal& m) const {
      return R"({"type":"signal","to":)" + dump(json(m.to)) + R"(,"data":)" + m.data + "}";
    }
    std::string operator()(const Leave&) const { return R"({"type":"leave"})"; }
    std::string operator()(const Ping& m) const {
      return m.t ? R"({"type":"ping","t":)" + *m.t + "}" : std::string(R"({"type":"ping"})");
    }
  };
  return std::visit(Visitor{}, message);
}

// ---- Server → client -------------------------------------------------------

std::string_view to_string(LeaveReason reason) {
  switch (reason) {
    case LeaveReason::Left: return "left";
    case LeaveReason::Disconnected: return "disconnected";
    case LeaveReason::Timeout: return "timeout";
    case LeaveReason::Removed: return "removed";
  }
  return "left";
}

namespace {

std::optional<LeaveReason> leave_reason_from_string(std::string_view text) {
  for (auto r : {LeaveReason::Left, LeaveReason::Disconnected, LeaveReason::Timeout, LeaveReason::Removed})
    if (to_string(r) == text) return r;
  return std::nullopt;
}

std::optional<Error> parse_peer_info(const json& v, PeerInfo& out, const std::string& ref) {
  if (!v.is_object()) return error(ErrorCode::BadMessage, "a peer must be an object", ref);
  Fields f(v, ref, ErrorCode::BadMessage);
  if (auto e = f.string("id", out.id, true)) return e;
  return f.string("name", out.name, false);
}

}  // namespace

Parsed<ServerMessage> parse_server_message(std::string_view text) {
  auto parsed = parse_json(text, ErrorCode::BadMessage);
  if (!parsed.ok()) return parsed.error();
  const json& doc = parsed.value();
  if (!doc.is_object()) return error(ErrorCode::BadMessage, "a message must be a JSON object");
  auto type_it = doc.find("type");
  if (type_it == doc.end() || !type_it->is_string()) return error(ErrorCode::BadMessage, "missing field 'type'");
  const std::string& type = type_it->get_ref<const std::string&>();
  Fields f(doc, type, ErrorCode::BadMessage);

  if (type == "welcome") {
    Welcome w;
    if (auto e = f.string("self", w.self, true)) return *e;
    if (auto e = f.string("resume", w.resume, true)) return *e;
    const json* meeting = f.find("meeting");
    if (!meeting || !meeting->is_object()) return f.fail("field 'meeting' must be an object");
    Fields mf(*meeting, type, ErrorCode::BadMessage);
    if (auto e = mf.string("id", w.meeting_id, true)) return *e;
    if (auto e = mf.string("name", w.meeting_name, false)) return *e;
    const json* peers = f.find("peers");
    if (!peers || !peers->is_array()) return f.fail("field 'peers' must be an array");
    for (const json& p : *peers) {
      PeerInfo info;
      if (auto e = parse_peer_info(p, info, type)) return *e;
      w.peers.push_back(std::move(info));
    }
    if (const json* ice = f.find("iceServers")) {
      if (!ice->is_array()) return f.fail("field 'iceServers' must be an array");
      w.ice_servers = dump(*ice);
    }
    if (const json* relay = f.find("relayOnly")) {
      if (!relay->is_boolean()) return f.fail("field 'relayOnly' must be a boolean");
      w.relay_only = relay->get<bool>();
    }
    if (const json* grace = f.find("resumeGrace")) {
      if (!is_uint32(*grace)) return f.fail("field 'resumeGrace' must be an integer from 0 to 2^32-1");
      w.resume_grace_ms = static_cast<std::uint32_t>(grace->get<std::uint64_t>());
    }
    const json* hb = f.find("heartbeat");
    if (!hb || !hb->is_object()) return f.fail("field 'heartbeat' must be an object");
    auto interval = hb->find("interval");
    auto timeout = hb->find("timeout");
    if (interval == hb->end() || !is_uint32(*interval) || timeout == hb->end() || !is_uint32(*timeout))
      return f.fail("heartbeat interval and timeout must be integers from 0 to 2^32-1");
    w.heartbeat_interval_ms = static_cast<std::uint32_t>(interval->get<std::uint64_t>());
    w.heartbeat_timeout_ms = static_cast<std::uint32_t>(timeout->get<std::uint64_t>());
    return ServerMessage{std::move(w)};
  }
  if (type == "peer-joined") {
    PeerJoined m;
    const json* peer = f.find("peer");
    if (!peer) return f.fail("missing field 'peer'");
    if (auto e = parse_peer_info(*peer, m.peer, type)) return *e;
    return ServerMessage{std::move(m)};
  }
  if (type == "peer-left") {
    PeerLeft m;
    std::string reason;
    if (auto e = f.string("peer", m.peer, true)) return *e;
    if (auto e = f.string("reason", reason, true)) return *e;
    auto r = leave_reason_from_string(reason);
    if (!r) return f.fail("unknown reason '" + reason + "'");
    m.reason = *r;
    return ServerMessage{std::move(m)};
  }
  if (type == "signal") {
    SignalFrom m;
    if (auto e = f.string("from", m.from, true)) return *e;
    const json* data = f.find("data");
    if (!data || !data->is_object()) return f.fail("field 'data' must be a JSON object");
    m.data = dump(*data);
    return ServerMessage{std::move(m)};
  }
  if (type == "pong") {
    const json* t = f.find("t");
    if (t && !t->is_number()) return f.fail("field 't' must be a number");
    if (!t) return ServerMessage{Pong{}};
    auto raw = scan_member(text, "t");  // as the server echoed it, which is as the client sent it
    return ServerMessage{Pong{raw ? std::optional<std::string>(*raw) : number_text(t)}};
  }
  if (type == "error") {
    ErrorMessage m;
    std::string code;
    if (auto e = f.string("code", code, true)) return *e;
    auto c = error_code_from_string(code);
    if (!c) return f.fail("unknown error code '" + code + "'");
    m.code = *c;
    if (auto e = f.string("message", m.message, false)) return *e;
    if (auto e = f.string("ref", m.ref, false)) return *e;
    return ServerMessage{std::move(m)};
  }
  if (type == "ice-servers") {
    const json* ice = f.find("iceServers");
    if (!ice || !ice->is_array()) return f.fail("field 'iceServers' must be an array");
    return ServerMessage{IceServers{dump(*ice)}};
  }
  return error(ErrorCode::BadMessage, "unknown message type", type);
}

std::string serialize_signal_from(std::string_view from, std::string_view data) {
  std::string out;
  out.reserve(from.size() + data.size() + 34);
  out.append(R"({"type":"signal","from":")").append(from).append(R"(","data":)").append(data).append("}");
  return out;
}

std::string serialize(const ServerMessage& message) {
  struct Visitor {
    // The messages of every join, built by appending: no JSON document.
    std::string operator()(const Welcome& m) const {
      std::string out;
      out.reserve(160 + 64 * m.peers.size() + m.meeting_name.size() + m.ice_servers.size());
      out += R"({"type":"welcome","self":)";
      append_quoted(out, m.self);
      out += R"(,"resume":)";
      append_quoted(out, m.resume);
      out += R"(,"meeting":{"id":)";
      append_quoted(out, m.meeting_id);
      out += R"(,"name":)";
      append_quoted(out, m.meeting_name);
      out += R"(},"peers":[)";
      for (std::size_t i = 0; i < m.peers.size(); ++i) {
        if (i) out += ',';
        append_peer(out, m.peers[i]);
      }
      out += R"(],"iceServers":)";
      const json ice = json::parse(m.ice_servers, nullptr, false);
      out += ice.is_array() ? dump(ice) : std::string("[]");
      out += m.relay_only ? R"(,"relayOnly":true)" : R"(,"relayOnly":false)";
      if (m.resume_grace_ms) {
        out += R"(,"resumeGrace":)";
        out += std::to_string(*m.resume_grace_ms);
      }
      out += R"(,"heartbeat":{"interval":)";
      out += std::to_string(m.heartbeat_interval_ms);
      out += R"(,"timeout":)";
      out += std::to_string(m.heartbeat_timeout_ms);
      out += "}}";
      return out;
    }
    std::string operator()(const PeerJoined& m) const {
      std::string out = R"({"type":"peer-joined","peer":)";
      append_peer(out, m.peer);
      out += '}';
      return out;
    }
    std::string operator()(const PeerLeft& m) const {
      std::string out = R"({"type":"peer-left","peer":)";
      append_quoted(out, m.peer);
      out += R"(,"reason":")";
      out += to_string(m.reason);
      out += R"("})";
      return out;
    }
    std::string operator()(const SignalFrom& m) const {
      return R"({"type":"signal","from":)" + dump(json(m.from)) + R"(,"data":)" + m.data + "}";
    }
    std::string operator()(const Pong& m) const {
      return m.t ? R"({"type":"pong","t":)" + *m.t + "}" : std::string(R"({"type":"pong"})");
    }
    std::string operator()(const IceServers& m) const {
      const json ice = json::parse(m.ice_servers, nullptr, false);
      return R"({"type":"ice-servers","iceServers":)" + (ice.is_array() ? dump(ice) : std::string("[]")) + "}";
    }
    std::string operator()(const ErrorMessage& m) const {
      json j = {{"type", "error"}, {"code", std::string(to_string(m.code))}, {"message", m.message}};
      if (!m.ref.empty()) j["ref"] = m.ref;
      return dump(j);
    }
  };
  return std::visit(Visitor{}, message);
}

// ---- HTTP ------------------------------------------------------------------

Parsed<CreateMeetingRequest> parse_create_meeting(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return CreateMeetingRequest{};
  auto parsed = parse_json(body, ErrorCode::BadRequest);
  if (!parsed.ok()) return parsed.error();
  const json& doc = parsed.value();
  if (!doc.is_object()) return error(ErrorCode::BadRequest, "the body must be a JSON object");
  CreateMeetingRequest request;
  Fields fields(doc, {}, ErrorCode::BadRequest);
  if (auto e = fields.name("name", request.name)) return *e;
  if (const json* relay = fields.find("relayOnly")) {
    if (!relay->is_boolean()) return error(ErrorCode::BadRequest, "field 'relayOnly' must be a boolean");
    request.relay_only = relay->get<bool>();
  }
  return request;
}

std::string serialize_created_meeting(const MeetingInfo& m) {
  return dump(json{{"id", m.id}, {"name", m.name}, {"createdAt", m.created_at}, {"url", "/m/" + m.id},
                   {"relayOnly", m.relay_only}});
}

std::string serialize_meeting_info(const MeetingInfo& m) {
  return dump(json{{"id", m.id},
                   {"name", m.name},
                   {"createdAt", m.created_at},
                   {"participants", m.participants.value_or(0)},
                   {"relayOnly", m.relay_only}});
}

Parsed<MeetingInfo> parse_meeting_info(std::string_view body) {
  auto parsed = parse_json(body, ErrorCode::BadMessage);
  if (!parsed.ok()) return parsed.error();
  const json& doc = parsed.value();
  if (!doc.is_object()) return error(ErrorCode::BadMessage, "a meeting must be a JSON object");
  MeetingInfo m;
  Fields f(doc, {}, ErrorCode::BadMessage);
  if (auto e = f.string("id", m.id, true)) return *e;
  if (auto e = f.string("name", m.name, false)) return *e;
  if (auto e = f.string("createdAt", m.created_at, true)) return *e;
  if (const json* p = f.find("participants")) {
    if (!is_uint32(*p)) return f.fail("field 'participants' must be an integer from 0 to 2^32-1");
    m.participants = static_cast<std::uint32_t>(p->get<std::uint64_t>());
  }
  if (const json* relay = f.find("relayOnly")) {
    if (!relay->is_boolean()) return f.fail("field 'relayOnly' must be a boolean");
    m.relay_only = relay->get<bool>();
  }
  return m;
}

std::string serialize_http_error(ErrorCode code, std::string_view message) {
  return dump(json{{"error", {{"code", std::string(to_string(code))}, {"message", std::string(message)}}}});
}

std::string quote_json(std::string_view text) {
  std::string out;
  append_quoted(out, text);
  return out;
}

bool is_meeting_id(std::string_view text) {
  if (text.size() < 25 || text.size() > 40) return false;
  for (char c : text) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace meshmeet::protocol
