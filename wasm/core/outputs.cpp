#include "wasm/core/outputs.hpp"

#include <nlohmann/json.hpp>

namespace meshmeet::core {

std::string_view to_string(CoreError code) {
  switch (code) {
    case CoreError::PeerUnreachable: return "peer-unreachable";
    case CoreError::VerificationFailed: return "verification-failed";
    case CoreError::BadInput: return "bad-input";
  }
  return "bad-input";
}
namespace {

using json = nlohmann::ordered_json;

std::string kind(MediaKind k) { return std::string(to_string(k)); }

// A JSON value from text we produced or checked ourselves; `null` if it is not JSON.
json raw(const std::string& text) {
  json value = json::parse(text, nullptr, false);
  return value.is_discarded() ? json() : value;
}

struct Fields {
  json operator()(const OpenSocket& o) const { return {{"socket", o.socket}, {"url", o.url}}; }
  json operator()(const CloseSocket& o) const { return {{"socket", o.socket}, {"code", o.code}, {"reason", o.reason}}; }
  json operator()(const SendText& o) const { return {{"socket", o.socket}, {"text", o.text}}; }
  json operator()(const CreatePeerConnection& o) const {
    return {{"pc", o.pc}, {"peer", o.peer}, {"polite", o.polite}, {"config", raw(o.config_json)}};
  }
  json operator()(const SetConfiguration& o) const { return {{"pc", o.pc}, {"config", raw(o.config_json)}}; }
  json operator()(const ClosePeerConnection& o) const { return {{"pc", o.pc}}; }
  json operator()(const AddTrack& o) const { return {{"pc", o.pc}, {"kind", kind(o.kind)}, {"track", o.track}}; }
  json operator()(const RemoveTrack& o) const { return {{"pc", o.pc}, {"kind", kind(o.kind)}}; }
  json operator()(const ReplaceTrack& o) const { return {{"pc", o.pc}, {"kind", kind(o.kind)}, {"track", o.track}}; }
  json operator()(const SetLocalDescription& o) const { return {{"pc", o.pc}, {"op", o.op}, {"descriptionType", o.type}}; }
  json operator()(const SetRemoteDescription& o) const {
    return {{"pc", o.pc}, {"op", o.op}, {"descriptionType", o.type}, {"sdp", o.sdp}};
  }
  json operator()(const AddIceCandidate& o) const { return {{"pc", o.pc}, {"op", o.op}, {"candidate", raw(o.candidate_json)}}; }
  json operator()(const RestartIce& o) const { return {{"pc", o.pc}}; }
  json operator()(const SetSenderParameters& o) const {
    return {{"pc", o.pc},
            {"op", o.op},
            {"kind", kind(o.kind)},
            {"maxBitrateBps", o.max_bitrate_bps},
            {"scaleResolutionDownBy", o.scale_resolution_down_by},
            {"maxFramerate", o.max_framerate},
            {"active", o.active}};
  }
  json operator()(const SendData& o) const { return {{"pc", o.pc}, {"text", o.text}}; }
  json operator()(const GetStats& o) const { return {{"pc", o.pc}}; }
  json operator()(const SetTrackEnabled& o) const { return {{"kind", kind(o.kind)}, {"enabled", o.enabled}}; }
  json operator()(const StartTimer& o) const { return {{"timer", o.timer}, {"delayMs", o.delay_ms}, {"purpose", o.purpose}}; }
  json operator()(const CancelTimer& o) const { return {{"timer", o.timer}}; }
  json operator()(const StateChanged& o) const { return {{"state", o.state}, {"attempt", o.attempt}}; }
  json operator()(const Welcomed& o) const {
    return {{"self", o.self}, {"meetingId", o.meeting_id}, {"meetingName", o.meeting_name}, {"how", o.how},
            {"relayOnly", o.relay_only}};
  }
  json operator()(const PeerJoinedEvent& o) const { return {{"peer", o.peer}, {"name", o.name}}; }
  json operator()(const PeerLeftEvent& o) const { return {{"peer", o.peer}, {"reason", o.reason}}; }
  json operator()(const PeerStateChanged& o) const { return {{"peer", o.peer}, {"state", o.state}}; }
  json operator()(const RemoteTrack& o) const {
    return {{"peer", o.peer}, {"pc", o.pc}, {"track", o.track}, {"kind", kind(o.kind)}, {"stream", o.stream}};
  }
  json operator()(const PeerMediaChanged& o) const {
    return {{"peer", o.peer}, {"audio", o.audio}, {"video", o.video}, {"screen", o.screen}};
  }
  json operator()(const QualityReport& o) const {
    return {{"peer", o.peer}, {"level", o.level}, {"rttMs", o.rtt_ms}, {"loss", o.loss}, {"kbpsIn", o.kbps_in}, {"kbpsOut", o.kbps_out}};
  }
  json operator()(const VerificationCodeReady& o) const {
    return {{"peer", o.peer}, {"code", o.code}, {"trust", o.trust}};
  }
  json operator()(const ErrorEvent& o) const { return {{"code", o.code}, {"message", o.message}, {"peer", o.peer}}; }
  json operator()(const LogEntry& o) const {
    return {{"level", std::string(to_string(o.level))}, {"machine", o.machine}, {"subject", o.subject},
            {"from", o.from},  {"to", o.to},  {"detail", o.detail}};
  }
};

struct Names {
  std::string_view operator()(const OpenSocket&) const { return "open-socket"; }
  std::string_view operator()(const CloseSocket&) const { return "close-socket"; }
  std::string_view operator()(const SendText&) const { return "send-text"; }
  std::string_view operator()(const CreatePeerConnection&) const { return "create-peer-connection"; }
  std::string_view operator()(const SetConfiguration&) const { return "set-configuration"; }
  std::string_view operator()(const ClosePeerConnection&) const { return "close-peer-connection"; }
  std::string_view operator()(const AddTrack&) const { return "add-track"; }
  std::string_view operator()(const RemoveTrack&) const { return "remove-track"; }
  std::string_view operator()(const ReplaceTrack&) const { return "replace-track"; }
  std::string_view operator()(const SetLocalDescription&) const { return "set-local-description"; }
  std::string_view operator()(const SetRemoteDescription&) const { return "set-remote-description"; }
  std::string_view operator()(const AddIceCandidate&) const { return "add-ice-candidate"; }
  std::string_view operator()(const RestartIce&) const { return "restart-ice"; }
  std::string_view operator()(const SetSenderParameters&) const { return "set-sender-parameters"; }
  std::string_view operator()(const SendData&) const { return "send-data"; }
  std::string_view operator()(const GetStats&) const { return "get-stats"; }
  std::string_view operator()(const SetTrackEnabled&) const { return "set-track-enabled"; }
  std::string_view operator()(const StartTimer&) const { return "start-timer"; }
  std::string_view operator()(const CancelTimer&) const { return "cancel-timer"; }
  std::string_view operator()(const StateChanged&) const { return "state"; }
  std::string_view operator()(const Welcomed&) const { return "welcomed"; }
  std::string_view operator()(const PeerJoinedEvent&) const { return "peer-joined"; }
  std::string_view operator()(const PeerLeftEvent&) const { return "peer-left"; }
  std::string_view operator()(const PeerStateChanged&) const { return "peer-state"; }
  std::string_view operator()(const RemoteTrack&) const { return "track"; }
  std::string_view operator()(const PeerMediaChanged&) const { return "peer-media"; }
  std::string_view operator()(const QualityReport&) const { return "quality"; }
  std::string_view operator()(const VerificationCodeReady&) const { return "verification-code"; }
  std::string_view operator()(const ErrorEvent&) const { return "error"; }
  std::string_view operator()(const LogEntry&) const { return "log"; }
};

json object(const Output& output) {
  json out = {{"type", std::string(type_name(output))}};
  json fields = std::visit(Fields{}, output);
  for (auto& [key, value] : fields.items()) out[key] = std::move(value);
  return out;
}

std::string dump(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
  }
  return "debug";
}

std::string_view type_name(const Output& output) { return std::visit(Names{}, output); }

std::string to_json(const Output& output) { return dump(object(output)); }

std::string to_json(const std::vector<Output>& outputs) {
  json array = json::array();
  for (const auto& o : outputs) array.push_back(object(o));
  return dump(array);
}

}  // namespace meshmeet::core
