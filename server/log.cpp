#include "server/log.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <sys/time.h>

namespace meshmeet::server {
namespace {

LogLevel g_level = LogLevel::Info;

void append_escaped(std::string& out, std::string_view text) {
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
}

}  // namespace

Log::Field::Field(const char* key, double value) : key(key), quoted(false) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", std::isfinite(value) ? value : 0.0);
  text = buf;
}

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::Debug: return "debug";
    case LogLevel::Info: return "info";
    case LogLevel::Warn: return "warn";
    case LogLevel::Error: return "error";
  }
  return "info";
}

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (auto l : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error})
    if (to_string(l) == text) return out = l, true;
  return false;
}

void Log::set_level(LogLevel level) { g_level = level; }
bool Log::enabled(LogLevel level) { return level >= g_level; }

void Log::write(LogLevel level, std::string_view event, std::initializer_list<Field> fields) {
  if (!enabled(level)) return;
  timeval tv;
  gettimeofday(&tv, nullptr);
  std::tm tm;
  gmtime_r(&tv.tv_sec, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<long>(tv.tv_usec / 1000));
  std::string line = "{\"t\":\"";
  line += stamp;
  line += "\",\"level\":\"";
  line += to_string(level);
  line += "\",\"event\":\"";
  append_escaped(line, event);
  line += '"';
  for (const auto& f : fields) {
    line += ",\"";
    line += f.key;
    line += "\":";
    if (f.quoted) {
      line += '"';
      append_escaped(line, f.text);
      line += '"';
    } else {
      line += f.text;
    }
  }
  line += "}\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
}

std::string id_prefix(std::string_view id) { return std::string(id.substr(0, 6)) + "…"; }

}  // namespace meshmeet::server
