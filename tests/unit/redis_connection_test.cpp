// server/redis_connection: URL parsing, and the client against a real
// redis-server that each test starts on a free loopback port (and kills,
// and starts again). Without redis-server installed these tests fail.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <hiredis/hiredis.h>

#include "server/log.hpp"
#include "server/redis_connection.hpp"
#include "redis_server.hpp"

using namespace meshmeet::server::redis;
using meshmeet::server::Log;
using meshmeet::server::LogLevel;
using namespace std::chrono_literals;
using test_redis::RedisServer;
using test_redis::run_until;

namespace {

void start_ready(boost::asio::io_context& io, Connection& c) {
  c.start();
  REQUIRE_MESSAGE(run_until(io, [&] { return c.ready(); }), "the connection did not become ready");
}

Reply call(boost::asio::io_context& io, Connection& c, std::vector<std::string> args) {
  std::optional<Reply> got;
  c.command(std::move(args), [&](const Reply& r) { got = r; });
  REQUIRE_MESSAGE(run_until(io, [&] { return got.has_value(); }), "no reply");
  return *got;
}

// The number `field` of cmdstat_<command> in INFO commandstats (0 if absent).
long long command_stat(boost::asio::io_context& io, Connection& c, const std::string& command, const std::string& field) {
  const Reply info = call(io, c, {"INFO", "commandstats"});
  REQUIRE(info.type == Reply::Type::String);
  const std::string line_start = "cmdstat_" + command + ":";
  std::istringstream lines(info.str);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind(line_start, 0) != 0) continue;
    const std::size_t at = line.find(field + "=");
    if (at == std::string::npos) return 0;
    return std::stoll(line.substr(at + field.size() + 1));
  }
  return 0;
}

// Waits until INFO `section` on `c` contains `text`.
bool info_shows(boost::asio::io_context& io, Connection& c, const std::string& section, const std::string& text) {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < deadline)
    if (call(io, c, {"INFO", section}).str.find(text) != std::string::npos) return true;
  return false;
}

Url ok_url(std::string_view text) {
  auto parsed = parse_url(text);
  REQUIRE_MESSAGE(std::holds_alternative<Url>(parsed), text << ": " << std::get<std::string>(parsed));
  return std::get<Url>(parsed);
}

std::string bad_url(std::string_view text) {
  auto parsed = parse_url(text);
  REQUIRE_MESSAGE(std::holds_alternative<std::string>(parsed), text << " parsed");
  return std::get<std::string>(parsed);
}

}  // namespace

TEST_SUITE_BEGIN("redis");

TEST_CASE("redis: URLs with credentials, host, port and database") {
  Url u = ok_url("redis://127.0.0.1:6379");
  CHECK(u.host == "127.0.0.1");
  CHECK(u.port == 6379);
  CHECK(u.user.empty());
  CHECK(u.password.empty());
  CHECK(u.db == 0);

  u = ok_url("redis://localhost");
  CHECK(u.host == "localhost");
  CHECK(u.port == 6379);

  u = ok_url("redis://cache.internal:7000/3");
  CHECK(u.host == "cache.internal");
  CHECK(u.port == 7000);
  CHECK(u.db == 3);

  u = ok_url("redis://:s3cret@10.0.0.5:6380/0");
  CHECK(u.user.empty());
  CHECK(u.password == "s3cret");
  CHECK(u.host == "10.0.0.5");
  CHECK(u.port == 6380);

  u = ok_url("redis://alice:s3cret@host:1/15");
  CHECK(u.user == "alice");
  CHECK(u.password == "s3cret");
  CHECK(u.port == 1);
  CHECK(u.db == 15);

  u = ok_url("redis://[::1]:6390/2");
  CHECK(u.host == "::1");
  CHECK(u.port == 6390);
  CHECK(u.db == 2);
  CHECK(ok_url("redis://[::1]").port == 6379);

  CHECK(ok_url("redis://u:p%40ss%3Aw%2F@h").password == "p@ss:w/");  // percent-encoded
  CHECK(ok_url("redis://:p@ss@h").password == "p@ss");                // a raw '@': the last one ends them
  CHECK(ok_url("redis://h/").db == 0);
  CHECK(ok_url("redis://h:65535").port == 65535);

  CHECK(bad_url("rediss://h:6379").find("TLS") != std::string::npos);
  for (const char* text :
       {"", "http://h", "redis:/h", "redis://", "redis://:6379", "redis://h:", "redis://h:0", "redis://h:65536",
        "redis://h:80a", "redis://h:-1", "redis://h/x", "redis://h/-1", "redis://h/99999999999", "redis://h/1/2",
        "redis://alice@h", "redis://alice:@h", "redis://[::1", "redis://[::1]x", "redis://[::1]:", "redis://::1:6379",
        "redis://[host]:1", "redis://h?db=1", "redis://h#x", "redis://h h", "redis://u:%zz@h", "redis://u:%4@h"})
    CHECK_MESSAGE(!bad_url(text).empty(), text);
  // The error does not repeat the password.
  CHECK(bad_url("redis://u:%zzverysecret@h").find("verysecret") == std::string::npos);
}

