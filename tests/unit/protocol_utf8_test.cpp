// protocol/utf8: strict RFC 3629 validation, code point counting and the
// control-character rule for names.
#include <doctest/doctest.h>

#include <string>

#include "protocol/utf8.hpp"

using meshmeet::protocol::count_code_points;
using meshmeet::protocol::has_control_characters;
using meshmeet::protocol::is_valid_utf8;

namespace {
// Bytes as a string, NULs included.
std::string bytes(std::initializer_list<unsigned> list) {
  std::string out;
  for (unsigned b : list) out.push_back(static_cast<char>(b));
  return out;
}
}  // namespace

TEST_CASE("utf8: valid text of every sequence length") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8(std::string("nul\0inside", 10)));  // U+0000 is valid UTF-8
  CHECK(is_valid_utf8("\x7F"));                            // DEL, last one-byte
  CHECK(is_valid_utf8("\xC2\x80"));                        // U+0080, first two-byte
  CHECK(is_valid_utf8("\xC3\xA9t\xC3\xA9"));               // "été"
  CHECK(is_valid_utf8("\xDF\xBF"));                        // U+07FF, last two-byte
  CHECK(is_valid_utf8("\xE0\xA0\x80"));                    // U+0800, first three-byte
  CHECK(is_valid_utf8("\xE2\x82\xAC"));                    // €
  CHECK(is_valid_utf8("\xED\x9F\xBF"));                    // U+D7FF, just below the surrogates
  CHECK(is_valid_utf8("\xEE\x80\x80"));                    // U+E000, just above them
  CHECK(is_valid_utf8("\xEF\xBF\xBF"));                    // U+FFFF
  CHECK(is_valid_utf8("\xF0\x90\x80\x80"));                // U+10000, first four-byte
  CHECK(is_valid_utf8("\xF0\x9F\x98\x80"));                // 😀
  CHECK(is_valid_utf8("\xF4\x8F\xBF\xBF"));                // U+10FFFF, the last code point
}

TEST_CASE("utf8: stray and impossible bytes are refused") {
  CHECK_FALSE(is_valid_utf8("\x80"));            // lone continuation byte
  CHECK_FALSE(is_valid_utf8("a\xBF" "b"));       // continuation in the middle of ASCII
  CHECK_FALSE(is_valid_utf8("\xFE"));
  CHECK_FALSE(is_valid_utf8("\xFF"));
  CHECK_FALSE(is_valid_utf8("\xF8\x88\x80\x80\x80"));  // old five-byte form
  CHECK_FALSE(is_valid_utf8("\xC3\x28"));        // lead byte followed by ASCII
  CHECK_FALSE(is_valid_utf8("\xE2\x28\xA1"));    // bad second byte of three
  CHECK_FALSE(is_valid_utf8("\xE2\x82\x28"));    // bad third byte of three
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98\x28"));  // bad fourth byte of four
}

TEST_CASE("utf8: overlong encodings are refused") {
  CHECK_FALSE(is_valid_utf8("\xC0\x80"));          // overlong NUL
  CHECK_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xC1\xBF"));          // overlong U+007F
  CHECK_FALSE(is_valid_utf8("\xE0\x80\xAF"));      // three-byte overlong '/'
  CHECK_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // three-byte overlong U+07FF
  CHECK_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));  // four-byte overlong '/'
  CHECK_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));  // four-byte overlong U+FFFF
}

TEST_CASE("utf8: UTF-16 surrogates are refused") {
  CHECK_FALSE(is_valid_utf8("\xED\xA0\x80"));                  // U+D800
  CHECK_FALSE(is_valid_utf8("\xED\xAD\xBF"));                  // U+DB7F
  CHECK_FALSE(is_valid_utf8("\xED\xB0\x80"));                  // U+DC00
  CHECK_FALSE(is_valid_utf8("\xED\xBF\xBF"));                  // U+DFFF
  CHECK_FALSE(is_valid_utf8("\xED\xA0\xBD\xED\xB8\x80"));      // CESU-8 pair for 😀
}

TEST_CASE("utf8: nothing above U+10FFFF") {
  CHECK_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  CHECK_FALSE(is_valid_utf8("\xF4\xBF\xBF\xBF"));
  CHECK_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xF7\xBF\xBF\xBF"));
}

TEST_CASE("utf8: truncated sequences are refused, also at the very end") {
  CHECK_FALSE(is_valid_utf8("\xC3"));
  CHECK_FALSE(is_valid_utf8("abc\xC3"));
  CHECK_FALSE(is_valid_utf8("\xE2\x82"));
  CHECK_FALSE(is_valid_utf8("\xE2"));
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98"));
  CHECK_FALSE(is_valid_utf8("\xF0\x9F"));
  CHECK_FALSE(is_valid_utf8("\xF0"));
  // A truncated sequence followed by a complete one is still invalid.
  CHECK_FALSE(is_valid_utf8("\xE2\x82" "\xE2\x82\xAC"));
  CHECK_FALSE(is_valid_utf8("\xF0\x9F\x98" "a"));
  // Never reads past the view: a valid continuation right behind the end must not count.
  const std::string buffer = "\xE2\x82\xAC";
  CHECK_FALSE(is_valid_utf8(std::string_view(buffer.data(), 2)));
  CHECK(is_valid_utf8(std::string_view(buffer.data(), 3)));
}

TEST_CASE("utf8: every single lead byte alone") {
  for (unsigned b = 0; b < 0x80; ++b) CHECK(is_valid_utf8(bytes({b})));
  for (unsigned b = 0x80; b <= 0xFF; ++b) CHECK_FALSE(is_valid_utf8(bytes({b})));
}

TEST_CASE("utf8: code points are counted, not bytes") {
  CHECK(count_code_points("") == 0);
  CHECK(count_code_points("abc") == 3);
  CHECK(count_code_points("\xC3\xA9t\xC3\xA9") == 3);                 // été
  CHECK(count_code_points("\xE2\x82\xAC") == 1);                      // €
  CHECK(count_code_points("\xF0\x9F\x98\x80\xF0\x9F\x98\x80") == 2);  // 😀😀
  CHECK(count_code_points(std::string("a\0b", 3)) == 3);
  // A family emoji is one grapheme but 5 code points (ZWJ sequence): code points are what counts.
  CHECK(count_code_points("\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7") == 5);
  std::string emoji64;
  for (int i = 0; i < 64; ++i) emoji64 += "\xF0\x9F\x98\x80";
  CHECK(emoji64.size() == 256);
  CHECK(count_code_points(emoji64) == 64);
}

TEST_CASE("utf8: control characters in names") {
  CHECK_FALSE(has_control_characters(""));
  CHECK_FALSE(has_control_characters("Ada Lovelace"));
  CHECK_FALSE(has_control_characters("\xC3\xA9\xF0\x9F\x98\x80 ~"));
  CHECK(has_control_characters(std::string("a\0b", 3)));
  CHECK(has_control_characters("tab\there"));
  CHECK(has_control_characters("line\nbreak"));
  CHECK(has_control_characters("\r"));
  CHECK(has_control_characters("\x1B[31m"));  // terminal escape
  CHECK(has_control_characters("\x1F"));
  CHECK(has_control_characters("del\x7F"));
  CHECK_FALSE(has_control_characters(" "));   // U+0020 is the first printable
}
