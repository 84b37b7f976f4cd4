// A short code both people in a pair can read to each other, proving that
// the DTLS connection carrying their media ends at the other person and not
// at a middleman (a signaling server that swapped descriptions would hold two
// connections, one with each of them, with different certificates).
//
// Six digits, "123 456", from both ends' certificate fingerprints (every
// a=fingerprint line of each end's SDP, canonical: sdp_fields.hpp) and two nonces
// exchanged commit-then-reveal over the connection's own data channel:
//   committer → responder  vc-commit  SHA-256("meshmeet-vc-commit-v1\n" nC "\n" fpC)
//   responder → committer  vc-nonce   nR
//   committer → responder  vc-reveal  nC   (the responder checks the commitment)
//   code = SHA-256("meshmeet-verification-v2\n" fpC "\n" fpR "\n" nC "\n" nR), first 8 bytes mod 10^6
// Why the commitment: with fingerprints alone a middleman could mint
// certificates until the two codes it causes collide (about 10^6 tries).
// Here each side's code depends on a nonce it could not know when it had to
// commit to its own, so a middleman matches the two codes with probability
// 10^-6 per attempt, and a failed attempt shows as codes that differ.
// The impolite end of a connection commits; nonces come from the client's
// entropy (CoreContext::fresh_nonce).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "wasm/core/context.hpp"
#include "wasm/core/peer_trust.hpp"
#include "wasm/core/sdp_fields.hpp"

namespace meshmeet::core {

std::array<std::uint8_t, 32> sha256(std::string_view data);

// The code for the committer's and the responder's fingerprints (as
// sdp_fingerprints gives them, canonical) and nonces.
std::string verification_code(std::string_view committer_fingerprint, std::string_view responder_fingerprint,
                              std::string_view committer_nonce, std::string_view responder_nonce);
// The committer's commitment to its nonce and fingerprint (64 hex digits).
std::string verification_commitment(std::string_view committer_nonce, std::string_view committer_fingerprint);

enum class VerificationState {
  AwaitingExchange,  // fingerprints, the data channel or the peer's messages still missing
  Ready,             // code known
  Mismatch,          // the reveal broke the commitment: not shown, reported as an error
};
std::string_view to_string(VerificationState state);

// One peer connection's code: fed the local and remote SDPs as they are set
// and the vc-* messages of the data channel. What it has to send comes back
// as data-channel texts for the caller to send.
class VerificationCode {
 public:
  // `trust` (the peer's, kept across connections) hears of every code shown.
  VerificationCode(CoreContext& ctx, std::string peer, PeerTrust& trust) : ctx_(ctx), peer_(std::move(peer)), trust_(trust) {}

  // A description of the peer's, before it is applied: false (the code is
  // gone for good on this connection, verification-failed reported) when
  // its fingerprints disagree; it must then not be applied.
  bool admit_remote_sdp(std::string_view sdp);
  // Each returns true when the code became known or changed (and emits VerificationCodeReady).
  bool set_local_sdp(std::string_view sdp);
  bool set_remote_sdp(std::string_view sdp);
  // The certificate the browser's DTLS authenticated (getRemoteCertificates),
  // as "sha-256 AB:…": it must be one the peer's description named, or the
  // code is withdrawn and verification-failed reported. Where the browser
  // cannot say, the code rests on the browser having checked the SDP.
  void on_remote_certificate(std::string_view fingerprint);
  // The person compared the code now shown and vouches for it (PeerTrust),
  // and the code is sent again with that trust: false when no code is shown.
  bool mark_verified();
  // A fresh peer connection: new certificates, new nonces. `committer`: this
  // end commits (the impolite one; the other end takes the other role).
  void reset(bool committer);
  // The data channel opened: the committer's vc-commit, if it can be made.
  std::vector<std::string> on_channel_open();
  // A data-channel text: false if it is not a vc-* message. Replies go to `send`.
  bool on_message(std::string_view text, std::vector<std::string>& send);

  VerificationState state() const { return state_; }
  const std::string& code() const { return code_; }

 private:
  bool update();
  void check_certificate();
  // The code is withdrawn for good on this connection; the app is told.
  void fail(std::string why, const std::string& message);
  void emit_code();
  void set_state(VerificationState next, std::string why);  // the single mutator

  CoreContext& ctx_;
  std::string peer_;
  PeerTrust& trust_;
  VerificationState state_ = VerificationState::AwaitingExchange;
  std::string local_;      // our fingerprints, SdpFingerprints::canonical()
  SdpFingerprints remote_;  // the peer's, as its description named them
  std::string code_;
  std::string certificate_;  // what DTLS authenticated, as one SdpFingerprints line ("" = not told)
  bool committer_ = false;
  std::string own_nonce_;     // made when first needed
  std::string peer_nonce_;    // nR (we commit) or nC once revealed (we respond)
  std::string peer_commit_;   // the committer's commitment (we respond)
  bool commit_sent_ = false;  // (we commit)
};

}  // namespace meshmeet::core
