// server/http_api: the HTTP table of protocol.md as a function of a parsed
// request, plus the Origin rule and the client address behind proxies.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <set>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "temp_dir.hpp"
#include "protocol/messages.hpp"
#include "seeded_random.hpp"
#include "server/http_api.hpp"
#include "server/server.hpp"
#include "server/log.hpp"

using namespace meshmeet::server;
using meshmeet::protocol::ErrorCode;
namespace proto = meshmeet::protocol;
using json = nlohmann::ordered_json;
using namespace std::chrono_literals;

namespace {

class NullDelivery final : public Delivery {
 public:
  void send(ConnId, Message) override {}
  void retire(ConnId) override {}
  bool joined(ConnId, const JoinOutcome& outcome) override {
    CHECK_FALSE(outcome.error);
    return true;
  }
  void refused(ConnId, const proto::Error&) override {}
};

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Api {
  explicit Api(Config c = Config{}) : config(std::move(c)) {
    Log::set_level(LogLevel::Error);  // no "meeting-created" lines in the test output
    std::string error;
    store = MeetingStore::open(":memory:", false, error);
    REQUIRE_MESSAGE(store, error);
    rooms = std::make_unique<LocalRoomRegistry>(with_store(RoomSettings{}, *store), delivery, random);
    meetings = std::make_unique<LocalMeetingDirectory>(*store, *rooms, config.create_rate);
    api = std::make_unique<HttpApi>(config, *meetings, *rooms, nullptr, metrics, random,
                                    [this] { return Gauges{3, rooms->participant_count(), rooms->active_meetings(), 0}; });
  }

  HttpResponse request(http::verb verb, const std::string& target, const std::string& body = "",
                       const Headers& headers = {}, const std::string& ip = "203.0.113.5") {
    HttpRequest req{verb, target, 11};
    req.set(http::field::host, "meet.example.org");
    for (const auto& [name, value] : headers) req.set(name, value);
    if (!body.empty() || verb == http::verb::post) {
      req.body() = body;
      req.prepare_payload();
    }
    return api->handle(req, ip, now);
  }

  HttpResponse create(const std::string& body = "", const Headers& headers = {}, const std::string& ip = "203.0.113.5") {
    return request(http::verb::post, "/api/meetings", body, headers, ip);
  }

  // POST that must succeed; returns the created meeting's id.
  std::string create_ok(const std::string& body = "", const Headers& headers = {}) {
    auto res = create(body, headers);
    INFO(res.body());
    REQUIRE(res.result_int() == 201);
    return json::parse(res.body()).at("id").get<std::string>();
  }

  Config config;
  std::unique_ptr<MeetingStore> store;
  NullDelivery delivery;
  SeededRandom random{99};
  std::unique_ptr<LocalRoomRegistry> rooms;
  std::unique_ptr<LocalMeetingDirectory> meetings;
  Metrics metrics;
  std::unique_ptr<HttpApi> api;
  TimePoint now = TimePoint{} + 1000h;
};

std::string header(const HttpResponse& res, http::field field) { return std::string(res[field]); }

// Checks the protocol's error shape and returns its code.
std::string error_code_of(const HttpResponse& res) {
  INFO("body: " << res.body());
  CHECK(header(res, http::field::content_type) == "application/json");
  auto body = json::parse(res.body());
  REQUIRE(body.is_object());
  REQUIRE(body.size() == 1);
  const auto& error = body.at("error");
  REQUIRE(error.is_object());
  CHECK(error.size() == 2);
  CHECK(error.at("message").is_string());
  CHECK_FALSE(error.at("message").get<std::string>().empty());
  return error.at("code").get<std::string>();
}

std::vector<std::string> keys_of(const json& object) {
  std::vector<std::string> keys;
  for (auto it = object.begin(); it != object.end(); ++it) keys.push_back(it.key());
  return keys;
}

// A scratch directory, removed at the end of the test.
}  // namespace

// ---- POST /api/meetings ------------------------------------------------------

