// The error codes of shared/protocol.md, one enum shared by HTTP and WebSocket.
#pragma once

#include <array>
#include <optional>
#include <string_view>

namespace meshmeet::protocol {

enum class ErrorCode {
  BadJson,             // not JSON (or, at the WebSocket layer, not UTF-8)
  BadMessage,          // JSON, but not a well-formed message
  BadRequest,          // HTTP: well-formed JSON with wrong types or lengths
  TooLarge,            // message or body over the limit
  NotJoined,           // anything but join/ping before welcome
  AlreadyJoined,       // a second join on a joined socket
  MeetingNotFound,     // no such meeting (also malformed ids)
  MeetingFull,         // room cap reached
  UnknownPeer,         // signal to someone not in the meeting (or to yourself)
  RateLimited,         // token bucket empty / too many meetings created
  TooManyConnections,  // per-IP WebSocket cap
  BadResume,           // resume token unknown, expired or for another meeting
  Unauthorized,        // HTTP: creation token required and missing/wrong
  NotFound,            // HTTP: no such route
  MethodNotAllowed,    // HTTP: route exists, method does not
  ForbiddenOrigin,     // WebSocket upgrade from an origin not on the allow-list
  RelayUnavailable,    // HTTP: a relay-only meeting asked of a server without TURN (v2)
  Unavailable,         // a join the server cannot take now (Redis away, draining); HTTP 503 (v2)
};

inline constexpr std::array<ErrorCode, 18> kAllErrorCodes = {
    ErrorCode::BadJson,         ErrorCode::BadMessage,         ErrorCode::BadRequest,
    ErrorCode::TooLarge,        ErrorCode::NotJoined,          ErrorCode::AlreadyJoined,
    ErrorCode::MeetingNotFound, ErrorCode::MeetingFull,        ErrorCode::UnknownPeer,
    ErrorCode::RateLimited,     ErrorCode::TooManyConnections, ErrorCode::BadResume,
    ErrorCode::Unauthorized,    ErrorCode::NotFound,           ErrorCode::MethodNotAllowed,
    ErrorCode::ForbiddenOrigin, ErrorCode::RelayUnavailable,   ErrorCode::Unavailable,
};

// The wire spelling, e.g. "meeting-not-found".
std::string_view to_string(ErrorCode code);
std::optional<ErrorCode> error_code_from_string(std::string_view text);

// The HTTP status that goes with a code when it is the answer to a request.
int http_status(ErrorCode code);

}  // namespace meshmeet::protocol
