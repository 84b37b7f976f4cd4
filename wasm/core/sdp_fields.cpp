#include "wasm/core/sdp_fields.hpp"

#include <cctype>

namespace meshmeet::core {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// The value after `prefix` on the first line that starts with it.
std::string_view attribute(std::string_view sdp, std::string_view prefix) {
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t end = sdp.find('\n', pos);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = sdp.substr(pos, end - pos);
    if (line.substr(0, prefix.size()) == prefix) return trim(line.substr(prefix.size()));
    pos = end + 1;
  }
  return {};
}

}  // namespace

std::string sdp_fingerprint(std::string_view sdp) {
  std::string_view value = attribute(sdp, "a=fingerprint:");
  const std::size_t space = value.find(' ');
  if (space == std::string_view::npos) return {};
  std::string out;
  for (char c : value.substr(0, space)) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += ' ';
  for (char c : trim(value.substr(space + 1))) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string sdp_ice_ufrag(std::string_view sdp) { return std::string(attribute(sdp, "a=ice-ufrag:")); }

}  // namespace meshmeet::core
