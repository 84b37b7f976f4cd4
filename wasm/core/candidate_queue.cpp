#include "wasm/core/candidate_queue.hpp"

namespace meshmeet::core {

CandidateQueue::Verdict CandidateQueue::on_candidate(const std::string& candidate_json, const std::string& ufrag) {
  if (has_remote_description_ && belongs_to_current(ufrag)) return Verdict::AddNow;
  if (retired_ufrags_.count(ufrag)) return Verdict::Dropped;
  // No remote description yet, or one for a later description (ICE restart):
  // keep it until that description is set.
  if (queued_.size() >= kMaxQueued) queued_.pop_front();
  queued_.push_back(QueuedCandidate{candidate_json, ufrag});
  return Verdict::Queued;
}

std::vector<std::string> CandidateQueue::on_remote_description(const std::string& ufrag) {
  if (!ufrag.empty() && ufrag != remote_ufrag_) {
    if (!remote_ufrag_.empty()) retired_ufrags_.insert(remote_ufrag_);
    remote_ufrag_ = ufrag;
  }
  has_remote_description_ = true;
  std::vector<std::string> ready;
  std::deque<QueuedCandidate> keep;
  for (auto& c : queued_) {
    if (belongs_to_current(c.ufrag))
      ready.push_back(std::move(c.json));
    else if (!retired_ufrags_.count(c.ufrag))
      keep.push_back(std::move(c));
  }
  queued_.swap(keep);
  return ready;
}

void CandidateQueue::reset() {
  has_remote_description_ = false;
  remote_ufrag_.clear();
  retired_ufrags_.clear();
  queued_.clear();
}

}  // namespace meshmeet::core
