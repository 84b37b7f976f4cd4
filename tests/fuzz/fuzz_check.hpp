// What the fuzz harnesses share: a failed property prints both sides (control
// bytes escaped, so a NUL shows) and aborts, so libFuzzer keeps the input.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace meshmeet::fuzz {

inline void print_escaped(const char* label, std::string_view text) {
  std::fprintf(stderr, "  %s (%zu bytes): ", label, text.size());
  const std::size_t shown = text.size() > 2000 ? 2000 : text.size();
  for (std::size_t i = 0; i < shown; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F || c == '\\') std::fprintf(stderr, "\\x%02x", c);
    else std::fputc(c, stderr);
  }
  std::fprintf(stderr, shown < text.size() ? "…\n" : "\n");
}

[[noreturn]] inline void fail(const char* property, std::string_view first = {}, std::string_view second = {}) {
  std::fprintf(stderr, "\n*** property violated: %s\n", property);
  if (!first.empty()) print_escaped("first", first);
  if (!second.empty()) print_escaped("second", second);
  std::abort();
}

inline void check(bool ok, const char* property, std::string_view first = {}, std::string_view second = {}) {
  if (!ok) fail(property, first, second);
}

}  // namespace meshmeet::fuzz
