// protocol/messages and protocol/error_code: every message of
// shared/protocol.md parses, serializes and round-trips; every refusal
// carries the exact code the contract names.
#include <doctest/doctest.h>

#include <ostream>
#include <set>
#include <string>
#include <variant>

#include "protocol/error_code.hpp"
#include "protocol/messages.hpp"
#include "protocol/utf8.hpp"

#include "protocol_printers.hpp"

using namespace meshmeet::protocol;

namespace {

// For failure messages: at most 160 bytes, control bytes made visible.
std::string shorten(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, 160)) {
    if (c < 0x20 || c == 0x7F) {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > 160) out += "…(" + std::to_string(text.size()) + " bytes)";
  return out;
}

// By value: callers often pass a temporary.
template <class T, class V>
T as(const V& v) {
  REQUIRE(std::holds_alternative<T>(v));
  return std::get<T>(v);
}

ClientMessage client_ok(std::string_view text) {
  INFO("input: " << shorten(text));
  auto parsed = parse_client_message(text);
  REQUIRE_MESSAGE(parsed.ok(), "refused with " << parsed.error().code << ": " << parsed.error().message);
  return parsed.value();
}

ServerMessage server_ok(std::string_view text) {
  INFO("input: " << shorten(text));
  auto parsed = parse_server_message(text);
  REQUIRE_MESSAGE(parsed.ok(), "refused with " << parsed.error().code << ": " << parsed.error().message);
  return parsed.value();
}

// parse → serialize → parse → serialize must be a fixed point.
std::string client_round_trip(std::string_view text) {
  const std::string once = serialize(client_ok(text));
  const std::string twice = serialize(client_ok(once));
  CHECK(once == twice);
  return once;
}

std::string server_round_trip(const ServerMessage& message) {
  const std::string once = serialize(message);
  const std::string twice = serialize(server_ok(once));
  CHECK(once == twice);
  return once;
}

#define CHECK_CLIENT_ERROR(text, expected_code, expected_ref)                                  \
  do {                                                                                         \
    const std::string input_ = (text);                                                         \
    INFO("input: " << shorten(input_));                                                        \
    auto parsed_ = parse_client_message(input_);                                               \
    if (parsed_.ok()) {                                                                        \
      FAIL_CHECK("accepted, expected " << (expected_code));                                    \
    } else {                                                                                   \
      CHECK(parsed_.error().code == (expected_code));                                          \
      CHECK(parsed_.error().ref == (expected_ref));                                            \
      CHECK_FALSE(parsed_.error().message.empty());                                            \
    }                                                                                          \
  } while (0)

#define CHECK_SERVER_ERROR(text, expected_code)                                                \
  do {                                                                                         \
    const std::string input_ = (text);                                                         \
    INFO("input: " << shorten(input_));                                                        \
    auto parsed_ = parse_server_message(input_);                                               \
    if (parsed_.ok())                                                                          \
      FAIL_CHECK("accepted, expected " << (expected_code));                                    \
    else                                                                                       \
      CHECK(parsed_.error().code == (expected_code));                                          \
  } while (0)

#define CHECK_CREATE_ERROR(text, expected_code)                                                \
  do {                                                                                         \
    const std::string input_ = (text);                                                         \
    INFO("body: " << shorten(input_));                                                         \
    auto parsed_ = parse_create_meeting(input_);                                               \
    if (parsed_.ok())                                                                          \
      FAIL_CHECK("accepted, expected " << (expected_code));                                    \
    else                                                                                       \
      CHECK(parsed_.error().code == (expected_code));                                          \
  } while (0)

std::string repeat(std::string_view piece, std::size_t n) {
  std::string out;
  out.reserve(piece.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += piece;
  return out;
}

const std::string kMeeting = "abcdefghijklmnopqrstuvwxyz";  // 26 characters, like a real id
const std::string kEmoji = "\xF0\x9F\x98\x80";                // 😀, 4 bytes, 1 code point

}  // namespace

// ---- Error codes --------------------------------------------------------------

TEST_CASE("error codes: the exact wire strings of protocol.md") {
  CHECK(to_string(ErrorCode::BadJson) == "bad-json");
  CHECK(to_string(ErrorCode::BadMessage) == "bad-message");
  CHECK(to_string(ErrorCode::BadRequest) == "bad-request");
  CHECK(to_string(ErrorCode::TooLarge) == "too-large");
  CHECK(to_string(ErrorCode::NotJoined) == "not-joined");
  CHECK(to_string(ErrorCode::AlreadyJoined) == "already-joined");
  CHECK(to_string(ErrorCode::MeetingNotFound) == "meeting-not-found");
  CHECK(to_string(ErrorCode::MeetingFull) == "meeting-full");
  CHECK(to_string(ErrorCode::UnknownPeer) == "unknown-peer");
  CHECK(to_string(ErrorCode::RateLimited) == "rate-limited");
  CHECK(to_string(ErrorCode::TooManyConnections) == "too-many-connections");
  CHECK(to_string(ErrorCode::BadResume) == "bad-resume");
  CHECK(to_string(ErrorCode::Unauthorized) == "unauthorized");
  CHECK(to_string(ErrorCode::NotFound) == "not-found");
  CHECK(to_string(ErrorCode::MethodNotAllowed) == "method-not-allowed");
  CHECK(to_string(ErrorCode::ForbiddenOrigin) == "forbidden-origin");
}

TEST_CASE("error codes: every code round-trips and the spellings are distinct") {
  std::set<std::string_view> seen;
  for (ErrorCode code : kAllErrorCodes) {
    const auto text = to_string(code);
    INFO(text);
    CHECK(seen.insert(text).second);
    auto back = error_code_from_string(text);
    REQUIRE(back.has_value());
    CHECK(*back == code);
  }
  CHECK(seen.size() == 18);
  CHECK_FALSE(error_code_from_string("").has_value());
  CHECK_FALSE(error_code_from_string("Bad-Json").has_value());
  CHECK_FALSE(error_code_from_string("bad_json").has_value());
  CHECK_FALSE(error_code_from_string("bad-json ").has_value());
  CHECK_FALSE(error_code_from_string("unavailable ").has_value());
  CHECK(error_code_from_string("unavailable") == ErrorCode::Unavailable);  // v2
}

