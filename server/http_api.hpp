// Everything the server answers over plain HTTP: the meetings API, health,
// metrics and the static web app. No sockets here: a parsed request in, a
// response out (through a callback, since a cluster's meetings are in
// Redis), so the fuzzer and the tests can drive it directly.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "protocol/error_code.hpp"
#include "server/clock.hpp"
#include "server/config.hpp"
#include "server/geoip.hpp"
#include "server/meeting_directory.hpp"
#include "server/metrics.hpp"
#include "server/room_registry.hpp"
#include "server/token_bucket.hpp"

namespace meshmeet::server {

namespace http = boost::beast::http;
using HttpRequest = http::request<http::string_body>;
using HttpResponse = http::response<http::string_body>;

class HttpApi {
 public:
  HttpApi(const Config& config, MeetingDirectory& meetings, RoomRegistry& rooms, const GeoIp* geoip, Metrics& metrics,
          RandomSource& random, std::function<Gauges()> gauges);

  using Respond = std::function<void(HttpResponse)>;
  // Answers one request, once: inside this call, or later when the meeting
  // directory answers. The meetings API also serves pages of other origins
  // that the WebSocket would accept (CORS), so a site can embed meetings
  // from a server of its own elsewhere.
  void handle(const HttpRequest& request, const std::string& client_ip, TimePoint now, Respond respond);
  // The same, for a directory that answers at once (SQLite: tests, fuzzer).
  HttpResponse handle(const HttpRequest& request, const std::string& client_ip, TimePoint now);
  // The --metrics-listen port answers GET /metrics and nothing else.
  HttpResponse handle_metrics_port(const HttpRequest& request);

  // A response carrying one of the protocol's errors.
  HttpResponse error(http::status status, protocol::ErrorCode code, std::string_view message, unsigned version,
                     bool keep_alive);
  HttpResponse error(protocol::ErrorCode code, std::string_view message, unsigned version, bool keep_alive) {
    return error(static_cast<http::status>(protocol::http_status(code)), code, message, version, keep_alive);
  }

  // 503 with the error envelope and the code `unavailable`: the server
  // cannot serve this now (it is shutting down, its store failed or is
  // away). The server's state, not the client's mistake, so not counted in
  // meshmeet_errors_total.
  HttpResponse unavailable(std::string_view message, unsigned version, bool keep_alive);

  void start_shutdown() { shutting_down_ = true; }
  // Forgets per-address creation buckets that are full again.
  void sweep(TimePoint now);

 private:
  void route(const HttpRequest& request, const std::string& client_ip, TimePoint now, Respond respond);
  HttpResponse cors_preflight(const HttpRequest& request, std::string_view path, std::string_view origin, bool allowed);
  void create_meeting(const HttpRequest& request, const std::string& client_ip, TimePoint now, Respond respond);
  void get_meeting(const HttpRequest& request, std::string_view id, Respond respond);
  HttpResponse static_file(const HttpRequest& request, std::string_view path);
  HttpResponse not_allowed(const HttpRequest& request, const char* allow);
  HttpResponse metrics_page(const HttpRequest& request);
  static HttpResponse without_body_for_head(bool head, HttpResponse response);

  const Config& config_;
  MeetingDirectory& meetings_;
  RoomRegistry& rooms_;
  const GeoIp* geoip_;
  Metrics& metrics_;
  RandomSource& random_;
  std::function<Gauges()> gauges_;
  bool shutting_down_ = false;
};

// The WebSocket Origin rule of shared/protocol.md (--allow-origin), which
// also decides CORS on the meetings API (HttpApi::handle; docs/protocol.md):
// whether a page of `origin` may open the WebSocket and read the API's
// answers. `host` is the request's Host header. An empty `allow_list` means
// the default: the server's own origin and localhost, 127.0.0.1, [::1] on
// any port, http or https.
bool origin_allowed(std::string_view origin, std::string_view host, const std::vector<std::string>& allow_list);

}  // namespace meshmeet::server
