// Drives one Client by hand: the test plays the socket, the peer connection
// and the clock, and reads the outputs. For the unit tests of one machine at
// a time; whole meetings use sim/.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/messages.hpp"
#include "wasm/core/client.hpp"

namespace script {

using namespace meshmeet::core;

template <class T>
std::vector<T> all(const std::vector<Output>& outs) {
  std::vector<T> v;
  for (const auto& o : outs)
    if (auto* t = std::get_if<T>(&o)) v.push_back(*t);
  return v;
}

template <class T>
T one(const std::vector<Output>& outs) {
  auto v = all<T>(outs);
  REQUIRE_MESSAGE(v.size() == 1, "expected exactly one output of the type, got " << v.size() << ": " << to_json(outs));
  return v.front();
}

inline nlohmann::json parse(const std::string& text) { return nlohmann::json::parse(text, nullptr, false); }

inline std::string welcome(const std::string& self, const std::string& token, std::vector<std::string> peers = {},
                           std::uint32_t interval = 10000, std::uint32_t timeout = 30000) {
  meshmeet::protocol::Welcome w;
  w.self = self;
  w.resume = token;
  w.meeting_id = "m";
  for (auto& p : peers) w.peers.push_back({p, "name-" + p});
  w.heartbeat_interval_ms = interval;
  w.heartbeat_timeout_ms = timeout;
  return meshmeet::protocol::serialize(meshmeet::protocol::ServerMessage{w});
}

inline std::string error(meshmeet::protocol::ErrorCode code, const std::string& ref = "join") {
  return meshmeet::protocol::serialize(meshmeet::protocol::ServerMessage{meshmeet::protocol::ErrorMessage{code, "x", ref}});
}

inline std::string signal_from(const std::string& from, const std::string& data) {
  return meshmeet::protocol::serialize_signal_from(from, data);
}

struct Harness {
  explicit Harness(ClientConfig config = {}) : client(std::move(config)) {}

  Client client;
  std::int64_t now = 0;
  struct Timer {
    std::string purpose;
    std::int64_t due;
  };
  std::map<int, Timer> timers;
  std::vector<Output> last;

  // Drains the client, keeping the timer table as a shim would.
  std::vector<Output>& absorb() {
    last = client.drain();
    for (const auto& o : last) {
      if (auto* s = std::get_if<StartTimer>(&o)) timers[s->timer] = Timer{s->purpose, now + s->delay_ms};
      if (auto* c = std::get_if<CancelTimer>(&o)) {
        CHECK_MESSAGE(timers.count(c->timer), "cancel of a timer that is not running");
        timers.erase(c->timer);
      }
    }
    return last;
  }
  bool has_timer(const std::string& purpose) const {
    for (const auto& [id, t] : timers)
      if (t.purpose == purpose) return true;
    return false;
  }
  std::pair<int, Timer> timer(const std::string& purpose) const {
    for (const auto& [id, t] : timers)
      if (t.purpose == purpose) return {id, t};
    FAIL("no running timer '" << purpose << "'");
    return {};
  }
  std::vector<Output>& fire(const std::string& purpose) {
    auto [id, t] = timer(purpose);
    if (t.due > now) now = t.due;
    timers.erase(id);
    client.timer_fired(static_cast<double>(now), id);
    return absorb();
  }
  // The connect watchdog judges progress: it looks again (re-arms) while the
  // connection moved within its window. Fires it until it acts, i.e. until
  // nothing moves for a whole window.
  std::vector<Output>& stall() {
    for (int i = 0; i < 20; ++i) {
      fire("connect-watchdog");
      const bool rearmed_only = last.size() == 1 && std::holds_alternative<StartTimer>(last[0]) &&
                                std::get<StartTimer>(last[0]).purpose == "connect-watchdog";
      if (!rearmed_only) break;
    }
    return last;
  }
  template <class F>
  std::vector<Output>& at(std::int64_t t, F&& input) {
    now = t;
    input(client, static_cast<double>(t));
    return absorb();
  }

  // join → open → welcome; returns the outputs of the welcome.
  std::vector<Output>& join_and_welcome(const std::string& self, std::vector<std::string> peers = {}) {
    at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Ann"); });
    socket = one<OpenSocket>(last).socket;
    at(5, [&](Client& c, double t) { c.socket_opened(t, socket); });
    return at(10, [&](Client& c, double t) { c.socket_message(t, socket, welcome(self, "tok-" + self, peers)); });
  }
  int socket = 0;
};

}  // namespace script
