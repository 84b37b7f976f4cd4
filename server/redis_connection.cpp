#include "server/redis_connection.hpp"

#include <algorithm>
#include <cctype>
#include <initializer_list>
#include <limits>
#include <utility>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <openssl/sha.h>

#include "server/log.hpp"

namespace meshmeet::server::redis {

using namespace std::chrono_literals;

namespace {

constexpr std::chrono::milliseconds first_backoff = 50ms;
constexpr std::chrono::milliseconds max_backoff = 1000ms;
// Without it a connect to a host that drops packets would hang for the
// kernel's SYN retries (minutes), and a server that accepts but never
// answers AUTH would hang forever.
constexpr std::chrono::milliseconds attempt_deadline = 2000ms;

Reply error_reply(std::string text) {
  Reply r;
  r.type = Reply::Type::Error;
  r.str = std::move(text);
  return r;
}

Reply convert(const redisReply& r) {
  Reply out;
  switch (r.type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::String;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::Status;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::Error;
      out.str.assign(r.str, r.len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::Integer;
      out.integer = r.integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::Array;
      out.elements.reserve(r.elements);
      for (std::size_t i = 0; i < r.elements; ++i) out.elements.push_back(convert(*r.element[i]));
      break;
    default:
      break;  // REDIS_REPLY_NIL
  }
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Why command() must not send `args`; empty when it may. Its callbacks are
// single-use, but hiredis 0.14 knows (P)SUBSCRIBE, (P)UNSUBSCRIBE and MONITOR
// by name and calls their callback once per message (or never); SSUBSCRIBE
// it does not know, and its messages would trip an assert. HELLO (RESP3,
// which 0.14 cannot read) and CLIENT REPLY change what comes back, and
// hiredis pairs replies with callbacks by counting.
std::string_view refusal(const std::vector<std::string>& args) {
  if (args.empty()) return "refused: empty command";
  const std::string& name = args[0];
  for (std::string_view pubsub : {"subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe"})
    if (iequals(name, pubsub)) return "refused: pub/sub goes through Connection::subscribe";
  if (iequals(name, "monitor") || iequals(name, "hello") || (iequals(name, "client") && args.size() > 1 && iequals(args[1], "reply")))
    return "refused: it would break the reply stream";
  return {};
}

// argv and argvlen for redisAsyncCommandArgv, pointing into `args`.
struct Argv {
  explicit Argv(const std::vector<std::string>& args) {
    argv.reserve(args.size());
    lengths.reserve(args.size());
    for (const auto& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
  }
  int count() const { return static_cast<int>(argv.size()); }
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
};

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out.push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_digit(in[i + 1]), lo = hex_digit(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

// A decimal number in [min, max], all digits.
bool parse_number(std::string_view text, long long min, long long max, long long& out) {
  if (text.empty() || text.size() > 10) return false;
  long long n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max) return false;
  out = n;
  return true;
}

}  // namespace

std::variant<Url, std::string> parse_url(std::string_view text) {
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, 9) == "rediss://") return std::string("rediss:// (TLS) is not supported");
  if (text.substr(0, scheme.size()) != scheme) return std::string("must start with redis://");
  std::string_view rest = text.substr(scheme.size());

  const std::size_t authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view tail = authority_end == std::string_view::npos ? std::string_view{} : rest.substr(authority_end);

  Url url;
  // The last '@': a password may hold a raw '@'.
  const std::size_t at = authority.rfind('@');
  std::string_view host_port = authority;
  if (at != std::string_view::npos) {
    const std::string_view credentials = authority.substr(0, at);
    host_port = authority.substr(at + 1);
    const std::size_t colon = credentials.find(':');
    if (colon == std::string_view::npos) return std::string("credentials must be user:password or :password");
    if (!percent_decode(credentials.substr(0, colon), url.user) ||
        !percent_decode(credentials.substr(colon + 1), url.password))
      return std::string("bad percent-encoding in the credentials");
    if (url.password.empty()) return std::string("empty password");
  }

  std::string_view port;
  if (!host_port.empty() && host_port[0] == '[') {
    const std::size_t close = host_port.find(']');
    if (close == std::string_view::npos) return std::string("unclosed [ in the host");
    url.host = std::string(host_port.substr(1, close - 1));
    if (url.host.find(':') == std::string::npos) return std::string("only IPv6 addresses go in brackets");
    const std::string_view after = host_port.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::string("unexpected text after the IPv6 address");
      port = after.substr(1);
      if (port.empty()) return std::string("bad port");
    }
  } else {
    const std::size_t colon = host_port.find(':');
    url.host = std::string(host_port.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = host_port.substr(colon + 1);
      if (port.find(':') != std::string_view::npos) return std::string("IPv6 addresses go in brackets: [::1]");
      if (port.empty()) return std::string("bad port");
    }
  }
  if (url.host.empty()) return std::string("no host");
  for (unsigned char c : url.host)
    if (c <= ' ' || c >= 0x7f || c == '@' || c == '[' || c == ']' || c == '%') return std::string("bad host");
  if (!port.empty()) {
    long long n = 0;
    if (!parse_number(port, 1, 65535, n)) return std::string("bad port");
    url.port = static_cast<std::uint16_t>(n);
  }

