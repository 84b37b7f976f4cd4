// One remote peer's connection, from creation to close: the connection's
// lifecycle and its pairing with the peer's (generations and sequence
// numbers, see peer_signal.hpp), composed of the units that decide:
//   - Negotiator (negotiator.hpp): W3C webrtc-pc "perfect negotiation",
//     who opens a connection, glare, rollbacks, the answer timeout;
//   - CandidateQueue (candidate_queue.hpp): the peer's trickled candidates
//     that wait for their description;
//   - ConnectionRecovery (connection_recovery.hpp): ICE restart on `failed`
//     or after `disconnected` for a grace period (only while signaling is
//     up), up to N attempts with jittered backoff, then a fresh peer
//     connection, and after too many fresh connections in a row,
//     "unreachable" with slow retries;
//   - PeerTrust and VerificationCode: the code two people compare;
//   - SenderParameters (sender_parameters.hpp): the uplink budget's limits
//     for our video sender, one setParameters at a time.
// This unit tells them what happened and carries out what they decide.
//
// It also keeps what is too small to stand alone: the relay-only filter
// (our candidates, and the SDPs both ways) and the data channel (the media
// state, the views and the verification messages).
//
// ICE-restart offers come from the impolite end only: the polite end asks
// for one (peer_signal.hpp says why), so restart offers never cross.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "wasm/core/candidate_queue.hpp"
#include "wasm/core/connection_recovery.hpp"
#include "wasm/core/context.hpp"
#include "wasm/core/negotiator.hpp"
#include "wasm/core/peer_signal.hpp"
#include "wasm/core/sender_parameters.hpp"
#include "wasm/core/uplink_budget.hpp"
#include "wasm/core/verification_code.hpp"
#include "wasm/core/webrtc_types.hpp"

namespace meshmeet::core {

// The local tracks every peer connection sends ("" = none), and which of
// them a mute has disabled. The shim's set-track-enabled reaches every track
// of the kind it has been given so far except shared screens ("Camera off"
// is the camera's). A mute is a switch: a track given while its kind is
// switched off (another camera or microphone picked mid-meeting) is disabled
// too. That is mirrored here so that what the peers are told (peer-media) is
// what they receive: a screen shared while the camera is off is live, the
// camera is still off when the sharing stops, and so is another camera.
struct LocalMedia {
  std::string audio_track;
  std::string video_track;
  int video_height = 0;                                  // of video_track, in pixels; 0: unknown
  std::set<std::string> screens;                        // video tracks given as a shared screen
  std::map<MediaKind, std::set<std::string>> given;     // every track set so far
  std::map<MediaKind, std::set<std::string>> disabled;  // those the last mute of the kind reached
  std::set<MediaKind> switched_off;                     // kinds whose last set_muted was a mute
  int audio_packet_ms = kBrowserAudioPacketMs;          // asked of each peer's description (uplink_budget.hpp)
  const std::string& track(MediaKind kind) const { return kind == MediaKind::Audio ? audio_track : video_track; }
  // A track is set and not muted: the peers receive it.
  bool live(MediaKind kind) const {
    const std::string& t = track(kind);
    auto d = disabled.find(kind);
    return !t.empty() && (d == disabled.end() || !d->second.count(t));
  }
  bool sharing_screen() const { return !video_track.empty() && screens.count(video_track) > 0; }
  MediaState state() const { return MediaState{live(MediaKind::Audio), live(MediaKind::Video), sharing_screen()}; }
};

// What every peer connection of the meeting is configured with, owned by
// the mesh and kept current: the ICE servers (the app's own, or else the
// newest list from the server: its TURN credentials expire and are
// refreshed) and whether the meeting is relay-only. In a relay-only meeting
// the browser is told to use relay candidates only, and the core itself
// sends and accepts nothing else (trickled or inside SDPs), so neither a
// misbehaving browser nor a hostile peer or server can expose an address.
struct IceSettings {
  std::string servers_json = "[]";  // RTCIceServer array
  bool relay_only = false;
  // The RTCConfiguration: {"iceServers":[…],"bundlePolicy":"max-bundle"},
  // plus "iceTransportPolicy":"relay" when relay-only.
  //
  // max-bundle: audio, video and the data channels share one transport from
  // the first offer on. With the browsers' default ("balanced") the offering
  // end gathers for each kind of media separately until the answer says
  // they are bundled: three times the candidates (24 against 8 on a machine
  // with one interface and loopback), each a signaling message, a blocking
  // call at either end and connectivity checks, and behind a TURN server
  // three relay allocations per connection instead of one. The other end is
  // always one of ours, and every browser this runs in bundles.
  std::string rtc_configuration_json() const;
};

class PeerNegotiation {
 public:
  PeerNegotiation(CoreContext& ctx, std::string self, std::string peer, const IceSettings& ice_settings,
                  const LocalMedia& media);
  PeerNegotiation(const PeerNegotiation&) = delete;
  PeerNegotiation& operator=(const PeerNegotiation&) = delete;