TEST_CASE("error codes: HTTP statuses of the HTTP table") {
  CHECK(http_status(ErrorCode::BadJson) == 400);
  CHECK(http_status(ErrorCode::BadRequest) == 400);
  CHECK(http_status(ErrorCode::BadMessage) == 400);
  CHECK(http_status(ErrorCode::TooLarge) == 413);
  CHECK(http_status(ErrorCode::RateLimited) == 429);
  CHECK(http_status(ErrorCode::Unauthorized) == 401);
  CHECK(http_status(ErrorCode::MeetingNotFound) == 404);
  CHECK(http_status(ErrorCode::NotFound) == 404);
  CHECK(http_status(ErrorCode::MethodNotAllowed) == 405);
  CHECK(http_status(ErrorCode::ForbiddenOrigin) == 403);
  CHECK(http_status(ErrorCode::RelayUnavailable) == 400);
  CHECK(to_string(ErrorCode::RelayUnavailable) == "relay-unavailable");
  CHECK(http_status(ErrorCode::Unavailable) == 503);  // the server cannot take it now: try again
  for (ErrorCode code : kAllErrorCodes) {
    INFO(to_string(code));
    CHECK(http_status(code) >= 400);
    if (code != ErrorCode::Unavailable) CHECK(http_status(code) < 500);
  }
}

// ---- Client → server: the happy paths ------------------------------------------

TEST_CASE("client: join with only a meeting") {
  const std::string text = R"({"type":"join","meeting":")" + kMeeting + R"("})";
  auto message = client_ok(text);
  CHECK(type_name(message) == "join");
  const auto& join = as<Join>(message);
  CHECK(join.meeting == kMeeting);
  CHECK(join.name.empty());
  CHECK_FALSE(join.resume.has_value());
  CHECK(client_round_trip(text) == text);
}

TEST_CASE("client: join with name and resume, any field order, unknown fields ignored") {
  const std::string text =
      R"({"resume":"tok123","extra":{"deep":[1,2,{"x":null}]},"name":"Ada \u00e9","meeting":")" + kMeeting +
      R"(","type":"join"})";
  const auto& join = as<Join>(client_ok(text));
  CHECK(join.meeting == kMeeting);
  CHECK(join.name == "Ada \xC3\xA9");
  REQUIRE(join.resume.has_value());
  CHECK(*join.resume == "tok123");
  CHECK(client_round_trip(text) ==
        R"({"type":"join","meeting":")" + kMeeting + "\",\"name\":\"Ada \xC3\xA9\",\"resume\":\"tok123\"}");
}

TEST_CASE("client: join with an empty name and an empty resume token") {
  const auto& join = as<Join>(client_ok(R"({"type":"join","meeting":"m","name":"","resume":""})"));
  CHECK(join.name.empty());
  REQUIRE(join.resume.has_value());
  CHECK(join.resume->empty());
  client_round_trip(R"({"type":"join","meeting":"m","name":"","resume":""})");
}

TEST_CASE("client: serialize(Join) omits what is absent") {
  CHECK(serialize(ClientMessage{Join{"m", "", std::nullopt}}) == R"({"type":"join","meeting":"m"})");
  CHECK(serialize(ClientMessage{Join{"m", "Bo", std::string("t")}}) ==
        R"({"type":"join","meeting":"m","name":"Bo","resume":"t"})");
}

TEST_CASE("client: signal keeps the sender's data bytes; the document parser compacts them") {
  const std::string data =
      R"({ "type" : "offer", "sdp" : "v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n", "n":[1, 2.5, true, null] })";
  const std::string text = R"({"type":"signal","to":"peer1","data":)" + data + "}";
  auto message = client_ok(text);
  CHECK(type_name(message) == "signal");
  const auto& signal = as<Signal>(message);
  CHECK(signal.to == "peer1");
  CHECK(signal.data == data);
  CHECK(client_round_trip(text) == R"({"type":"signal","to":"peer1","data":)" + signal.data + "}");
  auto document = parse_client_message_document(text);
  REQUIRE(document.ok());
  CHECK(as<Signal>(document.value()).data ==
        R"({"type":"offer","sdp":"v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\n","n":[1,2.5,true,null]})");
}

TEST_CASE("client: signal with an empty data object") {
  const auto& signal = as<Signal>(client_ok(R"({"type":"signal","to":"p","data":{}})"));
  CHECK(signal.data == "{}");
  CHECK(client_round_trip(R"({"type":"signal","to":"p","data":{}})") == R"({"type":"signal","to":"p","data":{}})");
}

TEST_CASE("client: leave, extra fields ignored") {
  CHECK(type_name(client_ok(R"({"type":"leave"})")) == "leave");
  CHECK(client_round_trip(R"({"type":"leave"})") == R"({"type":"leave"})");
  CHECK(client_round_trip(R"({"reason":"bye","type":"leave"})") == R"({"type":"leave"})");
}

TEST_CASE("client: ping with and without t") {
  CHECK_FALSE(as<Ping>(client_ok(R"({"type":"ping"})")).t.has_value());
  CHECK(client_round_trip(R"({"type":"ping"})") == R"({"type":"ping"})");

  auto t = as<Ping>(client_ok(R"({"type":"ping","t":1712345678901})")).t;
  REQUIRE(t.has_value());
  CHECK(*t == "1712345678901");
  CHECK(client_round_trip(R"({"type":"ping","t":1712345678901})") == R"({"type":"ping","t":1712345678901})");

  CHECK(*as<Ping>(client_ok(R"({"type":"ping","t":-7})")).t == "-7");
  CHECK(*as<Ping>(client_ok(R"({"type":"ping","t":0.25})")).t == "0.25");
  client_round_trip(R"({"type":"ping","t":0.25})");
  client_round_trip(R"({"type":"ping","t":1e300})");
  client_round_trip(R"({"type":"ping","t":-1.5e-300})");
}

