#include "wasm/core/context.hpp"

#include "wasm/core/verification_code.hpp"

namespace meshmeet::core {

CoreContext::CoreContext(ClientConfig config) : config_(std::move(config)), random_(config_.seed) {}

std::string CoreContext::fresh_nonce() {
  std::string input = "meshmeet-nonce-v1\n" + config_.entropy + "\n" + std::to_string(config_.seed) + "\n" +
                      std::to_string(++nonces_);
  const auto digest = sha256(input);
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    out += digits[digest[i] >> 4];
    out += digits[digest[i] & 15];
  }
  return out;
}

std::vector<Output> CoreContext::drain() {
  std::vector<Output> out;
  out.swap(outputs_);
  return out;
}

int CoreContext::start_timer(std::int64_t delay_ms, TimerTag tag, std::string purpose) {
  const int id = ++last_timer_;
  emit(StartTimer{id, delay_ms < 0 ? 0 : delay_ms, purpose});
  timers_.emplace(id, LiveTimer{std::move(tag), std::move(purpose)});
  return id;
}

void CoreContext::cancel_timer(int& id) {
  if (id != 0 && timers_.erase(id) > 0) emit(CancelTimer{id});
  id = 0;
}

std::optional<TimerTag> CoreContext::take_fired_timer(int id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return std::nullopt;
  TimerTag tag = std::move(it->second.tag);
  timers_.erase(it);
  return tag;
}

std::vector<std::string> CoreContext::active_timer_purposes() const {
  std::vector<std::string> out;
  for (const auto& [id, timer] : timers_) out.push_back(timer.purpose);
  return out;
}

void CoreContext::log(LogLevel level, std::string machine, std::string subject, std::string from, std::string to,
                      std::string detail) {
  if (level == LogLevel::Debug && !config_.debug_log) return;
  emit(LogEntry{level, std::move(machine), std::move(subject), std::move(from), std::move(to), std::move(detail)});
}

void CoreContext::transition(std::string machine, std::string subject, std::string_view from, std::string_view to,
                             std::string detail) {
  log(LogLevel::Debug, std::move(machine), std::move(subject), std::string(from), std::string(to), std::move(detail));
}

void CoreContext::error(CoreError code, std::string message, std::string peer) {
  emit(ErrorEvent{std::string(to_string(code)), std::move(message), std::move(peer)});
}

void CoreContext::server_error(std::string code, std::string message) {
  emit(ErrorEvent{std::move(code), std::move(message), {}});
}

}  // namespace meshmeet::core
