// libFuzzer: raw bytes → Beast's request parser (body limit 4096, as the
// server) → HttpApi::handle against an in-memory store; the header values
// also go through origin_allowed and client_address. Properties:
//  - nothing throws or trips a sanitizer;
//  - every error response has the protocol's shape with a known code;
//  - 201 carries a well-formed meeting; 405 carries Allow;
//  - Origin "null" is never allowed, and the default list only allows http(s);
//  - the client address is the peer or a short X-Forwarded-For entry.
#include <unistd.h>

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <nlohmann/json.hpp>

#include "fuzz_check.hpp"
#include "protocol/messages.hpp"
#include "server/http_api.hpp"
#include "server/log.hpp"

using namespace meshmeet::server;
using meshmeet::fuzz::check;
namespace proto = meshmeet::protocol;

namespace {

class NullDelivery final : public Delivery {
 public:
  void send(ConnId, Message) override {}
  void retire(ConnId) override {}
  bool joined(ConnId, const JoinOutcome&) override { return true; }
  void refused(ConnId, const proto::Error&) override {}
};

// splitmix64: deterministic, never repeats an id within a run.
class CountingRandom final : public RandomSource {
 public:
  void fill(std::uint8_t* out, std::size_t size) override {
    for (std::size_t i = 0; i < size; ++i) {
      std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      out[i] = static_cast<std::uint8_t>(z ^ (z >> 31));
    }
  }

 private:
  std::uint64_t state_ = 0;
};

// A meeting every run knows, so GET /api/meetings/ID can find something.
const std::string kKnownId = "fuzzfuzzfuzzfuzzfuzzfuzzfu";

struct World {
  World() {
    Log::set_level(LogLevel::Error);
    char pattern[] = "/tmp/meshmeet-fuzz-static-XXXXXX";
    if (!::mkdtemp(pattern)) std::abort();
    static_dir = pattern;
    std::ofstream(static_dir + "/index.html") << "<!doctype html><title>meshmeet</title>";
    std::ofstream(static_dir + "/app.js") << "export {};";
    open_store();

    open_config.static_dir = static_dir;
    locked_config.static_dir = static_dir;
    locked_config.create_token = "fuzz-token";
    locked_config.create_rate = 1;
    locked_config.trusted_proxies = {*parse_address_range("10.0.0.0/8")};
  }
  ~World() {
    store.reset();
    std::remove((static_dir + "/index.html").c_str());
    std::remove((static_dir + "/app.js").c_str());
    ::rmdir(static_dir.c_str());
  }

  void open_store() {
    std::string error;
    store = MeetingStore::open(":memory:", false, error);
    check(store != nullptr, "the in-memory store opens", error);
    NewMeeting known;
    known.id = kKnownId;
    known.name = "known";
    known.created_at = "2026-01-01T00:00:00Z";
    check(store->create(known, error), "the known meeting is stored", error);
    created = 0;
  }

