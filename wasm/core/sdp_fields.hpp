// What the core reads from (and, in a relay-only meeting, removes from) an
// SDP or a trickled candidate: the DTLS fingerprint (for the verification
// code), the ICE username fragment (to match trickled candidates to the
// description they belong to) and the type of each ICE candidate. Everything
// else in the SDP is the browser's business.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meshmeet::core {

// Every DTLS certificate fingerprint an SDP names, for the verification
// code. The browser checks the peer's certificate against one of them, and
// which one depends on where each line is (a media-level line overrides the
// session-level one, and within a section the last line wins): a hostile
// signaling server could put the honest fingerprint where the code is read
// and its own where the browser looks. So the code covers every line, and an
// SDP naming two different fingerprints of one hash algorithm is refused.
struct SdpFingerprints {
  // Each distinct line as "<algorithm lowercase> <HEX:UPPER>", sorted.
  std::vector<std::string> lines;
  // Why the SDP must be refused ("" when it need not): two different values
  // for one algorithm, or a malformed fingerprint line.
  std::string problem;
  // The lines joined by ","; "" when the SDP names none.
  std::string canonical() const;
};
SdpFingerprints sdp_fingerprints(std::string_view sdp);
// One fingerprint ("<algorithm> <hex pairs>", as an a=fingerprint value or as
// a browser reports a certificate's) in the form of SdpFingerprints::lines;
// nullopt when malformed.
std::optional<std::string> normalized_fingerprint(std::string_view value);
// The first `a=ice-ufrag:` value, or "".
std::string sdp_ice_ufrag(std::string_view sdp);

// RFC 8839 cand-type.
enum class CandidateType { Host, ServerReflexive, PeerReflexive, Relay };
std::string_view to_string(CandidateType type);  // "host", "srflx", "prflx", "relay"

// The type of an ICE candidate attribute, as trickled ("candidate:…") or as
// an SDP line ("a=candidate:…", a trailing CR allowed). Read by position
// (foundation, component, transport, priority, address, port, "typ", type),
// so a later "typ relay" among the extensions cannot disguise a host
// candidate. nullopt for anything malformed or of an unknown type.
std::optional<CandidateType> ice_candidate_type(std::string_view candidate);

// Whether a candidate (read as ice_candidate_type reads it) is an active TCP
// candidate: transport "tcp" with "tcptype active", one that only connects
// out, to the other end's passive candidates (RFC 6544). The other end needs
// nothing from it: a check that arrives from an address it was not told of
// is a peer-reflexive candidate there (RFC 8445 §7.3.1.3).
bool is_active_tcp_candidate(std::string_view candidate);

// The SDP without its `a=candidate:` lines that are not relay candidates
// (malformed ones included), in every m-section. Every other line, its line
// ending (CRLF or LF) and `a=end-of-candidates` are kept byte for byte.
// `removed` is set to the number of lines taken out.
std::string sdp_relay_candidates_only(std::string_view sdp, int& removed);

// The peer's SDP with `usedtx=1` on every Opus format that does not say
// usedtx (RFC 7587: the receiver prefers discontinuous transmission), so
// that our browser's Opus encoders stop sending in silence: a muted or quiet
// participant sends a few packets a second to each peer instead of 50 (a
// browser's sender takes its Opus parameters from the peer's description).
// An Opus format without an `a=fmtp` line gets one after its `a=rtpmap`; a
// peer that says `usedtx=0` keeps it. Payload types are read per m-section;
// every other line and its line ending are kept byte for byte. `changed` is
// set to the number of formats changed.
std::string sdp_with_opus_dtx(std::string_view sdp, int& changed);

// The peer's SDP with `a=ptime:<packet_ms>` in every m-section that carries
// Opus and says no `a=ptime` (RFC 7587: the duration the receiver prefers in
// a packet), so that our browser's Opus encoder for that peer sends packets
// of that length (see audio_packet_ms in uplink_budget.hpp for why). The
// line follows the section's first Opus `a=rtpmap`; a peer's own `a=ptime`
// is kept. Every other line and its line ending are kept byte for byte.
// `changed` is set to the number of sections changed.
std::string sdp_with_audio_packet_time(std::string_view sdp, int packet_ms, int& changed);

}  // namespace meshmeet::core