// ---- Client → server: refusals -------------------------------------------------

TEST_CASE("client: bad-json for what is not JSON") {
  CHECK_CLIENT_ERROR("", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("   ", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("hello", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("{", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"ping",})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({'type':'ping'})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"ping"} {"type":"ping"})", ErrorCode::BadJson, "");  // two documents
  CHECK_CLIENT_ERROR(R"({"type":"ping"}x)", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":NaN})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":01})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("/* c */{\"type\":\"ping\"}", ErrorCode::BadJson, "");
}

TEST_CASE("client: bad-json for raw NUL bytes") {
  const auto nul = [](std::string before, std::string after) { return before + '\0' + after; };
  CHECK_CLIENT_ERROR(nul(R"({"type":"ping"})", ""), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(nul("", R"({"type":"ping"})"), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(nul(R"({"type":"pi)", R"(ng"})"), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(nul(R"({"type":"join","meeting":"m","name":"a)", R"(b"})"), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(nul(R"({"type":"signal","to":"p","data":{"k":"a)", R"("}})"), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(nul(R"({"type":"ping",)", R"("t":1})"), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(std::string(1, '\0'), ErrorCode::BadJson, "");
  // Whatever follows a NUL must not be ignored either.
  CHECK_CLIENT_ERROR(nul(R"({"type":"leave"})", R"(garbage that is not JSON)"), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(nul(R"({"type":"ping"})", R"({"type":"join","meeting":"m"})"), ErrorCode::BadJson, "");
}

TEST_CASE("client: bad-json for invalid UTF-8 inside a string") {
  CHECK_CLIENT_ERROR("{\"type\":\"join\",\"meeting\":\"m\",\"name\":\"\xC3\x28\"}", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("{\"type\":\"join\",\"meeting\":\"m\",\"name\":\"\xC0\xAF\"}", ErrorCode::BadJson, "");  // overlong
  CHECK_CLIENT_ERROR("{\"type\":\"join\",\"meeting\":\"m\",\"name\":\"\xED\xA0\x80\"}", ErrorCode::BadJson, "");  // surrogate
  CHECK_CLIENT_ERROR("{\"type\":\"join\",\"meeting\":\"m\",\"name\":\"\xF4\x90\x80\x80\"}", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("{\"type\":\"join\",\"meeting\":\"m\",\"name\":\"\xE2\x82\"}", ErrorCode::BadJson, "");  // truncated
  CHECK_CLIENT_ERROR("{\"type\":\"signal\",\"to\":\"p\",\"data\":{\"sdp\":\"\xFF\"}}", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR("{\"type\":\"ping\",\"\xFE\":1}", ErrorCode::BadJson, "");  // in a key
  // A lone surrogate written as an escape is not valid Unicode either.
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":"\ud800"})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":"\udc00x"})", ErrorCode::BadJson, "");
}

TEST_CASE("client: numbers that overflow a double are bad-json") {
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":1e400})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":-1e400})", ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":{"x":1e400}})", ErrorCode::BadJson, "");
}

TEST_CASE("client: bad-message for JSON that is not an object") {
  CHECK_CLIENT_ERROR("[]", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"([{"type":"ping"}])", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"("ping")", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR("null", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR("42", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR("true", ErrorCode::BadMessage, "");
}

TEST_CASE("client: bad-message for a missing or non-string type, without ref") {
  CHECK_CLIENT_ERROR("{}", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"Type":"ping"})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":5})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":null})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":true})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":["ping"]})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":{"name":"ping"}})", ErrorCode::BadMessage, "");
}

TEST_CASE("client: unknown types are bad-message with the type as ref") {
  CHECK_CLIENT_ERROR(R"({"type":"hello"})", ErrorCode::BadMessage, "hello");
  CHECK_CLIENT_ERROR(R"({"type":"JOIN","meeting":"m"})", ErrorCode::BadMessage, "JOIN");
  CHECK_CLIENT_ERROR(R"({"type":"welcome","self":"x"})", ErrorCode::BadMessage, "welcome");  // server-only type
  CHECK_CLIENT_ERROR(R"({"type":"pong"})", ErrorCode::BadMessage, "pong");
  CHECK_CLIENT_ERROR(R"({"type":"ping "})", ErrorCode::BadMessage, "ping ");
}

TEST_CASE("client: join fields missing or mistyped") {
  CHECK_CLIENT_ERROR(R"({"type":"join"})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","name":"Ada"})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":5})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":null})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":["m"]})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":5})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":null})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":{"first":"Ada"}})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","resume":5})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","resume":null})", ErrorCode::BadMessage, "join");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","resume":false})", ErrorCode::BadMessage, "join");
}

TEST_CASE("client: name length counts code points: 64 is fine, 65 is too long") {
  const auto join_with = [](const std::string& name) {
    return R"({"type":"join","meeting":"m","name":")" + name + R"("})";
  };
  CHECK(as<Join>(client_ok(join_with(repeat("a", 64)))).name.size() == 64);
  CHECK_CLIENT_ERROR(join_with(repeat("a", 65)), ErrorCode::BadMessage, "join");

  // 64 emoji are 256 bytes but 64 code points.
  CHECK(as<Join>(client_ok(join_with(repeat(kEmoji, 64)))).name == repeat(kEmoji, 64));
  client_round_trip(join_with(repeat(kEmoji, 64)));
  CHECK_CLIENT_ERROR(join_with(repeat(kEmoji, 65)), ErrorCode::BadMessage, "join");
  // Same through \u escapes (surrogate pairs decode to one code point each).
  CHECK(as<Join>(client_ok(join_with(repeat("\\ud83d\\ude00", 64)))).name == repeat(kEmoji, 64));
  CHECK_CLIENT_ERROR(join_with(repeat("\\ud83d\\ude00", 65)), ErrorCode::BadMessage, "join");
  // Two-byte characters.
  CHECK(as<Join>(client_ok(join_with(repeat("\xC3\xA9", 64)))).name.size() == 128);
  CHECK_CLIENT_ERROR(join_with(repeat("\xC3\xA9", 64) + "x"), ErrorCode::BadMessage, "join");
}

