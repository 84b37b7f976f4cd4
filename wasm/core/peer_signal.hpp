// What two cores say to each other inside the protocol's opaque `signal.data`.
//
//   {"v":1,"gen":2,"peerGen":1,"seq":7,"description":{"type":"offer","sdp":"v=0…"}}
//   {"v":1,"gen":2,"peerGen":1,"seq":8,"candidate":{"candidate":"candidate:…","sdpMid":"0",
//                                                   "sdpMLineIndex":0,"usernameFragment":"…"}}
//
// `gen` numbers the sender's peer connections to this receiver (a fresh
// connection gets the next number); `peerGen` is the receiver's connection
// the sender's is paired with (0 while it has heard nothing). Together they
// let both ends agree on which pair of connections a message belongs to, so
// a fresh connection on one side retires the other side's old one and late
// messages for retired connections are dropped. `seq` grows by one per
// message from a sender to a receiver: duplicates and descriptions older
// than the newest already seen are dropped (a WebSocket never reorders, but
// a core should not depend on it). An answer names the offer it answers
// (`answers`), so an answer that arrives after its offer was rolled back and
// replaced is not applied to the new one.
//
//   {"v":1,"gen":2,"peerGen":2,"seq":9,"answers":4,"description":{"type":"answer","sdp":"v=0…"}}
//
// A description may say how large the sender draws the receiver's video
// (`view`, a height as in the data channel's view message below), so that
// the receiver's first frames to it are already that size. Without it the
// view waits for the data channel, which opens after the connection: every
// copy's first key frame went out at the camera's full size, and a second
// one at the tile's size a moment later, when a join keeps the encoders
// busiest. The data channel still says it on opening, and from then on
// only the channel's view counts: a description's view may belong to an
// offer never applied, and the server relays descriptions, where the
// channel is the peers' own.
//
//   {"v":1,"gen":2,"peerGen":1,"seq":7,"view":240,"description":{"type":"offer","sdp":"v=0…"}}
//
// A view learnt after our description went out (the tile was laid out a
// frame later) goes alone, as long as the data channel is not open yet:
//
//   {"v":1,"gen":2,"peerGen":1,"seq":9,"view":240}
//
// The polite end never makes an ICE-restart offer of its own: it asks the
// impolite end to make one, which it answers.
//
//   {"v":1,"gen":2,"peerGen":2,"seq":10,"iceRestart":true}
//
// Why: when both ends restart ICE at once (a blackout ends, signaling comes
// back to both), their restart offers cross and the polite end rolls its own
// back. Chrome (seen in 143) sometimes keeps decoding the peer's video after
// that without rendering it: the tile freezes while the connection is up and
// its quality is good (the network lab's scenario 4, about one run in eight).
// With one end making every restart offer, restart offers never cross.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace meshmeet::core {

enum class PeerSignalKind { Description, Candidate, IceRestartRequest, View };

struct PeerSignal {
  PeerSignalKind kind = PeerSignalKind::Description;
  int gen = 0;
  int peer_gen = 0;
  std::uint64_t seq = 0;
  std::uint64_t answers = 0;  // on an answer: the `seq` of the offer it answers (0 = unknown)
  // Description:
  std::string description_type;  // "offer" or "answer"
  std::string sdp;
  // Description (optional), View: how large the sender draws the receiver's video.
  std::optional<int> view;
  // Candidate:
  std::string candidate_json;   // an RTCIceCandidateInit as compact JSON
  std::string candidate_ufrag;  // its usernameFragment, "" when absent

  bool is_description() const { return kind == PeerSignalKind::Description; }
};

// nullopt (with `error` set) for anything malformed; never throws.
std::optional<PeerSignal> parse_peer_signal(std::string_view data, std::string& error);
std::string serialize(const PeerSignal& signal);

// The usernameFragment of an RTCIceCandidateInit in JSON, "" when absent or
// unreadable; false when `candidate_json` is not an object with a string
// `candidate` (the browser's end-of-candidates `null` included).
bool read_candidate(std::string_view candidate_json, std::string& compact_json, std::string& ufrag);
// The `candidate` attribute of an RTCIceCandidateInit in JSON ("" marks the
// end of a generation's candidates); nullopt when there is none.
std::optional<std::string> candidate_attribute(std::string_view candidate_json);

// Our microphone and camera, over the peer data channel: whether each sends a live
// track (set, and not muted), and whether the video is a shared screen:
// {"t":"media","audio":true,"video":true,"screen":false}. `screen` absent
// (an older peer) reads as false.
struct MediaState {
  bool audio = false;
  bool video = false;
  bool screen = false;
  bool operator==(const MediaState& o) const { return audio == o.audio && video == o.video && screen == o.screen; }
  bool operator!=(const MediaState& o) const { return !(*this == o); }
};
std::string serialize_media_state(const MediaState& state);
bool parse_media_state(std::string_view data, MediaState& state);

// How large the receiver shows the sender's video, so that the sender
// encodes no more than that for this connection: {"t":"view","h":360}, the
// height in device pixels the picture is drawn at (its tile's size, and for
// a tile that crops the picture, the height of the whole picture as drawn);
// "h":0 when it shows none at all (the tile off-screen, the tab hidden).
// Heights are bounded by kMaxViewHeight; anything else is not a view.
constexpr int kMaxViewHeight = 4320;
std::string serialize_view(int height);
bool parse_view(std::string_view data, int& height);

// The verification code's exchange (see verification_code.hpp):
// {"t":"vc-commit","h":"…"}, {"t":"vc-nonce","n":"…"}, {"t":"vc-reveal","n":"…"}.
std::string serialize_verification_message(std::string_view kind, std::string_view value);
bool parse_verification_message(std::string_view data, std::string& kind, std::string& value);

}  // namespace meshmeet::core