  const std::string& peer() const { return peer_; }
  bool polite() const { return polite_; }
  PeerState state() const { return recovery_.state(); }
  int pc() const { return pc_; }  // current handle, 0 when none
  int generation() const { return gen_; }
  bool data_channel_open() const { return dc_open_; }
  const std::string& verification_code() const { return verification_.code(); }
  TrustState trust() const { return trust_.state(); }
  // The person compared the code now shown and vouches for it: false when
  // no code is shown yet.
  bool mark_verified(std::int64_t now);
  // What the peer last said it sends (peer-media); nothing until it says.
  const MediaState& remote_media() const { return remote_media_; }
  bool making_offer() const { return negotiator_.making_offer(); }

  void open(std::int64_t now);
  void close(std::int64_t now, std::string why);

  // ---- from the peer, through signaling
  void on_signal(std::int64_t now, const PeerSignal& signal);

  // ---- from the current peer connection
  // The browser refused to create it (new RTCPeerConnection threw, e.g. a
  // turn: URL without credentials): handled as a connection that never came
  // up, by a fresh one (or, once those are used up, as unreachable).
  void on_create_failed(std::int64_t now, const std::string& error_name, const std::string& message);
  void on_negotiation_needed(std::int64_t now);
  void on_local_description(std::int64_t now, int op, const std::string& type, const std::string& sdp);
  void on_operation_done(std::int64_t now, int op);
  void on_operation_failed(std::int64_t now, int op, const std::string& error_name, const std::string& message);
  void on_ice_candidate(std::int64_t now, const std::string& candidate_json);
  void on_signaling_state(std::int64_t now, SignalingState state);
  void on_ice_connection_state(std::int64_t now, IceConnectionState state);
  void on_connection_state(std::int64_t now, PeerConnectionState state);
  void on_track(std::int64_t now, const std::string& track, MediaKind kind, const std::string& stream);
  void on_remote_certificate(std::int64_t now, const std::string& fingerprint);
  void on_data_channel_open(std::int64_t now);
  void on_data_channel_closed(std::int64_t now);
  // True when the message changed how large the peer draws our video
  // (remote_view()): the mesh then splits the uplink anew.
  bool on_data_channel_message(std::int64_t now, const std::string& text);

  // Whether the current connection carries media now (what recovery acts on).
  Transport transport_state() const { return transport_; }

  // ---- from the client
  // The mesh's IceSettings changed (fresh ICE servers): the live connection
  // gets them with setConfiguration, so that an ICE restart uses them.
  void on_ice_settings_changed(std::int64_t now);
  void on_timer(std::int64_t now, int timer);
  void on_signaling_up(std::int64_t now);
  // The device's network changed (reported while signaling is up): see
  // ConnectionRecovery::on_network_change.
  void on_network_change(std::int64_t now, std::int64_t changed_at);
  void on_local_track_changed(MediaKind kind, const std::string& old_track);
  void set_sender_budget(SenderBudget budget);
  void request_stats(std::int64_t now);
  // Our microphone and camera (LocalMedia::live) to the peer, if the data
  // channel is open. Not queued: the channel's opening sends the state then
  // current, and only the latest one matters.
  void send_media_state(std::int64_t now);
  // How large we draw the peer's video (a view height, see peer_signal.hpp;
  // 0: not at all). Told to the peer when it changed enough to matter, and
  // again at every opening of the data channel.
  void set_local_view(std::int64_t now, int height);
  // How large the peer draws ours: kViewUnknown until it says.
  int remote_view() const { return remote_view_; }
  int local_view() const { return local_view_; }

