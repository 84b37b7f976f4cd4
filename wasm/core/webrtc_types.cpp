#include "wasm/core/webrtc_types.hpp"

#include <array>
#include <utility>

namespace meshmeet::core {
namespace {

template <class E, std::size_t N>
std::optional<E> parse(const std::array<E, N>& all, std::string_view text) {
  for (E value : all)
    if (to_string(value) == text) return value;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(MediaKind kind) { return kind == MediaKind::Audio ? "audio" : "video"; }

std::string_view to_string(SignalingState state) {
  switch (state) {
    case SignalingState::Stable: return "stable";
    case SignalingState::HaveLocalOffer: return "have-local-offer";
    case SignalingState::HaveRemoteOffer: return "have-remote-offer";
    case SignalingState::HaveLocalPranswer: return "have-local-pranswer";
    case SignalingState::HaveRemotePranswer: return "have-remote-pranswer";
    case SignalingState::Closed: return "closed";
  }
  return "closed";
}

std::string_view to_string(IceConnectionState state) {
  switch (state) {
    case IceConnectionState::New: return "new";
    case IceConnectionState::Checking: return "checking";
    case IceConnectionState::Connected: return "connected";
    case IceConnectionState::Completed: return "completed";
    case IceConnectionState::Disconnected: return "disconnected";
    case IceConnectionState::Failed: return "failed";
    case IceConnectionState::Closed: return "closed";
  }
  return "closed";
}

std::string_view to_string(PeerConnectionState state) {
  switch (state) {
    case PeerConnectionState::New: return "new";
    case PeerConnectionState::Connecting: return "connecting";
    case PeerConnectionState::Connected: return "connected";
    case PeerConnectionState::Disconnected: return "disconnected";
    case PeerConnectionState::Failed: return "failed";
    case PeerConnectionState::Closed: return "closed";
  }
  return "closed";
}

std::string_view to_string(CpuPressure pressure) {
  switch (pressure) {
    case CpuPressure::Nominal: return "nominal";
    case CpuPressure::Fair: return "fair";
    case CpuPressure::Serious: return "serious";
    case CpuPressure::Critical: return "critical";
  }
  return "nominal";
}

std::optional<MediaKind> parse_media_kind(std::string_view text) {
  return parse(std::array{MediaKind::Audio, MediaKind::Video}, text);
}

std::optional<SignalingState> parse_signaling_state(std::string_view text) {
  return parse(std::array{SignalingState::Stable, SignalingState::HaveLocalOffer, SignalingState::HaveRemoteOffer,
                          SignalingState::HaveLocalPranswer, SignalingState::HaveRemotePranswer, SignalingState::Closed},
               text);
}

std::optional<IceConnectionState> parse_ice_connection_state(std::string_view text) {
  return parse(std::array{IceConnectionState::New, IceConnectionState::Checking, IceConnectionState::Connected,
                          IceConnectionState::Completed, IceConnectionState::Disconnected, IceConnectionState::Failed,
                          IceConnectionState::Closed},
               text);
}

std::optional<PeerConnectionState> parse_peer_connection_state(std::string_view text) {
  return parse(std::array{PeerConnectionState::New, PeerConnectionState::Connecting, PeerConnectionState::Connected,
                          PeerConnectionState::Disconnected, PeerConnectionState::Failed, PeerConnectionState::Closed},
               text);
}

std::optional<CpuPressure> parse_cpu_pressure(std::string_view text) {
  return parse(std::array{CpuPressure::Nominal, CpuPressure::Fair, CpuPressure::Serious, CpuPressure::Critical}, text);
}

}  // namespace meshmeet::core
