// protocol::scan_signal, the relay's fast path: a valid signal's `data` is
// kept as the sender's bytes; everything the scanner declines goes to the
// document parser, which reports the protocol's error. The scanner must never
// accept what the document parser refuses, and should take every signal the
// document parser accepts.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"

using namespace meshmeet::protocol;

namespace {

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

std::string signal_with(std::string_view data, std::string_view to = R"("p1")") {
  return std::string(R"({"type":"signal","to":)") + std::string(to) + R"(,"data":)" + std::string(data) + "}";
}

// Scanned, with `data` exactly the bytes given.
void check_spliced(const std::string& text, std::string_view data, std::string_view to = "p1") {
  INFO("input: " << text);
  auto scanned = scan_signal(text);
  REQUIRE(scanned.has_value());
  CHECK(scanned->to == to);
  CHECK(scanned->data == data);
  // The view points into the input itself: nothing was copied.
  CHECK(scanned->data.data() >= text.data());
  CHECK(scanned->data.data() + scanned->data.size() <= text.data() + text.size());
  // The document parser agrees on the value.
  auto document = parse_client_message_document(text);
  REQUIRE(document.ok());
  REQUIRE(std::holds_alternative<Signal>(document.value()));
  const auto& signal = std::get<Signal>(document.value());
  CHECK(signal.to == to);
  CHECK(nlohmann::ordered_json::parse(signal.data) == nlohmann::ordered_json::parse(scanned->data));
  // And the relayed message is a valid signal carrying the same value.
  auto relayed = parse_server_message(serialize_signal_from("abcdefghijkl", scanned->data));
  REQUIRE(relayed.ok());
  REQUIRE(std::holds_alternative<SignalFrom>(relayed.value()));
  CHECK(std::get<SignalFrom>(relayed.value()).data == signal.data);
}

// Declined by the scanner; the full path reports `code` (ref as given).
void check_declined(const std::string& text, ErrorCode code, std::string_view ref) {
  INFO("input: " << text);
  CHECK_FALSE(scan_signal(text).has_value());
  auto parsed = parse_client_message(text);
  REQUIRE_FALSE(parsed.ok());
  CHECK(to_string(parsed.error().code) == to_string(code));
  CHECK(parsed.error().ref == ref);
}

}  // namespace

TEST_CASE("scan: data bytes are spliced unchanged") {
  SUBCASE("nested objects and arrays") {
    const std::string data = R"({"a":{"b":{"c":[1,{"d":[]},{}]}},"e":[[],[[]]]})";
    check_spliced(signal_with(data), data);
  }
  SUBCASE("whitespace everywhere, kept inside data") {
    const std::string data = "{ \"type\" :\t\"offer\" ,\r\n \"sdp\" : \"v=0\\r\\n\" , \"n\" : [ 1 , 2 ] }";
    check_spliced(" \t\r\n{ \"type\" : \"signal\" , \"to\" : \"p1\" , \"data\" : " + data + " } \n", data);
  }
  SUBCASE("unicode escapes and raw UTF-8 stay as sent") {
    const std::string data = R"({"k\u00e9y":"\u00e9\ud83d\ude00 é 😀 \u0000 \"\\\/\b\f\n\r\t","\u0041":1})";
    check_spliced(signal_with(data), data);
  }
  SUBCASE("numbers keep their spelling") {
    const std::string data = R"({"a":1.0,"b":-0,"c":1e5,"d":2.50E-3,"e":123456789012345678901234567890,"f":1e308})";
    check_spliced(signal_with(data), data);
  }
  SUBCASE("literals, empty containers, empty strings and keys") {
    check_spliced(signal_with(R"({"":"","t":true,"f":false,"n":null,"o":{},"l":[]})"),
                  R"({"":"","t":true,"f":false,"n":null,"o":{},"l":[]})");
    check_spliced(signal_with("{}"), "{}");
  }
  SUBCASE("a typical ICE candidate and a 3 KB description") {
    const std::string candidate =
        R"({"candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host","sdpMid":"0","sdpMLineIndex":0},"t":123456789,"seq":3})";
    check_spliced(signal_with(candidate), candidate);
    const std::string sdp = R"({"description":{"type":"offer","sdp":")" + repeat("a=candidate:0 1 UDP 1 192.0.2.1 9 typ host\\r\\n", 70) + R"("}})";
    check_spliced(signal_with(sdp), sdp);
  }
  SUBCASE("fields in any order, unknown fields ignored, escaped type and to") {
    check_spliced(R"({"data":{"x":1},"extra":[{"data":2}],"to":"p1","type":"signal"})", R"({"x":1})");
    check_spliced(R"({"type":"sig\u006eal","to":"p\u0031","data":{}})", "{}");
    check_spliced(R"({"type":"signal","to":"a\"b","data":{}})", "{}", "a\"b");
  }
  SUBCASE("a byte order mark before the message, as the document parser allows") {
    check_spliced("\xEF\xBB\xBF" + signal_with("{}"), "{}");
  }
  SUBCASE("many keys (past the linear duplicate check), all distinct") {
    std::string data = "{";
    for (int i = 0; i < 200; ++i) data += (i ? ",\"k" : "\"k") + std::to_string(i) + "\":" + std::to_string(i);
    data += "}";
    check_spliced(signal_with(data), data);
  }
  SUBCASE("nesting up to the limit") {
    static_assert(kMaxJsonDepth == 32);
    // message object + data object + 30 arrays = 32 levels.
    const std::string data = "{\"a\":" + repeat("[", kMaxJsonDepth - 2) + repeat("]", kMaxJsonDepth - 2) + "}";
    check_spliced(signal_with(data), data);
  }
}

