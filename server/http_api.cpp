#include "server/http_api.hpp"

#include <algorithm>
#include <cctype>

#include <openssl/crypto.h>

#include "protocol/messages.hpp"
#include "server/log.hpp"
#include "server/static_site.hpp"

namespace meshmeet::server {

using protocol::ErrorCode;

namespace {

constexpr int kMeetingIdBits = 130;  // 26 base32 characters
constexpr std::size_t kMaxUserAgent = 512;

bool equal_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Splits "scheme://host[:port]" into scheme and host (without port); false
// when it is not of that shape.
bool split_origin(std::string_view origin, std::string& scheme, std::string& host, std::string& host_port) {
  auto sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  scheme = lower(origin.substr(0, sep));
  host_port = lower(origin.substr(sep + 3));
  if (host_port.empty() || host_port.find('/') != std::string::npos) return false;
  if (host_port.front() == '[') {
    auto close = host_port.find(']');
    if (close == std::string::npos) return false;
    host = host_port.substr(0, close + 1);
  } else {
    host = host_port.substr(0, host_port.find(':'));
  }
  return true;
}

}  // namespace

bool origin_allowed(std::string_view origin, std::string_view host_header, const std::vector<std::string>& allow_list) {
  const std::string o = lower(origin);
  if (o == "null") return false;  // sandboxed frames and file:// pages: never trusted
  if (!allow_list.empty()) {
    for (const auto& allowed : allow_list)
      if (allowed == "*" || lower(allowed) == o) return true;
    return false;
  }
  std::string scheme, host, host_port;
  if (!split_origin(origin, scheme, host, host_port)) return false;
  if (scheme != "http" && scheme != "https") return false;
  if (host == "localhost" || host == "127.0.0.1" || host == "[::1]") return true;
  return host_port == lower(host_header);
}

HttpApi::HttpApi(const Config& config, MeetingDirectory& meetings, RoomRegistry& rooms, const GeoIp* geoip, Metrics& metrics,
                 RandomSource& random, std::function<Gauges()> gauges)
    : config_(config), meetings_(meetings), rooms_(rooms), geoip_(geoip), metrics_(metrics), random_(random),
      gauges_(std::move(gauges)) {}

HttpResponse HttpApi::error(http::status status, ErrorCode code, std::string_view message, unsigned version,
                            bool keep_alive) {
  metrics_.error(code);
  HttpResponse res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = protocol::serialize_http_error(code, message);
  res.prepare_payload();
  return res;
}

HttpResponse HttpApi::unavailable(std::string_view message, unsigned version, bool keep_alive) {
  HttpResponse res{http::status::service_unavailable, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(keep_alive);
  res.body() = protocol::serialize_http_error(ErrorCode::Unavailable, message);
  res.prepare_payload();
  return res;
}

HttpResponse HttpApi::not_allowed(const HttpRequest& req, const char* allow) {
  auto res = error(http::status::method_not_allowed, ErrorCode::MethodNotAllowed,
                   "method not allowed here; allowed: " + std::string(allow), req.version(), req.keep_alive());
  res.set(http::field::allow, allow);
  return res;
}

HttpResponse HttpApi::handle(const HttpRequest& req, const std::string& client_ip, TimePoint now) {
  std::optional<HttpResponse> answer;
  handle(req, client_ip, now, [&](HttpResponse res) { answer = std::move(res); });
  if (!answer) throw std::logic_error("HttpApi::handle: the meeting directory did not answer at once");
  return std::move(*answer);
}

void HttpApi::handle(const HttpRequest& req, const std::string& client_ip, TimePoint now, Respond respond) {
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  auto origin_field = req.find(http::field::origin);
  const bool api = path == "/api/meetings" || path.rfind("/api/meetings/", 0) == 0;
  const bool head = req.method() == http::verb::head;
  if (!api || origin_field == req.end())
    return route(req, client_ip, now, [head, respond = std::move(respond)](HttpResponse res) {
      respond(without_body_for_head(head, std::move(res)));
    });

  // A page of another origin: it may read the answers when the WebSocket
  // would accept it too (the same allow-list); others get no CORS headers,
  // so their pages cannot read what the API says.
  std::string origin(origin_field->value().data(), origin_field->value().size());
  auto host = req[http::field::host];
  const bool allowed = origin_allowed(origin, std::string_view(host.data(), host.size()), config_.allow_origins);
  if (req.method() == http::verb::options && req.find(http::field::access_control_request_method) != req.end())
    return respond(cors_preflight(req, path, origin, allowed));
  route(req, client_ip, now, [head, allowed, origin, respond = std::move(respond)](HttpResponse res) {
    if (allowed) {
      res.set(http::field::access_control_allow_origin, origin);
      res.set(http::field::access_control_expose_headers, "Location, Retry-After");
    }
    res.set(http::field::vary, "Origin");
    respond(without_body_for_head(head, std::move(res)));
  });
}

// HEAD is answered as GET would be, headers and Content-Length included,
// but without the body: a client that reads one on a kept-alive connection
// would take the body for the next response.
HttpResponse HttpApi::without_body_for_head(bool head, HttpResponse res) {
  if (head) res.body().clear();  // Content-Length stays: prepare_payload() ran
  return res;
}

// The browser asks before a POST with a JSON body (or an Authorization
// header) from another origin. Only this shape of OPTIONS is answered; any
// other OPTIONS stays 405 as the protocol says.
HttpResponse HttpApi::cors_preflight(const HttpRequest& req, std::string_view path, std::string_view origin,
                                     bool allowed) {
  ++metrics_.http_requests;
  if (!allowed)
    return error(ErrorCode::ForbiddenOrigin, "this origin may not use the meetings API", req.version(),
                 req.keep_alive());
  HttpResponse res{http::status::no_content, req.version()};
  res.set(http::field::access_control_allow_origin, origin);
  res.set(http::field::access_control_allow_methods, path == "/api/meetings" ? "POST" : "GET, HEAD");
  res.set(http::field::access_control_allow_headers, "Content-Type, Authorization");
  res.set(http::field::access_control_max_age, "600");
  res.set(http::field::vary, "Origin");
  res.keep_alive(req.keep_alive());
  res.prepare_payload();
  return res;
}

HttpResponse HttpApi::metrics_page(const HttpRequest& req) {
  HttpResponse res{http::status::ok, req.version()};
  res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  res.set(http::field::cache_control, "no-store");
  res.keep_alive(req.keep_alive());
  res.body() = metrics_.render(gauges_());
  res.prepare_payload();
  return res;
}

HttpResponse HttpApi::handle_metrics_port(const HttpRequest& req) {
  ++metrics_.http_requests;
  std::string_view target(req.target().data(), req.target().size());
  if (target.substr(0, target.find('?')) != "/metrics")
    return error(ErrorCode::NotFound, "this port serves /metrics only", req.version(), req.keep_alive());
  if (req.method() != http::verb::get && req.method() != http::verb::head) return not_allowed(req, "GET, HEAD");
  return without_body_for_head(req.method() == http::verb::head, metrics_page(req));
}

void HttpApi::route(const HttpRequest& req, const std::string& client_ip, TimePoint now, Respond respond) {
  ++metrics_.http_requests;
  std::string_view target(req.target().data(), req.target().size());
  std::string_view path = target.substr(0, target.find('?'));
  const auto method = req.method();
  const bool get = method == http::verb::get || method == http::verb::head;

  auto plain = [&](http::status status, std::string body, std::string_view type) {
    HttpResponse res{status, req.version()};
    res.set(http::field::content_type, type);
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    return res;
  };

  if (path == "/api/meetings") {
    if (method != http::verb::post) return respond(not_allowed(req, "POST"));
    return create_meeting(req, client_ip, now, std::move(respond));
  }
  if (path.rfind("/api/meetings/", 0) == 0) {
    if (!get) return respond(not_allowed(req, "GET, HEAD"));
    return get_meeting(req, path.substr(14), std::move(respond));
  }
  if (path == "/healthz") {  // the process is alive (and not draining)
    if (!get) return respond(not_allowed(req, "GET, HEAD"));
    return respond(shutting_down_ ? plain(http::status::service_unavailable, "shutting down", "text/plain")
                                  : plain(http::status::ok, "ok", "text/plain"));
  }
  if (path == "/readyz") {  // joins are taken: a load balancer may send people here
    if (!get) return respond(not_allowed(req, "GET, HEAD"));
    if (shutting_down_) return respond(plain(http::status::service_unavailable, "shutting down", "text/plain"));
    if (!rooms_.ready()) return respond(plain(http::status::service_unavailable, "redis unavailable", "text/plain"));
    return respond(plain(http::status::ok, "ready", "text/plain"));
  }
  if (path == "/metrics" && config_.metrics_listen.empty()) {
    if (!get) return respond(not_allowed(req, "GET, HEAD"));
    return respond(metrics_page(req));
  }
  if (path == "/ws") {
    if (!get) return respond(not_allowed(req, "GET"));
    auto res = error(http::status::upgrade_required, ErrorCode::BadRequest, "this endpoint speaks WebSocket only",
                     req.version(), req.keep_alive());
    res.set(http::field::upgrade, "websocket");
    res.set(http::field::connection, "Upgrade");
    return respond(std::move(res));
  }
  if (path.rfind("/api/", 0) == 0 || path == "/api")
    return respond(error(ErrorCode::NotFound, "no such endpoint", req.version(), req.keep_alive()));
  return respond(static_file(req, path));
}

void HttpApi::create_meeting(const HttpRequest& req, const std::string& client_ip, TimePoint now, Respond respond) {
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  if (!config_.create_token.empty()) {
    auto auth = req[http::field::authorization];
    std::string_view header(auth.data(), auth.size());
    const std::string_view bearer = "Bearer ";
    if (header.substr(0, bearer.size()) != bearer || !equal_secret(header.substr(bearer.size()), config_.create_token))
      return respond(error(ErrorCode::Unauthorized, "creating meetings needs the operator's token", v, ka));
  }
  // A malformed request creates nothing, so it spends none of the address's
  // creations: only a meeting that would be made counts.
  auto parsed = protocol::parse_create_meeting(req.body());
  if (!parsed.ok()) return respond(error(parsed.error().code, parsed.error().message, v, ka));
  // A relay-only meeting nobody could connect in: refuse it up front.
  if (parsed.value().relay_only && config_.turn_urls.empty())
    return respond(
        error(ErrorCode::RelayUnavailable, "this server has no TURN relay configured for relay-only meetings", v, ka));
  NewMeeting m;
  m.id = random_id(random_, kMeetingIdBits);
  m.name = parsed.value().name;
  m.relay_only = parsed.value().relay_only;
  m.created_at = rfc3339_now();
  m.creator_ip = client_ip;
  auto ua = req[http::field::user_agent];
  m.user_agent = std::string(ua.data(), std::min(ua.size(), kMaxUserAgent));
  if (geoip_) {
    auto where = geoip_->lookup(client_ip);
    m.country = std::move(where.country);
    m.city = std::move(where.city);
  }
  using Created = MeetingDirectory::Created;
  meetings_.create(m, address_group(client_ip), now, [this, v, ka, m, respond = std::move(respond)](Created created) {
    if (created == Created::RateLimited) {
      ++metrics_.meetings_create_rate_limited;
      auto res = error(ErrorCode::RateLimited, "too many meetings created from this address; try again in a minute",
                       v, ka);
      res.set(http::field::retry_after, "60");
      return respond(std::move(res));
    }
    if (created == Created::Failed) return respond(unavailable("the meeting could not be stored; try again", v, ka));
    ++metrics_.meetings_created;
    Log::info("meeting-created", {{"meeting", id_prefix(m.id)}});
    HttpResponse res{http::status::created, v};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.set(http::field::location, "/api/meetings/" + m.id);
    res.keep_alive(ka);
    res.body() = protocol::serialize_created_meeting({m.id, m.name, m.created_at, std::nullopt, m.relay_only});
    res.prepare_payload();
    respond(std::move(res));
  });
}

void HttpApi::get_meeting(const HttpRequest& req, std::string_view id, Respond respond) {
  const unsigned v = req.version();
  const bool ka = req.keep_alive();
  if (!protocol::is_meeting_id(id)) return respond(error(ErrorCode::MeetingNotFound, "no such meeting", v, ka));
  meetings_.find(id, [this, v, ka, id = std::string(id), respond = std::move(respond)](MeetingDirectory::Found found) {
    if (found.unavailable) return respond(unavailable("meetings cannot be looked up now; try again shortly", v, ka));
    if (!found.meeting) return respond(error(ErrorCode::MeetingNotFound, "no such meeting", v, ka));
    HttpResponse res{http::status::ok, v};
    res.set(http::field::content_type, "application/json");
    res.set(http::field::cache_control, "no-store");
    res.keep_alive(ka);
    res.body() = protocol::serialize_meeting_info(
        {id, found.meeting->name, found.meeting->created_at, found.participants, found.meeting->relay_only});
    res.prepare_payload();
    respond(std::move(res));
  });
}

// The web app (static_site.hpp): a page or file that exists asked with
// another method than GET or HEAD is 405; a path that names nothing is 404
// whatever the method.
HttpResponse HttpApi::static_file(const HttpRequest& req, std::string_view path) {
  StaticReply reply = serve_static(config_.static_dir, req, path);
  switch (reply.kind) {
    case StaticReply::Kind::Found: return std::move(reply.response);
    case StaticReply::Kind::MethodNotAllowed: return not_allowed(req, "GET, HEAD");
    case StaticReply::Kind::NotFound: break;
  }
  return error(ErrorCode::NotFound, "not found", req.version(), req.keep_alive());
}

void HttpApi::sweep(TimePoint now) { meetings_.sweep(now); }

}  // namespace meshmeet::server
