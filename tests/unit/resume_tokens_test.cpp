// server/resume_tokens: tokens a restart cannot forget, and the key file
// that makes them unforgeable.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

#include "temp_dir.hpp"
#include "seeded_random.hpp"
#include "server/resume_tokens.hpp"

using namespace meshmeet::server;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

const std::string kMeeting = "abcdefghijklmnopqrstuvwxyz";

}  // namespace

TEST_CASE("resume token: names its peer and name, in its meeting, under its key only") {
  SeededRandom random{42};
  const ResumeKeys keys = ResumeKeys::fresh(random);
  const ResumeKeys other = ResumeKeys::fresh(random);
  for (const std::string name : {"", "Ada", "Zoë 👋 with a longer name of sixty-four characters, nearly"}) {
    CAPTURE(name);
    const std::string token = mint_resume_token(keys.current, random, kMeeting, "abcdefgh2345", name);
    auto claim = read_resume_token(keys.current, kMeeting, token);
    REQUIRE(claim);
    CHECK(claim->peer_id == "abcdefgh2345");
    CHECK(claim->name == name);
    CHECK_FALSE(read_resume_token(other.current, kMeeting, token));
    CHECK_FALSE(read_resume_token(keys.current, "zyxwvutsrqponmlkjihgfedcba", token));
    // Every character matters; so does the length.
    for (std::size_t i = 0; i < token.size(); ++i) {
      std::string changed = token;
      changed[i] = changed[i] == 'x' ? 'y' : 'x';
      CAPTURE(i);
      CHECK_FALSE(read_resume_token(keys.current, kMeeting, changed));
    }
    CHECK_FALSE(read_resume_token(keys.current, kMeeting, token.substr(0, token.size() - 1)));
    CHECK_FALSE(read_resume_token(keys.current, kMeeting, token + "A"));
  }
  // Two tokens for the same participant differ.
  CHECK(mint_resume_token(keys.current, random, kMeeting, "abcdefgh2345", "Ada") !=
        mint_resume_token(keys.current, random, kMeeting, "abcdefgh2345", "Ada"));
  for (const std::string& junk : {std::string(), std::string("="), std::string("not base64!"), std::string("AAAA"), std::string(300, 'A')})
    CHECK_FALSE(read_resume_token(keys.current, kMeeting, junk));
}

TEST_CASE("resume key: each start reads the one before as previous and saves a new one, readable by the server only") {
  SeededRandom random{42};
  TempDir dir;
  const std::string path = dir.path + "/resume-key";
  std::string error;

  ResumeKeys first = next_resume_keys(path, random);
  CHECK_FALSE(first.previous);  // a first start
  // Nothing is written until the process saves its key (once it listens).
  CHECK(::access(path.c_str(), F_OK) != 0);
  REQUIRE_MESSAGE(save_resume_key(path, first.current, error), error);
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read(path).size() == 65);  // 64 hex digits and a newline

  ResumeKeys second = next_resume_keys(path, random);
  REQUIRE(second.previous);
  CHECK(*second.previous == first.current);
  CHECK(second.current != first.current);
  // A token of the first process reads with the second's previous key.
  const std::string token = mint_resume_token(first.current, random, kMeeting, "abcdefgh2345", "Ada");
  CHECK(read_resume_token(*second.previous, kMeeting, token));
  // A start that fails before saving (its port taken) leaves the key as it was.
  ResumeKeys failed = next_resume_keys(path, random);
  CHECK(*failed.previous == first.current);
  REQUIRE(save_resume_key(path, second.current, error));

  ResumeKeys third = next_resume_keys(path, random);
  CHECK(*third.previous == second.current);
  CHECK_FALSE(read_resume_token(*third.previous, kMeeting, token));

  // A damaged key file is no key: nothing from before is taken back.
  std::ofstream(path) << "not a key\n";
  CHECK_FALSE(next_resume_keys(path, random).previous);
  REQUIRE(save_resume_key(path, third.current, error));
  CHECK(::access((path + ".new." + std::to_string(::getpid())).c_str(), F_OK) != 0);  // nothing left aside
}

TEST_CASE("resume key: two servers saving into one folder at once both succeed") {
  // Each writes its key aside and renames it into place: with one shared
  // aside name, one process's rename took the other's file away and that
  // server refused to start.
  TempDir dir;
  const std::string path = dir.path + "/resume-key";
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  SeededRandom random{child == 0 ? 7u : 8u};
  int failures = 0;
  for (int i = 0; i < 300; ++i) {
    std::string error;
    if (!save_resume_key(path, ResumeKeys::fresh(random).current, error)) ++failures;
  }
  if (child == 0) ::_exit(failures == 0 ? 0 : 1);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(failures == 0);
  CHECK((WIFEXITED(status) && WEXITSTATUS(status) == 0));
  CHECK(read(path).size() == 65);  // one whole key, whoever saved last
}

TEST_CASE("resume key: a folder it cannot write to is an error that says where") {
  SeededRandom random{42};
  std::string error;
  CHECK_FALSE(save_resume_key("/nonexistent-meshmeet-dir/resume-key", ResumeKeys::fresh(random).current, error));
  CHECK(error.find("/nonexistent-meshmeet-dir/resume-key") != std::string::npos);
}
