// One JSON object per line on stderr. Callers log events and counts, never
// SDP, candidates, participant names, full meeting ids or resume tokens.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace meshmeet::server {

enum class LogLevel { Debug, Info, Warn, Error };
std::string_view to_string(LogLevel level);
bool parse_log_level(std::string_view text, LogLevel& out);

class Log {
 public:
  struct Field {
    Field(const char* key, std::string_view value) : key(key), text(value), quoted(true) {}
    Field(const char* key, const char* value) : key(key), text(value), quoted(true) {}
    Field(const char* key, const std::string& value) : key(key), text(value), quoted(true) {}
    Field(const char* key, double value);
    Field(const char* key, long long value) : key(key), text(std::to_string(value)), quoted(false) {}
    Field(const char* key, unsigned long long value) : key(key), text(std::to_string(value)), quoted(false) {}
    Field(const char* key, int value) : key(key), text(std::to_string(value)), quoted(false) {}
    Field(const char* key, unsigned value) : key(key), text(std::to_string(value)), quoted(false) {}
    Field(const char* key, long value) : key(key), text(std::to_string(value)), quoted(false) {}
    Field(const char* key, unsigned long value) : key(key), text(std::to_string(value)), quoted(false) {}
    Field(const char* key, bool value) : key(key), text(value ? "true" : "false"), quoted(false) {}
    const char* key;
    std::string text;
    bool quoted;
  };

  static void set_level(LogLevel level);
  static bool enabled(LogLevel level);
  static void write(LogLevel level, std::string_view event, std::initializer_list<Field> fields = {});
  static void debug(std::string_view event, std::initializer_list<Field> fields = {}) { write(LogLevel::Debug, event, fields); }
  static void info(std::string_view event, std::initializer_list<Field> fields = {}) { write(LogLevel::Info, event, fields); }
  static void warn(std::string_view event, std::initializer_list<Field> fields = {}) { write(LogLevel::Warn, event, fields); }
  static void error(std::string_view event, std::initializer_list<Field> fields = {}) { write(LogLevel::Error, event, fields); }
};

// What may be logged of a meeting id: enough for an operator to tell
// meetings apart, far too little to join one.
std::string id_prefix(std::string_view id);

}  // namespace meshmeet::server