TEST_CASE("scan: what the scanner declines gets the protocol's error") {
  SUBCASE("data that is not an object") {
    for (const char* data : {"[]", R"([{"sdp":"x"}])", "null", R"("{}")", "42", "true", "false", "-1.5"})
      check_declined(signal_with(data), ErrorCode::BadMessage, "signal");
    check_declined(R"({"type":"signal","to":"p1"})", ErrorCode::BadMessage, "signal");
  }
  SUBCASE("to missing or not a string") {
    check_declined(R"({"type":"signal","data":{}})", ErrorCode::BadMessage, "signal");
    check_declined(signal_with("{}", "5"), ErrorCode::BadMessage, "signal");
    check_declined(signal_with("{}", "null"), ErrorCode::BadMessage, "signal");
    check_declined(signal_with("{}", R"(["p1"])"), ErrorCode::BadMessage, "signal");
  }
  SUBCASE("duplicate keys inside data, at any depth, however spelt") {
    check_declined(signal_with(R"({"sdp":"a","sdp":"b"})"), ErrorCode::BadMessage, "");
    check_declined(signal_with(R"({"l":[{"k":1,"k":2}]})"), ErrorCode::BadMessage, "");
    check_declined(signal_with(R"({"a":{"b":{"c":1,"c":1}}})"), ErrorCode::BadMessage, "");
    check_declined(signal_with(R"({"k":1,"\u006b":2})"), ErrorCode::BadMessage, "");
    check_declined(signal_with(R"({"\u00e9":1,"é":2})"), ErrorCode::BadMessage, "");
    check_declined(signal_with(R"({"\ud83d\ude00":1,"😀":2})"), ErrorCode::BadMessage, "");
    check_declined(signal_with(R"({"a\nb":1,"a\u000ab":2})"), ErrorCode::BadMessage, "");
    check_spliced(signal_with(R"({"\ud83d\ude00":1,"\ud83d\ude01":2,"\/":3,"/x":4})"),
                  R"({"\ud83d\ude00":1,"\ud83d\ude01":2,"\/":3,"/x":4})");
    std::string many = "{";
    for (int i = 0; i < 100; ++i) many += "\"k" + std::to_string(i) + "\":0,";
    many += "\"k57\":1}";
    check_declined(signal_with(many), ErrorCode::BadMessage, "");
  }
  SUBCASE("duplicate keys in the message itself") {
    check_declined(R"({"type":"signal","to":"p1","to":"p2","data":{}})", ErrorCode::BadMessage, "");
    check_declined(R"({"type":"signal","to":"p1","data":{},"data":{}})", ErrorCode::BadMessage, "");
    check_declined(R"({"type":"signal","to":"p1","data":{},"x":1,"x":1})", ErrorCode::BadMessage, "");
  }
  SUBCASE("nesting past the limit") {
    check_declined(signal_with("{\"a\":" + repeat("[", kMaxJsonDepth - 1) + repeat("]", kMaxJsonDepth - 1) + "}"),
                   ErrorCode::BadMessage, "");
    check_declined(signal_with(repeat(R"({"o":)", kMaxJsonDepth) + "1" + repeat("}", kMaxJsonDepth)),
                   ErrorCode::BadMessage, "");
    check_declined(signal_with(repeat("[", 100000) + repeat("]", 100000)), ErrorCode::BadMessage, "");
  }
  SUBCASE("not JSON") {
    check_declined(signal_with(R"({"a":1,})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":01})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":1.})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":.5})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":+1})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":1e})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":tru})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":nulll})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a" 1})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({'a':1})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":"\x"})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":"\u12"})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":"\u12g4"})"), ErrorCode::BadJson, "");
    check_declined(signal_with("{\"a\":\"tab\there\"}"), ErrorCode::BadJson, "");
    check_declined(signal_with("{}") + "x", ErrorCode::BadJson, "");
    check_declined(signal_with("{}") + "{}", ErrorCode::BadJson, "");
    check_declined(signal_with("{") , ErrorCode::BadJson, "");
    check_declined("/*c*/" + signal_with("{}"), ErrorCode::BadJson, "");
  }
  SUBCASE("numbers that overflow a double") {
    check_declined(signal_with(R"({"x":1e400})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"x":-1.5E+309})"), ErrorCode::BadJson, "");
    check_declined(signal_with("{\"x\":" + repeat("9", 400) + "}"), ErrorCode::BadJson, "");
  }
  SUBCASE("raw NUL, anywhere") {
    std::string in_string = signal_with(R"({"k":"a_b"})");
    in_string[in_string.find('_')] = '\0';
    check_declined(in_string, ErrorCode::BadJson, "");
    check_declined(signal_with("{}") + std::string(1, '\0'), ErrorCode::BadJson, "");
    check_declined(signal_with("{}") + std::string(1, '\0') + "garbage", ErrorCode::BadJson, "");
  }
  SUBCASE("invalid UTF-8 and lone surrogates") {
    for (const char* bad : {"\xFF", "\xC3\x28", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82", "\x80"})
      check_declined(signal_with(std::string("{\"sdp\":\"") + bad + "\"}"), ErrorCode::BadJson, "");
    check_declined(signal_with("{\"\xFE\":1}"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":"\ud800"})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":"\ud800\u0041"})"), ErrorCode::BadJson, "");
    check_declined(signal_with(R"({"a":"\udc00x"})"), ErrorCode::BadJson, "");
  }
  SUBCASE("other types are for the document parser") {
    CHECK_FALSE(scan_signal(R"({"type":"ping","t":1})").has_value());
    CHECK_FALSE(scan_signal(R"({"to":"p1","data":{},"type":"leave"})").has_value());
    CHECK_FALSE(scan_signal(R"({"type":"Signal","to":"p1","data":{}})").has_value());
    check_declined(R"({"to":"p1","data":{}})", ErrorCode::BadMessage, "");
    check_declined(R"({"type":5,"to":"p1","data":{}})", ErrorCode::BadMessage, "");
  }
}

// Differential check against the document parser over random mutations of
// signals: the scanner never accepts what the document parser refuses, takes
// every signal it accepts, and agrees on `to` and the value of `data`.
TEST_CASE("scan: agrees with the document parser on mutated input") {
  const std::string seeds[] = {
      signal_with(R"({"a":[1,-2.5e3,true,null,{"b":"c\u00e9\ud83d\ude00"}],"d":{}})"),
      signal_with(R"({"sdp":"v=0\r\n","type":"offer"})", R"("p\u0031")"),
      R"( {"data":{"k":{"k":[[],{}]}},"type":"signal","x":[0],"to":"q"} )",
      signal_with("{\"s\":\"é😀\",\"n\":0.5}"),
      // Long plain runs, scanned eight bytes at a time, with what must stop them.
      signal_with(R"({"sdp":"v=0 o=- 4611731400430051336 2 IN IP4 127.0.0.1 s=- t=0 0 a=group:BUNDLE 0 1 "x" \ é end"})"),
  };
  const std::string alphabet = std::string("{}[]\":,\\u0123456789abdefnrtlsE.+- \t\n") + '\0' + "\xC3\xA9\xED\xA0\x80\xFF";
  std::uint64_t state = 0x9E3779B97F4A7C15ull;
  const auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  int scanned = 0, documents = 0;
  for (int round = 0; round < 60000; ++round) {
    std::string text = seeds[next() % std::size(seeds)];
    const int edits = 1 + static_cast<int>(next() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      const std::size_t at = next() % text.size();
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0: text[at] = c; break;
        case 1: text.insert(text.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: text.erase(at, 1); break;
      }
    }
    auto scan = scan_signal(text);
    auto document = parse_client_message_document(text);
    const bool document_signal = document.ok() && std::holds_alternative<Signal>(document.value());
    INFO("input: " << text);
    if (scan) {
      ++scanned;
      REQUIRE(document_signal);
      const auto& signal = std::get<Signal>(document.value());
      CHECK(signal.to == scan->to);
      CHECK(nlohmann::ordered_json::parse(signal.data) == nlohmann::ordered_json::parse(scan->data));
    } else {
      REQUIRE_FALSE(document_signal);
    }
    documents += document_signal;
  }
  CHECK(scanned == documents);
  CHECK(scanned > 1000);  // the mutations leave enough valid signals to mean something
}

// The messages of every join are built by appending, not through a JSON
// document: they must come out exactly as the document would serialize.
TEST_CASE("join messages: appended text equals the JSON document's") {
  static const char kControls[] = "nul \0 and \x01 \x1f \x7f";
  using json = nlohmann::ordered_json;
  const auto dump = [](const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); };
  const std::string strings[] = {"",
                                 "plain",
                                 "quote \" backslash \\ slash /",
                                 "\b\f\n\r\t",
                                 std::string(kControls, sizeof kControls - 1),
                                 "é 😀 中文",
                                 "bad \xFF utf-8 \xC3",
                                 "\xED\xA0\x80"};
  for (const auto& a : strings) {
    for (const auto& b : strings) {
      INFO("a: " << a << " b: " << b);
      CHECK(quote_json(a) == dump(json(a)));
      const PeerInfo peer{a, b};
      const json peer_json = {{"id", a}, {"name", b}};
      CHECK(serialize(ServerMessage{PeerJoined{peer}}) == dump(json{{"type", "peer-joined"}, {"peer", peer_json}}));
      CHECK(serialize(ServerMessage{PeerLeft{a, LeaveReason::Timeout}}) ==
            dump(json{{"type", "peer-left"}, {"peer", a}, {"reason", "timeout"}}));
      for (const char* ice : {"[]", R"([{"urls":"stun:a"},{"urls":["turn:b"],"credential":"\u00e9"}])", "{}", "nonsense"}) {
        Welcome w{a, b, b, a, {peer, PeerInfo{b, a}}, ice, true, 10000, 4294967295u, 15000u};
        json peers = json::array({peer_json, json{{"id", b}, {"name", a}}});
        json ice_json = json::parse(ice, nullptr, false);
        if (!ice_json.is_array()) ice_json = json::array();
        const json expected = {{"type", "welcome"},
                               {"self", a},
                               {"resume", b},
                               {"meeting", {{"id", b}, {"name", a}}},
                               {"peers", peers},
                               {"iceServers", ice_json},
                               {"relayOnly", true},
                               {"resumeGrace", 15000u},
                               {"heartbeat", {{"interval", 10000u}, {"timeout", 4294967295u}}}};
        CHECK(serialize(ServerMessage{w}) == dump(expected));
      }
    }
  }
  CHECK(serialize(ServerMessage{Welcome{"s", "r", "m", "n", {}, "[]", false, 1, 2, std::nullopt}}) ==
        R"({"type":"welcome","self":"s","resume":"r","meeting":{"id":"m","name":"n"},"peers":[],"iceServers":[],"relayOnly":false,"heartbeat":{"interval":1,"timeout":2}})");
}
