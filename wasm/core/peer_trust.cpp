#include "wasm/core/peer_trust.hpp"

namespace meshmeet::core {

std::string_view to_string(TrustState state) {
  switch (state) {
    case TrustState::Unverified: return "unverified";
    case TrustState::Verified: return "verified";
    case TrustState::CodeChanged: return "changed";
  }
  return "unverified";
}

void PeerTrust::set_state(TrustState next, std::string why) {
  if (next == state_) return;
  ctx_.transition("peer-trust", peer_, to_string(state_), to_string(next), std::move(why));
  state_ = next;
}

bool PeerTrust::mark(const std::string& code) {
  if (code.empty()) return false;
  marked_code_ = code;
  set_state(TrustState::Verified, "the person compared the code and marked it");
  return true;
}

void PeerTrust::on_code(const std::string& code) {
  if (state_ == TrustState::Unverified || code.empty()) return;
  if (code == marked_code_)
    set_state(TrustState::Verified, "the marked code is shown again");
  else
    set_state(TrustState::CodeChanged, "another code than the one marked");
}

}  // namespace meshmeet::core
