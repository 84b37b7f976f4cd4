// Virtual time for the simulation: events run in (time, insertion) order, so
// a run is a pure function of its seeds; nothing sleeps.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>

namespace sim {

class EventLoop {
 public:
  using Fn = std::function<void()>;

  std::int64_t now() const { return now_; }

  std::uint64_t at(std::int64_t t, Fn fn) {
    const std::uint64_t id = ++next_id_;
    if (t < now_) t = now_;
    queue_.emplace(std::make_pair(t, id), std::move(fn));
    when_.emplace(id, t);
    return id;
  }
  std::uint64_t after(std::int64_t delay, Fn fn) { return at(now_ + (delay < 0 ? 0 : delay), std::move(fn)); }

  void cancel(std::uint64_t id) {
    auto it = when_.find(id);
    if (it == when_.end()) return;
    queue_.erase(std::make_pair(it->second, id));
    when_.erase(it);
  }

  // Runs every event due up to `t` (including those they schedule), then sets the clock to `t`.
  void run_until(std::int64_t t) {
    while (!queue_.empty() && queue_.begin()->first.first <= t) {
      auto node = queue_.extract(queue_.begin());
      when_.erase(node.key().second);
      now_ = node.key().first;
      ++executed_;
      node.mapped()();
    }
    if (t > now_) now_ = t;
  }
  void run_for(std::int64_t dt) { run_until(now_ + dt); }

  std::size_t pending() const { return queue_.size(); }
  std::uint64_t executed() const { return executed_; }

 private:
  std::int64_t now_ = 0;
  std::uint64_t next_id_ = 0;
  std::uint64_t executed_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, Fn> queue_;
  std::unordered_map<std::uint64_t, std::int64_t> when_;
};

}  // namespace sim