TEST_CASE("http: POST /api/meetings creates a meeting") {
  Api a;
  auto res = a.create(R"({"name":"Standup"})", {{"User-Agent", "TestAgent/1.0"}}, "198.51.100.23");
  REQUIRE(res.result_int() == 201);
  CHECK(header(res, http::field::content_type) == "application/json");
  CHECK(header(res, http::field::cache_control) == "no-store");
  auto body = json::parse(res.body());
  CHECK(keys_of(body) == std::vector<std::string>{"id", "name", "createdAt", "url", "relayOnly"});
  CHECK(body["relayOnly"] == false);
  const std::string id = body["id"];
  CHECK(proto::is_meeting_id(id));
  CHECK(id.size() == 26);  // 130 bits of base32
  CHECK(std::regex_match(id, std::regex("[a-z2-7]{26}")));
  CHECK(body["name"] == "Standup");
  CHECK(std::regex_match(body["createdAt"].get<std::string>(),
                         std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z)")));
  CHECK(body["url"] == "/m/" + id);
  CHECK(header(res, http::field::location) == "/api/meetings/" + id);
  CHECK(a.metrics.meetings_created == 1);

  // Stored, with the creator audit kept for the operator only.
  auto stored = a.store->find(id);
  REQUIRE(stored.has_value());
  CHECK(stored->name == "Standup");
  CHECK(stored->created_at == body["createdAt"]);
  auto audit = a.store->audit();
  REQUIRE(audit.size() == 1);
  CHECK(audit[0].creator_ip == "198.51.100.23");
  CHECK(audit[0].user_agent == "TestAgent/1.0");
  CHECK(res.body().find("198.51.100.23") == std::string::npos);
  CHECK(res.body().find("TestAgent") == std::string::npos);
}

TEST_CASE("http: empty, whitespace and {} bodies create an unnamed meeting; ids differ") {
  Api a;
  std::set<std::string> ids;
  for (const char* body : {"", "  \r\n", "{}", R"({"name":""})"}) {
    INFO("body: [" << body << "]");
    auto res = a.create(body);
    REQUIRE(res.result_int() == 201);
    auto j = json::parse(res.body());
    CHECK(j["name"] == "");
    ids.insert(j["id"].get<std::string>());
  }
  CHECK(ids.size() == 4);
}

TEST_CASE("http: bad bodies are 400 bad-json or bad-request, and create nothing") {
  Api a;
  for (std::string body : {std::string("{"), std::string("name=Standup"), std::string("{\"name\":\"\xFF\"}"),
                           std::string(R"({"name":"a"} x)")}) {
    INFO("body: " << body);
    auto res = a.create(body);
    CHECK(res.result_int() == 400);
    CHECK(error_code_of(res) == "bad-json");
  }
  for (std::string body : {std::string(R"({"name":null})"), std::string(R"({"name":5})"), std::string(R"([])"),
                           std::string(R"("Standup")"), std::string(R"({"name":["x"]})"),
                           R"({"name":")" + std::string(65, 'n') + "\"}", std::string(R"({"name":"a\u0007"})")}) {
    INFO("body: " << body);
    auto res = a.create(body);
    CHECK(res.result_int() == 400);
    CHECK(error_code_of(res) == "bad-request");
  }
  CHECK(a.store->audit().empty());
  CHECK(a.metrics.meetings_created == 0);
  CHECK(a.metrics.errors(ErrorCode::BadJson) == 4);
  CHECK(a.metrics.errors(ErrorCode::BadRequest) == 7);
  CHECK(a.create(R"({"name":")" + std::string(64, 'n') + "\"}").result_int() == 201);
}

TEST_CASE("http: a body with a raw NUL byte is bad-json, not a meeting") {
  Api a;
  auto res = a.create(std::string(R"({"name":"a"})") + '\0' + "junk");
  CHECK(res.result_int() == 400);
  if (res.result_int() == 400) CHECK(error_code_of(res) == "bad-json");
  CHECK(a.store->audit().empty());
}

