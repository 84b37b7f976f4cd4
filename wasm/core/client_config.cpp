#include "wasm/core/client_config.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <nlohmann/json.hpp>

namespace meshmeet::core {
namespace {

using json = nlohmann::json;

// Reads a non-negative integer option into `out` if present; false on a bad value.
template <class T>
bool integer(const json& doc, const char* key, T& out, std::string& error, double max = 9007199254740991.0) {
  auto it = doc.find(key);
  if (it == doc.end()) return true;
  double value = 0;
  if (it->is_number_unsigned()) {
    value = static_cast<double>(it->get<std::uint64_t>());
  } else if (it->is_number_float() && std::floor(it->get<double>()) == it->get<double>()) {
    value = it->get<double>();
  } else if (!it->is_number_integer()) {
    error = std::string("option '") + key + "' must be an integer";
    return false;
  } else {
    value = -1;  // a negative integer
  }
  if (value < 0 || value > max) {
    error = std::string("option '") + key + "' is out of range";
    return false;
  }
  out = it->is_number_unsigned() ? static_cast<T>(it->get<std::uint64_t>()) : static_cast<T>(value);
  return true;
}

// Every option the core reads. One that is not here is a mistake (a typo, an
// option of another version) and is refused instead of silently ignored.
constexpr std::string_view kOptions[] = {
    "seed", "uplinkKbps", "audioKbps", "reconnectBaseMs", "reconnectCapMs", "connectTimeoutMs", "connectWatchdogMs",
    "connectHardCapMs", "unreachableRetryBaseMs", "unreachableRetryCapMs", "answerTimeoutMs", "iceDisconnectedGraceMs",
    "iceRestartAttempts", "iceRestartBaseMs", "iceRestartTimeoutMs", "maxFreshConnections", "senderParametersRetryMs",
    "senderParametersAttempts", "senderParametersGatherMs", "senderFirstViewWaitMs", "statsIntervalMs",
    "peerReturnGraceMs", "seatWaitMs", "iceServers", "entropy", "debugLog",
};

}  // namespace

std::optional<ClientConfig> parse_client_config(std::string_view text, std::string& error) {
  ClientConfig config;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return config;
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) {
    error = "options must be a JSON object";
    return std::nullopt;
  }
  for (const auto& [key, value] : doc.items()) {
    (void)value;
    if (std::find(std::begin(kOptions), std::end(kOptions), key) == std::end(kOptions)) {
      error = "unknown option '" + key + "'";
      return std::nullopt;
    }
  }
  bool ok = integer(doc, "seed", config.seed, error) && integer(doc, "uplinkKbps", config.uplink_kbps, error, 1e6) &&
            integer(doc, "audioKbps", config.audio_kbps, error, 1e4) &&
            integer(doc, "reconnectBaseMs", config.reconnect_base_ms, error) &&
            integer(doc, "reconnectCapMs", config.reconnect_cap_ms, error) &&
            integer(doc, "connectTimeoutMs", config.connect_timeout_ms, error) &&
            integer(doc, "connectWatchdogMs", config.connect_watchdog_ms, error) &&
            integer(doc, "connectHardCapMs", config.connect_hard_cap_ms, error) &&
            integer(doc, "unreachableRetryBaseMs", config.unreachable_retry_base_ms, error) &&
            integer(doc, "unreachableRetryCapMs", config.unreachable_retry_cap_ms, error) &&
            integer(doc, "answerTimeoutMs", config.answer_timeout_ms, error) &&
            integer(doc, "iceDisconnectedGraceMs", config.ice_disconnected_grace_ms, error) &&
            integer(doc, "iceRestartAttempts", config.ice_restart_attempts, error, 100) &&
            integer(doc, "iceRestartBaseMs", config.ice_restart_base_ms, error) &&
            integer(doc, "iceRestartTimeoutMs", config.ice_restart_timeout_ms, error) &&
            integer(doc, "maxFreshConnections", config.max_fresh_connections, error, 100) &&
            integer(doc, "senderParametersRetryMs", config.sender_parameters_retry_ms, error) &&
            integer(doc, "senderParametersAttempts", config.sender_parameters_attempts, error, 100) &&
            integer(doc, "senderParametersGatherMs", config.sender_parameters_gather_ms, error) &&
            integer(doc, "senderFirstViewWaitMs", config.sender_first_view_wait_ms, error) &&
            integer(doc, "statsIntervalMs", config.stats_interval_ms, error) &&
            integer(doc, "peerReturnGraceMs", config.peer_return_grace_ms, error) &&
            integer(doc, "seatWaitMs", config.seat_wait_ms, error);
  if (!ok) return std::nullopt;
  if (config.uplink_kbps == 0 || config.stats_interval_ms == 0 || config.reconnect_cap_ms == 0 ||
      config.connect_watchdog_ms == 0 || config.unreachable_retry_base_ms == 0 || config.unreachable_retry_cap_ms == 0) {
    error = "uplinkKbps, statsIntervalMs, reconnectCapMs, connectWatchdogMs and unreachableRetry*Ms must be positive";
    return std::nullopt;
  }
  if (auto it = doc.find("iceServers"); it != doc.end()) {
    if (!it->is_array()) {
      error = "option 'iceServers' must be an array";
      return std::nullopt;
    }
    config.ice_servers_json = it->dump(-1, ' ', false, json::error_handler_t::replace);
  }
  if (auto it = doc.find("entropy"); it != doc.end()) {
    if (!it->is_string() || it->get_ref<const std::string&>().size() > 256) {
      error = "option 'entropy' must be a string (at most 256 characters)";
      return std::nullopt;
    }
    config.entropy = it->get<std::string>();
  }
  if (auto it = doc.find("debugLog"); it != doc.end()) {
    if (!it->is_boolean()) {
      error = "option 'debugLog' must be a boolean";
      return std::nullopt;
    }
    config.debug_log = it->get<bool>();
  }
  return config;
}

}  // namespace meshmeet::core
