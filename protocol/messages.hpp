// Every message of shared/protocol.md as a C++ value: parse with full
// validation (errors are values carrying the protocol's codes) and serialize.
// Built natively for the server and under Emscripten for the client core, so
// nothing here throws: JSON is parsed with nlohmann's non-throwing entry point.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "protocol/error_code.hpp"

namespace meshmeet::protocol {

inline constexpr std::size_t kMaxNameCodePoints = 64;  // names of meetings and people
inline constexpr int kMaxJsonDepth = 32;               // deeper input is refused, not recursed into

// Why a message was refused: the code goes on the wire; `ref` is the `type`
// of the offending message when it was known.
struct Error {
  ErrorCode code;
  std::string message;
  std::string ref;
};

// A value or the protocol error that stopped it; never throws.
template <class T>
class Parsed {
 public:
  Parsed(T value) : value_(std::move(value)) {}
  Parsed(Error error) : error_(std::move(error)) {}
  bool ok() const { return value_.has_value(); }
  const T& value() const { return *value_; }
  T& value() { return *value_; }
  const Error& error() const { return error_; }

 private:
  std::optional<T> value_;
  Error error_{ErrorCode::BadMessage, {}, {}};
};

// ---- Client → server -------------------------------------------------------

struct Join {
  std::string meeting;
  std::string name;                   // empty when absent
  std::optional<std::string> resume;  // token from an earlier welcome
};

struct Signal {
  std::string to;
  std::string data;  // the `data` object as JSON text: the sender's bytes when it came through scan_signal
};

struct Leave {};

struct Ping {
  std::optional<std::string> t;  // the `t` number as JSON text, echoed verbatim
};

using ClientMessage = std::variant<Join, Signal, Leave, Ping>;

std::string_view type_name(const ClientMessage& message);
// scan_signal first; everything it does not take goes to the full parser.
Parsed<ClientMessage> parse_client_message(std::string_view text);
// The full parser alone: a JSON document, then the fields. Reports every
// error; a signal's data comes out re-serialized (compact).
Parsed<ClientMessage> parse_client_message_document(std::string_view text);

// The relay's fast path. A `signal` whose text is valid for the protocol
// (strict JSON, valid UTF-8, no raw NUL, nesting ≤ kMaxJsonDepth, no duplicate
// key in any object, no number overflowing a double) with a string `to` and an
// object `data`: `to` decoded, `data` the exact bytes of the object inside
// `text` (a view: it lives as long as `text`). Anything else — other types,
// every error, whatever the scanner does not handle — is std::nullopt, for
// parse_client_message_document to parse and report. Never accepts what the
// full parser refuses.
struct SignalSpan {
  std::string to;
  std::string_view data;
};
std::optional<SignalSpan> scan_signal(std::string_view text);

// The bytes of the value of top-level member `key` in `text`, a message the
// full parser has accepted (so the object is valid and its keys distinct);
// std::nullopt when there is no such member. Lets `ping.t` be echoed as sent.
std::optional<std::string_view> scan_member(std::string_view text, std::string_view key);
std::string serialize(const ClientMessage& message);

// ---- Server → client -------------------------------------------------------

struct PeerInfo {
  std::string id;
  std::string name;
  friend bool operator==(const PeerInfo& a, const PeerInfo& b) { return a.id == b.id && a.name == b.name; }
};

struct Welcome {
  std::string self;
  std::string resume;
  std::string meeting_id;
  std::string meeting_name;
  std::vector<PeerInfo> peers;            // everyone else present, oldest first
  std::string ice_servers = "[]";         // RTCIceServer array as JSON text
  bool relay_only = false;                // v2: every connection goes through TURN (absent from v1 servers)
  std::uint32_t heartbeat_interval_ms = 0;
  std::uint32_t heartbeat_timeout_ms = 0;
  // How long the server holds a dropped participant's seat, and takes back
  // its tokens after a restart (--resume-grace); absent from older servers.
  // On the wire before "heartbeat".
  std::optional<std::uint32_t> resume_grace_ms;
};

struct PeerJoined {
  PeerInfo peer;
};

enum class LeaveReason { Left, Disconnected, Timeout, Removed };
std::string_view to_string(LeaveReason reason);

struct PeerLeft {
  std::string peer;
  LeaveReason reason;
};

struct SignalFrom {
  std::string from;
  std::string data;  // JSON object text
};

struct Pong {
  std::optional<std::string> t;  // JSON number text
};

struct ErrorMessage {
  ErrorCode code;
  std::string message;
  std::string ref;  // empty when absent
};

// v2: fresh ICE servers (TURN credentials) before the ones held expire.
struct IceServers {
  std::string ice_servers = "[]";  // RTCIceServer array as JSON text
};

using ServerMessage = std::variant<Welcome, PeerJoined, PeerLeft, SignalFrom, Pong, ErrorMessage, IceServers>;

Parsed<ServerMessage> parse_server_message(std::string_view text);
std::string serialize(const ServerMessage& message);

// The hot path of the server: a relayed signal is built by splicing, without
// a JSON document. `from` must be an id the server made (no escaping needed);
// `data` is the compact JSON the sender's message was parsed into.
std::string serialize_signal_from(std::string_view from, std::string_view data);

// ---- HTTP ------------------------------------------------------------------

struct CreateMeetingRequest {
  std::string name;
  bool relay_only = false;  // v2: every connection through TURN
};

// Empty or whitespace-only body counts as {}. Errors: bad-json, bad-request.
Parsed<CreateMeetingRequest> parse_create_meeting(std::string_view body);

struct MeetingInfo {
  std::string id;
  std::string name;
  std::string created_at;                   // RFC 3339 UTC
  std::optional<std::uint32_t> participants;  // present in GET, absent in POST's reply
  bool relay_only = false;                  // v2; absent (false) from v1 servers
};

// `201` body of POST /api/meetings: id, name, createdAt, url.
std::string serialize_created_meeting(const MeetingInfo& meeting);
// `200` body of GET /api/meetings/ID: id, name, createdAt, participants.
std::string serialize_meeting_info(const MeetingInfo& meeting);
Parsed<MeetingInfo> parse_meeting_info(std::string_view body);
// {"error":{"code":…,"message":…}}
std::string serialize_http_error(ErrorCode code, std::string_view message);

// `text` as a JSON string literal, quotes included.
std::string quote_json(std::string_view text);

// A meeting id: 25 to 40 characters of [a-z0-9_-].
bool is_meeting_id(std::string_view text);

}  // namespace meshmeet::protocol
