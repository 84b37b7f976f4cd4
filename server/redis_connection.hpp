// A Redis client for the server's shared state: hiredis 0.14 (RESP2) driven
// by the server's io_context, so replies arrive on the thread that runs it
// and nothing blocks it.
//
// The server must keep working while Redis is away: a Connection reconnects
// by itself, and every command gets exactly one reply (unless the
// Connection is destroyed first), an Error one when Redis cannot be asked
// (not ready, or the connection dropped with the command in flight).
// Callers never wait for Redis to come back; they hear about it through
// on_ready_change.
//
// Everything here is used from the io_context's thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

struct redisAsyncContext;

namespace meshmeet::server::redis {

struct Url {
  std::string host = "127.0.0.1";  // a name or an address; IPv6 without brackets
  std::uint16_t port = 6379;
  std::string user, password;      // AUTH [user] password when the password is set
  int db = 0;                      // SELECT db when not 0
};

// redis://[user:password@]host[:port][/db], also redis://:password@host…;
// the host may be [v6]; user and password may be percent-encoded. The error
// text on failure says what is wrong, without repeating the password.
std::variant<Url, std::string> parse_url(std::string_view text);

// One RESP2 reply, owning its bytes (binary-safe).
struct Reply {
  enum class Type : std::uint8_t { Nil, Integer, String, Status, Error, Array };
  Type type = Type::Nil;
  long long integer = 0;
  std::string str;              // String, Status, Error
  std::vector<Reply> elements;  // Array
  bool is_error() const { return type == Type::Error; }
};

std::string_view to_string(Reply::Type type);

// One connection to one Redis server, kept up for as long as it is started.
//
// Reply callbacks run on the io_context's thread, never inside the call that
// issued the command, and must not throw (they may run inside hiredis, which
// is C). Real replies come in command order; Error replies made here
// ("redis unavailable", "connection lost", "connection closed") are posted.
// A callback may issue commands, call stop() or destroy the Connection.
//
// Destroying a Connection drops every callback it has not run yet (replies
// in flight, posted errors, on_ready_change): none runs once the destructor
// has started, so callbacks may capture their owner's `this`.
class Connection {
 public:
  using Callback = std::function<void(const Reply&)>;

  // `name` tells connections apart in the logs (which never show passwords
  // or payloads).
  Connection(boost::asio::io_context& io, Url url, std::string name);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Connects, and after any loss connects again: 50 ms after it, then
  // doubling to 1 s between failed attempts. An attempt that is not ready
  // within 2 s is abandoned and retried.
  void start();
  // Disconnects and stays so until start(); commands in flight get the
  // Error reply "connection closed".
  void stop();

  // Connected, AUTH and SELECT answered OK, every subscription confirmed.
  bool ready() const { return state_ == State::Ready; }
  // Called (posted) at each change of ready(), with its new value.
  std::function<void(bool ready)> on_ready_change;

  // Sends the command (binary-safe arguments) when ready; otherwise `done`
  // gets the Error reply "redis unavailable" on a later turn of the
  // io_context. Refused the same way, with an Error reply starting
  // "refused": an empty command, commands that would break the reply stream
  // (the (P|S)(UN)SUBSCRIBE family: use subscribe(); MONITOR, HELLO, CLIENT
  // REPLY), and any command on a Connection that has subscriptions, which
  // Redis keeps in subscriber mode.
  void command(std::vector<std::string> args, Callback done);

  // SUBSCRIBE `channel`, now if ready and again after every reconnect;
  // each message's payload goes to `on_message`, in the order Redis
  // published them. Messages published while disconnected are lost (that is
  // Redis pub/sub). Subscribing a channel again replaces its handler. Use a
  // Connection of its own for this. A channel subscribed while ready is
  // confirmed a little later; ready() does not wait for it.
  void subscribe(std::string channel, std::function<void(std::string_view payload)> on_message);

  // SCRIPT LOAD `lua` at every connect, before ready() (and now, if ready):
  // an EVALSHA sent after it never meets NOSCRIPT. Script::run's fallback
  // (EVAL once NOSCRIPT has come back) would let a later EVALSHA, sent
  // before that reply, overtake it: commands that must keep their order
  // (a pair's relayed signals) need their scripts preloaded.
  void preload(std::string lua);

 private:
  enum class State : std::uint8_t {
    Idle,            // not started, or stopped
    Connecting,      // resolving the host, then connecting
    Authenticating,  // AUTH and SELECT in flight
    Subscribing,     // SUBSCRIBE in flight for every channel
    Ready,
    Waiting,         // for the next attempt
  };
  friend std::string_view to_string(State state);
  struct SocketEvents;      // the io_context watching one hiredis context's socket
  struct HiredisCallbacks;  // the C callbacks hiredis calls, with access to the members
  using MessageHandler = std::shared_ptr<const std::function<void(std::string_view)>>;

  // The one mutator of state_: logs the change and posts on_ready_change.
  void change_state(State next);
  void connect();
  void connect_to(const std::string& address);
  void on_connected();
  void on_handshake_reply(const Reply& reply);
  void subscribe_all();
  void send_subscribe(const std::vector<const std::string*>& channels);
  void on_subscribe_confirmed();
  // Drops the attempt in progress; the next one follows after the backoff.
  void abandon_attempt(std::string why);
  // hiredis is about to free `ac` (cleanup hook), whatever the reason.
  void on_context_gone(redisAsyncContext* ac, std::string_view error);
  void retry_later(std::string_view why);
  void arm_timer(std::chrono::milliseconds delay);
  void on_timer();
  void post_reply(Callback done, Reply reply);

  boost::asio::io_context& io_;
  const Url url_;
  const std::string name_;
  State state_ = State::Idle;
  redisAsyncContext* context_ = nullptr;  // the live hiredis context, if any
  int handshake_replies_ = 0;             // AUTH/SELECT replies still awaited
  std::size_t unconfirmed_ = 0;           // SUBSCRIBE confirmations still awaited
  std::string failure_;                   // why the attempt was abandoned, for the log
  // Shared with a handler that is running, so that it may subscribe again.
  std::map<std::string, MessageHandler, std::less<>> subscriptions_;
  std::vector<std::string> preloaded_;    // scripts loaded by every handshake
  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::steady_timer timer_;       // the attempt's deadline, or the wait before the next
  std::uint64_t timer_generation_ = 0;    // a timer wait that completed before being re-armed is stale
  std::chrono::milliseconds backoff_;
  unsigned failed_attempts_ = 0;          // since ready (or start): only the first is a warning
  // Posted handlers and asio completions hold it weakly: once the
  // Connection is gone they find it expired and do nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

// A Lua script run by EVALSHA, falling back to EVAL on NOSCRIPT (Redis
// restarted, or its script cache was flushed), which also caches it again.
class Script {
 public:
  explicit Script(std::string lua);
  const std::string& sha1() const { return source_->sha1; }  // lowercase hex
  // SCRIPT LOAD it at every connect of `c` (Connection::preload).
  void preload_on(Connection& c) const { c.preload(source_->lua); }
  // `done` gets the script's reply, or the error of running it.
  void run(Connection& c, std::vector<std::string> keys, std::vector<std::string> args,
           Connection::Callback done) const;

 private:
  struct Source {
    std::string lua, sha1;
  };
  std::shared_ptr<const Source> source_;  // shared with runs waiting for NOSCRIPT
};

}  // namespace meshmeet::server::redis