TEST_CASE("client: control characters in a name are refused") {
  for (const char* name : {"a\\u0000b", "tab\\there", "new\\nline", "\\r", "\\u001b[31mred", "\\u001f", "del\\u007f"}) {
    CHECK_CLIENT_ERROR(std::string(R"({"type":"join","meeting":"m","name":")") + name + "\"}", ErrorCode::BadMessage,
                       "join");
  }
  // Printable non-ASCII and spaces are fine.
  CHECK(as<Join>(client_ok(R"({"type":"join","meeting":"m","name":" Zo\u00eb \u00a0"})")).name ==
        " Zo\xC3\xAB \xC2\xA0");
}

TEST_CASE("client: signal fields missing or mistyped") {
  CHECK_CLIENT_ERROR(R"({"type":"signal","data":{}})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":5,"data":{}})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":null,"data":{}})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p"})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":[]})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":[{"sdp":"x"}]})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":null})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":"{}"})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":42})", ErrorCode::BadMessage, "signal");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":true})", ErrorCode::BadMessage, "signal");
}

TEST_CASE("client: ping t must be a number") {
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":"1"})", ErrorCode::BadMessage, "ping");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":null})", ErrorCode::BadMessage, "ping");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":true})", ErrorCode::BadMessage, "ping");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":[1]})", ErrorCode::BadMessage, "ping");
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":{}})", ErrorCode::BadMessage, "ping");
}

TEST_CASE("client: duplicate keys are refused at any level") {
  CHECK_CLIENT_ERROR(R"({"type":"ping","type":"ping"})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"a","meeting":"b"})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"a","name":"x","name":"y"})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":{"sdp":"a","sdp":"b"}})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":"signal","to":"p","data":{"l":[{"k":1,"k":2}]}})", ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(R"({"type":"leave","x":1,"x":1})", ErrorCode::BadMessage, "");
  // Keys escaped differently are still the same key.
  CHECK_CLIENT_ERROR(R"({"type":"ping","t":1,"\u0074":2})", ErrorCode::BadMessage, "");
}

TEST_CASE("client: the same key in different objects is not a duplicate") {
  auto text = R"({"type":"signal","to":"p","data":{"a":{"a":{"a":1}},"b":{"a":2},"l":[{"k":1},{"k":2}]},"a":0})";
  CHECK(as<Signal>(client_ok(text)).data == R"({"a":{"a":{"a":1}},"b":{"a":2},"l":[{"k":1},{"k":2}]})");
  // A key seen in a closed inner object may appear again in the outer one.
  CHECK(as<Signal>(client_ok(R"({"type":"signal","data":{"to":1},"to":"p"})")).to == "p");
}

namespace {
// A signal whose data nests `levels` arrays inside {"a": …}. The whole
// document is then 2 + levels deep (message object, data object, arrays).
std::string nested_signal(std::size_t levels, bool close = true) {
  std::string text = R"({"type":"signal","to":"p","data":{"a":)";
  text += repeat("[", levels);
  if (close) text += repeat("]", levels) + "}}";
  return text;
}
}  // namespace

TEST_CASE("client: nesting is limited to kMaxJsonDepth") {
  static_assert(kMaxJsonDepth == 32);
  auto ok = client_ok(nested_signal(kMaxJsonDepth - 2));
  CHECK(as<Signal>(ok).data == "{\"a\":" + repeat("[", kMaxJsonDepth - 2) + repeat("]", kMaxJsonDepth - 2) + "}");
  client_round_trip(nested_signal(kMaxJsonDepth - 2));
  CHECK_CLIENT_ERROR(nested_signal(kMaxJsonDepth - 1), ErrorCode::BadMessage, "");
  // Objects count as much as arrays.
  std::string objects = R"({"type":"signal","to":"p","data":)" + repeat(R"({"o":)", kMaxJsonDepth - 1) + "1" +
                        repeat("}", kMaxJsonDepth - 1) + "}";
  client_ok(objects);
  objects = R"({"type":"signal","to":"p","data":)" + repeat(R"({"o":)", kMaxJsonDepth) + "1" +
            repeat("}", kMaxJsonDepth) + "}";
  CHECK_CLIENT_ERROR(objects, ErrorCode::BadMessage, "");
  // Depth is depth, not the number of containers.
  client_ok(R"({"type":"signal","to":"p","data":{"a":[)" + repeat("[[]],", 1000) + "[]]}}");
}