TEST_CASE("http: creation rate per IP") {
  Config c;
  c.create_rate = 2;
  Api a(c);
  CHECK(a.create("", {}, "198.51.100.1").result_int() == 201);
  CHECK(a.create("", {}, "198.51.100.1").result_int() == 201);
  auto limited = a.create("", {}, "198.51.100.1");
  CHECK(limited.result_int() == 429);
  CHECK(error_code_of(limited) == "rate-limited");
  CHECK(header(limited, http::field::retry_after) == "60");
  CHECK(a.metrics.errors(ErrorCode::RateLimited) == 1);
  CHECK(a.metrics.meetings_created == 2);

  // Another address has its own budget.
  CHECK(a.create("", {}, "198.51.100.2").result_int() == 201);
  // 2 per minute: one more after 30 s, not before.
  a.now += 29s;
  CHECK(a.create("", {}, "198.51.100.1").result_int() == 429);
  a.now += 1s;
  CHECK(a.create("", {}, "198.51.100.1").result_int() == 201);
  CHECK(a.create("", {}, "198.51.100.1").result_int() == 429);
}

TEST_CASE("http: relayOnly meetings need TURN on the server: 400 relay-unavailable without, stored with") {
  {
    Api a;
    auto res = a.create(R"({"relayOnly":true})");
    CHECK(res.result_int() == 400);
    CHECK(error_code_of(res) == "relay-unavailable");
    CHECK(a.store->audit().empty());
    CHECK(a.metrics.errors(proto::ErrorCode::RelayUnavailable) == 1);
    CHECK(a.create(R"({"relayOnly":null})").result_int() == 400);
    CHECK(error_code_of(a.create(R"({"relayOnly":"yes"})")) == "bad-request");
    CHECK(a.create(R"({"relayOnly":false})").result_int() == 201);
  }
  Config turn;
  turn.turn_urls = {"turn:turn.example.org:3478"};
  turn.turn_secret = "s";
  Api a(turn);
  auto res = a.create(R"({"name":"Private","relayOnly":true})");
  REQUIRE(res.result_int() == 201);
  auto body = json::parse(res.body());
  CHECK(body["relayOnly"] == true);
  const std::string id = body["id"];
  CHECK(a.store->find(id)->relay_only);
  auto got = json::parse(a.request(http::verb::get, "/api/meetings/" + id).body());
  CHECK(got["relayOnly"] == true);
  const std::string plain = a.create_ok("{}");
  CHECK(json::parse(a.request(http::verb::get, "/api/meetings/" + plain).body())["relayOnly"] == false);
}

TEST_CASE("http: the default creation rate allows 60 per minute per IP") {
  Api a;
  for (int i = 0; i < 60; ++i) REQUIRE(a.create().result_int() == 201);
  CHECK(a.create().result_int() == 429);
}

TEST_CASE("http: create rate 0 means no limit") {
  Config c;
  c.create_rate = 0;
  Api a(c);
  for (int i = 0; i < 300; ++i) REQUIRE(a.create().result_int() == 201);
}

TEST_CASE("http: a creation token, when set, is required") {
  Config c;
  c.create_token = "s3cret-token";
  Api a(c);
  for (const Headers& h : {Headers{}, Headers{{"Authorization", "Bearer wrong"}},
                           Headers{{"Authorization", "Bearer s3cret-toke"}},
                           Headers{{"Authorization", "Bearer s3cret-tokenx"}}, Headers{{"Authorization", "s3cret-token"}},
                           Headers{{"Authorization", "Basic s3cret-token"}}, Headers{{"Authorization", "Bearer "}}}) {
    INFO((h.empty() ? std::string("(no header)") : h[0].second));
    auto res = a.create("", h);
    CHECK(res.result_int() == 401);
    CHECK(error_code_of(res) == "unauthorized");
  }
  CHECK(a.metrics.meetings_created == 0);
  auto ok = a.create(R"({"name":"x"})", {{"Authorization", "Bearer s3cret-token"}});
  CHECK(ok.result_int() == 201);
  // Reading a meeting needs no token.
  const std::string id = json::parse(ok.body())["id"];
  CHECK(a.request(http::verb::get, "/api/meetings/" + id).result_int() == 200);
}

