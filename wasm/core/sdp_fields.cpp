#include "wasm/core/sdp_fields.hpp"

#include <cctype>
#include <map>
#include <set>
#include <vector>

namespace meshmeet::core {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
  return s;
}

std::string_view trim_end(std::string_view s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) s.remove_suffix(1);
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

// The lines of `text`, each with its line ending.
std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    end = end == std::string_view::npos ? text.size() : end + 1;
    out.push_back(text.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

std::string_view line_ending(std::string_view line) {
  if (line.size() >= 2 && line.substr(line.size() - 2) == "\r\n") return "\r\n";
  if (!line.empty() && line.back() == '\n') return "\n";
  return {};
}

// ABNF string literals are case-insensitive ("typ", "relay", "candidate:").
bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

bool all_digits(std::string_view s, std::size_t max_length) {
  if (s.empty() || s.size() > max_length) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::vector<std::string_view> split_on_spaces(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t pos = 0;
  while (pos < s.size()) {
    while (pos < s.size() && (s[pos] == ' ' || s[pos] == '\t')) ++pos;
    std::size_t end = pos;
    while (end < s.size() && s[end] != ' ' && s[end] != '\t') ++end;
    if (end > pos) out.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

// RFC 8122: hex pairs separated by colons ("AB:CD:…"), either case.
bool is_fingerprint_value(std::string_view value) {
  if (value.size() < 2 || value.size() % 3 != 2) return false;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (i % 3 == 2 ? value[i] != ':' : !std::isxdigit(static_cast<unsigned char>(value[i]))) return false;
  }
  return true;
}

bool is_candidate_line(std::string_view line) {
  constexpr std::string_view kPrefix = "a=candidate:";
  return line.size() >= kPrefix.size() && equals_ignoring_case(line.substr(0, kPrefix.size()), kPrefix);
}

// "<pt>" when `line` is `a=<name>:<pt> <rest>` (the attribute name in any
// case), with `rest` set to what follows the space; "" otherwise.
std::string_view format_attribute(std::string_view line, std::string_view name, std::string_view& rest) {
  line = trim_end(line);  // an SDP line starts with its type: " a=fmtp…" is no attribute
  const std::size_t colon = line.find(':');
  if (colon == std::string_view::npos || !equals_ignoring_case(line.substr(0, colon), name)) return {};
  const std::string_view value = line.substr(colon + 1);
  const std::size_t space = value.find(' ');
  const std::string_view pt = value.substr(0, space);
  if (!all_digits(pt, 3)) return {};
  rest = space == std::string_view::npos ? std::string_view{} : trim(value.substr(space + 1));
  return pt;
}

bool says_usedtx(std::string_view params) {
  std::size_t pos = 0;
  while (pos <= params.size()) {
    std::size_t end = params.find(';', pos);
    if (end == std::string_view::npos) end = params.size();
    const std::string_view param = trim(params.substr(pos, end - pos));
    if (equals_ignoring_case(param.substr(0, param.find('=')), "usedtx")) return true;
    pos = end + 1;
  }
  return false;
}

// The end of the m-section (or of the session part before the first) that
// starts at `start`: the next "m=" line, or the end.
std::size_t section_end(const std::vector<std::string_view>& lines, std::size_t start) {
  std::size_t end = start + 1;
  while (end < lines.size() && lines[end].substr(0, 2) != "m=") ++end;
  return end;
}

}  // namespace

SdpFingerprints sdp_fingerprints(std::string_view sdp) {
  constexpr std::string_view kPrefix = "a=fingerprint:";
  SdpFingerprints out;
  std::map<std::string, std::string> by_algorithm;  // algorithm → value
  std::set<std::string> lines;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t end = sdp.find('\n', pos);
    if (end == std::string_view::npos) end = sdp.size();
    const std::string_view line = sdp.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, kPrefix.size()) != kPrefix) continue;
    const auto normalized = normalized_fingerprint(line.substr(kPrefix.size()));
    if (!normalized) {
      out.problem = "a malformed a=fingerprint line";
      return out;
    }
    const std::size_t space = normalized->find(' ');
    const std::string algorithm = normalized->substr(0, space);
    auto [it, inserted] = by_algorithm.emplace(algorithm, normalized->substr(space + 1));
    if (!inserted && it->second != normalized->substr(space + 1)) {
      out.problem = "two different " + algorithm + " fingerprints";
      return out;
    }
    lines.insert(*normalized);
  }
  out.lines.assign(lines.begin(), lines.end());
  return out;
}

std::optional<std::string> normalized_fingerprint(std::string_view value) {
  const auto fields = split_on_spaces(trim(value));
  if (fields.size() != 2 || !is_fingerprint_value(fields[1])) return std::nullopt;
  std::string out;
  for (char c : fields[0]) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  out += ' ';
  for (char c : fields[1]) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string SdpFingerprints::canonical() const {
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : ",") + l;
  return out;
}

std::string sdp_ice_ufrag(std::string_view sdp) { return std::string(attribute(sdp, "a=ice-ufrag:")); }

std::string_view to_string(CandidateType type) {
  switch (type) {
    case CandidateType::Host: return "host";
    case CandidateType::ServerReflexive: return "srflx";
    case CandidateType::PeerReflexive: return "prflx";
    case CandidateType::Relay: return "relay";
  }
  return "host";
}