TEST_CASE("client: 100000-deep nesting is refused without a crash") {
  CHECK_CLIENT_ERROR(nested_signal(100000), ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(nested_signal(100000, false), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(repeat("[", 100000) + repeat("]", 100000), ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(repeat(R"({"a":)", 100000) + "1" + repeat("}", 100000), ErrorCode::BadMessage, "");
  CHECK_CLIENT_ERROR(repeat("[", 100000), ErrorCode::BadJson, "");
  CHECK_CLIENT_ERROR(repeat("{\"a\":", 100000), ErrorCode::BadJson, "");
}

TEST_CASE("client: hostile sizes") {
  const std::string mb = repeat("a", 1 << 20);
  SUBCASE("a 1 MB string inside data is carried unchanged") {
    const std::string text = R"({"type":"signal","to":"p","data":{"sdp":")" + mb + R"("}})";
    CHECK(as<Signal>(client_ok(text)).data == R"({"sdp":")" + mb + R"("})");
    CHECK(client_round_trip(text) == text);
  }
  SUBCASE("a 1 MB name is too long") {
    CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":")" + mb + R"("})", ErrorCode::BadMessage, "join");
  }
  SUBCASE("1 MB of emoji in a name is too long") {
    CHECK_CLIENT_ERROR(R"({"type":"join","meeting":"m","name":")" + repeat(kEmoji, 1 << 18) + R"("})",
                       ErrorCode::BadMessage, "join");
  }
  SUBCASE("a 1 MB meeting, peer id, key or type parses without trouble") {
    CHECK(as<Join>(client_ok(R"({"type":"join","meeting":")" + mb + R"("})")).meeting.size() == mb.size());
    CHECK(as<Signal>(client_ok(R"({"type":"signal","to":")" + mb + R"(","data":{}})")).to.size() == mb.size());
    client_ok(R"({"type":"leave",")" + mb + R"(":1})");
    auto parsed = parse_client_message(R"({"type":")" + mb + R"("})");
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.error().code == ErrorCode::BadMessage);
  }
  SUBCASE("a 1 MB run of escapes") {
    const std::string text = R"({"type":"signal","to":"p","data":{"x":")" + repeat("\\u0000", 1 << 18) + R"("}})";
    CHECK(client_round_trip(text) == text);
  }
}

TEST_CASE("client: huge integers become doubles and stay stable") {
  for (const char* t : {"18446744073709551615", "18446744073709551616", "-9223372036854775808",
                        "-9223372036854775809", "123456789012345678901234567890", "1e308", "-1e308", "4.9e-324"}) {
    INFO(t);
    const std::string text = std::string(R"({"type":"ping","t":)") + t + "}";
    auto first = as<Ping>(client_ok(text)).t;
    REQUIRE(first.has_value());
    client_round_trip(text);
  }
  CHECK(*as<Ping>(client_ok(R"({"type":"ping","t":18446744073709551615})")).t == "18446744073709551615");
  // In data, numbers are kept as JSON; the result must parse again.
  client_round_trip(R"({"type":"signal","to":"p","data":{"n":123456789012345678901234567890,"m":-0,"f":-0.0}})");
}

TEST_CASE("client: \\u0000 escapes are accepted inside data and meeting ids, and survive") {
  const std::string text = R"({"type":"signal","to":"p","data":{"k":"a\u0000b","\u0000":"\u0001\u001f"}})";
  const auto& signal = as<Signal>(client_ok(text));
  CHECK(signal.data == R"({"k":"a\u0000b","\u0000":"\u0001\u001f"})");
  CHECK(client_round_trip(text) == text);
  const auto& join = as<Join>(client_ok(R"({"type":"join","meeting":"m\u0000"})"));
  CHECK(join.meeting == std::string("m\0", 2));
  client_round_trip(R"({"type":"join","meeting":"m\u0000"})");
}

TEST_CASE("client: serialize never emits invalid UTF-8, even from invalid fields") {
  const std::string out = serialize(ClientMessage{Join{"bad\xFF", "x\xC3", std::string("\xED\xA0\x80")}});
  CHECK(is_valid_utf8(out));
  auto again = parse_client_message(out);
  CHECK(again.ok());
}

// ---- Server → client -----------------------------------------------------------

TEST_CASE("server: welcome with peers, iceServers and heartbeat") {
  Welcome w;
  w.self = "p2";
  w.resume = "tok";
  w.meeting_id = kMeeting;
  w.meeting_name = "Standup";
  w.peers = {{"p0", "Ada"}, {"p1", ""}};
  w.ice_servers = R"([{"urls":"stun:stun.example.org:3478"},{"urls":["turn:t.example.org"],"username":"u","credential":"c"}])";
  w.heartbeat_interval_ms = 10000;
  w.heartbeat_timeout_ms = 30000;
  const std::string text = server_round_trip(ServerMessage{w});
  CHECK(text == R"({"type":"welcome","self":"p2","resume":"tok","meeting":{"id":")" + kMeeting +
                    R"(","name":"Standup"},"peers":[{"id":"p0","name":"Ada"},{"id":"p1","name":""}],"iceServers":)" +
                    w.ice_servers + R"(,"relayOnly":false,"heartbeat":{"interval":10000,"timeout":30000}})");
  const auto& back = as<Welcome>(server_ok(text));
  CHECK(back.self == "p2");
  CHECK(back.resume == "tok");
  CHECK(back.meeting_id == kMeeting);
  CHECK(back.meeting_name == "Standup");
  CHECK(back.peers == w.peers);
  CHECK(back.ice_servers == w.ice_servers);
  CHECK(back.heartbeat_interval_ms == 10000);
  CHECK(back.heartbeat_timeout_ms == 30000);
}

TEST_CASE("server: welcome with nobody else and no ICE servers") {
  Welcome w;
  w.self = "p";
  w.resume = "t";
  w.meeting_id = "m";
  const std::string text = server_round_trip(ServerMessage{w});
  CHECK(text == R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m","name":""},"peers":[],"iceServers":[],"relayOnly":false,"heartbeat":{"interval":0,"timeout":0}})");
  // iceServers may be absent on the wire: it reads as an empty array.
  const auto& back = as<Welcome>(server_ok(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[{"id":"q"}],"heartbeat":{"interval":1,"timeout":2}})"));
  CHECK(back.ice_servers == "[]");
  CHECK(back.meeting_name.empty());
  REQUIRE(back.peers.size() == 1);
  CHECK(back.peers[0] == PeerInfo{"q", ""});
  CHECK_FALSE(back.relay_only);  // a v1 server's welcome has no relayOnly
  CHECK_FALSE(back.resume_grace_ms);  // nor a resumeGrace
}

