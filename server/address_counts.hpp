// Open sockets per client address group (an IPv4 address, an IPv6 /64):
// those of this process, and, for a node of a cluster, those the
// deployment's other nodes hold, as Redis last said (SharedAddressCounts).
// Admission compares the sum with --per-ip-sockets or --per-ip, so that one
// address cannot hold a share on every node.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <unordered_map>

namespace meshmeet::server {

class AddressCounts {
 public:
  std::size_t here(const std::string& group) const { return find(here_, group); }
  std::size_t elsewhere(const std::string& group) const { return find(elsewhere_, group); }
  std::size_t total(const std::string& group) const { return here(group) + elsewhere(group); }

  void add(const std::string& group) { changed(group, ++here_[group]); }
  void remove(const std::string& group) {
    auto it = here_.find(group);
    if (it == here_.end()) return;
    const std::size_t now = --it->second;
    if (now == 0) here_.erase(it);
    changed(group, now);
  }
  // A socket of `group` was refused: the deployment's figures may be stale
  // (the other nodes' sockets of it have closed since), so they are asked
  // again, for the next one.
  void refused(const std::string& group) { changed(group, here(group)); }
  // What the other nodes hold, as the deployment last said.
  void set_elsewhere(const std::string& group, std::size_t n) {
    if (n == 0) elsewhere_.erase(group);
    else elsewhere_[group] = n;
  }
  const std::unordered_map<std::string, std::size_t>& all_here() const { return here_; }

  // Told of every change of this process's count for a group (a cluster shares it).
  std::function<void(const std::string& group, std::size_t here)> on_change;

 private:
  static std::size_t find(const std::unordered_map<std::string, std::size_t>& m, const std::string& group) {
    auto it = m.find(group);
    return it == m.end() ? 0 : it->second;
  }
  void changed(const std::string& group, std::size_t now) {
    if (on_change) on_change(group, now);
  }
  std::unordered_map<std::string, std::size_t> here_;
  std::unordered_map<std::string, std::size_t> elsewhere_;
};

}  // namespace meshmeet::server