TEST_CASE("redis: SET, GET and INCR round-trip binary bytes") {
  RedisServer server;
  boost::asio::io_context io;
  Connection c(io, server.url(), "test");
  start_ready(io, c);

  const std::string key("k\0ey", 4);
  const std::string value("a\0b\r\n\xff$*-", 9);
  Reply r = call(io, c, {"SET", key, value});
  CHECK(r.type == Reply::Type::Status);
  CHECK(r.str == "OK");
  r = call(io, c, {"GET", key});
  CHECK(r.type == Reply::Type::String);
  CHECK(r.str == value);
  CHECK(r.str.size() == 9);
  CHECK(call(io, c, {"GET", std::string("k\0ex", 4)}).type == Reply::Type::Nil);

  r = call(io, c, {"INCR", "counter"});
  CHECK(r.type == Reply::Type::Integer);
  CHECK(r.integer == 1);
  CHECK(call(io, c, {"INCRBY", "counter", "41"}).integer == 42);

  r = call(io, c, {"INCR", key});
  CHECK(r.is_error());
  CHECK(r.str.rfind("ERR", 0) == 0);

  CHECK(call(io, c, {"RPUSH", "list", value, ""}).integer == 2);
  r = call(io, c, {"LRANGE", "list", "0", "-1"});
  REQUIRE(r.type == Reply::Type::Array);
  REQUIRE(r.elements.size() == 2);
  CHECK(r.elements[0].str == value);
  CHECK(r.elements[1].type == Reply::Type::String);
  CHECK(r.elements[1].str.empty());
}

TEST_CASE("redis: a host name is resolved without blocking the io_context") {
  RedisServer server;  // on 127.0.0.1 only, whatever order localhost's addresses come in
  boost::asio::io_context io;
  Url by_name = ok_url("redis://localhost:" + std::to_string(server.url().port));
  Connection c(io, by_name, "test");
  start_ready(io, c);
  CHECK(call(io, c, {"PING"}).str == "PONG");
}

TEST_CASE("redis: commands get 'redis unavailable' on the next turn while not ready, and refused ones likewise") {
  Log::set_level(LogLevel::Error);
  boost::asio::io_context io;
  Url nowhere;
  nowhere.port = test_redis::free_port();  // nothing listens there
  Connection c(io, nowhere, "test");
  int ready_changes = 0;
  c.on_ready_change = [&](bool) { ++ready_changes; };

  auto expect_error = [&](std::vector<std::string> args, const std::string& prefix) {
    std::optional<Reply> got;
    c.command(std::move(args), [&](const Reply& r) { got = r; });
    CHECK(!got);  // never inside command()
    REQUIRE(run_until(io, [&] { return got.has_value(); }, 1000ms));
    CHECK(got->is_error());
    CHECK_MESSAGE(got->str.rfind(prefix, 0) == 0, got->str);
  };

  expect_error({"PING"}, "redis unavailable");  // not started
  c.start();
  expect_error({"PING"}, "redis unavailable");  // connecting, refused, retrying
  CHECK(!c.ready());
  expect_error({}, "refused");
  expect_error({"subscribe", "x"}, "refused");
  expect_error({"MONITOR"}, "refused");
  expect_error({"client", "REPLY", "OFF"}, "refused");
  c.subscribe("x", [](std::string_view) {});
  expect_error({"GET", "k"}, "refused");  // a subscriber connection
  CHECK(ready_changes == 0);
}

TEST_CASE("redis: 1000 pipelined commands get their own replies, in order") {
  RedisServer server;
  boost::asio::io_context io;
  Connection c(io, server.url(), "test");
  start_ready(io, c);

  std::vector<int> order;
  int mismatched = 0;
  for (int i = 0; i < 1000; ++i)
    c.command({"ECHO", "reply " + std::to_string(i)}, [&, i](const Reply& r) {
      order.push_back(i);
      if (r.str != "reply " + std::to_string(i)) ++mismatched;
    });
  REQUIRE(run_until(io, [&] { return order.size() == 1000; }));
  CHECK(mismatched == 0);
  int out_of_order = 0;
  for (int i = 0; i < 1000; ++i) out_of_order += order[static_cast<std::size_t>(i)] != i;
  CHECK(out_of_order == 0);
}

