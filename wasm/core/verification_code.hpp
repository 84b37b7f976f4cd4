// A short code both people in a pair can read to each other: derived from
// the two DTLS certificate fingerprints that secure their media, in an
// order-independent way, so it is identical at both ends. If a signaling
// server swapped descriptions to sit in the middle, each side would see a
// different fingerprint for "the other" and the codes would differ.
//
// Six digits, "123 456": like every short authentication string without a
// commitment step, it stops a middleman only if finding a certificate pair
// that collides on 20 bits in real time is impractical; see wasm/README.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "wasm/core/context.hpp"

namespace meshmeet::core {

std::array<std::uint8_t, 32> sha256(std::string_view data);

// The code for two fingerprints (as sdp_fingerprint gives them), in either order.
std::string verification_code(std::string_view fingerprint_a, std::string_view fingerprint_b);

enum class VerificationState {
  AwaitingFingerprints,  // one or both descriptions not seen yet
  Ready,                 // code known
};
std::string_view to_string(VerificationState state);

// One peer connection's code: fed the local and remote SDPs as they are set.
class VerificationCode {
 public:
  VerificationCode(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  // Each returns true when the code became known or changed (and emits VerificationCodeReady).
  bool set_local_sdp(std::string_view sdp);
  bool set_remote_sdp(std::string_view sdp);
  void reset();
  void rename(std::string peer) { peer_ = std::move(peer); }  // the peer rejoined under a new id  // a fresh peer connection: new certificates

  VerificationState state() const { return state_; }
  const std::string& code() const { return code_; }

 private:
  bool update();
  void set_state(VerificationState next, std::string why);  // the single mutator

  CoreContext& ctx_;
  std::string peer_;
  VerificationState state_ = VerificationState::AwaitingFingerprints;
  std::string local_, remote_, code_;
};

}  // namespace meshmeet::core
