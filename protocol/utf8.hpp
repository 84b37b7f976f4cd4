// UTF-8 facts the protocol needs: validity and length in code points.
#pragma once

#include <cstddef>
#include <string_view>

namespace meshmeet::protocol {

// Strict RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF.
bool is_valid_utf8(std::string_view text);

// The length of the one UTF-8 sequence that starts at `p` (before `end`),
// by the same rules; 0 when it is not a valid one.
std::size_t utf8_sequence_length(const char* p, const char* end);

// Code points in valid UTF-8 (lengths in the protocol count code points).
std::size_t count_code_points(std::string_view valid_utf8);

// True when the text holds a C0 control character or DEL: not allowed in names.
bool has_control_characters(std::string_view text);

}  // namespace meshmeet::protocol