  if (!tail.empty()) {
    if (tail[0] != '/') return std::string("query and fragment are not supported");
    const std::string_view db = tail.substr(1);
    if (!db.empty()) {
      long long n = 0;
      if (!parse_number(db, 0, std::numeric_limits<int>::max(), n)) return std::string("bad database number");
      url.db = static_cast<int>(n);
    }
  }
  return url;
}

std::string_view to_string(Reply::Type type) {
  switch (type) {
    case Reply::Type::Nil: return "nil";
    case Reply::Type::Integer: return "integer";
    case Reply::Type::String: return "string";
    case Reply::Type::Status: return "status";
    case Reply::Type::Error: return "error";
    case Reply::Type::Array: return "array";
  }
  return "?";
}

std::string_view to_string(Connection::State state) {
  switch (state) {
    case Connection::State::Idle: return "idle";
    case Connection::State::Connecting: return "connecting";
    case Connection::State::Authenticating: return "authenticating";
    case Connection::State::Subscribing: return "subscribing";
    case Connection::State::Ready: return "ready";
    case Connection::State::Waiting: return "waiting";
  }
  return "?";
}

// hiredis has no Asio adapter: these are its event hooks, on asio waits.
// hiredis owns the socket and closes it; the descriptor only watches it and
// is released before hiredis closes it. The hooks are level-triggered
// ("keep telling me while I want it") and async_wait is one-shot, so each
// completed wait is re-armed while hiredis still wants that direction.
// Lives until hiredis's cleanup hook, and while a wait holds it.
struct Connection::SocketEvents {
  SocketEvents(boost::asio::io_context& io, redisAsyncContext* ac) : descriptor(io, ac->c.fd), context(ac) {}

  static void attach(boost::asio::io_context& io, redisAsyncContext* ac) {
    auto events = std::make_shared<SocketEvents>(io, ac);
    events->self = events;
    ac->ev.data = events.get();
    ac->ev.addRead = [](void* p) { static_cast<SocketEvents*>(p)->want(true, true); };
    ac->ev.delRead = [](void* p) { static_cast<SocketEvents*>(p)->want(true, false); };
    ac->ev.addWrite = [](void* p) { static_cast<SocketEvents*>(p)->want(false, true); };
    ac->ev.delWrite = [](void* p) { static_cast<SocketEvents*>(p)->want(false, false); };
    ac->ev.cleanup = [](void* p) { static_cast<SocketEvents*>(p)->cleanup(); };
  }

  void want(bool read, bool on) {
    (read ? want_read : want_write) = on;
    arm();
  }

