#include "protocol/error_code.hpp"

namespace meshmeet::protocol {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadJson: return "bad-json";
    case ErrorCode::BadMessage: return "bad-message";
    case ErrorCode::BadRequest: return "bad-request";
    case ErrorCode::TooLarge: return "too-large";
    case ErrorCode::NotJoined: return "not-joined";
    case ErrorCode::AlreadyJoined: return "already-joined";
    case ErrorCode::MeetingNotFound: return "meeting-not-found";
    case ErrorCode::MeetingFull: return "meeting-full";
    case ErrorCode::UnknownPeer: return "unknown-peer";
    case ErrorCode::RateLimited: return "rate-limited";
    case ErrorCode::TooManyConnections: return "too-many-connections";
    case ErrorCode::BadResume: return "bad-resume";
    case ErrorCode::Unauthorized: return "unauthorized";
    case ErrorCode::NotFound: return "not-found";
    case ErrorCode::MethodNotAllowed: return "method-not-allowed";
    case ErrorCode::ForbiddenOrigin: return "forbidden-origin";
    case ErrorCode::RelayUnavailable: return "relay-unavailable";
    case ErrorCode::Unavailable: return "unavailable";
  }
  return "bad-message";
}

std::optional<ErrorCode> error_code_from_string(std::string_view text) {
  for (ErrorCode code : kAllErrorCodes)
    if (to_string(code) == text) return code;
  return std::nullopt;
}

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::BadJson:
    case ErrorCode::BadMessage:
    case ErrorCode::BadRequest:
    case ErrorCode::RelayUnavailable: return 400;
    case ErrorCode::Unavailable: return 503;
    case ErrorCode::Unauthorized: return 401;
    case ErrorCode::ForbiddenOrigin: return 403;
    case ErrorCode::NotFound:
    case ErrorCode::MeetingNotFound:
    case ErrorCode::UnknownPeer: return 404;
    case ErrorCode::MethodNotAllowed: return 405;
    case ErrorCode::NotJoined:
    case ErrorCode::AlreadyJoined:
    case ErrorCode::MeetingFull:
    case ErrorCode::BadResume: return 409;
    case ErrorCode::TooLarge: return 413;
    case ErrorCode::RateLimited:
    case ErrorCode::TooManyConnections: return 429;
  }
  return 400;
}

}  // namespace meshmeet::protocol