namespace {
// A candidate attribute's fields by position: foundation, component,
// transport, priority, address, port, "typ", type, then the extensions as
// name-value pairs. Empty for anything malformed.
std::vector<std::string_view> candidate_fields(std::string_view candidate) {
  std::string_view s = trim(candidate);
  if (s.size() >= 2 && s.substr(0, 2) == "a=") s.remove_prefix(2);
  constexpr std::string_view kPrefix = "candidate:";
  if (s.size() < kPrefix.size() || !equals_ignoring_case(s.substr(0, kPrefix.size()), kPrefix)) return {};
  s.remove_prefix(kPrefix.size());
  auto f = split_on_spaces(s);
  if (f.size() < 8 || f[0].size() > 32 || !all_digits(f[1], 3) || f[2].empty() || !all_digits(f[3], 10) ||
      f[4].empty() || !all_digits(f[5], 5) || !equals_ignoring_case(f[6], "typ"))
    return {};
  return f;
}
}  // namespace

bool is_active_tcp_candidate(std::string_view candidate) {
  const auto f = candidate_fields(candidate);
  if (f.empty() || !equals_ignoring_case(f[2], "tcp")) return false;
  for (std::size_t i = 8; i + 1 < f.size(); i += 2)
    if (equals_ignoring_case(f[i], "tcptype")) return equals_ignoring_case(f[i + 1], "active");
  return false;
}

std::optional<CandidateType> ice_candidate_type(std::string_view candidate) {
  const auto f = candidate_fields(candidate);
  if (f.empty()) return std::nullopt;
  if (equals_ignoring_case(f[7], "host")) return CandidateType::Host;
  if (equals_ignoring_case(f[7], "srflx")) return CandidateType::ServerReflexive;
  if (equals_ignoring_case(f[7], "prflx")) return CandidateType::PeerReflexive;
  if (equals_ignoring_case(f[7], "relay")) return CandidateType::Relay;
  return std::nullopt;
}

std::string sdp_relay_candidates_only(std::string_view sdp, int& removed) {
  removed = 0;
  std::string out;
  out.reserve(sdp.size());
  for (const std::string_view line : lines_of(sdp)) {
    if (is_candidate_line(line) && ice_candidate_type(line) != CandidateType::Relay) {
      ++removed;
      continue;
    }
    out.append(line);
  }
  return out;
}

std::string sdp_with_opus_dtx(std::string_view sdp, int& changed) {
  changed = 0;
  const std::vector<std::string_view> lines = lines_of(sdp);
  std::string out;
  out.reserve(sdp.size() + 64);
  for (std::size_t section = 0, next = 0; section < lines.size(); section = next) {
    next = section_end(lines, section);
    std::set<std::string_view> opus, with_fmtp;
    for (std::size_t i = section; i < next; ++i) {
      std::string_view rest;
      if (const auto pt = format_attribute(lines[i], "a=rtpmap", rest); !pt.empty()) {
        if (equals_ignoring_case(rest.substr(0, rest.find('/')), "opus")) opus.insert(pt);
      } else if (const auto fpt = format_attribute(lines[i], "a=fmtp", rest); !fpt.empty()) {
        with_fmtp.insert(fpt);
      }
    }
    for (std::size_t i = section; i < next; ++i) {
      const std::string_view line = lines[i];
      const std::string_view ending = line_ending(line);
      std::string_view rest;
      if (const auto pt = format_attribute(line, "a=fmtp", rest); !pt.empty() && opus.count(pt) && !says_usedtx(rest)) {
        out.append(trim_end(line)).append(rest.empty() ? " usedtx=1" : ";usedtx=1").append(ending.empty() ? "" : ending);
        ++changed;
        continue;
      }
      out.append(line);
      if (const auto pt = format_attribute(line, "a=rtpmap", rest); !pt.empty() && opus.count(pt) && !with_fmtp.count(pt)) {
        if (ending.empty()) out.append("\r\n");
        out.append("a=fmtp:").append(pt).append(" usedtx=1").append(ending.empty() ? "" : ending);
        with_fmtp.insert(pt);
        ++changed;
      }
    }
  }
  return out;
}

std::string sdp_with_audio_packet_time(std::string_view sdp, int packet_ms, int& changed) {
  changed = 0;
  const std::vector<std::string_view> lines = lines_of(sdp);
  const std::string ptime = "a=ptime:" + std::to_string(packet_ms);
  std::string out;
  out.reserve(sdp.size() + 32);
  for (std::size_t section = 0, next = 0; section < lines.size(); section = next) {
    next = section_end(lines, section);
    bool says_ptime = false;
    std::size_t opus_line = next;  // none
    for (std::size_t i = section; i < next; ++i) {
      std::string_view rest;
      if (lines[i].substr(0, 8) == "a=ptime:") says_ptime = true;
      else if (const auto pt = format_attribute(lines[i], "a=rtpmap", rest);
               !pt.empty() && opus_line == next && equals_ignoring_case(rest.substr(0, rest.find('/')), "opus"))
        opus_line = i;
    }
    for (std::size_t i = section; i < next; ++i) {
      out.append(lines[i]);
      if (i != opus_line || says_ptime) continue;
      const std::string_view ending = line_ending(lines[i]);
      if (ending.empty()) out.append("\r\n");
      out.append(ptime).append(ending);
      ++changed;
    }
  }
  return out;
}

}  // namespace meshmeet::core
