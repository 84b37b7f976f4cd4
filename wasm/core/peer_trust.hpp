// Whether the person has verified a peer: they read the verification code
// aloud, it matched, and they said so (`meeting.markVerified`). It outlives
// the pair's connections, because the person verified the peer, not a
// connection: when a later connection shows another code (a fresh
// connection has new certificates and nonces, and so does a middleman's),
// the peer is not quietly shown as verified with other digits; the app is
// told the code changed and the people must compare again.
//
//   Unverified ─mark─▶ Verified ─another code─▶ CodeChanged ─mark─▶ Verified
#pragma once

#include <string>
#include <string_view>

#include "wasm/core/context.hpp"

namespace meshmeet::core {

enum class TrustState {
  Unverified,   // never marked
  Verified,     // marked, and the code shown now is the one that was marked
  CodeChanged,  // marked once, and the code shown now is another one
};
std::string_view to_string(TrustState state);  // "unverified", "verified", "changed"

class PeerTrust {
 public:
  PeerTrust(CoreContext& ctx, std::string peer) : ctx_(ctx), peer_(std::move(peer)) {}

  TrustState state() const { return state_; }

  // The person marks the peer verified with the code now shown: false when
  // there is no code to vouch for.
  bool mark(const std::string& code);
  // A code is shown for the peer (a new one, or the same one again).
  void on_code(const std::string& code);

 private:
  void set_state(TrustState next, std::string why);  // the single mutator

  CoreContext& ctx_;
  std::string peer_;
  TrustState state_ = TrustState::Unverified;
  std::string marked_code_;  // the code the person vouched for
};

}  // namespace meshmeet::core