TEST_CASE("server: welcome carries the server's resume grace (resumeGrace, ms)") {
  Welcome w;
  w.self = "p";
  w.resume = "t";
  w.meeting_id = "m";
  w.resume_grace_ms = 40000;
  const std::string text = server_round_trip(ServerMessage{w});
  CHECK(text.find(R"(,"relayOnly":false,"resumeGrace":40000,"heartbeat")") != std::string::npos);
  CHECK(as<Welcome>(server_ok(text)).resume_grace_ms == 40000u);
  w.resume_grace_ms = 0;  // --resume-grace 0: no seat is held; said, not omitted
  CHECK(as<Welcome>(server_ok(server_round_trip(ServerMessage{w}))).resume_grace_ms == 0u);
  for (const char* bad : {R"("15s")", "-1", "1.5", "null", "4294967296"})
    CHECK_SERVER_ERROR(std::string(R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"resumeGrace":)") + bad +
                           R"(,"heartbeat":{"interval":1,"timeout":2}})",
                       ErrorCode::BadMessage);
}

TEST_CASE("server: welcome of a relay-only meeting (v2) carries relayOnly true") {
  Welcome w;
  w.self = "p";
  w.resume = "t";
  w.meeting_id = "m";
  w.relay_only = true;
  const std::string text = server_round_trip(ServerMessage{w});
  CHECK(text.find(R"("relayOnly":true)") != std::string::npos);
  CHECK(as<Welcome>(server_ok(text)).relay_only);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"relayOnly":"yes","heartbeat":{"interval":1,"timeout":2}})",
      ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"relayOnly":null,"heartbeat":{"interval":1,"timeout":2}})",
      ErrorCode::BadMessage);
}

TEST_CASE("server: ice-servers (v2) carries an RTCIceServer array") {
  const std::string ice = R"([{"urls":"stun:meet.example.org:8080"},{"urls":["turn:t.example.org:3478?transport=udp"],"username":"1700003600:abc","credential":"c2VjcmV0"}])";
  const std::string text = server_round_trip(ServerMessage{IceServers{ice}});
  CHECK(text == R"({"type":"ice-servers","iceServers":)" + ice + "}");
  CHECK(as<IceServers>(server_ok(text)).ice_servers == ice);
  CHECK(server_round_trip(ServerMessage{IceServers{}}) == R"({"type":"ice-servers","iceServers":[]})");
  // Never serializes something that is not an array.
  CHECK(serialize(ServerMessage{IceServers{"{}"}}) == R"({"type":"ice-servers","iceServers":[]})");
  CHECK_SERVER_ERROR(R"({"type":"ice-servers"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"ice-servers","iceServers":{}})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"ice-servers","iceServers":null})", ErrorCode::BadMessage);
}

TEST_CASE("server: welcome never serializes a non-array iceServers") {
  Welcome w;
  w.ice_servers = "not json";
  CHECK(serialize(ServerMessage{w}).find(R"("iceServers":[])") != std::string::npos);
  w.ice_servers = R"({"urls":"stun:x"})";
  CHECK(serialize(ServerMessage{w}).find(R"("iceServers":[])") != std::string::npos);
}

TEST_CASE("server: welcome refusals") {
  const std::string good_tail = R"("peers":[],"heartbeat":{"interval":1,"timeout":2}})";
  CHECK_SERVER_ERROR(R"({"type":"welcome","resume":"t","meeting":{"id":"m"},)" + good_tail, ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"welcome","self":"p","meeting":{"id":"m"},)" + good_tail, ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"welcome","self":"p","resume":"t",)" + good_tail, ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"welcome","self":"p","resume":"t","meeting":"m",)" + good_tail, ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"welcome","self":"p","resume":"t","meeting":{},)" + good_tail, ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":{},"heartbeat":{"interval":1,"timeout":2}})",
      ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":["p0"],"heartbeat":{"interval":1,"timeout":2}})",
      ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"iceServers":{},"heartbeat":{"interval":1,"timeout":2}})",
      ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[]})",
                     ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"heartbeat":{"interval":-1,"timeout":2}})",
      ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"heartbeat":{"interval":1.5,"timeout":2}})",
      ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"heartbeat":{"interval":1}})",
      ErrorCode::BadMessage);
}

TEST_CASE("server: welcome heartbeat beyond 32 bits is refused, not wrapped") {
  // 4294967297 ms would silently become 1 ms (a ping storm) if truncated.
  CHECK_SERVER_ERROR(
      R"({"type":"welcome","self":"p","resume":"t","meeting":{"id":"m"},"peers":[],"heartbeat":{"interval":4294967297,"timeout":4294967298}})",
      ErrorCode::BadMessage);
}

TEST_CASE("server: peer-joined") {
  const std::string text = server_round_trip(ServerMessage{PeerJoined{{"p1", "Bob"}}});
  CHECK(text == R"({"type":"peer-joined","peer":{"id":"p1","name":"Bob"}})");
  CHECK(as<PeerJoined>(server_ok(text)).peer == PeerInfo{"p1", "Bob"});
  CHECK_SERVER_ERROR(R"({"type":"peer-joined"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-joined","peer":"p1"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-joined","peer":{"name":"Bob"}})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-joined","peer":{"id":1}})", ErrorCode::BadMessage);
}

TEST_CASE("server: peer-left with each reason") {
  for (const auto& row : {std::pair{LeaveReason::Left, "left"}, std::pair{LeaveReason::Disconnected, "disconnected"},
                          std::pair{LeaveReason::Timeout, "timeout"}, std::pair{LeaveReason::Removed, "removed"}}) {
    const LeaveReason reason = row.first;
    const std::string wire = row.second;
    INFO(wire);
    CHECK(to_string(reason) == wire);
    const std::string text = server_round_trip(ServerMessage{PeerLeft{"p9", reason}});
    CHECK(text == std::string(R"({"type":"peer-left","peer":"p9","reason":")") + wire + "\"}");
    const auto& back = as<PeerLeft>(server_ok(text));
    CHECK(back.peer == "p9");
    CHECK(back.reason == reason);
  }
  CHECK_SERVER_ERROR(R"({"type":"peer-left","peer":"p9","reason":"gone"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-left","peer":"p9","reason":"Left"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-left","peer":"p9"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-left","reason":"left"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"peer-left","peer":9,"reason":"left"})", ErrorCode::BadMessage);
}

