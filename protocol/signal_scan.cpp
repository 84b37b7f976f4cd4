// The relay's fast path: one validating pass over a client message that
// recognises a well-formed `signal` and keeps the byte span of its `data`
// object, so the server can splice the sender's bytes into the relayed
// message without building (and re-serializing) a JSON document.
//
// The scanner accepts a subset of what the full parser accepts (never more):
// strict RFC 8259 JSON with the protocol's extra rules (nesting of at most
// kMaxJsonDepth containers, no duplicate key in any object, no raw NUL, valid
// UTF-8 and no lone surrogate escapes, no number that overflows a double).
// Everything else (other types, every error) goes to the full parser, which
// produces the exact error the protocol orders; tests check that the two
// agree on what they both accept.
#include <algorithm>
#include <array>
#include <clocale>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <vector>

#include "protocol/messages.hpp"
#include "protocol/utf8.hpp"

namespace meshmeet::protocol {
namespace {

// Bytes that may stand for themselves inside a JSON string and need no
// further check: printable ASCII except the quote and the backslash.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> t{};
  for (int c = 0x20; c < 0x80; ++c) t[static_cast<std::size_t>(c)] = c != '"' && c != '\\';
  return t;
}();

// The first byte at or after p that needs a look inside a string (quote,
// backslash, control character or any byte of a multi-byte sequence); long
// runs of plain ASCII, like SDP, go eight bytes at a time.
const char* skip_plain(const char* p, const char* end) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHighs = 0x8080808080808080ull;
  const auto has_zero = [](std::uint64_t v) { return (v - kOnes) & ~v; };  // & kHighs: some byte is 0
  while (end - p >= 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    const std::uint64_t special =
        has_zero(w ^ (kOnes * '"')) | has_zero(w ^ (kOnes * '\\')) | ((w - kOnes * 0x20) & ~w) | w;
    if (special & kHighs) break;
    p += 8;
  }
  while (p < end && kPlain[static_cast<unsigned char>(*p)]) ++p;
  return p;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Four hex digits at p (the caller made sure they are there); -1 if not hex.
long hex4(const char* p) {
  long v = 0;
  for (int i = 0; i < 4; ++i) {
    const int h = hex_value(p[i]);
    if (h < 0) return -1;
    v = v * 16 + h;
  }
  return v;
}

void append_utf8(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// The text of a string the scanner has validated (between the quotes),
// with its escapes decoded.
std::string decode(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const char c = raw[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'u': {
        unsigned long cp = static_cast<unsigned long>(hex4(raw.data() + i + 1));
        i += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) {  // validated: a low surrogate escape follows
          const unsigned long lo = static_cast<unsigned long>(hex4(raw.data() + i + 3));
          i += 6;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
        }
        append_utf8(out, cp);
        break;
      }
      default: out += e; break;  // " \ /
    }
  }
  return out;
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  std::optional<SignalSpan> signal() {
    if (!open_message()) return std::nullopt;
    const std::size_t base = keys_.size();
    bool have_type = false, have_to = false;
    SignalSpan out;
    const char* data_begin = nullptr;
    const char* data_end = nullptr;
    for (;;) {
      std::string_view key;
      if (!member_key(key)) return std::nullopt;
      skip_ws();
      if (p_ == end_) return std::nullopt;
      const char first = *p_;
      if (key == "type") {
        // Anything but the string "signal" is for the full parser: stop early.
        std::string_view raw;
        bool escaped = false;
        if (first != '"' || !string(raw, escaped)) return std::nullopt;
        if ((escaped ? decode(raw) : std::string(raw)) != "signal") return std::nullopt;
        have_type = true;
      } else if (key == "to") {
        std::string_view raw;
        bool escaped = false;
        if (first != '"' || !string(raw, escaped)) return std::nullopt;
        out.to = escaped ? decode(raw) : std::string(raw);
        have_to = true;
      } else if (key == "data") {
        if (first != '{') return std::nullopt;
        data_begin = p_;
        if (!value(2)) return std::nullopt;
        data_end = p_;
      } else if (!value(2)) {
        return std::nullopt;
      }
      const After next = after_member();
      if (next == After::Bad) return std::nullopt;
      if (next == After::Closed) break;
    }
    if (!unique_keys(base)) return std::nullopt;
    skip_ws();
    if (p_ != end_ || !have_type || !have_to || !data_begin) return std::nullopt;
    out.data = std::string_view(data_begin, static_cast<std::size_t>(data_end - data_begin));
    return out;
  }

