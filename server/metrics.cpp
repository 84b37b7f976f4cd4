#include "server/metrics.hpp"

#include <cstdio>

namespace meshmeet::server {

std::string_view to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::Left: return "left";
    case DisconnectReason::Removed: return "removed";
    case DisconnectReason::JoinTimeout: return "join-timeout";
    case DisconnectReason::Heartbeat: return "heartbeat";
    case DisconnectReason::SlowConsumer: return "slow-consumer";
    case DisconnectReason::TooLarge: return "too-large";
    case DisconnectReason::BadUtf8: return "bad-utf8";
    case DisconnectReason::Binary: return "binary";
    case DisconnectReason::TooManyConnections: return "too-many-connections";
    case DisconnectReason::Dropped: return "dropped";
    case DisconnectReason::Replaced: return "replaced";
    case DisconnectReason::Shutdown: return "shutdown";
  }
  return "dropped";
}

void Metrics::join_latency(Duration d) {
  const double s = to_seconds(d);
  for (std::size_t i = 0; i < kJoinBuckets.size(); ++i)
    if (s <= kJoinBuckets[i]) ++join_buckets_[i];
  ++join_count_;
  join_sum_ += s;
}

namespace {

void line(std::string& out, const char* name, std::uint64_t value) {
  out += name;
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

void header(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

// A metric with one value: its HELP and TYPE lines, then the value.
void single(std::string& out, const char* name, const char* type, const char* help, std::uint64_t value) {
  header(out, name, type, help);
  line(out, name, value);
}

}  // namespace

std::string Metrics::render(const Gauges& g) const {
  std::string out;
  out.reserve(4096);
  header(out, "meshmeet_build_info", "gauge", "The server's version and protocol: always 1.");
  out += "meshmeet_build_info{version=\"" MESHMEET_VERSION "\",protocol=\"2\"} 1\n";
  single(out, "process_open_fds", "gauge", "Open file descriptors (sockets, the database, the STUN port…).", g.open_fds);
  single(out, "process_max_fds", "gauge", "The open-file limit: no more sockets than this, whatever the memory.", g.max_fds);
  single(out, "meshmeet_connections", "gauge", "Open WebSocket connections.", g.connections);
  single(out, "meshmeet_participants", "gauge", "Participants in meetings, held slots included.", g.participants);
  single(out, "meshmeet_meetings_active", "gauge", "Meetings with at least one participant.", g.meetings_active);
  single(out, "meshmeet_meetings_created_total", "counter", "Meetings created.", meetings_created);
  single(out, "meshmeet_meetings_expired_total", "counter", "Meetings deleted after --meeting-ttl days unused.",
         meetings_expired);
  single(out, "meshmeet_messages_in_total", "counter", "WebSocket messages received.", messages_in);
  single(out, "meshmeet_messages_out_total", "counter", "WebSocket messages sent.", messages_out);
  single(out, "meshmeet_http_requests_total", "counter", "HTTP requests answered.", http_requests);
  single(out, "meshmeet_resumes_total", "counter", "Participants that resumed their slot.", resumes);
  single(out, "meshmeet_resume_expired_total", "counter", "Held slots whose resume grace ran out.", resume_expired);
  single(out, "meshmeet_rate_limited_messages_total", "counter",
         "Messages dropped by the per-connection rate limit.", rate_limited_messages);
  single(out, "meshmeet_connections_refused_fd_limit_total", "counter",
         "Connections refused with 503 because the process was out of file descriptors.", refused_fd_limit);
  single(out, "meshmeet_meetings_create_rate_limited_total", "counter",
         "Meeting creations refused with 429 by the per-address creation rate (--create-rate).",
         meetings_create_rate_limited);
  single(out, "meshmeet_http_body_too_large_total", "counter",
         "HTTP requests refused with 413: body over --max-body.", http_body_too_large);
  single(out, "meshmeet_http_bad_requests_total", "counter",
         "HTTP requests refused with 400 (not HTTP) or 431 (headers over 16 KiB).", http_bad_requests);
  single(out, "meshmeet_held_signals_dropped_total", "counter",
         "Signals for a held slot dropped because its queue was full.", g.held_signals_dropped);
  single(out, "meshmeet_stun_answered_total", "counter", "STUN Binding requests answered.", stun_answered);
  single(out, "meshmeet_stun_ignored_total", "counter",
         "UDP datagrams on the STUN port that were not a valid Binding request (no answer).", stun_ignored);
  single(out, "meshmeet_stun_rate_limited_total", "counter",
         "STUN Binding requests left unanswered: over their source address's rate.", stun_rate_limited);
  single(out, "meshmeet_ice_refreshes_total", "counter",
         "ice-servers messages sent to renew TURN credentials before they expire.", ice_refreshes);

  header(out, "meshmeet_errors_total", "counter", "Protocol errors sent, by code (HTTP and WebSocket).");
  for (auto code : protocol::kAllErrorCodes) {
    out += "meshmeet_errors_total{code=\"";
    out += to_string(code);
    out += "\"} ";
    out += std::to_string(errors(code));
    out += '\n';
  }
  header(out, "meshmeet_disconnects_total", "counter", "WebSocket connections ended, by reason.");
  for (int i = 0; i < kDisconnectReasons; ++i) {
    out += "meshmeet_disconnects_total{reason=\"";
    out += to_string(static_cast<DisconnectReason>(i));
    out += "\"} ";
    out += std::to_string(disconnects_[static_cast<std::size_t>(i)]);
    out += '\n';
  }

  header(out, "meshmeet_join_latency_seconds", "histogram", "From receiving join to sending welcome.");
  for (std::size_t i = 0; i < kJoinBuckets.size(); ++i) {
    char le[32];
    std::snprintf(le, sizeof le, "%g", kJoinBuckets[i]);
    out += "meshmeet_join_latency_seconds_bucket{le=\"";
    out += le;
    out += "\"} ";
    out += std::to_string(join_buckets_[i]);
    out += '\n';
  }
  out += "meshmeet_join_latency_seconds_bucket{le=\"+Inf\"} " + std::to_string(join_count_) + "\n";
  char sum[64];
  std::snprintf(sum, sizeof sum, "%.9f", join_sum_);
  out += "meshmeet_join_latency_seconds_sum ";
  out += sum;
  out += '\n';
  line(out, "meshmeet_join_latency_seconds_count", join_count_);
  return out;
}

}  // namespace meshmeet::server
