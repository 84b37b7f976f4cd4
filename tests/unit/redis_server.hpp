// A redis-server of a test's own on a free loopback port (started, killed
// and started again by the test), and run_until, which drives an
// io_context until a condition holds. Shared by the tests of the server's
// Redis parts; without redis-server installed they fail, clearly.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include "server/log.hpp"
#include "server/redis_connection.hpp"
#include "temp_dir.hpp"

namespace test_redis {

using meshmeet::server::Log;
using meshmeet::server::LogLevel;
using meshmeet::server::redis::Url;
using namespace std::chrono_literals;

inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

inline std::string find_redis_server() {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    const std::string candidate = dir + "/redis-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// Whether a Redis server on 127.0.0.1:port answers (NOAUTH counts).
inline bool answers(std::uint16_t port) {
  redisContext* c = redisConnectWithTimeout("127.0.0.1", port, timeval{0, 200000});
  bool ok = false;
  if (c && !c->err) {
    auto* reply = static_cast<redisReply*>(redisCommand(c, "PING"));
    ok = reply != nullptr;
    if (reply) freeReplyObject(reply);
  }
  if (c) redisFree(c);
  return ok;
}

// A redis-server of the test's own, on one port for its whole life (so it
// can be killed and started again where clients expect it), without disk.
class RedisServer {
 public:
  explicit RedisServer(std::vector<std::string> extra_args = {}) : port_(free_port()), extra_args_(std::move(extra_args)) {
    Log::set_level(LogLevel::Error);  // no redis-ready or redis-lost lines in the test output
    start();
  }
  ~RedisServer() { stop(SIGTERM); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  Url url() const {
    Url u;
    u.port = port_;
    return u;
  }

  void start() {
    const std::string binary = find_redis_server();
    if (binary.empty())
      FAIL("redis-server is not installed (apt-get install redis-server): the Redis client tests need a real one");
    std::vector<std::string> args = {binary,    "--port",   std::to_string(port_), "--bind",       "127.0.0.1",
                                     "--save",  "",         "--appendonly",        "no",           "--dir",
                                     dir_.path, "--logfile", "",                   "--daemonize", "no"};
    args.insert(args.end(), extra_args_.begin(), extra_args_.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const std::string log = dir_.path + "/redis.log";
    const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    REQUIRE(log_fd >= 0);

    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(log_fd);
    REQUIRE(pid_ > 0);

    // A process of its own: polled, there is no event to wait for.
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!answers(port_)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("redis-server exited at start:\n" << read_log());
      }
      if (std::chrono::steady_clock::now() > deadline) FAIL("redis-server did not answer within 5 s:\n" << read_log());
      std::this_thread::sleep_for(5ms);
    }
  }

  // No shutdown, no goodbye: as when the process or its host dies.
  void kill_hard() { stop(SIGKILL); }

 private:
  void stop(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    int status = 0;
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(2ms);
    }
    pid_ = -1;
  }

  std::string read_log() const {
    std::ifstream in(dir_.path + "/redis.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  TempDir dir_;
  std::uint16_t port_;
  std::vector<std::string> extra_args_;
  pid_t pid_ = -1;
};

// Runs `io` until `done()` holds; false when `limit` passed first. `done`
// is asked at least every 10 ms, so it may itself drive what the io_context
// waits for (a registry's sweep, as the server's timer does).
template <typename Done>
inline bool run_until(boost::asio::io_context& io, Done done, std::chrono::milliseconds limit = 5000ms) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io.stopped()) io.restart();
    const auto slice = std::min<std::chrono::steady_clock::duration>(deadline - now, 10ms);
    if (io.run_one_for(slice) == 0 && io.stopped()) std::this_thread::sleep_for(1ms);  // no work at all
  }
  return true;
}


}  // namespace test_redis
