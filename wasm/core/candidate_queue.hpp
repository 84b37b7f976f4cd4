// Trickle ICE on the receiving side, for one peer connection: the peer's
// candidates that cannot be added yet wait here until the description they
// belong to is set.
//
// A candidate names the ICE username fragment (ufrag) of the description it
// was gathered for. Until a remote description is set, every candidate
// waits (addIceCandidate before setRemoteDescription fails). After an ICE
// restart the peer's new candidates can overtake the offer that carries
// their ufrag: they wait for that description too. A ufrag the connection
// has moved on from is retired, and its candidates are dropped, queued or
// not: adding them would only fail.
//
// The queue is bounded: a peer (or a server) that sends candidates for a
// description that never comes loses its oldest ones, not our memory.
//
// Pure bookkeeping: PeerNegotiation adds what this hands back. The
// relay-only filter is not here: it also covers our own candidates and the
// SDPs in both directions, which never pass through this queue.
#pragma once

#include <cstddef>
#include <deque>
#include <set>
#include <string>
#include <vector>

namespace meshmeet::core {

class CandidateQueue {
 public:
  static constexpr std::size_t kMaxQueued = 64;

  enum class Verdict {
    AddNow,   // its description is set: add it
    Queued,   // waits for its description
    Dropped,  // belongs to a description already replaced (a retired ufrag)
  };

  // A candidate of the peer's ("" ufrag: it names none, and goes with whatever is set).
  Verdict on_candidate(const std::string& candidate_json, const std::string& ufrag);
  // A remote description was set (`ufrag`: its a=ice-ufrag, "" if none).
  // Returns the queued candidates that now belong to it, in arrival order.
  std::vector<std::string> on_remote_description(const std::string& ufrag);
  // A new connection: nothing set, nothing queued, nothing retired.
  void reset();

  bool has_remote_description() const { return has_remote_description_; }
  std::size_t queued() const { return queued_.size(); }

 private:
  struct QueuedCandidate {
    std::string json;
    std::string ufrag;
  };
  bool belongs_to_current(const std::string& ufrag) const { return ufrag.empty() || ufrag == remote_ufrag_; }

  bool has_remote_description_ = false;
  std::string remote_ufrag_;              // of the remote description set last
  std::set<std::string> retired_ufrags_;  // of the remote descriptions it replaced
  std::deque<QueuedCandidate> queued_;
};

}  // namespace meshmeet::core