TEST_CASE("http: without a creation token the Authorization header is irrelevant") {
  Api a;
  CHECK(a.create("", {{"Authorization", "Bearer anything"}}).result_int() == 201);
}

// ---- GET /api/meetings/ID ------------------------------------------------------

TEST_CASE("http: GET a meeting reports its live participants") {
  Api a;
  const std::string id = a.create_ok(R"({"name":"Retro"})");
  auto res = a.request(http::verb::get, "/api/meetings/" + id);
  REQUIRE(res.result_int() == 200);
  CHECK(header(res, http::field::content_type) == "application/json");
  auto body = json::parse(res.body());
  CHECK(keys_of(body) == std::vector<std::string>{"id", "name", "createdAt", "participants", "relayOnly"});
  CHECK(body["id"] == id);
  CHECK(body["name"] == "Retro");
  CHECK(body["participants"] == 0);

  a.rooms->join(1, proto::Join{id, "Ada", std::nullopt}, {}, a.now);  // NullDelivery checks each is seated
  a.rooms->join(2, proto::Join{id, "Bob", std::nullopt}, {}, a.now);
  CHECK(json::parse(a.request(http::verb::get, "/api/meetings/" + id).body())["participants"] == 2);
  a.rooms->hold(2, proto::LeaveReason::Disconnected, a.now);  // held slots count
  CHECK(json::parse(a.request(http::verb::get, "/api/meetings/" + id).body())["participants"] == 2);
  a.rooms->remove(1, proto::LeaveReason::Left);
  CHECK(json::parse(a.request(http::verb::get, "/api/meetings/" + id + "?fresh=1").body())["participants"] == 1);

  // HEAD is a GET without the need for a body.
  CHECK(a.request(http::verb::head, "/api/meetings/" + id).result_int() == 200);
}

TEST_CASE("http: 404 meeting-not-found for unknown and malformed ids") {
  Api a;
  const std::string id = a.create_ok();
  std::string upper = id;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  for (const std::string& bad :
       {std::string("abcdefghijklmnopqrstuvwxyz"), std::string(40, 'a'), std::string(24, 'a'), std::string(41, 'a'),
        upper, id + "/", id + "/extra", id.substr(1), id + "a", std::string(""), std::string("..%2f..%2fetc"),
        id.substr(0, 6) + "%00" + id.substr(9)}) {
    INFO("id: " << bad);
    auto res = a.request(http::verb::get, "/api/meetings/" + bad);
    CHECK(res.result_int() == 404);
    CHECK(error_code_of(res) == "meeting-not-found");
  }
}

TEST_CASE("http: 405 with an Allow header") {
  Api a;
  const std::string id = a.create_ok();
  struct Case {
    http::verb verb;
    std::string target;
    std::string allow;
  };
  for (const auto& c : {Case{http::verb::get, "/api/meetings", "POST"}, Case{http::verb::put, "/api/meetings", "POST"},
                        Case{http::verb::delete_, "/api/meetings/" + id, "GET, HEAD"},
                        Case{http::verb::post, "/api/meetings/" + id, "GET, HEAD"},
                        Case{http::verb::post, "/healthz", "GET, HEAD"}, Case{http::verb::post, "/metrics", "GET, HEAD"},
                        Case{http::verb::post, "/ws", "GET"}, Case{http::verb::post, "/", "GET, HEAD"},
                        Case{http::verb::delete_, "/m/" + id, "GET, HEAD"}}) {
    INFO(http::to_string(c.verb) << " " << c.target);
    auto res = a.request(c.verb, c.target);
    CHECK(res.result_int() == 405);
    CHECK(error_code_of(res) == "method-not-allowed");
    CHECK(header(res, http::field::allow) == c.allow);
  }
  CHECK(a.store->find(id).has_value());
}

