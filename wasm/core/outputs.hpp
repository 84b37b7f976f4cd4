// Everything the core wants done, as values. The JS shim drains them in
// order and carries each out with the browser's APIs; tests carry them out
// against fakes. Handles (`socket`, `pc`, `timer`, `op`) are integers the core
// allocates and never reuses, so a late event for a closed object can be
// recognised and ignored.
//
// App-facing events carry their states as the same strings the JS API
// exposes ("joined", "reconnecting", "good"…): one spelling, on both sides.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "wasm/core/webrtc_types.hpp"

namespace meshmeet::core {

// ---- signaling socket -------------------------------------------------------

struct OpenSocket {  // new WebSocket(url); report opened/closed/message with this id
  int socket;
  std::string url;
};
struct CloseSocket {  // ws.close(code, reason); later events for this id are ignored
  int socket;
  int code;
  std::string reason;
};
struct SendText {  // ws.send(text)
  int socket;
  std::string text;
};

// ---- peer connections -------------------------------------------------------

// new RTCPeerConnection(JSON.parse(config_json)), then at once
// pc.createDataChannel("meshmeet", {negotiated: true, id: 0}).
struct CreatePeerConnection {
  int pc;
  std::string peer;
  bool polite;
  std::string config_json;
};
// pc.setConfiguration({...pc.getConfiguration(), ...JSON.parse(config_json)}):
// new ICE servers (fresh TURN credentials) for a live connection, everything
// else as created. Nothing to report; the next ICE restart uses them.
struct SetConfiguration {
  int pc;
  std::string config_json;
};
struct ClosePeerConnection {  // pc.close(); later events for this id are ignored
  int pc;
};
struct AddTrack {  // pc.addTrack(localTrack(track), localStream)
  int pc;
  MediaKind kind;
  std::string track;
};
struct RemoveTrack {  // pc.removeTrack(the sender of that kind)
  int pc;
  MediaKind kind;
};
struct ReplaceTrack {  // sender.replaceTrack(localTrack(track)); "" = null
  int pc;
  MediaKind kind;
  std::string track;
};
// type "": pc.setLocalDescription() — the implicit form, which creates the
// offer or answer the signaling state calls for (perfect negotiation).
// Report local_description(pc, op, localDescription.type, .sdp) or
// operation_failed(pc, op, ...).
// type "rollback": pc.setLocalDescription({type: "rollback"}); report
// operation_done / operation_failed.
struct SetLocalDescription {
  int pc;
  int op;
  std::string type;
};
// pc.setRemoteDescription({type, sdp}); report operation_done / operation_failed.
struct SetRemoteDescription {
  int pc;
  int op;
  std::string type;
  std::string sdp;
};
// pc.addIceCandidate(JSON.parse(candidate_json)); report operation_done / operation_failed.
struct AddIceCandidate {
  int pc;
  int op;
  std::string candidate_json;
};
// pc.restartIce(); negotiationneeded follows, and the offer made for it has
// new ICE credentials. Where restartIce() is missing, the shim makes that
// offer with createOffer({iceRestart: true}) and reports the negotiationneeded
// itself (again each time the connection is back in stable, until new
// credentials are in place).
struct RestartIce {
  int pc;
};
// On the sender of `kind`: encodings[0].maxBitrate / scaleResolutionDownBy,
// then setParameters; report operation_done / operation_failed (a failure is
// tried again later: the core does not count the budget as applied).
struct SetSenderParameters {
  int pc;
  int op;
  MediaKind kind;
  int max_bitrate_bps;
  double scale_resolution_down_by;
  int max_framerate;  // 0: no cap (remove one set before)
  bool active;        // encodings[0].active: false sends this peer no video (it draws none)
};
struct SendData {  // the negotiated data channel's send(text)
  int pc;
  std::string text;
};
// pc.getStats(); report stats(pc, rtt_ms, packets_lost, packets_received, bytes_received, bytes_sent).
struct GetStats {
  int pc;
};

// ---- local media and timers ---------------------------------------------------

// track.enabled = enabled for every local track of `kind` given so far
// (set_local_track) except those given as a shared screen (kind "screen"). A
// track given later starts enabled, unless its kind is switched off: then a
// set-track-enabled false follows the set_local_track that gave it.
struct SetTrackEnabled {
  MediaKind kind;
  bool enabled;
};
struct StartTimer {  // setTimeout(() => timer_fired(timer), delay_ms)
  int timer;
  std::int64_t delay_ms;
  std::string purpose;  // for logs and tests only
};
struct CancelTimer {  // clearTimeout
  int timer;
};

// ---- events for the app -------------------------------------------------------

// The meeting's state: idle, connecting, joining, joined, reconnecting, left, failed.
// A reconnect passes through reconnecting → connecting → joining; `attempt`
// (0 on the first join, reset by each welcome) tells the app it is one.
struct StateChanged {
  std::string state;
  int attempt;
};
struct Welcomed {  // joined (or resumed, or rejoined under a new id after bad-resume)
  std::string self;
  std::string meeting_id;
  std::string meeting_name;
  std::string how;  // "fresh", "resumed", "rejoined"
  bool relay_only;  // the meeting's connections all go through TURN (no peer sees another's address)
};
struct PeerJoinedEvent {
  std::string peer;
  std::string name;
};
struct PeerLeftEvent {  // reason: left, disconnected, timeout, removed, gone (missed while away), rejoined
  std::string peer;
  std::string reason;
};
// A peer's connection state: connecting, connected, disconnected, restart-pending,
// restarting, awaiting-signaling, failed, closed.
struct PeerStateChanged {
  std::string peer;
  std::string state;
};
struct RemoteTrack {  // the JS shim holds the track object under (pc, track)
  std::string peer;
  int pc;
  std::string track;
  MediaKind kind;
  std::string stream;
};
// The peer's microphone and camera as it reports them: whether it sends a
// live track of each kind (one set and not muted), and whether its video is a
// shared screen. On every change, and each time a data channel to the peer
// opens (so also after a fresh connection).
struct PeerMediaChanged {
  std::string peer;
  bool audio;
  bool video;
  bool screen;
};
struct QualityReport {  // every stats interval per connected peer
  std::string peer;
  std::string level;  // good, fair, poor
  double rtt_ms;
  double loss;  // fraction 0..1 over the last interval
  double kbps_in;
  double kbps_out;
};
// Read aloud and compared at both ends of the pair. Also sent again when the
// person marks the peer verified. `trust`: TrustState (peer_trust.hpp).
struct VerificationCodeReady {
  std::string peer;
  std::string code;
  std::string trust;
};
// The errors the core reports of its own accord (the server's are
// protocol::ErrorCode). The single source of their spellings: web/index.d.ts
// and the shim list the same (tests/node/error-codes.test.mjs).
enum class CoreError {
  PeerUnreachable,     // no connection to a peer could be made; retrying
  VerificationFailed,  // a peer's fingerprints or verification exchange do not add up
  BadInput,            // an input the core cannot use (a shim bug)
};
std::string_view to_string(CoreError code);

// code: a protocol::ErrorCode from the server (meeting-not-found,
// meeting-full, rate-limited, …) or a CoreError.
struct ErrorEvent {
  std::string code;
  std::string message;
  std::string peer;  // empty when not about one peer
};

enum class LogLevel { Debug, Info, Warn };
std::string_view to_string(LogLevel level);

// A state transition or other notable step; never printed by the core.
struct LogEntry {
  LogLevel level;
  std::string machine;  // signaling-session, mesh, peer-negotiation, quality, verification-code, client
  std::string subject;  // peer id, socket id… empty when the machine is a singleton
  std::string from;     // old state (empty when not a transition)
  std::string to;       // new state
  std::string detail;
};

using Output = std::variant<OpenSocket, CloseSocket, SendText, CreatePeerConnection, SetConfiguration, ClosePeerConnection, AddTrack,
                            RemoveTrack, ReplaceTrack, SetLocalDescription, SetRemoteDescription, AddIceCandidate,
                            RestartIce, SetSenderParameters, SendData, GetStats, SetTrackEnabled, StartTimer, CancelTimer,
                            StateChanged, Welcomed, PeerJoinedEvent, PeerLeftEvent, PeerStateChanged, RemoteTrack,
                            PeerMediaChanged, QualityReport, VerificationCodeReady, ErrorEvent, LogEntry>;

// "open-socket", "send-text", "peer-joined", … (the `type` in to_json).
std::string_view type_name(const Output& output);
// One JSON object with a `type` field and the struct's fields in camelCase
// (max_bitrate_bps → maxBitrateBps), with two rules of their own: a
// description's `type` is `descriptionType` (the object's `type` is taken),
// and `*_json` fields are embedded as JSON values without the suffix
// (candidate_json → candidate, config_json → config).
std::string to_json(const Output& output);
// A JSON array of to_json objects.
std::string to_json(const std::vector<Output>& outputs);

}  // namespace meshmeet::core
