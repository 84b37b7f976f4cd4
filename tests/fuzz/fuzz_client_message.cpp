// libFuzzer: client → server messages (and the HTTP creation body, which is
// client input too). Properties:
//  - a refusal carries bad-json or bad-message (bad-json / bad-request for bodies);
//  - an accepted message was JSON text: valid UTF-8, no raw NUL;
//  - names obey the length and control-character rules;
//  - serialize(parse(x)) parses again, and serializing that gives the same text;
//  - the server's spliced relay of a signal is valid and carries `data` unchanged;
//  - a pong echoing a ping's `t` parses with the same `t`;
//  - the relay's scanner (scan_signal) accepts exactly the signals the
//    document parser accepts, with the same `to`, and its `data` bytes parse
//    to what the document parser made of them.
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

void check_name(const std::string& name) {
  check(is_valid_utf8(name), "a name is valid UTF-8", name);
  check(count_code_points(name) <= kMaxNameCodePoints, "a name has at most 64 code points", name);
  check(!has_control_characters(name), "a name holds no control characters", name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  auto parsed = parse_client_message(text);
  if (!parsed.ok()) {
    const ErrorCode code = parsed.error().code;
    check(code == ErrorCode::BadJson || code == ErrorCode::BadMessage, "client refusals are bad-json or bad-message",
          to_string(code));
  } else {
    const ClientMessage& message = parsed.value();
    check(is_valid_utf8(text), "an accepted message is valid UTF-8", text);
    check(text.find('\0') == std::string_view::npos, "an accepted message holds no raw NUL byte", text);
    if (const auto* join = std::get_if<Join>(&message)) check_name(join->name);

    const std::string once = serialize(message);
    check(is_valid_utf8(once), "serialize emits valid UTF-8", once);
    auto again = parse_client_message(once);
    check(again.ok(), "a serialized message parses again", once, again.ok() ? "" : again.error().message);
    check(type_name(again.value()) == type_name(message), "the type survives a round trip", once);
    const std::string twice = serialize(again.value());
    check(once == twice, "serialize(parse(serialize(m))) == serialize(m)", once, twice);

    if (const auto* signal = std::get_if<Signal>(&message)) {
      const std::string relayed = serialize_signal_from("abcdefghijkl", signal->data);
      auto back = parse_server_message(relayed);
      check(back.ok(), "a relayed signal parses", relayed);
      const auto* from = std::get_if<SignalFrom>(&back.value());
      check(from != nullptr && from->from == "abcdefghijkl", "a relayed signal is a signal from its sender", relayed);
      check(relayed.find(signal->data) != std::string::npos, "a relayed signal splices data unchanged", relayed);
      // The receiver's parser re-serializes compactly, as the document parser does.
      auto document = parse_client_message_document(text);
      check(document.ok() && std::holds_alternative<Signal>(document.value()) &&
                from->data == std::get<Signal>(document.value()).data,
            "a relayed signal carries the same value", signal->data, from->data);
    }
    if (const auto* ping = std::get_if<Ping>(&message)) {
      const std::string pong = serialize(ServerMessage{Pong{ping->t}});
      auto back = parse_server_message(pong);
      check(back.ok() && std::holds_alternative<Pong>(back.value()), "a pong parses", pong);
      check(std::get<Pong>(back.value()).t == ping->t, "a pong echoes t", pong);
    }
  }

  {
    const auto scanned = scan_signal(text);
    const auto document = parse_client_message_document(text);
    const Signal* signal = document.ok() ? std::get_if<Signal>(&document.value()) : nullptr;
    check(scanned.has_value() == (signal != nullptr), "scan_signal takes exactly the signals the document parser takes",
          text);
    if (scanned && signal) {
      check(scanned->to == signal->to, "scan_signal decodes `to` as the document parser does", scanned->to, signal->to);
      auto spliced = parse_client_message_document(serialize(ClientMessage{Signal{scanned->to, std::string(scanned->data)}}));
      check(spliced.ok() && std::get<Signal>(spliced.value()).data == signal->data,
            "spliced data is the same JSON value", std::string(scanned->data), signal->data);
    }
  }

  // The same bytes as a POST /api/meetings body.
  auto create = parse_create_meeting(text);
  if (!create.ok()) {
    const ErrorCode code = create.error().code;
    check(code == ErrorCode::BadJson || code == ErrorCode::BadRequest, "body refusals are bad-json or bad-request",
          to_string(code));
  } else {
    check_name(create.value().name);
  }
  return 0;
}