TEST_CASE("server: signal from a peer, data unchanged") {
  const std::string data = R"({"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host","sdpMid":"0"})";
  const std::string text = server_round_trip(ServerMessage{SignalFrom{"p1", data}});
  CHECK(text == R"({"type":"signal","from":"p1","data":)" + data + "}");
  CHECK(serialize_signal_from("p1", data) == text);
  const auto& back = as<SignalFrom>(server_ok(text));
  CHECK(back.from == "p1");
  CHECK(back.data == data);
  CHECK_SERVER_ERROR(R"({"type":"signal","data":{}})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"signal","from":"p","data":[]})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"signal","from":"p","data":null})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"signal","from":"p"})", ErrorCode::BadMessage);
}

TEST_CASE("server: pong with and without t") {
  CHECK(server_round_trip(ServerMessage{Pong{}}) == R"({"type":"pong"})");
  CHECK_FALSE(as<Pong>(server_ok(R"({"type":"pong"})")).t.has_value());
  CHECK(server_round_trip(ServerMessage{Pong{std::string("1712345678901")}}) == R"({"type":"pong","t":1712345678901})");
  CHECK(*as<Pong>(server_ok(R"({"type":"pong","t":-2.5})")).t == "-2.5");
  CHECK_SERVER_ERROR(R"({"type":"pong","t":"1"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"pong","t":null})", ErrorCode::BadMessage);
}

TEST_CASE("server: ping's t is echoed by pong") {
  const auto t = as<Ping>(client_ok(R"({"type":"ping","t":98765.25})")).t;
  CHECK(serialize(ServerMessage{Pong{t}}) == R"({"type":"pong","t":98765.25})");
}

TEST_CASE("server: ping's t is echoed as the client spelled it") {
  // The protocol echoes t byte for byte, like a signal's data: a client that
  // matches pongs to pings by text must get its own text back.
  for (const char* spelled : {"1.50", "1E2", "-0", "123456789012345678901", "0.1e-5", "1712345678901"}) {
    const std::string message = std::string(R"({ "t" : )") + spelled + R"(, "type":"ping", "x":{"t":7}})";
    const auto t = as<Ping>(client_ok(message)).t;
    REQUIRE(t.has_value());
    CHECK(*t == spelled);
    CHECK(serialize(ServerMessage{Pong{t}}) == std::string(R"({"type":"pong","t":)") + spelled + "}");
    // and the client reads back its own text
    CHECK(*as<Pong>(server_ok(serialize(ServerMessage{Pong{t}}))).t == spelled);
  }
}

TEST_CASE("server: error with and without ref, for every code") {
  CHECK(server_round_trip(ServerMessage{ErrorMessage{ErrorCode::UnknownPeer, "no such peer", "signal"}}) ==
        R"({"type":"error","code":"unknown-peer","message":"no such peer","ref":"signal"})");
  CHECK(server_round_trip(ServerMessage{ErrorMessage{ErrorCode::RateLimited, "slow down", ""}}) ==
        R"({"type":"error","code":"rate-limited","message":"slow down"})");
  for (ErrorCode code : kAllErrorCodes) {
    INFO(to_string(code));
    const auto& back = as<ErrorMessage>(server_ok(server_round_trip(ServerMessage{ErrorMessage{code, "m", "join"}})));
    CHECK(back.code == code);
    CHECK(back.message == "m");
    CHECK(back.ref == "join");
  }
  const auto& minimal = as<ErrorMessage>(server_ok(R"({"type":"error","code":"bad-json"})"));
  CHECK(minimal.code == ErrorCode::BadJson);
  CHECK(minimal.message.empty());
  CHECK(minimal.ref.empty());
  CHECK_SERVER_ERROR(R"({"type":"error","code":"nope","message":"m"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"error","message":"m"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"error","code":5})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"error","code":"bad-json","ref":5})", ErrorCode::BadMessage);
}

TEST_CASE("server: envelope refusals") {
  CHECK_SERVER_ERROR("nope", ErrorCode::BadJson);
  CHECK_SERVER_ERROR(R"({"type":"pong","t":1e400})", ErrorCode::BadJson);
  CHECK_SERVER_ERROR(std::string(R"({"type":"pong"})") + '\0' + "trailing junk", ErrorCode::BadJson);
  CHECK_SERVER_ERROR("[]", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR("{}", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":1})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"join","meeting":"m"})", ErrorCode::BadMessage);  // client-only type
  CHECK_SERVER_ERROR(R"({"type":"pong","type":"pong"})", ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(R"({"type":"signal","from":"p","data":)" + repeat("[", 40) + repeat("]", 40) + "}",
                     ErrorCode::BadMessage);
  CHECK_SERVER_ERROR(repeat("[", 100000) + repeat("]", 100000), ErrorCode::BadMessage);
}

// ---- HTTP bodies ----------------------------------------------------------------

TEST_CASE("create meeting: empty and whitespace bodies count as {}") {
  for (const char* body : {"", " ", "\n", " \t\r\n ", "{}", " {} "}) {
    INFO('[' << body << ']');
    auto parsed = parse_create_meeting(body);
    REQUIRE(parsed.ok());
    CHECK(parsed.value().name.empty());
  }
}

TEST_CASE("create meeting: names") {
  const auto name_of = [](const std::string& body) {
    INFO("body: " << shorten(body));
    auto parsed = parse_create_meeting(body);
    REQUIRE_MESSAGE(parsed.ok(), "refused with " << parsed.error().code);
    return parsed.value().name;
  };
  CHECK(name_of(R"({"name":"Standup"})") == "Standup");
  CHECK(name_of(R"({"name":""})").empty());
  CHECK(name_of(R"({"name":"   "})") == "   ");
  CHECK(name_of(R"({"name":"x","other":[1,2]})") == "x");
  CHECK(name_of(R"({"other":"x"})").empty());
  CHECK(name_of(R"({"name":")" + repeat("n", 64) + "\"}").size() == 64);
  CHECK(name_of(R"({"name":")" + repeat(kEmoji, 64) + "\"}") == repeat(kEmoji, 64));
}

