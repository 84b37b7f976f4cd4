#include "protocol/utf8.hpp"

namespace meshmeet::protocol {

std::size_t utf8_sequence_length(const char* begin, const char* end) {
  const auto* p = reinterpret_cast<const unsigned char*>(begin);
  const unsigned char c = *p;
  if (c < 0x80) return 1;
  std::size_t extra;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    extra = 1;
  } else if (c == 0xE0) {
    extra = 2, lo = 0xA0;  // no overlongs
  } else if (c == 0xED) {
    extra = 2, hi = 0x9F;  // no surrogates
  } else if (c >= 0xE1 && c <= 0xEF) {
    extra = 2;
  } else if (c == 0xF0) {
    extra = 3, lo = 0x90;
  } else if (c >= 0xF1 && c <= 0xF3) {
    extra = 3;
  } else if (c == 0xF4) {
    extra = 3, hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (static_cast<std::size_t>(end - begin) <= extra) return 0;
  if (p[1] < lo || p[1] > hi) return 0;
  for (std::size_t i = 2; i <= extra; ++i)
    if ((p[i] & 0xC0) != 0x80) return 0;
  return extra + 1;
}

bool is_valid_utf8(std::string_view text) {
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    if (static_cast<unsigned char>(*p) < 0x80) {
      ++p;
      continue;
    }
    const std::size_t n = utf8_sequence_length(p, end);
    if (n == 0) return false;
    p += n;
  }
  return true;
}

std::size_t count_code_points(std::string_view valid_utf8) {
  std::size_t n = 0;
  for (unsigned char c : valid_utf8) n += (c & 0xC0) != 0x80;
  return n;
}

bool has_control_characters(std::string_view text) {
  for (unsigned char c : text)
    if (c < 0x20 || c == 0x7F) return true;
  return false;
}

}  // namespace meshmeet::protocol