  void arm() {
    if (!context) return;
    if (want_read && !read_waiting) {
      read_waiting = true;
      descriptor.async_wait(boost::asio::posix::descriptor_base::wait_read,
                            [events = self](const boost::system::error_code& ec) { events->on_wait(ec, true); });
    }
    if (want_write && !write_waiting) {
      write_waiting = true;
      descriptor.async_wait(boost::asio::posix::descriptor_base::wait_write,
                            [events = self](const boost::system::error_code& ec) { events->on_wait(ec, false); });
    }
  }

  void on_wait(const boost::system::error_code& ec, bool read) {
    (read ? read_waiting : write_waiting) = false;
    // A wait that completed in the same turn as the one that ended the
    // context finds it gone; one that hiredis stopped wanting is ignored.
    if (!context || ec == boost::asio::error::operation_aborted || !(read ? want_read : want_write)) return;
    if (read)
      redisAsyncHandleRead(context);
    else
      redisAsyncHandleWrite(context);
    arm();  // the context may be gone by now (cleanup cleared it): arm() checks
  }

  void cleanup() {
    redisAsyncContext* ac = context;
    context = nullptr;
    want_read = want_write = false;
    descriptor.release();  // hiredis closes the fd; waits still outstanding end as operation_aborted
    std::shared_ptr<SocketEvents> last = std::move(self);  // may free this at the end of the scope
    if (auto* owner = static_cast<Connection*>(ac->data))
      owner->on_context_gone(ac, ac->c.err != 0 ? std::string_view(ac->c.errstr) : std::string_view());
  }

  boost::asio::posix::stream_descriptor descriptor;
  redisAsyncContext* context;  // null once hiredis let go of it
  bool want_read = false, want_write = false;
  bool read_waiting = false, write_waiting = false;
  std::shared_ptr<SocketEvents> self;  // hiredis's reference, dropped by cleanup
};

// Every callback finds the Connection through ac->data, which the
// destructor clears: after that they run (hiredis still calls them, with a
// null reply, as it frees the context) but reach nothing.
struct Connection::HiredisCallbacks {
  static Connection* owner(const redisAsyncContext* ac) { return static_cast<Connection*>(ac->data); }

  // status != REDIS_OK: hiredis frees the context right after this returns,
  // and its cleanup hook reports it.
  static void connected(const redisAsyncContext* ac, int status) {
    Connection* self = owner(ac);
    if (self && status == REDIS_OK && ac == self->context_) self->on_connected();
  }

  // privdata: the command's Callback, owned here from now on. A null reply:
  // the context is being freed with the command in flight.
  static void command(redisAsyncContext* ac, void* reply, void* privdata) {
    std::unique_ptr<Callback> done(static_cast<Callback*>(privdata));
    Connection* self = owner(ac);
    if (!self) return;  // the Connection is gone: dropped, as promised
    if (!reply) {
      self->post_reply(std::move(*done), error_reply(self->state_ == State::Idle ? "connection closed" : "connection lost"));
      return;
    }
    (*done)(convert(*static_cast<redisReply*>(reply)));  // may destroy the Connection: nothing after this
  }

  static void handshake(redisAsyncContext* ac, void* reply, void*) {
    Connection* self = owner(ac);
    if (self && reply && ac == self->context_) self->on_handshake_reply(convert(*static_cast<redisReply*>(reply)));
  }

  // hiredis calls it for SUBSCRIBE's confirmation and then for every message
  // on the channel: ["subscribe", channel, count], ["message", channel, payload].
  static void subscription(redisAsyncContext* ac, void* reply, void*) {
    Connection* self = owner(ac);
    if (!self || !reply || ac != self->context_) return;
    const auto* r = static_cast<const redisReply*>(reply);
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3) return;
    const redisReply* kind = r->element[0];
    const redisReply* channel = r->element[1];
    const redisReply* payload = r->element[2];
    if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING) return;
    const std::string_view what(kind->str, kind->len);
    if (what == "message" && payload->type == REDIS_REPLY_STRING) {
      auto it = self->subscriptions_.find(std::string_view(channel->str, channel->len));
      if (it == self->subscriptions_.end()) return;
      MessageHandler handler = it->second;  // survives the handler replacing itself or destroying the Connection
      (*handler)(std::string_view(payload->str, payload->len));
    } else if (what == "subscribe") {
      self->on_subscribe_confirmed();
    }
  }
};