  std::string static_dir;
  Config open_config;    // defaults
  Config locked_config;  // creation token, tight rate, a trusted proxy
  std::unique_ptr<MeetingStore> store;
  CountingRandom random;
  std::size_t created = 0;
};

World& world() {
  static World w;
  return w;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  return true;
}

void check_response(const HttpResponse& res, bool head) {
  const int status = res.result_int();
  const std::string& body = res.body();
  if (head) {
    // As GET would answer, without the body; Content-Length still says its size.
    check(body.empty(), "a HEAD response has no body", body);
    check(!res[boost::beast::http::field::content_length].empty(), "a HEAD response tells the length");
  } else if (status >= 400 && status != 503) {
    auto doc = nlohmann::json::parse(body, nullptr, false);
    check(doc.is_object() && doc.size() == 1 && doc.contains("error") && doc["error"].is_object(),
          "an error body is {\"error\":{...}}", body);
    const auto& error = doc["error"];
    check(error.contains("code") && error["code"].is_string() && error.contains("message") &&
              error["message"].is_string(),
          "an error has a code and a message", body);
    auto code = proto::error_code_from_string(error["code"].get<std::string>());
    check(code.has_value(), "an error code is one of the protocol's", body);
    if (status != 426) check(proto::http_status(*code) == status, "the status goes with the code", body);
  }
  if (status == 405) check(!res[boost::beast::http::field::allow].empty(), "405 carries Allow");
  if (status == 201) {
    auto doc = nlohmann::json::parse(body, nullptr, false);
    check(doc.is_object() && doc.contains("id") && doc["id"].is_string(), "201 carries an id", body);
    const std::string id = doc["id"];
    check(proto::is_meeting_id(id), "a created id is a meeting id", id);
    check(std::string(res[boost::beast::http::field::location]) == "/api/meetings/" + id, "Location names the meeting");
  }
  // The response must serialize.
  std::ostringstream wire;
  wire << res;
  check(!wire.str().empty(), "the response serializes");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace http = boost::beast::http;
  World& w = world();

  http::request_parser<http::string_body> parser;
  parser.body_limit(4096);
  parser.eager(true);
  boost::beast::error_code ec;
  std::size_t offset = 0;
  while (offset < size && !parser.is_done()) {
    const std::size_t used = parser.put(boost::asio::const_buffer(data + offset, size - offset), ec);
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec) return 0;  // malformed or over a limit: the server answers 400/413 itself
    if (used == 0) break;
    offset += used;
  }
  if (!parser.is_done()) {
    if (!parser.got_some()) return 0;  // put_eof() requires some input (it asserts)
    parser.put_eof(ec);
    if (ec || !parser.is_done()) return 0;
  }
  const HttpRequest request = parser.release();

  // Header values through the WebSocket upgrade's checks.
  const std::string_view origin = request[http::field::origin];
  const std::string_view host = request[http::field::host];
  const bool by_default = origin_allowed(origin, host, {});
  const bool by_star = origin_allowed(origin, host, {"*"});
  const bool by_list = origin_allowed(origin, host, {"https://app.example.org", std::string(host)});
  std::string lowered(origin);
  for (auto& c : lowered) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lowered == "null") check(!by_default && !by_star && !by_list, "Origin null is never allowed");
  else check(by_star, "'*' allows every origin but null", origin);
  if (by_default)
    check(starts_with_ci(origin, "http://") || starts_with_ci(origin, "https://"), "the default list is http(s) only",
          origin);

  const std::string peer = "10.0.0.1";
  std::vector<std::string_view> xff;
  for (auto range = request.equal_range("X-Forwarded-For"); range.first != range.second; ++range.first)
    xff.emplace_back(range.first->value().data(), range.first->value().size());
  const std::string forwarded = client_address(peer, xff, w.locked_config.trusted_proxies);
  check(parse_ip(forwarded).has_value(), "a client address is an IP address", forwarded);
  check(client_address("192.0.2.9", xff, w.locked_config.trusted_proxies) == "192.0.2.9",
        "an untrusted peer's X-Forwarded-For is ignored");

  // The request against both configurations, each with fresh per-run state.
  const TimePoint now = TimePoint{} + std::chrono::hours(1);
  for (const Config* config : {&w.open_config, &w.locked_config}) {
    NullDelivery delivery;
    RoomSettings settings;
    settings.find_meeting = [](std::string_view id) -> std::optional<MeetingRecord> {
      if (id != kKnownId) return std::nullopt;
      return MeetingRecord{kKnownId, "known"};
    };
    LocalRoomRegistry rooms(settings, delivery, w.random);
    rooms.join(1, proto::Join{kKnownId, "someone", std::nullopt}, {}, now);
    Metrics metrics;
    LocalMeetingDirectory meetings(*w.store, rooms, config->create_rate);
    HttpApi api(*config, meetings, rooms, nullptr, metrics, w.random,
                [&] { return Gauges{1, rooms.participant_count(), rooms.active_meetings(), 0}; });
    const std::string& ip = config == &w.open_config ? peer : forwarded;
    HttpResponse response = api.handle(request, ip, now);
    check_response(response, request.method() == http::verb::head);
    if (response.result_int() == 201) ++w.created;
  }
  // Keep memory bounded on long runs.
  if (w.created > 50000) w.open_store();
  return 0;
}