TEST_CASE("redis: a Script runs by EVAL, then by EVALSHA, and by EVAL again after SCRIPT FLUSH") {
  CHECK(Script("return 1").sha1() == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db");

  RedisServer server;
  boost::asio::io_context io;
  Connection c(io, server.url(), "test");
  start_ready(io, c);

  const Script add("return redis.call('INCRBY', KEYS[1], ARGV[1])");
  auto run = [&] {
    std::optional<Reply> got;
    add.run(c, {"total"}, {"5"}, [&](const Reply& r) { got = r; });
    REQUIRE(run_until(io, [&] { return got.has_value(); }));
    return *got;
  };
  auto stats = [&] {
    return std::vector<long long>{command_stat(io, c, "evalsha", "calls"), command_stat(io, c, "evalsha", "failed_calls"),
                                  command_stat(io, c, "eval", "calls")};
  };

  // Not cached yet: EVALSHA fails with NOSCRIPT, EVAL runs it (once: 5).
  CHECK(run().integer == 5);
  CHECK(stats() == std::vector<long long>{1, 1, 1});
  // Cached: EVALSHA alone.
  CHECK(run().integer == 10);
  CHECK(stats() == std::vector<long long>{2, 1, 1});
  // As after a Redis restart.
  CHECK(call(io, c, {"SCRIPT", "FLUSH"}).str == "OK");
  CHECK(run().integer == 15);
  CHECK(stats() == std::vector<long long>{3, 2, 2});
  CHECK(call(io, c, {"SCRIPT", "EXISTS", add.sha1()}).elements.at(0).integer == 1);

  // A script's own error is its reply, not a reason to retry.
  const Script broken("return redis.call('NO-SUCH-COMMAND')");
  std::optional<Reply> got;
  broken.run(c, {}, {}, [&](const Reply& r) { got = r; });
  REQUIRE(run_until(io, [&] { return got.has_value(); }));
  CHECK(got->is_error());
  CHECK(got->str.find("NOSCRIPT") == std::string::npos);
}

// A pair's relayed signals are script runs that must keep their order. The
// NOSCRIPT fallback alone cannot promise it (an EVALSHA sent before the
// first one's NOSCRIPT came back may run before its EVAL); a script
// preloaded by the connection's handshake never meets NOSCRIPT, also after
// Redis restarts with an empty script cache.
TEST_CASE("redis: a preloaded script keeps 500 pipelined runs in order, also after Redis restarts") {
  RedisServer server;
  boost::asio::io_context io;
  Connection c(io, server.url(), "test");
  const Script push("return redis.call('RPUSH', KEYS[1], ARGV[1])");
  push.preload_on(c);
  start_ready(io, c);
  auto run_in_order = [&](const std::string& list) {
    int replies = 0;
    for (int i = 0; i < 500; ++i) push.run(c, {list}, {std::to_string(i)}, [&](const Reply& r) { replies += !r.is_error(); });
    REQUIRE(run_until(io, [&] { return replies == 500; }));
    const Reply got = call(io, c, {"LRANGE", list, "0", "-1"});
    REQUIRE(got.elements.size() == 500);
    for (int i = 0; i < 500; ++i) CHECK(got.elements[i].str == std::to_string(i));
  };
  run_in_order("first");
  CHECK(command_stat(io, c, "evalsha", "failed_calls") == 0);
  server.kill_hard();
  REQUIRE(run_until(io, [&] { return !c.ready(); }));
  server.start();
  REQUIRE(run_until(io, [&] { return c.ready(); }, 10000ms));
  run_in_order("second");
  CHECK(command_stat(io, c, "evalsha", "failed_calls") == 0);
}

TEST_CASE("redis: a subscriber gets 1000 messages in the order they were published") {
  RedisServer server;
  boost::asio::io_context io;
  Connection subscriber(io, server.url(), "subscriber");
  Connection publisher(io, server.url(), "publisher");
  std::vector<std::string> got;
  subscriber.subscribe("news", [&](std::string_view payload) { got.emplace_back(payload); });
  start_ready(io, subscriber);  // ready: the subscription is confirmed
  start_ready(io, publisher);

  auto payload = [](int i) { return "message " + std::to_string(i) + std::string("\0\r\n", 3); };
  int delivered_to_one = 0, published = 0;
  for (int i = 0; i < 1000; ++i)
    publisher.command({"PUBLISH", "news", payload(i)}, [&](const Reply& r) {
      ++published;
      delivered_to_one += r.integer == 1;
    });
  REQUIRE(run_until(io, [&] { return got.size() == 1000 && published == 1000; }));
  CHECK(delivered_to_one == 1000);
  int wrong = 0;
  for (int i = 0; i < 1000; ++i) wrong += got[static_cast<std::size_t>(i)] != payload(i);
  CHECK(wrong == 0);
  CHECK(call(io, publisher, {"PUBLISH", "other", "x"}).integer == 0);
}

TEST_CASE("redis: redis-server killed and started again: in-flight commands fail, readiness drops and returns, "
          "the subscription resumes") {
  RedisServer server;
  boost::asio::io_context io;
  Connection c(io, server.url(), "commands");
  Connection subscriber(io, server.url(), "subscriber");
  Connection admin(io, server.url(), "admin");
  std::vector<bool> c_changes, subscriber_changes;
  c.on_ready_change = [&](bool ready) { c_changes.push_back(ready); };
  subscriber.on_ready_change = [&](bool ready) { subscriber_changes.push_back(ready); };
  std::vector<std::string> messages;
  subscriber.subscribe("events", [&](std::string_view payload) { messages.emplace_back(payload); });
  start_ready(io, c);
  start_ready(io, subscriber);
  start_ready(io, admin);
  REQUIRE(run_until(io, [&] { return c_changes.size() == 1 && subscriber_changes.size() == 1; }));

  // In flight for sure: BLPOP is blocked on the server, the PINGs wait behind it.
  std::vector<Reply> failed;
  c.command({"BLPOP", "never", "0"}, [&](const Reply& r) { failed.push_back(r); });
  c.command({"PING"}, [&](const Reply& r) { failed.push_back(r); });
  c.command({"PING"}, [&](const Reply& r) { failed.push_back(r); });
  REQUIRE(info_shows(io, admin, "clients", "blocked_clients:1"));

  server.kill_hard();
  REQUIRE(run_until(io, [&] { return failed.size() == 3 && c_changes.size() == 2 && subscriber_changes.size() == 2; }));
  for (const Reply& r : failed) {
    CHECK(r.is_error());
    CHECK(r.str == "connection lost");
  }
  CHECK(!c.ready());
  CHECK(!subscriber.ready());
  CHECK(call(io, c, {"PING"}).str == "redis unavailable");

  server.start();  // the same port
  REQUIRE(run_until(io, [&] { return c_changes.size() == 3 && subscriber_changes.size() == 3; }));
  CHECK(c_changes == std::vector<bool>{true, false, true});
  CHECK(subscriber_changes == std::vector<bool>{true, false, true});
  CHECK(c.ready());
  CHECK(subscriber.ready());

  CHECK(call(io, c, {"PUBLISH", "events", "after the restart"}).integer == 1);
  REQUIRE(run_until(io, [&] { return messages.size() == 1; }));
  CHECK(messages[0] == "after the restart");
}

TEST_CASE("redis: AUTH (password, or user and password) and SELECT come before ready") {
  RedisServer server({"--requirepass", "pw one"});
  boost::asio::io_context io;
  Url db2 = server.url();
  db2.password = "pw one";
  db2.db = 2;
  Url db0 = db2;
  db0.db = 0;
  Connection in_db2(io, db2, "db2");
  Connection in_db0(io, db0, "db0");
  start_ready(io, in_db2);
  start_ready(io, in_db0);
  CHECK(call(io, in_db2, {"SET", "k", "in db 2"}).str == "OK");
  CHECK(call(io, in_db0, {"GET", "k"}).type == Reply::Type::Nil);

  CHECK(call(io, in_db0, {"ACL", "SETUSER", "alice", "on", ">alice pw", "~*", "+@all"}).str == "OK");
  Url alice = db2;
  alice.user = "alice";
  alice.password = "alice pw";
  Connection as_alice(io, alice, "alice");
  start_ready(io, as_alice);
  CHECK(call(io, as_alice, {"GET", "k"}).str == "in db 2");
  CHECK(call(io, as_alice, {"ACL", "WHOAMI"}).str == "alice");

  // A wrong password: never ready, and it keeps trying.
  Url wrong = db0;
  wrong.password = "nope";
  Connection refused(io, wrong, "wrong-password");
  bool became_ready = false;
  refused.on_ready_change = [&](bool ready) { became_ready |= ready; };
  const long long failed_before = command_stat(io, in_db0, "auth", "failed_calls");
  refused.start();
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (command_stat(io, in_db0, "auth", "failed_calls") < failed_before + 3 && std::chrono::steady_clock::now() < deadline) {
  }
  CHECK(command_stat(io, in_db0, "auth", "failed_calls") >= failed_before + 3);
  CHECK(!refused.ready());
  CHECK(!became_ready);
  CHECK(call(io, refused, {"PING"}).str == "redis unavailable");
}

TEST_CASE("redis: an attempt that is not ready within 2 s is abandoned and retried") {
  Log::set_level(LogLevel::Error);
  boost::asio::io_context io;
  // Accepts, reads AUTH, never answers.
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  std::vector<std::shared_ptr<boost::asio::ip::tcp::socket>> accepted;
  std::function<void()> accept = [&] {
    auto socket = std::make_shared<boost::asio::ip::tcp::socket>(io);
    silent.async_accept(*socket, [&, socket](const boost::system::error_code& ec) {
      if (ec) return;
      accepted.push_back(socket);
      accept();
    });
  };
  accept();
  Url url;
  url.port = silent.local_endpoint().port();
  url.password = "never answered";
  Connection c(io, url, "test");
  c.start();
  const auto started = std::chrono::steady_clock::now();
  REQUIRE(run_until(io, [&] { return accepted.size() == 2; }, 5000ms));
  CHECK(std::chrono::steady_clock::now() - started >= 2000ms);
  CHECK(!c.ready());
  CHECK(call(io, c, {"PING"}).str == "redis unavailable");
  silent.close();
}

TEST_CASE("redis: a stopped connection fails what is in flight with 'connection closed' and can start again") {
  RedisServer server;
  boost::asio::io_context io;
  Connection c(io, server.url(), "test");
  std::vector<bool> changes;
  c.on_ready_change = [&](bool ready) { changes.push_back(ready); };
  start_ready(io, c);

  std::optional<Reply> blocked;
  bool pinged = false;
  c.command({"PING"}, [&](const Reply&) {
    pinged = true;
    c.stop();  // from inside a reply callback
  });
  c.command({"BLPOP", "never", "0"}, [&](const Reply& r) { blocked = r; });
  REQUIRE(run_until(io, [&] { return pinged && blocked.has_value() && changes.size() == 2; }));
  CHECK(blocked->str == "connection closed");
  CHECK(changes == std::vector<bool>{true, false});
  CHECK(!c.ready());

  start_ready(io, c);
  CHECK(call(io, c, {"PING"}).str == "PONG");
}

TEST_CASE("redis: destroying a connection drops its callbacks, even from inside one of them") {
  RedisServer server;
  boost::asio::io_context io;
  int late_calls = 0;

  auto c = std::make_unique<Connection>(io, server.url(), "test");
  start_ready(io, *c);
  c->on_ready_change = [&](bool) { ++late_calls; };
  c->command({"BLPOP", "never", "0"}, [&](const Reply&) { ++late_calls; });  // in flight
  c->command({}, [&](const Reply&) { ++late_calls; });                       // its error is posted
  c.reset();
  io.restart();
  io.run_for(1s);  // returns as soon as nothing is left to run
  CHECK(late_calls == 0);

  auto d = std::make_unique<Connection>(io, server.url(), "test");
  std::vector<std::string> got;
  d->subscribe("ch", [&](std::string_view payload) {
    got.emplace_back(payload);
    d.reset();  // from inside a message handler, with more messages read behind it
  });
  start_ready(io, *d);
  Connection publisher(io, server.url(), "publisher");
  start_ready(io, publisher);
  for (int i = 0; i < 10; ++i) publisher.command({"PUBLISH", "ch", std::to_string(i)}, [](const Reply&) {});
  REQUIRE(run_until(io, [&] { return !d; }));
  CHECK(got == std::vector<std::string>{"0"});

  auto e = std::make_unique<Connection>(io, server.url(), "test");
  start_ready(io, *e);
  bool first = false;
  e->command({"PING"}, [&](const Reply&) {
    first = true;
    e.reset();  // from inside a reply callback, with replies behind it
  });
  e->command({"PING"}, [&](const Reply&) { ++late_calls; });
  e->command({"BLPOP", "never", "0"}, [&](const Reply&) { ++late_calls; });
  REQUIRE(run_until(io, [&] { return first; }));
  CHECK(call(io, publisher, {"PING"}).str == "PONG");  // the io_context keeps going
  CHECK(late_calls == 0);
}

TEST_SUITE_END();
