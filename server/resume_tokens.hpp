// Resume tokens that a restart cannot forget.
//
// A token names its participant (peer id and name) and is signed with a key
// (HMAC-SHA256, bound to the meeting id), so a server that has forgotten
// everyone can still tell a token it issued from a forgery. The key lives in
// the data folder, never a participant: each process start reads the key
// of the process before it, keeps it as the "previous" key, and writes a new
// one in its place. Tokens signed with the previous key are therefore the
// ones issued before the restart, and are taken back only in the resume grace
// after it; tokens from two restarts ago no longer verify at all.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "server/secrets.hpp"

namespace meshmeet::server {

using ResumeKey = std::array<std::uint8_t, 32>;

struct ResumeKeys {
  ResumeKey current{};                 // signs every token this process issues
  std::optional<ResumeKey> previous;   // the process before this one (absent on a first start)

  static ResumeKeys fresh(RandomSource& random);  // a new current key, no previous one
};

// The keys of a process about to start: a fresh current key, and the key
// of the process before as the previous one (read from `path`; absent or
// not a key: none). Nothing is written yet: see save_resume_key.
ResumeKeys next_resume_keys(const std::string& path, RandomSource& random);

// Writes `key` to `path` (mode 0600, written aside and renamed into place,
// so a crash never leaves half a key): once this process is sure to serve,
// so that a start that fails (a port taken) never replaces the key of the
// process still serving. False with `error` set when it cannot be written.
bool save_resume_key(const std::string& path, const ResumeKey& key, std::string& error);

// Who a token names.
struct ResumeClaim {
  std::string peer_id;
  std::string name;
};

// A token for `peer_id` (random_id's 12 characters) named `name` in
// `meeting_id`, signed with `key`: base64url, each one different (a random
// nonce), so a fresh token is never an earlier one again.
std::string mint_resume_token(const ResumeKey& key, RandomSource& random, std::string_view meeting_id,
                              std::string_view peer_id, std::string_view name);

// Whom `token` names, when it is a token of `meeting_id` signed with `key`;
// nullopt for anything else (malformed, forged, another meeting's).
std::optional<ResumeClaim> read_resume_token(const ResumeKey& key, std::string_view meeting_id, std::string_view token);

}  // namespace meshmeet::server