TEST_CASE("http: a plain GET /ws gets 426") {
  Api a;
  auto res = a.request(http::verb::get, "/ws");
  CHECK(res.result_int() == 426);
  CHECK(header(res, http::field::upgrade) == "websocket");
  CHECK(error_code_of(res) == "bad-request");  // docs/protocol.md
  CHECK(a.request(http::verb::get, "/ws?token=1").result_int() == 426);
}

TEST_CASE("http: unknown API paths are 404 not-found") {
  Api a;
  for (const char* target : {"/api", "/api/", "/api/nope", "/api/meeting", "/api/meetingsx"}) {
    INFO(target);
    auto res = a.request(http::verb::get, target);
    CHECK(res.result_int() == 404);
    CHECK(error_code_of(res) == "not-found");
  }
}

TEST_CASE("http: healthz and metrics") {
  Api a;
  auto health = a.request(http::verb::get, "/healthz");
  CHECK(health.result_int() == 200);
  CHECK(health.body() == "ok");
  a.create_ok();
  a.create("{");
  auto metrics = a.request(http::verb::get, "/metrics");
  CHECK(metrics.result_int() == 200);
  CHECK(header(metrics, http::field::content_type).rfind("text/plain", 0) == 0);
  CHECK(metrics.body().find("\nmeshmeet_meetings_created_total 1\n") != std::string::npos);
  CHECK(metrics.body().find("meshmeet_errors_total{code=\"bad-json\"} 1") != std::string::npos);
  CHECK(metrics.body().find("\nmeshmeet_connections 3\n") != std::string::npos);
  a.api->start_shutdown();
  CHECK(a.request(http::verb::get, "/healthz").result_int() == 503);
}

TEST_CASE("http: the static app, and nothing outside it") {
  TempDir dir;
  dir.write("/index.html", "<!doctype html><title>meshmeet</title>");
  dir.write("/app.js", "console.log(1)");
  dir.write("/.secret", "no");
  dir.write("/sub/style.css", "body{}");
  Config c;
  c.static_dir = dir.path;
  Api a(c);

  auto index = a.request(http::verb::get, "/");
  CHECK(index.result_int() == 200);
  CHECK(index.body() == "<!doctype html><title>meshmeet</title>");
  CHECK(header(index, http::field::content_type).rfind("text/html", 0) == 0);
  CHECK_FALSE(std::string(index["Content-Security-Policy"]).empty());
  CHECK(std::string(index["Referrer-Policy"]) == "no-referrer");

  const std::string id(26, 'q');
  auto meeting = a.request(http::verb::get, "/m/" + id);
  CHECK(meeting.result_int() == 200);
  CHECK(meeting.body() == index.body());

  auto js = a.request(http::verb::get, "/app.js");
  CHECK(js.result_int() == 200);
  CHECK(header(js, http::field::content_type).rfind("text/javascript", 0) == 0);
  CHECK(a.request(http::verb::get, "/sub/style.css").result_int() == 200);

  auto head = a.request(http::verb::head, "/");
  CHECK(head.result_int() == 200);
  CHECK(head.body().empty());

  for (const char* target : {"/nope.html", "/.secret", "/sub/../app.js", "/../etc/passwd", "/%2e%2e/etc/passwd",
                             "/m/SHOUTINGSHOUTINGSHOUTING1", "/sub", "/sub/", "//etc/passwd", "/index.html\\"}) {
    INFO(target);
    auto res = a.request(http::verb::get, target);
    CHECK(res.result_int() == 404);
  }
}

// ---- Origin ---------------------------------------------------------------------

