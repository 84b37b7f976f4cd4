// libFuzzer: server → client messages, as the client core parses them, and
// the meeting info body of GET /api/meetings/ID. Properties:
//  - refusals are bad-json or bad-message;
//  - an accepted message was JSON text: valid UTF-8, no raw NUL;
//  - serialize(parse(x)) parses again, and serializing that gives the same text;
//  - the server's spliced signal equals the generic serializer for plain ids.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "fuzz_check.hpp"
#include "protocol/messages.hpp"
#include "protocol/utf8.hpp"

using namespace meshmeet::protocol;
using meshmeet::fuzz::check;

namespace {

bool plain_id(const std::string& id) {
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = parse_server_message(text);
  if (!parsed.ok()) {
    const ErrorCode code = parsed.error().code;
    check(code == ErrorCode::BadJson || code == ErrorCode::BadMessage, "refusals are bad-json or bad-message",
          to_string(code));
  } else {
    const ServerMessage& message = parsed.value();
    check(is_valid_utf8(text), "an accepted message is valid UTF-8", text);
    check(text.find('\0') == std::string_view::npos, "an accepted message holds no raw NUL byte", text);

    const std::string once = serialize(message);
    check(is_valid_utf8(once), "serialize emits valid UTF-8", once);
    auto again = parse_server_message(once);
    check(again.ok(), "a serialized message parses again", once, again.ok() ? "" : again.error().message);
    check(again.value().index() == message.index(), "the type survives a round trip", once);
    const std::string twice = serialize(again.value());
    check(once == twice, "serialize(parse(serialize(m))) == serialize(m)", once, twice);

    if (const auto* signal = std::get_if<SignalFrom>(&message); signal && plain_id(signal->from)) {
      const std::string spliced = serialize_signal_from(signal->from, signal->data);
      check(spliced == once, "the spliced signal equals the serializer's", spliced, once);
    }
  }

  auto info = parse_meeting_info(text);
  if (info.ok()) {
    const std::string once = serialize_meeting_info(info.value());
    auto again = parse_meeting_info(once);
    check(again.ok(), "a serialized meeting info parses again", once);
    check(serialize_meeting_info(again.value()) == once, "meeting info round-trips", once);
  } else {
    const ErrorCode code = info.error().code;
    check(code == ErrorCode::BadJson || code == ErrorCode::BadMessage, "refusals are bad-json or bad-message",
          to_string(code));
  }
  return 0;
}
