// libFuzzer: a peer's SDP as the client core reads and edits it before the
// browser gets it (a hostile signaling server can send any text). Properties:
//  - every fingerprint read is in its normal form (normalizing it again
//    gives the same line);
//  - the DTX edit loses and reorders nothing: every input line but the
//    `a=fmtp` ones (which it may extend) is in the output, in order, byte
//    for byte; it is idempotent, and a pass that says it changed nothing
//    gives the same bytes;
//  - the packet time edit only adds lines (every input line is in the
//    output, in order), is idempotent, and changes nothing it says it did not;
//  - the relay-only filter only removes whole lines, and is idempotent.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "wasm/core/sdp_fields.hpp"

using namespace meshmeet::core;
using meshmeet::fuzz::check;

namespace {

bool is_fmtp_line(std::string_view line) {
  constexpr std::string_view kFmtp = "a=fmtp:";
  if (line.size() < kFmtp.size()) return false;
  for (std::size_t i = 0; i < kFmtp.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(line[i])) != kFmtp[i]) return false;
  return true;
}

// `sdp` without its a=fmtp lines.
std::string without_fmtp_lines(std::string_view sdp) {
  std::string out;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t end = sdp.find('\n', pos);
    end = end == std::string_view::npos ? sdp.size() : end + 1;
    if (!is_fmtp_line(sdp.substr(pos, end - pos))) out.append(sdp.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// Whether `whole` holds every line of `part` (with its ending) in order.
bool lines_in_order(std::string_view part, std::string_view whole) {
  std::size_t pos = 0, at = 0;
  while (pos < part.size()) {
    std::size_t end = part.find('\n', pos);
    end = end == std::string_view::npos ? part.size() : end + 1;
    const std::string_view line = part.substr(pos, end - pos);
    const std::size_t found = whole.find(line, at);
    if (found == std::string_view::npos) return false;
    at = found + line.size();
    pos = end;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view sdp(reinterpret_cast<const char*>(data), size);

  for (const std::string& line : sdp_fingerprints(sdp).lines)
    check(normalized_fingerprint(line) == line, "a fingerprint read is in its normal form", sdp, line);
  (void)sdp_ice_ufrag(sdp);
  (void)ice_candidate_type(sdp);

  int changed = -1;
  const std::string with_dtx = sdp_with_opus_dtx(sdp, changed);
  check(changed >= 0, "the DTX edit counts what it changed", sdp);
  check(changed > 0 || with_dtx == sdp, "no change, the same bytes", sdp);
  check(lines_in_order(without_fmtp_lines(sdp), with_dtx), "the DTX edit keeps every other line in order", sdp, with_dtx);
  int again = -1;
  check(sdp_with_opus_dtx(with_dtx, again) == with_dtx && again == 0, "the DTX edit is idempotent", sdp);

  const std::string with_ptime = sdp_with_audio_packet_time(sdp, 40, changed);
  check(changed >= 0, "the packet time edit counts what it changed", sdp);
  check(changed > 0 || with_ptime == sdp, "no change, the same bytes", sdp);
  check(lines_in_order(sdp, with_ptime), "the packet time edit only adds lines", sdp, with_ptime);
  check(sdp_with_audio_packet_time(with_ptime, 40, again) == with_ptime && again == 0, "the packet time edit is idempotent", sdp);

  int removed = -1;
  const std::string relayed = sdp_relay_candidates_only(sdp, removed);
  check(removed >= 0 && relayed.size() <= sdp.size(), "the relay filter only removes", sdp);
  check(lines_in_order(relayed, sdp), "the relay filter keeps whole lines in order", sdp);
  int removed_again = -1;
  check(sdp_relay_candidates_only(relayed, removed_again) == relayed && removed_again == 0, "the relay filter is idempotent",
        sdp);
  return 0;
}