Connection::Connection(boost::asio::io_context& io, Url url, std::string name)
    : io_(io), url_(std::move(url)), name_(std::move(name)), resolver_(io), timer_(io), backoff_(first_backoff) {}

Connection::~Connection() {
  alive_.reset();
  if (context_) {
    context_->data = nullptr;
    // Inside one of its callbacks hiredis defers this until the callback
    // returns; the callbacks it still runs then find no Connection.
    redisAsyncFree(context_);
    context_ = nullptr;
  }
}

void Connection::start() {
  if (state_ != State::Idle) return;
  backoff_ = first_backoff;
  failed_attempts_ = 0;
  connect();
}

void Connection::stop() {
  if (state_ == State::Idle) return;
  change_state(State::Idle);
  ++timer_generation_;
  timer_.cancel();
  resolver_.cancel();
  // Commands in flight get "connection closed" (posted); the cleanup hook
  // finds the state Idle and schedules nothing.
  if (context_) redisAsyncFree(context_);
}

void Connection::change_state(State next) {
  if (next == state_) return;
  const bool was_ready = ready();
  Log::debug("redis-state", {{"name", name_}, {"from", to_string(state_)}, {"to", to_string(next)}});
  state_ = next;
  if (was_ready == ready()) return;
  if (ready()) {
    ++timer_generation_;  // the attempt's deadline no longer applies
    timer_.cancel();
    backoff_ = first_backoff;
    failed_attempts_ = 0;
    Log::info("redis-ready", {{"name", name_}, {"host", url_.host}, {"port", static_cast<unsigned>(url_.port)}, {"db", url_.db}});
  }
  boost::asio::post(io_, [this, alive = std::weak_ptr<int>(alive_), now = ready()] {
    if (!alive.expired() && on_ready_change) on_ready_change(now);
  });
}

void Connection::connect() {
  change_state(State::Connecting);
  arm_timer(attempt_deadline);
  boost::system::error_code ec;
  boost::asio::ip::make_address(url_.host, ec);
  if (!ec) {
    connect_to(url_.host);
    return;
  }
  // hiredis would resolve with a blocking getaddrinfo on this thread.
  resolver_.async_resolve(
      url_.host, std::to_string(url_.port),
      [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec,
                                                 boost::asio::ip::tcp::resolver::results_type results) {
        if (alive.expired() || ec == boost::asio::error::operation_aborted) return;
        if (state_ != State::Connecting || context_) return;
        if (ec || results.empty()) {
          abandon_attempt("cannot resolve " + url_.host + ": " + ec.message());
          return;
        }
        // IPv4 first, as hiredis does; each failed attempt tries the next
        // address, so a name whose first address is dead still connects.
        std::vector<boost::asio::ip::address> addresses;
        for (const auto& entry : results) addresses.push_back(entry.endpoint().address());
        std::stable_partition(addresses.begin(), addresses.end(), [](const auto& a) { return a.is_v4(); });
        connect_to(addresses[failed_attempts_ % addresses.size()].to_string());
      });
}

void Connection::connect_to(const std::string& address) {
  redisAsyncContext* ac = redisAsyncConnect(address.c_str(), url_.port);
  if (!ac) {
    abandon_attempt("out of memory");
    return;
  }
  if (ac->err) {  // failed at once: no callback will come
    std::string error = ac->errstr;
    redisAsyncFree(ac);
    abandon_attempt(std::move(error));
    return;
  }
  ac->data = this;
  context_ = ac;
  SocketEvents::attach(io_, ac);
  // Also waits for the socket to be writable: that is when the connect is done.
  redisAsyncSetConnectCallback(ac, &HiredisCallbacks::connected);
}

