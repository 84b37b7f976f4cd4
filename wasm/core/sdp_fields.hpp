// The two things the core reads from an SDP: the DTLS fingerprint (for the
// verification code) and the ICE username fragment (to match trickled
// candidates to the description they belong to). Everything else in the SDP
// is the browser's business.
#pragma once

#include <string>
#include <string_view>

namespace meshmeet::core {

// The first `a=fingerprint:` line as "<algorithm lowercase> <HEX:UPPER>", or "".
std::string sdp_fingerprint(std::string_view sdp);
// The first `a=ice-ufrag:` value, or "".
std::string sdp_ice_ufrag(std::string_view sdp);

}  // namespace meshmeet::core