TEST_CASE("create meeting: relayOnly (v2) is an optional boolean") {
  auto relay_of = [](const std::string& body) {
    INFO("body: " << body);
    auto parsed = parse_create_meeting(body);
    REQUIRE_MESSAGE(parsed.ok(), "refused with " << parsed.error().code);
    return parsed.value().relay_only;
  };
  CHECK(relay_of(R"({"relayOnly":true})"));
  CHECK(relay_of(R"({"name":"x","relayOnly":true})"));
  CHECK_FALSE(relay_of(R"({"relayOnly":false})"));
  CHECK_FALSE(relay_of("{}"));
  CHECK_FALSE(relay_of(""));
  CHECK_CREATE_ERROR(R"({"relayOnly":null})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"relayOnly":"true"})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"relayOnly":1})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"relayOnly":[true]})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"relayOnly":{}})", ErrorCode::BadRequest);
}

TEST_CASE("create meeting: refusals") {
  CHECK_CREATE_ERROR(R"({"name":null})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":5})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":true})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":["a"]})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":{}})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":")" + repeat("n", 65) + "\"}", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":")" + repeat(kEmoji, 65) + "\"}", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":"a\nb"})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"({"name":"a","name":"b"})", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR("[]", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(R"("Standup")", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR("null", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR("5", ErrorCode::BadRequest);
  CHECK_CREATE_ERROR(repeat("[", 100) + repeat("]", 100), ErrorCode::BadRequest);
  CHECK_CREATE_ERROR("{", ErrorCode::BadJson);
  CHECK_CREATE_ERROR("name=Standup", ErrorCode::BadJson);
  CHECK_CREATE_ERROR(R"({"name":"a"} {})", ErrorCode::BadJson);
  CHECK_CREATE_ERROR("{\"name\":\"\xFF\"}", ErrorCode::BadJson);
  CHECK_CREATE_ERROR(std::string("{}\0", 3), ErrorCode::BadJson);
  CHECK_CREATE_ERROR(repeat("[", 100000), ErrorCode::BadJson);
}

TEST_CASE("meeting ids: 25 to 40 characters of [a-z0-9_-]") {
  CHECK_FALSE(is_meeting_id(""));
  CHECK_FALSE(is_meeting_id(repeat("a", 24)));
  CHECK(is_meeting_id(repeat("a", 25)));
  CHECK(is_meeting_id(repeat("z", 40)));
  CHECK_FALSE(is_meeting_id(repeat("a", 41)));
  CHECK(is_meeting_id("abcdefghijklmnopqrstuvwxyz0123456789_-"));
  CHECK_FALSE(is_meeting_id("Abcdefghijklmnopqrstuvwxyz"));  // uppercase refused
  CHECK_FALSE(is_meeting_id("abcdefghijklmnopqrstuvwxyZ"));
  CHECK_FALSE(is_meeting_id("abcdefghijklm.opqrstuvwxyz"));
  CHECK_FALSE(is_meeting_id("abcdefghijklm/opqrstuvwxyz"));
  CHECK_FALSE(is_meeting_id("abcdefghijklm opqrstuvwxyz"));
  CHECK_FALSE(is_meeting_id(std::string("abcdefghijklm\0opqrstuvwxyz", 26)));
  CHECK_FALSE(is_meeting_id("abcdefghijklmnopqrstuvwxy\xC3\xA9"));
}

TEST_CASE("HTTP bodies: created meeting, meeting info, errors") {
  const std::string id = kMeeting;
  CHECK(serialize_created_meeting({id, "Standup", "2026-01-02T03:04:05Z", std::nullopt}) ==
        R"({"id":")" + id + R"(","name":"Standup","createdAt":"2026-01-02T03:04:05Z","url":"/m/)" + id +
            R"(","relayOnly":false})");
  CHECK(serialize_created_meeting({id, "", "2026-01-02T03:04:05Z", std::nullopt, true}).find(R"("relayOnly":true)") !=
        std::string::npos);
  const std::string info = serialize_meeting_info({id, "", "2026-01-02T03:04:05Z", 3u});
  CHECK(info == R"({"id":")" + id + R"(","name":"","createdAt":"2026-01-02T03:04:05Z","participants":3,"relayOnly":false})");
  auto back = parse_meeting_info(info);
  REQUIRE(back.ok());
  CHECK(back.value().id == id);
  CHECK(back.value().created_at == "2026-01-02T03:04:05Z");
  CHECK(back.value().participants == std::optional<std::uint32_t>(3));
  CHECK_FALSE(back.value().relay_only);
  auto relay = parse_meeting_info(serialize_meeting_info({id, "", "2026-01-02T03:04:05Z", 0u, true}));
  REQUIRE(relay.ok());
  CHECK(relay.value().relay_only);
  CHECK_FALSE(parse_meeting_info(R"({"id":"m","createdAt":"x","relayOnly":null})").ok());
  CHECK(serialize_http_error(ErrorCode::MeetingNotFound, "no such meeting") ==
        R"({"error":{"code":"meeting-not-found","message":"no such meeting"}})");
  CHECK(serialize_http_error(ErrorCode::BadJson, "quote \" and \n") ==
        R"({"error":{"code":"bad-json","message":"quote \" and \n"}})");
}

TEST_CASE("HTTP bodies: participants beyond 32 bits are refused, not wrapped") {
  auto parsed = parse_meeting_info(R"({"id":"m","createdAt":"x","participants":4294967296})");
  CHECK_FALSE(parsed.ok());
}

TEST_CASE("quote_json escapes what JSON requires") {
  CHECK(quote_json("") == R"("")");
  CHECK(quote_json("plain") == R"("plain")");
  CHECK(quote_json("a\"b\\c\n") == R"("a\"b\\c\n")");
  CHECK(quote_json(std::string("\0\x1f", 2)) == R"("\u0000\u001f")");
  CHECK(quote_json("\xC3\xA9") == "\"\xC3\xA9\"");
}