void Connection::on_connected() {
  if (state_ != State::Connecting) return;
  redisEnableKeepAlive(&context_->c);
  // This runs inside hiredis's write handler, outside any reply callback: a
  // redisAsyncFree here would free the context under hiredis's feet. Sending
  // cannot fail here short of memory; the deadline covers that.
  handshake_replies_ = 0;
  auto send = [this](const std::vector<std::string>& args) {
    Argv a(args);
    if (redisAsyncCommandArgv(context_, &HiredisCallbacks::handshake, nullptr, a.count(), a.argv.data(),
                              a.lengths.data()) == REDIS_OK)
      ++handshake_replies_;
  };
  if (!url_.password.empty()) {
    if (url_.user.empty())
      send({"AUTH", url_.password});
    else
      send({"AUTH", url_.user, url_.password});
  }
  if (url_.db != 0) send({"SELECT", std::to_string(url_.db)});
  for (const auto& lua : preloaded_) send({"SCRIPT", "LOAD", lua});
  if (handshake_replies_ > 0)
    change_state(State::Authenticating);
  else
    subscribe_all();
}

void Connection::on_handshake_reply(const Reply& reply) {
  if (state_ != State::Authenticating) return;
  if (reply.is_error()) {
    // Inside a reply callback: hiredis frees the context once it returns.
    abandon_attempt("handshake: " + reply.str);
    return;
  }
  if (--handshake_replies_ == 0) subscribe_all();
}

// SUBSCRIBE waits for AUTH and SELECT to be answered, so that Redis never
// refuses it: hiredis 0.14 takes an error reply that no regular command
// waits for as fatal to the connection, which would hide the handshake's
// own error.
void Connection::subscribe_all() {
  if (subscriptions_.empty()) {
    change_state(State::Ready);
    return;
  }
  change_state(State::Subscribing);
  unconfirmed_ = subscriptions_.size();
  std::vector<const std::string*> channels;
  channels.reserve(subscriptions_.size());
  for (const auto& [channel, handler] : subscriptions_) channels.push_back(&channel);
  send_subscribe(channels);
}

void Connection::send_subscribe(const std::vector<const std::string*>& channels) {
  std::vector<const char*> argv{"SUBSCRIBE"};
  std::vector<std::size_t> lengths{9};
  for (const std::string* c : channels) {
    argv.push_back(c->data());
    lengths.push_back(c->size());
  }
  // One callback for the channel, run for its confirmation and every message.
  redisAsyncCommandArgv(context_, &HiredisCallbacks::subscription, nullptr, static_cast<int>(argv.size()), argv.data(),
                        lengths.data());
}

void Connection::on_subscribe_confirmed() {
  if (state_ == State::Subscribing && unconfirmed_ > 0 && --unconfirmed_ == 0) change_state(State::Ready);
}

void Connection::subscribe(std::string channel, std::function<void(std::string_view)> on_message) {
  auto handler = std::make_shared<const std::function<void(std::string_view)>>(std::move(on_message));
  auto [it, added] = subscriptions_.insert_or_assign(std::move(channel), std::move(handler));
  if (!added) return;
  // Before that, the handshake subscribes every channel in subscriptions_.
  if (state_ == State::Ready || state_ == State::Subscribing) {
    if (state_ == State::Subscribing) ++unconfirmed_;
    send_subscribe({&it->first});
  }
}

void Connection::command(std::vector<std::string> args, Callback done) {
  if (std::string_view why = refusal(args); !why.empty()) {
    post_reply(std::move(done), error_reply(std::string(why)));
    return;
  }
  if (!subscriptions_.empty()) {
    post_reply(std::move(done), error_reply("refused: a connection with subscriptions takes no commands"));
    return;
  }
  if (state_ != State::Ready) {
    post_reply(std::move(done), error_reply("redis unavailable"));
    return;
  }
  Argv a(args);
  auto pending = std::make_unique<Callback>(std::move(done));
  if (redisAsyncCommandArgv(context_, &HiredisCallbacks::command, pending.get(), a.count(), a.argv.data(),
                            a.lengths.data()) == REDIS_OK) {
    pending.release();  // hiredis hands it back to HiredisCallbacks::command
    return;
  }
  // The context is being freed (from inside a callback); the cleanup hook follows.
  post_reply(std::move(*pending), error_reply("redis unavailable"));
}