  // The bytes of the value of top-level member `wanted` of a message object.
  std::optional<std::string_view> member(std::string_view wanted) {
    if (!open_message()) return std::nullopt;
    std::optional<std::string_view> found;
    for (;;) {
      std::string_view key;
      if (!member_key(key)) return std::nullopt;
      skip_ws();
      const char* begin = p_;
      if (!value(2)) return std::nullopt;
      if (key == wanted) found = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
      const After next = after_member();
      if (next == After::Bad) return std::nullopt;
      if (next == After::Closed) return found;
    }
  }

 private:
  // A message object up to its first member: one optional UTF-8 byte order
  // mark (the full parser accepts it too), whitespace, `{`. False for
  // anything else, and for `{}` (no message).
  bool open_message() {
    if (end_ - p_ >= 3 && static_cast<unsigned char>(p_[0]) == 0xEF && static_cast<unsigned char>(p_[1]) == 0xBB &&
        static_cast<unsigned char>(p_[2]) == 0xBF)
      p_ += 3;
    skip_ws();
    if (p_ == end_ || *p_ != '{') return false;
    ++p_;
    skip_ws();
    return p_ == end_ || *p_ != '}';
  }

  // What follows a member of the message object: `,` (another member) or
  // `}` (the end, consumed).
  enum class After { More, Closed, Bad };
  After after_member() {
    skip_ws();
    if (p_ == end_) return After::Bad;
    if (*p_ == ',') {
      ++p_;
      return After::More;
    }
    if (*p_ != '}') return After::Bad;
    ++p_;
    return After::Closed;
  }