 private:
  void create_pc(std::int64_t now, Opener opener);
  void close_pc();
  // Carries out what the recovery decided.
  void apply(std::int64_t now, RecoveryAction action);
  // The impolite end restarts ICE; the polite end asks it to (see peer_signal.hpp).
  void restart_ice(std::int64_t now);
  void on_restart_request(std::int64_t now);
  // The peer made a fresh connection: ours is replaced by one that pairs with it.
  void follow_fresh_connection(std::int64_t now);
  void adopt(int remote_gen);
  Transport transport() const;
  void on_transport_change(std::int64_t now);

  std::uint64_t send(PeerSignal signal);  // returns the seq it was sent with
  void handle_description(std::int64_t now, const PeerSignal& s);
  void handle_candidate(std::int64_t now, const PeerSignal& s);
  // The peer's description is set: the candidates that waited for it go in.
  void on_peer_description_applied(const std::string& sdp);
  void add_candidate(const std::string& candidate_json);
  // In a relay-only meeting: false for a candidate that is not `typ relay`
  // (an empty one, the end of candidates, passes). Always true otherwise.
  bool candidate_allowed(const std::string& candidate_json) const;
  // In a relay-only meeting, the SDP without its non-relay candidates
  // (`direction` is for the log); otherwise the SDP as it is.
  std::string filter_sdp(const std::string& sdp, const char* direction);
  // The peer's description as our browser is given it: filtered as above,
  // with Opus DTX asked for (sdp_fields.hpp), so that our audio goes quiet in
  // silence and while muted, and with the audio packet time of the meeting's
  // size (media_.audio_packet_ms) when it is not the browsers' 20 ms.
  std::string peer_description(const std::string& sdp);

  CoreContext& ctx_;
  std::string self_, peer_;
  bool polite_;
  const IceSettings& ice_settings_;
  std::string pc_configuration_;  // what the current connection was created or last set with
  const LocalMedia& media_;

  ConnectionRecovery recovery_;
  Negotiator negotiator_;
  CandidateQueue candidates_;

  // The current peer connection and its pairing with the peer's (see peer_signal.hpp).
  int pc_ = 0;
  int gen_ = 0;
  int remote_gen_ = 0;
  int highest_remote_gen_ = 0;
  std::uint64_t next_seq_ = 1;
  std::set<std::uint64_t> seen_seqs_;
  std::uint64_t newest_description_seq_ = 0;
  std::set<int> candidate_ops_;  // our addIceCandidate calls, until they settle

  IceConnectionState ice_ = IceConnectionState::New;
  PeerConnectionState connection_ = PeerConnectionState::New;
  Transport transport_ = Transport::Pending;

  bool dc_open_ = false;
  MediaState remote_media_{false, false, false};  // kept across connections: the peer's choice, not the connection's
  // Views (see peer_signal.hpp), kept across connections like the media
  // state: the tiles do not change with the connection.
  int local_view_ = kViewUnknown;  // ours of the peer's video, as last set
  int sent_view_ = kViewUnknown;   // what the peer last heard of it on this connection's data channel
  int signaled_view_ = kViewUnknown;  // and through signaling, before the channel opened
  bool described_ = false;            // whether we sent a description on this connection
  int remote_view_ = kViewUnknown;
  void send_view();
  // Before the data channel opens, a view learnt after our description went
  // out goes by signaling (peer_signal.hpp).
  void signal_view();
  // The peer's view, from its data channel or its signals: whether it changed.
  bool take_remote_view(int view);
  void take_signaled_view(const PeerSignal& s);

  SenderParameters sender_parameters_;

  PeerTrust trust_;  // before verification_, which refers to it
  VerificationCode verification_;
};

}  // namespace meshmeet::core
