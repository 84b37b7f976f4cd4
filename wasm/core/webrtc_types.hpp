// The browser's vocabulary as C++ enums (WebRTC's, and the Compute Pressure
// API's CPU states): the JS shim reports states as the strings the browser
// uses, and the core parses them here, once.
#pragma once

#include <optional>
#include <string_view>

namespace meshmeet::core {

enum class MediaKind { Audio, Video };

// RTCSignalingState (the pranswer states are never produced by this core).
enum class SignalingState { Stable, HaveLocalOffer, HaveRemoteOffer, HaveLocalPranswer, HaveRemotePranswer, Closed };

// RTCIceConnectionState.
enum class IceConnectionState { New, Checking, Connected, Completed, Disconnected, Failed, Closed };

// RTCPeerConnectionState (transport as a whole: ICE and DTLS).
enum class PeerConnectionState { New, Connecting, Connected, Disconnected, Failed, Closed };

// The Compute Pressure API's states for the "cpu" source (W3C), in order.
enum class CpuPressure { Nominal, Fair, Serious, Critical };

std::string_view to_string(MediaKind kind);
std::string_view to_string(SignalingState state);
std::string_view to_string(IceConnectionState state);
std::string_view to_string(PeerConnectionState state);
std::string_view to_string(CpuPressure pressure);

std::optional<MediaKind> parse_media_kind(std::string_view text);
std::optional<SignalingState> parse_signaling_state(std::string_view text);
std::optional<IceConnectionState> parse_ice_connection_state(std::string_view text);
std::optional<PeerConnectionState> parse_peer_connection_state(std::string_view text);
std::optional<CpuPressure> parse_cpu_pressure(std::string_view text);

}  // namespace meshmeet::core