  void skip_ws() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  // Any JSON value at p_ (whitespace skipped); a container it opens is at
  // nesting level `level` (the message object is level 1).
  bool value(int level) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{':
      case '[': return container(level);
      case '"': {
        std::string_view raw;
        bool escaped;
        return string(raw, escaped);
      }
      case 't': return literal("true", 4);
      case 'f': return literal("false", 5);
      case 'n': return literal("null", 4);
      default: return number();
    }
  }

  // An object or an array at p_, opening nesting level `level`.
  bool container(int level) {
    if (level > kMaxJsonDepth) return false;
    const bool is_object = *p_ == '{';
    const char close = is_object ? '}' : ']';
    ++p_;
    skip_ws();
    if (p_ < end_ && *p_ == close) {
      ++p_;
      return true;
    }
    const std::size_t base = keys_.size();
    for (;;) {
      std::string_view key;
      if (is_object && !member_key(key)) return false;
      skip_ws();
      if (!value(level + 1)) return false;
      skip_ws();
      if (p_ == end_) return false;
      if (*p_ == ',') {
        ++p_;
        continue;
      }
      if (*p_ != close) return false;
      ++p_;
      return !is_object || unique_keys(base);
    }
  }

  // `"key" :` with whitespace; the key (decoded) joins the current object's.
  bool member_key(std::string_view& key) {
    skip_ws();
    if (p_ == end_ || *p_ != '"') return false;
    bool escaped = false;
    if (!string(key, escaped)) return false;
    if (escaped) {
      decoded_.push_back(decode(key));  // a deque: earlier views stay valid
      key = decoded_.back();
    }
    keys_.push_back(key);
    skip_ws();
    if (p_ == end_ || *p_ != ':') return false;
    ++p_;
    return true;
  }

  // The keys of the object whose first key is keys_[base] are all distinct;
  // they are dropped either way.
  bool unique_keys(std::size_t base) {
    const auto first = keys_.begin() + static_cast<std::ptrdiff_t>(base);
    const std::size_t n = keys_.size() - base;
    bool unique = true;
    if (n <= 16) {
      for (std::size_t i = 0; i < n && unique; ++i)
        for (std::size_t j = i + 1; j < n; ++j)
          if (first[static_cast<std::ptrdiff_t>(i)] == first[static_cast<std::ptrdiff_t>(j)]) {
            unique = false;
            break;
          }
    } else {
      std::sort(first, keys_.end());
      unique = std::adjacent_find(first, keys_.end()) == keys_.end();
    }
    keys_.resize(base);
    return unique;
  }

  // A string at p_ (on its opening quote): `raw` is what lies between the
  // quotes, `escaped` whether it holds a backslash escape.
  bool string(std::string_view& raw, bool& escaped) {
    const char* begin = ++p_;
    escaped = false;
    for (;;) {
      p_ = skip_plain(p_, end_);
      if (p_ == end_) return false;
      const unsigned char c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        raw = std::string_view(begin, static_cast<std::size_t>(p_ - begin));
        ++p_;
        return true;
      }
      if (c == '\\') {
        escaped = true;
        if (!escape()) return false;
      } else if (c < 0x20) {
        return false;  // control characters, NUL included, must be escaped
      } else {
        const std::size_t n = utf8_sequence_length(p_, end_);
        if (n == 0) return false;
        p_ += n;
      }
    }
  }

  // A backslash escape at p_.
  bool escape() {
    if (end_ - p_ < 2) return false;
    switch (p_[1]) {
      case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't':
        p_ += 2;
        return true;
      case 'u': break;
      default: return false;
    }
    if (end_ - p_ < 6) return false;
    const long cp = hex4(p_ + 2);
    if (cp < 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return false;  // a lone low surrogate
    p_ += 6;
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      // A high surrogate must be followed by an escaped low one.
      if (end_ - p_ < 6 || p_[0] != '\\' || p_[1] != 'u') return false;
      const long lo = hex4(p_ + 2);
      if (lo < 0xDC00 || lo > 0xDFFF) return false;
      p_ += 6;
    }
    return true;
  }

  bool literal(const char* word, std::size_t n) {
    if (static_cast<std::size_t>(end_ - p_) < n || std::string_view(p_, n) != std::string_view(word, n)) return false;
    p_ += n;
    return true;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? whose value is a finite double.
  bool number() {
    const char* begin = p_;
    const auto digits = [this] {
      const char* d = p_;
      while (p_ < end_ && *p_ >= '0' && *p_ <= '9') ++p_;
      return p_ - d;
    };
    if (p_ < end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (digits() == 0) {
      return false;
    }
    if (p_ < end_ && *p_ == '.') {
      ++p_;
      if (digits() == 0) return false;
    }
    bool exponent = false;
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      exponent = true;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (digits() == 0) return false;
    }
    // Fewer than 300 characters and no exponent: far below DBL_MAX. Anything
    // else is converted the way the full parser converts it.
    const std::size_t length = static_cast<std::size_t>(p_ - begin);
    if (!exponent && length < 300) return true;
    std::string token(begin, length);
    const char point = *std::localeconv()->decimal_point;
    if (point != '.') std::replace(token.begin(), token.end(), '.', point);
    return std::isfinite(std::strtod(token.c_str(), nullptr));
  }

  const char* p_;
  const char* end_;
  std::vector<std::string_view> keys_;  // keys of the objects open on the way down
  std::deque<std::string> decoded_;     // keys that held escapes, decoded
};

}  // namespace

std::optional<SignalSpan> scan_signal(std::string_view text) { return Scanner(text).signal(); }

std::optional<std::string_view> scan_member(std::string_view text, std::string_view key) {
  return Scanner(text).member(key);
}

}  // namespace meshmeet::protocol