TEST_CASE("origin: the default list") {
  const std::vector<std::string> none;
  struct Row {
    const char* origin;
    const char* host;
    bool allowed;
  };
  const Row rows[] = {
      // The server's own origin, by the request's Host.
      {"https://meet.example.org", "meet.example.org", true},
      {"http://meet.example.org", "meet.example.org", true},
      {"https://meet.example.org:8443", "meet.example.org:8443", true},
      {"HTTPS://MEET.Example.ORG:8443", "meet.example.org:8443", true},
      {"https://meet.example.org:8443", "Meet.Example.Org:8443", true},
      {"http://[2001:db8::1]:8080", "[2001:db8::1]:8080", true},
      {"https://meet.example.org", "meet.example.org:8443", false},
      {"https://meet.example.org:8444", "meet.example.org:8443", false},
      {"https://evil.example.org", "meet.example.org", false},
      {"https://meet.example.org.evil.example", "meet.example.org", false},
      {"https://evilmeet.example.org", "meet.example.org", false},
      {"wss://meet.example.org", "meet.example.org", false},
      // localhost, 127.0.0.1, [::1] on any port, http or https.
      {"http://localhost", "meet.example.org", true},
      {"http://localhost:3000", "meet.example.org", true},
      {"https://localhost:8443", "meet.example.org", true},
      {"http://127.0.0.1", "meet.example.org", true},
      {"http://127.0.0.1:5173", "meet.example.org", true},
      {"https://[::1]", "meet.example.org", true},
      {"http://[::1]:8080", "meet.example.org", true},
      {"HTTP://LOCALHOST:1", "meet.example.org", true},
      {"ws://localhost:3000", "meet.example.org", false},
      {"ftp://localhost", "meet.example.org", false},
      {"file://localhost", "meet.example.org", false},
      {"chrome-extension://localhost", "meet.example.org", false},
      {"http://localhost.evil.example", "meet.example.org", false},
      {"http://127.0.0.1.nip.io", "meet.example.org", false},
      {"http://127.0.0.2", "meet.example.org", false},
      {"http://[::2]", "meet.example.org", false},
      {"http://0.0.0.0", "meet.example.org", false},
      {"http://localhost@evil.example", "meet.example.org", false},
      {"http://localhost/", "meet.example.org", false},
      // Not origins at all.
      {"null", "meet.example.org", false},
      {"NULL", "meet.example.org", false},
      {"null", "null", false},
      {"", "meet.example.org", false},
      {"", "", false},
      {"localhost", "meet.example.org", false},
      {"meet.example.org", "meet.example.org", false},
      {"http://", "meet.example.org", false},
      {"http://", "", false},
      {"http://[::1", "meet.example.org", false},
  };
  for (const auto& row : rows) {
    INFO("Origin: " << row.origin << "  Host: " << row.host);
    CHECK(origin_allowed(row.origin, row.host, none) == row.allowed);
  }
}

TEST_CASE("origin: an explicit list replaces the default") {
  const std::vector<std::string> list{"https://app.example.com", "http://localhost:3000"};
  CHECK(origin_allowed("https://app.example.com", "meet.example.org", list));
  CHECK(origin_allowed("HTTPS://APP.EXAMPLE.COM", "meet.example.org", list));
  CHECK(origin_allowed("http://localhost:3000", "meet.example.org", list));
  CHECK_FALSE(origin_allowed("http://localhost:3001", "meet.example.org", list));  // default no longer applies
  CHECK_FALSE(origin_allowed("http://127.0.0.1", "meet.example.org", list));
  CHECK_FALSE(origin_allowed("https://meet.example.org", "meet.example.org", list));  // nor the own origin
  CHECK_FALSE(origin_allowed("https://app.example.com:443", "meet.example.org", list));
  CHECK_FALSE(origin_allowed("https://app.example.co", "meet.example.org", list));
  CHECK_FALSE(origin_allowed("null", "meet.example.org", list));
  CHECK_FALSE(origin_allowed("null", "meet.example.org", {"null"}));  // never trusted, even when listed
}

TEST_CASE("origin: '*' allows any origin but null") {
  const std::vector<std::string> any{"*"};
  CHECK(origin_allowed("https://anything.example", "meet.example.org", any));
  CHECK(origin_allowed("http://localhost:1", "meet.example.org", any));
  CHECK(origin_allowed("chrome-extension://abcdef", "meet.example.org", any));
  CHECK_FALSE(origin_allowed("null", "meet.example.org", any));
  CHECK(origin_allowed("https://x.example", "h", {"https://y.example", "*"}));
}

