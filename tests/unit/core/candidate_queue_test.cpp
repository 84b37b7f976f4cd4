// The peer's trickled candidates and the description they belong to: a
// candidate that comes first is added once its description is set, one for
// a description already replaced is dropped, and a flood is bounded.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "wasm/core/candidate_queue.hpp"

using namespace meshmeet::core;
using Verdict = CandidateQueue::Verdict;
using Candidates = std::vector<std::string>;

TEST_CASE("candidate queue: candidates before the description are added after it, in order") {
  CandidateQueue q;
  CHECK(q.on_candidate("c1", "u1") == Verdict::Queued);
  CHECK(q.on_candidate("c2", "") == Verdict::Queued);  // names no ufrag: goes with whatever is set
  CHECK(q.on_candidate("c3", "u1") == Verdict::Queued);
  CHECK_FALSE(q.has_remote_description());
  CHECK(q.on_remote_description("u1") == Candidates{"c1", "c2", "c3"});
  CHECK(q.queued() == 0);
  CHECK(q.on_candidate("c4", "u1") == Verdict::AddNow);
}

TEST_CASE("candidate queue: after an ICE restart the old ufrag's candidates are dropped, the new one's wait for it") {
  CandidateQueue q;
  CHECK(q.on_remote_description("u1").empty());
  CHECK(q.on_candidate("new-1", "u2") == Verdict::Queued);  // overtook the restart offer
  CHECK(q.on_candidate("old-1", "u1") == Verdict::AddNow);  // still current
  CHECK(q.on_remote_description("u2") == Candidates{"new-1"});
  CHECK(q.on_candidate("old-2", "u1") == Verdict::Dropped);  // retired
  CHECK(q.on_candidate("new-2", "u2") == Verdict::AddNow);
}

TEST_CASE("candidate queue: queued candidates of a ufrag retired meanwhile are dropped at the flush") {
  CandidateQueue q;
  q.on_remote_description("u1");
  CHECK(q.on_candidate("for-u2", "u2") == Verdict::Queued);
  CHECK(q.on_candidate("for-u3", "u3") == Verdict::Queued);
  CHECK(q.on_remote_description("u2") == Candidates{"for-u2"});
  CHECK(q.queued() == 1);  // u3's wait on
  CHECK(q.on_remote_description("u3") == Candidates{"for-u3"});
  CHECK(q.on_candidate("late-u2", "u2") == Verdict::Dropped);
}

TEST_CASE("candidate queue: a flood for a description that never comes keeps only the newest") {
  CandidateQueue q;
  for (std::size_t i = 0; i < CandidateQueue::kMaxQueued + 10; ++i)
    CHECK(q.on_candidate("c" + std::to_string(i), "u1") == Verdict::Queued);
  CHECK(q.queued() == CandidateQueue::kMaxQueued);
  const Candidates added = q.on_remote_description("u1");
  REQUIRE(added.size() == CandidateQueue::kMaxQueued);
  CHECK(added.front() == "c10");
  CHECK(added.back() == "c" + std::to_string(CandidateQueue::kMaxQueued + 9));
}

TEST_CASE("candidate queue: a new connection starts empty") {
  CandidateQueue q;
  q.on_remote_description("u1");
  q.on_remote_description("u2");
  q.on_candidate("c", "u9");
  q.reset();
  CHECK_FALSE(q.has_remote_description());
  CHECK(q.queued() == 0);
  CHECK(q.on_candidate("again", "u1") == Verdict::Queued);  // u1 is not retired on the new connection
}