void Connection::abandon_attempt(std::string why) {
  resolver_.cancel();
  if (!context_) {
    retry_later(why);
    return;
  }
  failure_ = std::move(why);
  redisAsyncFree(context_);  // the cleanup hook calls on_context_gone
}

void Connection::on_context_gone(redisAsyncContext* ac, std::string_view error) {
  if (ac != context_) return;  // one stop() left behind, freed late
  context_ = nullptr;
  std::string why = !error.empty() ? std::string(error) : !failure_.empty() ? failure_ : "closed";
  failure_.clear();
  retry_later(why);
}

void Connection::retry_later(std::string_view why) {
  if (state_ == State::Idle) return;
  // One warning per outage; the attempts after it go to debug.
  if (state_ == State::Ready)
    Log::warn("redis-lost", {{"name", name_}, {"error", why}});
  else if (failed_attempts_ == 0)
    Log::warn("redis-connect-failed", {{"name", name_}, {"host", url_.host}, {"port", static_cast<unsigned>(url_.port)}, {"error", why}});
  else
    Log::debug("redis-connect-failed", {{"name", name_}, {"error", why}});
  ++failed_attempts_;
  change_state(State::Waiting);
  arm_timer(backoff_);
  backoff_ = std::min(backoff_ * 2, max_backoff);
}

void Connection::arm_timer(std::chrono::milliseconds delay) {
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_after(delay);
  timer_.async_wait([this, alive = std::weak_ptr<int>(alive_), generation](const boost::system::error_code& ec) {
    if (alive.expired() || ec || generation != timer_generation_) return;
    on_timer();
  });
}

void Connection::on_timer() {
  switch (state_) {
    case State::Waiting:
      connect();
      break;
    case State::Connecting:
    case State::Authenticating:
    case State::Subscribing:
      abandon_attempt("not ready within " + std::to_string(attempt_deadline.count()) + " ms");
      break;
    case State::Idle:
    case State::Ready:
      break;
  }
}

void Connection::post_reply(Callback done, Reply reply) {
  boost::asio::post(io_, [alive = std::weak_ptr<int>(alive_), done = std::move(done), reply = std::move(reply)] {
    if (!alive.expired()) done(reply);
  });
}

Script::Script(std::string lua) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(lua.data()), lua.size(), digest);
  static const char* hex = "0123456789abcdef";
  std::string sha1;
  for (unsigned char b : digest) {
    sha1.push_back(hex[b >> 4]);
    sha1.push_back(hex[b & 15]);
  }
  source_ = std::make_shared<const Source>(Source{std::move(lua), std::move(sha1)});
}

void Connection::preload(std::string lua) {
  if (ready()) command({"SCRIPT", "LOAD", lua}, [](const Reply&) {});
  preloaded_.push_back(std::move(lua));
}

void Script::run(Connection& c, std::vector<std::string> keys, std::vector<std::string> args,
                 Connection::Callback done) const {
  std::vector<std::string> argv;
  argv.reserve(3 + keys.size() + args.size());
  argv.push_back("EVALSHA");
  argv.push_back(source_->sha1);
  argv.push_back(std::to_string(keys.size()));
  for (auto& k : keys) argv.push_back(std::move(k));
  for (auto& a : args) argv.push_back(std::move(a));
  // The callback runs only while `c` lives (see ~Connection), so holding it
  // by pointer is safe.
  c.command(argv, [connection = &c, source = source_, argv, done = std::move(done)](const Reply& reply) mutable {
    if (reply.is_error() && reply.str.compare(0, 8, "NOSCRIPT") == 0) {
      // NOSCRIPT means nothing ran; EVAL runs it once and caches it again.
      argv[0] = "EVAL";
      argv[1] = source->lua;
      connection->command(std::move(argv), std::move(done));
      return;
    }
    done(reply);
  });
}

}  // namespace meshmeet::server::redis
