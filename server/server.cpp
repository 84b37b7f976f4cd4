#include "server/server.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>
#include <type_traits>

#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "protocol/messages.hpp"
#include "server/log.hpp"
#include "server/message_rate_limit.hpp"
#include "server/tls_files.hpp"

namespace meshmeet::server {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using protocol::ErrorCode;

// Streams on the io_context's own executor type rather than the type-erased
// any_io_executor (56 bytes, copied into every timer, socket and pending
// operation of every connection): the server has one io_context.
using PlainStream = beast::basic_stream<tcp, Server::Executor, beast::unlimited_rate_policy>;
using TlsStream = beast::ssl_stream<PlainStream>;

namespace {

constexpr auto kHttpIdleTimeout = std::chrono::seconds(30);
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kCloseHandshakeTimeout = std::chrono::seconds(5);
constexpr std::size_t kHttpHeaderLimit = 16 * 1024;
constexpr auto kShutdownDeadline = std::chrono::seconds(3);
constexpr std::size_t kReadChunk = 1536;  // websocket::stream's tcp_frame_size: what one read can copy out

// Where a WebSocket connection's socket stands. What the connection means
// (joined or not, how it ended) is its ParticipantSession's, made on accept.
enum class SocketState {
  Accepting,  // upgrade handshake in progress
  Open,       // reading and writing
  Closing,    // our close frame goes once the queue is written
  Gone,       // torn down; nothing more happens
};

// ---------------------------------------------------------------------------
// A WebSocket connection, over plain TCP or TLS: the socket and its send
// queue. It reports what happens on the socket to its ParticipantSession and
// carries out what the session asks.

template <class Stream>
class WebSocketConnection final : public Connection,
                                  public SessionSocket,
                                  public std::enable_shared_from_this<WebSocketConnection<Stream>> {
 public:
  WebSocketConnection(Server& server, Stream&& stream, std::string ip, SocketTicket ticket)
      : server_(server), ws_(std::move(stream)), ip_(address_group(ip)), ticket_(std::move(ticket)) {
    server_.track(this);
  }

  ~WebSocketConnection() override {
    if (session_) server_.detach(session_->id(), ip_);
    else server_.untrack(this);
  }

  void start(HttpRequest request) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = kCloseHandshakeTimeout;
    timeouts.idle_timeout = websocket::stream_base::none();  // our own heartbeat decides
    timeouts.keep_alive_pings = false;
    ws_.set_option(timeouts);
    // --max-frame is enforced here, message by message, so that the client
    // hears `too-large` before the 1009 close.
    ws_.read_message_max(0);
    ws_.auto_fragment(false);
    ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
      if (session_ && (kind == websocket::frame_type::pong || kind == websocket::frame_type::ping))
        session_->heard(Clock::now());
    });
    auto host = request[http::field::host];
    host_ = std::string(host.data(), host.size());
    upgrade_ = std::make_unique<HttpRequest>(std::move(request));
    ws_.async_accept(*upgrade_, beast::bind_front_handler(&WebSocketConnection::on_accept, this->shared_from_this()));
  }

  // ---- Connection (the server, the registry through it)
  void retire() override {
    if (session_) session_->retire(Clock::now());
  }

  bool joined(const JoinOutcome& outcome) override { return session_ && session_->on_joined(outcome, Clock::now()); }

  void refused(const protocol::Error& error) override {
    if (session_) session_->on_refused(error);
  }

  TimePoint tick(TimePoint now) override { return session_ ? session_->tick(now) : TimePoint::max(); }

  // An upgrade under way when the drain begins is closed once it completes.
  void shutdown() override {
    if (session_) session_->shutdown(Clock::now());
  }

  void abort() override { close_socket(); }

  // ---- SessionSocket (and Connection::send)
  void send(Message message) override {
    if (state_ != SocketState::Open) return;
    if (queued_bytes_ + message->size() > server_.config().send_queue) return slow_consumer();
    queued_bytes_ += message->size();
    queue_.push_back(std::move(message));
    write_next();
  }

  void close(std::uint16_t code) override {
    if (state_ != SocketState::Open) return;
    state_ = SocketState::Closing;
    close_code_ = static_cast<websocket::close_code>(code);
    if (!writing_) start_close();
  }

  void drop() override {
    state_ = SocketState::Gone;
    close_socket();
  }

  void ping() override {
    ws_.async_ping({}, [self = this->shared_from_this()](beast::error_code) { self->session_->ping_finished(); });
  }

 private:
  void on_accept(beast::error_code ec) {
    upgrade_.reset();
    if (ec) return;
    server_.untrack(this);
    auto [id, open_from_ip] = server_.attach(this, ip_);
    state_ = SocketState::Open;
    session_.emplace(server_.session_services(), *this, id, std::move(host_), Clock::now());
    if (server_.shutting_down())
      session_->refuse(DisconnectReason::Shutdown, Clock::now());
    else if (open_from_ip > server_.config().per_ip)
      session_->refuse(DisconnectReason::TooManyConnections, Clock::now());
    read_next();
  }

  // Waits for the next message with no buffer of ours: Beast reads the frame
  // header and the first bytes into the stream's own fixed read buffer and
  // completes this zero-length read with 0 bytes (or with the whole message
  // when it is empty). Only then is buffer_ allocated, for that message.
  void read_next() {
    // A real address, not null: Beast's UTF-8 check computes `data + size - 3`
    // and compares, which goes wrong only for a null pointer.
    static char nothing;
    ws_.async_read_some(asio::mutable_buffer(&nothing, 0),
                        beast::bind_front_handler(&WebSocketConnection::on_read, this->shared_from_this()));
  }

  // The rest of a message under way, into buffer_.
  void read_more() {
    const std::size_t max = server_.config().max_frame;
    const std::size_t room = max + 1 - std::min(buffer_.size(), max);
    // What Beast already holds of the message comes out in one copy.
    if (buffer_.capacity() == 0) buffer_.reserve(std::min(kReadChunk, room));
    ws_.async_read_some(buffer_, room, beast::bind_front_handler(&WebSocketConnection::on_read, this->shared_from_this()));
  }

  // Idle connections hold no read buffer at all.
  void release_buffer() {
    buffer_.clear();
    buffer_.shrink_to_fit();
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    const TimePoint now = Clock::now();
    if (buffer_.size() > server_.config().max_frame) {
      release_buffer();
      return session_->on_too_large(server_.config().max_frame, now);
    }
    if (!ws_.is_message_done()) return read_more();
    if (!ws_.got_text()) {
      release_buffer();
      return session_->on_binary(now);
    }
    auto data = buffer_.cdata();
    session_->on_message(std::string_view(static_cast<const char*>(data.data()), data.size()), now);
    release_buffer();
    // Once closing, the close handshake reads by itself: a read of ours
    // racing it can leave both waiting on each other.
    if (state_ == SocketState::Open && session_->open()) read_next();
  }

  void on_read_error(beast::error_code ec) {
    const SocketState was = state_;
    state_ = SocketState::Gone;
    if (was == SocketState::Closing) {
      // Our close is under way and the read side has ended too (usually the
      // client's own close frame crossed ours): nothing more can come, so
      // release the socket now rather than when some timeout fires.
      return close_socket();
    }
    if (was != SocketState::Open) return;
    SocketEnd how = SocketEnd::Reset;  // TCP gone without a close frame
    if (ec == websocket::error::closed || ec == websocket::error::bad_close_code ||
        ec == websocket::error::bad_close_size || ec == websocket::error::bad_close_payload)
      // Any close frame from the client, whatever its code, is a clean leave:
      // also one Beast refuses (a reserved code such as 1005, a 1-byte
      // payload, a reason that is not UTF-8).
      how = SocketEnd::CloseFrame;
    else if (ec.category() == websocket::make_error_code(websocket::error::closed).category())
      // Beast refused a frame (bad UTF-8 → 1007, protocol violation → 1002) and has closed.
      how = ec == websocket::error::bad_frame_payload ? SocketEnd::BadUtf8 : SocketEnd::ProtocolError;
    session_->on_socket_end(how, Clock::now());
  }

  void start_close() {
    ws_.async_close(*close_code_, [self = this->shared_from_this()](beast::error_code) {
      // The read loop sees the end; make sure the socket goes even if the
      // peer never answers our close frame.
      self->drop();
    });
  }

  void write_next() {
    if (writing_ || next_ == queue_.size()) return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_[next_]),
                    beast::bind_front_handler(&WebSocketConnection::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    if (ec) {
      // The connection ended under a write (a reset, a broken pipe): the
      // participant is dropped like any unclean end, so its slot is held,
      // then freed; the read that fails next finds the socket gone.
      const bool open = state_ == SocketState::Open;
      drop();
      if (open) session_->on_socket_end(SocketEnd::Reset, Clock::now());
      return;
    }
    queued_bytes_ -= queue_[next_]->size();
    queue_[next_++].reset();
    if (next_ == queue_.size()) {
      queue_ = {};  // an idle connection holds no queue storage either
      next_ = 0;
    } else if (next_ >= 64 && next_ * 2 >= queue_.size()) {
      // Never fully drained under steady traffic: drop the sent prefix.
      queue_.erase(queue_.begin(), queue_.begin() + static_cast<std::ptrdiff_t>(next_));
      next_ = 0;
    }
    ++server_.metrics().messages_out;
    if (state_ == SocketState::Closing && next_ == queue_.size()) return start_close();
    if (state_ == SocketState::Gone) return;
    write_next();
  }

  // The bounded send queue is full: the reader is not keeping up. Never
  // buffer without bound: drop the connection as unclean, so its slot is
  // held for a resume. Deferred, because send() runs inside the registry.
  void slow_consumer() {
    state_ = SocketState::Gone;
    asio::post(server_.io(), [self = this->shared_from_this()] {
      self->session_->on_socket_end(SocketEnd::SlowConsumer, Clock::now());
      self->close_socket();
    });
  }

  void close_socket() {
    beast::error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).socket().close(ignored);
  }

  Server& server_;
  websocket::stream<Stream> ws_;
  std::string ip_;  // the client's address group: what --per-ip counts
  SocketTicket ticket_;
  std::string host_;  // the upgrade's Host header, until the session takes it
  std::unique_ptr<HttpRequest> upgrade_;  // only while the handshake runs
  beast::flat_buffer buffer_;             // empty between messages
  SocketState state_ = SocketState::Accepting;
  std::optional<ParticipantSession> session_;  // from the accepted upgrade on
  // The send queue: a vector drained from next_, not a std::deque, whose
  // empty state alone costs ~600 bytes per connection.
  std::vector<Message> queue_;
  std::size_t next_ = 0;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  std::optional<websocket::close_code> close_code_;
};

// ---------------------------------------------------------------------------
// An HTTP connection: answers requests until it upgrades to WebSocket.

enum class HttpRole {
  Public,   // the app, the API, /ws, health
  Metrics,  // the --metrics-listen port: /metrics only
};

template <class Stream>
class HttpSession final : public OpenSocket, public std::enable_shared_from_this<HttpSession<Stream>> {
 public:
  // `ticket`: not held for a trusted proxy's socket, counted once its
  // first request names the client.
  HttpSession(Server& server, Stream&& stream, std::string peer_ip, SocketTicket ticket, HttpRole role = HttpRole::Public)
      : server_(server), stream_(std::move(stream)), peer_ip_(std::move(peer_ip)), ticket_(std::move(ticket)), role_(role) {
    server_.track(this);
  }
  ~HttpSession() override { server_.untrack(this); }

  void run() {
    if constexpr (std::is_same_v<Stream, TlsStream>) {
      beast::get_lowest_layer(stream_).expires_after(kTlsHandshakeTimeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              beast::bind_front_handler(&HttpSession::on_handshake, this->shared_from_this()));
    } else {
      read_next();
    }
  }

  // Waiting for a request: close now. Answering or writing one: finish it,
  // then close (on_write sees the drain).
  void shutdown() override {
    if (!response_ && !answering_) abort();
  }

  void abort() override {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).socket().close(ignored);
  }

 private:
  void on_handshake(beast::error_code ec) {
    if (ec) return abort();
    read_next();
  }

  void read_next() {
    parser_.emplace();
    parser_->body_limit(server_.config().max_body);
    parser_->header_limit(kHttpHeaderLimit);
    beast::get_lowest_layer(stream_).expires_after(kHttpIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&HttpSession::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::body_limit) {
      ++server_.metrics().http_body_too_large;
      auto& req = parser_->get();
      return respond(server_.api().error(ErrorCode::TooLarge,
                                         "request body larger than " + std::to_string(server_.config().max_body) + " bytes",
                                         req.version(), false));
    }
    if (ec == http::error::header_limit) {
      ++server_.metrics().http_bad_requests;
      return respond(server_.api().error(http::status::request_header_fields_too_large, ErrorCode::BadRequest,
                                         "request headers larger than " + std::to_string(kHttpHeaderLimit) + " bytes",
                                         11, false));
    }
    // Bytes that are not HTTP get a 400 before the close, so a client with a
    // bug learns why; a connection that simply ended or idled out gets none.
    if (ec.category() == http::make_error_code(http::error::bad_target).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message) {
      ++server_.metrics().http_bad_requests;
      return respond(server_.api().error(ErrorCode::BadRequest, "malformed HTTP request", 11, false));
    }
    if (ec) return abort();

    HttpRequest req = parser_->release();
    parser_.reset();
    if (role_ == HttpRole::Metrics) return respond(server_.api().handle_metrics_port(req));
    std::vector<std::string_view> forwarded;
    for (auto range = req.equal_range("X-Forwarded-For"); range.first != range.second; ++range.first)
      forwarded.emplace_back(range.first->value().data(), range.first->value().size());
    const std::string client_ip = client_address(peer_ip_, forwarded, server_.config().trusted_proxies);
    if (!ticket_.held()) {  // through a trusted proxy: now the client is known
      auto ticket = server_.admit_socket(client_ip);
      if (!ticket) {
        auto res = server_.api().error(http::status::service_unavailable, ErrorCode::TooManyConnections,
                                       "too many open connections from this address", req.version(), false);
        res.set(http::field::retry_after, "5");
        return respond(std::move(res));
      }
      ticket_ = std::move(*ticket);
    }
    std::string_view target(req.target().data(), req.target().size());
    std::string_view path = target.substr(0, target.find('?'));

    if (websocket::is_upgrade(req) && path == "/ws") {
      if (server_.shutting_down()) {
        auto res = server_.api().unavailable("the server is shutting down; connect again shortly", req.version(), false);
        res.set(http::field::retry_after, "5");
        return respond(std::move(res));
      }
      auto origin = req[http::field::origin];
      auto host = req[http::field::host];
      if (req.find(http::field::origin) != req.end() &&
          !origin_allowed(std::string_view(origin.data(), origin.size()), std::string_view(host.data(), host.size()),
                          server_.config().allow_origins)) {
        return respond(server_.api().error(ErrorCode::ForbiddenOrigin, "this origin may not open meetings here",
                                           req.version(), false));
      }
      std::make_shared<WebSocketConnection<Stream>>(server_, std::move(stream_), client_ip, std::move(ticket_))
          ->start(std::move(req));
      return;
    }
    answering_ = true;
    server_.api().handle(req, client_ip, Clock::now(), [self = this->shared_from_this()](HttpResponse res) {
      self->answering_ = false;
      self->respond(std::move(res));
    });
  }

  void respond(HttpResponse response) {
    response_ = std::make_unique<HttpResponse>(std::move(response));
    response_->set(http::field::server, "meshmeet");
    if (server_.shutting_down()) response_->keep_alive(false);  // one answer per connection while draining
    http::async_write(stream_, *response_, beast::bind_front_handler(&HttpSession::on_write, this->shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    const bool keep_alive = response_ && response_->keep_alive();
    response_.reset();
    if (ec || !keep_alive || server_.shutting_down()) return abort();
    read_next();
  }

  Server& server_;
  Stream stream_;
  std::string peer_ip_;
  SocketTicket ticket_;
  HttpRole role_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::unique_ptr<HttpResponse> response_;
  bool answering_ = false;  // the API is answering the request (Redis may be asked)
};

// A 503 too-many-connections sent unread, so before any Origin is known:
// readable by every page (it says nothing but "full"), so a page of another
// origin can tell "full" from "not allowed here".
std::string too_many_connections(std::string_view message) {
  const std::string body = R"({"error":{"code":"too-many-connections","message":")" + std::string(message) + "\"}}";
  return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nConnection: close\r\n"
         "Access-Control-Allow-Origin: *\r\nRetry-After: 5\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Writes `response` (may be empty) to a freshly accepted socket without
// reading anything, and closes it. Best effort: a fresh socket's send buffer
// takes a short answer at once.
void refuse_unread(int fd, std::string_view response) {
  if (!response.empty()) [[maybe_unused]] const ssize_t n = ::send(fd, response.data(), response.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fd);
}

std::string address_of(const Server::Socket& socket) {
  beast::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (ec) return "unknown";
  auto address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

}  // namespace

// ---------------------------------------------------------------------------

ConnectionTimeouts connection_timeouts(const Config& c) {
  ConnectionTimeouts t{seconds(c.join_timeout), seconds(c.heartbeat_interval), seconds(c.heartbeat_timeout)};
  // TURN credentials are renewed at 80% of their lifetime: well before
  // they expire, yet not so often that the refresh costs anything.
  if (!c.turn_urls.empty()) t.ice_refresh = seconds(static_cast<double>(c.turn_ttl) * 0.8);
  return t;
}

IceServerSettings ice_server_settings(const Config& c) {
  IceServerSettings s;
  s.static_urls = c.ice_servers;
  s.turn_urls = c.turn_urls;
  s.turn_secret = c.turn_secret;
  s.turn_ttl = c.turn_ttl;
  s.listen_host = c.host;
  return s;
}

RoomSettings room_settings(const Config& c, const IceServerList* ice, std::optional<ResumeKeys> resume_keys,
                           TimePoint started) {
  RoomSettings s;
  s.resume_keys = std::move(resume_keys);
  s.earlier_tokens_until = started + seconds(c.resume_grace);
  s.room_cap = c.room_cap;
  s.resume_grace = seconds(c.resume_grace);
  // What a resumed client is handed at once must fit its own send queue.
  s.held_queue_bytes = std::min<std::size_t>(s.held_queue_bytes, c.send_queue / 2);
  s.heartbeat_interval_ms = static_cast<std::uint32_t>(c.heartbeat_interval * 1000 + 0.5);
  s.heartbeat_timeout_ms = static_cast<std::uint32_t>(c.heartbeat_timeout * 1000 + 0.5);
  std::string list = "[";
  for (std::size_t i = 0; i < c.ice_servers.size(); ++i)
    list += (i ? "," : "") + std::string(R"({"urls":)") + protocol::quote_json(c.ice_servers[i]) + "}";
  list += "]";
  s.ice_servers = list;
  if (ice)
    s.ice_servers_for = [ice](std::string_view peer, std::string_view host) { return ice->for_participant(peer, host); };
  return s;
}

RoomSettings with_store(RoomSettings settings, MeetingStore& store) {
  settings.find_meeting = [&store](std::string_view id) -> std::optional<MeetingRecord> {
    auto stored = store.find(id);
    if (!stored) return std::nullopt;
    store.touch(id, static_cast<std::int64_t>(std::time(nullptr)));
    return MeetingRecord{std::string(id), stored->name, stored->relay_only};
  };
  return settings;
}

Server::Server(asio::io_context& io, Config config, std::unique_ptr<MeetingStore> store, std::unique_ptr<GeoIp> geoip,
               std::optional<asio::ssl::context> tls, const RoomRegistryFactory& make_rooms,
               std::optional<ResumeKeys> resume_keys, std::unique_ptr<MeetingDirectory> meetings)
    : io_(io),
      config_(std::move(config)),
      store_(std::move(store)),
      geoip_(std::move(geoip)),
      tls_(std::move(tls)),
      timeouts_(connection_timeouts(config_)),
      ice_(ice_server_settings(config_), [] { return static_cast<std::int64_t>(std::time(nullptr)); }),
      rooms_(make_rooms(with_store(room_settings(config_, &ice_, std::move(resume_keys), Clock::now()), *store_), *this,
                        random_)),
      meetings_(meetings ? std::move(meetings) : std::make_unique<LocalMeetingDirectory>(*store_, *rooms_, config_.create_rate)),
      session_services_{*rooms_, metrics_, ice_, timeouts_, config_.msg_rate},
      api_(config_, *meetings_, *rooms_, geoip_.get(), metrics_, random_, [this] { return gauges(); }),
      acceptor_(io),
      metrics_acceptor_(io),
      metrics_retry_timer_(io),
      sweep_timer_(io),
      accept_retry_timer_(io),
      signals_(io, SIGTERM, SIGINT),
      reload_signals_(io, SIGHUP) {
  // Retention runs hourly, or more often when the periods are short (tests).
  retention_period_ = seconds(std::clamp(std::min(config_.meeting_ttl_days, config_.audit_retention_days) * 86400 / 4, 1.0, 3600.0));
  double period = std::min({0.25, config_.heartbeat_interval / 4, config_.join_timeout / 4});
  if (config_.resume_grace > 0) period = std::min(period, config_.resume_grace / 4);
  sweep_period_ = seconds(std::max(0.01, period));
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

Server::~Server() {
  // Connections call back into the server (and its registry and database)
  // when they end: close every socket still open and run the handlers that
  // hold them to completion now, while all of that still exists. Closing
  // makes every pending operation complete at once, so poll() suffices.
  close_all();
  io_.restart();
  while (!drained() && io_.poll() > 0) {
  }
  if (!drained())
    Log::error("shutdown-incomplete", {{"connections", static_cast<unsigned long long>(connections_.size())},
                                       {"sockets", static_cast<unsigned long long>(sockets_.size())}});
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
}

bool Server::listen(std::string& error) {
  beast::error_code ec;
  auto address = asio::ip::make_address(config_.host, ec);
  if (ec) {
    error = "--host: not an IP address: " + config_.host;
    return false;
  }
  tcp::endpoint endpoint(address, config_.port);
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  // Nodes of a cluster may share one port on one host (the kernel spreads
  // new connections over them). Never a lone server: two of them on one
  // database would each think it holds every room.
  if (!ec && !config_.redis.empty())
    acceptor_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "cannot listen on " + config_.host + ":" + std::to_string(config_.port) + ": " + ec.message();
    return false;
  }
  if (!config_.metrics_listen.empty()) {
    std::string host;
    std::uint16_t port = 0;
    split_listen_address(config_.metrics_listen, host, port);  // validated with the flags
    tcp::endpoint metrics_endpoint(asio::ip::make_address(host), port);
    metrics_acceptor_.open(metrics_endpoint.protocol(), ec);
    if (!ec) metrics_acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) metrics_acceptor_.bind(metrics_endpoint, ec);
    if (!ec) metrics_acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      error = "cannot listen on --metrics-listen " + config_.metrics_listen + ": " + ec.message();
      return false;
    }
  }
  if (config_.stun_port != 0) {
    // By default the same number as the TCP port actually bound (--port 0
    // picks one), so one port number serves everything.
    const auto port = config_.stun_port > 0 ? static_cast<std::uint16_t>(config_.stun_port)
                                            : acceptor_.local_endpoint().port();
    stun_.emplace(io_, metrics_);
    if (!stun_->open(config_.host, port, !config_.redis.empty(), error)) {
      stun_.reset();
      return false;
    }
    ice_.set_stun_port(stun_->port());
  }
  return true;
}

void Server::start() {
  Log::info("listening", {{"host", config_.host},
                          {"port", static_cast<unsigned>(acceptor_.local_endpoint().port())},
                          {"tls", tls_.has_value()}});
  signals_.async_wait([this](beast::error_code ec, int signal) {
    if (ec) return;
    Log::info("shutdown", {{"signal", signal}});
    shutdown();
  });
  if (stun_) stun_->start();
  await_reload();
  // Retention first runs once those who were in meetings before a restart
  // had their resume grace to come back: an empty registry at start says
  // nothing about which meetings are in use.
  next_retention_ = Clock::now() + seconds(config_.resume_grace);
  if (metrics_acceptor_.is_open()) {
    Log::info("metrics-listening", {{"port", static_cast<unsigned>(metrics_acceptor_.local_endpoint().port())}});
    accept_metrics();
  }
  accept();
  sweep();
}

// Traceless, as promised: meetings unused for --meeting-ttl days go, and the
// creator audit is erased after --audit-retention days (docs/privacy.md).
// A meeting someone is in counts as in use.
void Server::apply_retention() {
  const auto unix_now = static_cast<std::int64_t>(std::time(nullptr));
  const auto days = [&](double d) { return unix_now - static_cast<std::int64_t>(d * 86400); };
  const auto swept = store_->sweep(unix_now, days(config_.meeting_ttl_days), days(config_.audit_retention_days),
                                   [this](const Digest& key) { return rooms_->is_live(key); });
  metrics_.meetings_expired += swept.meetings_deleted;
  if (swept.meetings_deleted + swept.audits_erased > 0)
    Log::info("retention", {{"meetings_deleted", static_cast<unsigned long long>(swept.meetings_deleted)},
                            {"audits_erased", static_cast<unsigned long long>(swept.audits_erased)}});
}

// SIGHUP: a renewed certificate (certbot's deploy hook, say) is read again.
// Connections already open keep going on the one they were made with; new
// ones get the new one. A bad file changes nothing and is logged.
void Server::await_reload() {
  reload_signals_.async_wait([this](beast::error_code ec, int) {
    if (ec) return;
    if (!tls_) {
      Log::info("reload", {{"tls", false}});
    } else {
      std::string error;
      if (auto fresh = load_tls_context(config_.tls_cert, config_.tls_key, error)) {
        *tls_ = std::move(*fresh);  // new connections are made with it from now on
        Log::info("tls-reloaded", {{"cert", config_.tls_cert}});
      } else {
        Log::warn("tls-reload-failed", {{"error", error}});
      }
    }
    await_reload();
  });
}

// The metrics port: plain HTTP, /metrics only, for the operator's network.
void Server::accept_metrics() {
  metrics_acceptor_.async_accept(io_.get_executor(), [this](beast::error_code ec, Socket socket) {
    if (ec == asio::error::operation_aborted || !metrics_acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors, say: the scrape waits in the backlog, so back
      // off rather than spin on it.
      metrics_retry_timer_.expires_after(std::chrono::milliseconds(100));
      metrics_retry_timer_.async_wait([this](beast::error_code e) {
        if (!e && metrics_acceptor_.is_open()) accept_metrics();
      });
      return;
    }
    std::string ip = address_of(socket);
    std::make_shared<HttpSession<PlainStream>>(*this, PlainStream(std::move(socket)), std::move(ip), SocketTicket{},
                                               HttpRole::Metrics)
        ->run();
    accept_metrics();
  });
}

void Server::accept() {
  acceptor_.async_accept(io_.get_executor(),
                         [this](beast::error_code ec, Socket socket) { on_accept(ec, std::move(socket)); });
}

void Server::on_accept(beast::error_code ec, Socket socket) {
  // Accepting goes on while draining; only close_all() ends it.
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if ((ec == asio::error::no_descriptors || ec == boost::system::errc::too_many_files_open_in_system) &&
      refuse_at_fd_limit() > 0) {
    accept();
    return;
  }
  if (ec) {
    // Out of file descriptors with nothing to refuse, or another error:
    // back off instead of spinning.
    Log::warn("accept-failed", {{"error", ec.message()}});
    accept_retry_timer_.expires_after(std::chrono::milliseconds(100));
    accept_retry_timer_.async_wait([this](beast::error_code e) {
      if (!e && acceptor_.is_open()) accept();
    });
    return;
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  std::string ip = address_of(socket);
  SocketTicket ticket;
  if (!in_ranges(config_.trusted_proxies, ip)) {  // a proxy's sockets count for the clients it names
    auto admitted = admit_socket(ip);
    if (!admitted) {
      refuse_over_share(socket);
      accept();
      return;
    }
    ticket = std::move(*admitted);
  }
  if (tls_) {
    std::make_shared<HttpSession<TlsStream>>(*this, TlsStream(std::move(socket), *tls_), std::move(ip), std::move(ticket))->run();
  } else {
    std::make_shared<HttpSession<PlainStream>>(*this, PlainStream(std::move(socket)), std::move(ip), std::move(ticket))->run();
  }
  accept();
}

// ---- admission: every socket counts against its client's share -------------------------

SocketTicket::SocketTicket(AddressCounts& counts, std::string group) : counts_(&counts), group_(std::move(group)) {
  counts.add(group_);
}

SocketTicket::SocketTicket(SocketTicket&& other) noexcept
    : counts_(std::exchange(other.counts_, nullptr)), group_(std::move(other.group_)) {}

SocketTicket& SocketTicket::operator=(SocketTicket&& other) noexcept {
  if (this != &other) {
    release();
    counts_ = std::exchange(other.counts_, nullptr);
    group_ = std::move(other.group_);
  }
  return *this;
}

void SocketTicket::release() {
  if (!counts_) return;
  counts_->remove(group_);
  counts_ = nullptr;
}

std::optional<SocketTicket> Server::admit_socket(const std::string& client) {
  std::string group = address_group(client);
  if (sockets_per_group_.total(group) >= config_.per_ip_sockets) {
    sockets_per_group_.refused(group);
    metrics_.error(ErrorCode::TooManyConnections);
    return std::nullopt;
  }
  return SocketTicket(sockets_per_group_, std::move(group));
}

// One address holds its whole share of sockets: this one gets 503, written
// unread (the share is counted before anything is read, so that idle
// sockets cannot pile up either), and is closed. A TLS socket is just closed.
void Server::refuse_over_share(Socket& socket) {
  static const std::string kResponse = too_many_connections("too many open connections from this address");
  beast::error_code ignored;
  const int fd = socket.release(ignored);
  if (fd >= 0) refuse_unread(fd, tls_ ? std::string_view{} : kResponse);
}

int Server::refuse_at_fd_limit() {
  // The whole server is full, not this client's share.
  static const std::string kResponse = too_many_connections("the server cannot take more connections");
  // The loop below must stop at EAGAIN, never block the event loop.
  beast::error_code ignored;
  acceptor_.native_non_blocking(true, ignored);
  if (reserve_fd_ >= 0) ::close(reserve_fd_);
  reserve_fd_ = -1;
  int refused = 0;
  for (;;) {
    const int fd = ::accept4(acceptor_.native_handle(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) break;  // EAGAIN: nobody else is waiting (or still no descriptor)
    refuse_unread(fd, kResponse);
    ++refused;
  }
  reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  metrics_.refused_fd_limit += static_cast<std::uint64_t>(refused);
  if (refused > 0) Log::warn("refused-fd-limit", {{"connections", refused}});
  return refused;
}

void Server::sweep() {
  const TimePoint now = Clock::now();
  std::vector<Due> again;
  while (!due_.empty() && due_.front().first <= now) {
    std::pop_heap(due_.begin(), due_.end(), due_later);
    const ConnId id = due_.back().second;
    due_.pop_back();
    auto it = connections_.find(id);
    if (it == connections_.end()) continue;  // gone since
    const TimePoint next = it->second->tick(now);
    // Not before the next sweep: what is due now has just been handled.
    if (next != TimePoint::max()) again.emplace_back(std::max(next, now + sweep_period_), id);
  }
  for (const Due& d : again) schedule(d.first, d.second);
  const auto expired = rooms_->expire(now);
  metrics_.resume_expired += expired.disconnected + expired.timed_out;
  api_.sweep(now);
  if (now >= next_retention_) {
    apply_retention();
    next_retention_ = now + retention_period_;
  }
  if (shutting_down_ && (drained() || now >= *shutdown_deadline_)) {
    // How the drain ended, and when (ms since the signal): every client gone,
    // or the deadline.
    const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(now - (*shutdown_deadline_ - kShutdownDeadline));
    if (drained()) {
      Log::info("drained", {{"ms", static_cast<long long>(took.count())}});
    } else {
      // Some clients have not answered our close frame: their sockets go
      // now. ~Server() runs what that completes.
      Log::warn("shutdown-deadline", {{"ms", static_cast<long long>(took.count())},
                                      {"connections", static_cast<unsigned long long>(connections_.size())},
                                      {"sockets", static_cast<unsigned long long>(sockets_.size())}});
    }
    close_all();
    io_.stop();
    return;
  }
  sweep_timer_.expires_after(sweep_period_);
  sweep_timer_.async_wait([this](beast::error_code ec) {
    if (!ec) sweep();
  });
}

void Server::shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  shutdown_deadline_ = Clock::now() + kShutdownDeadline;
  api_.start_shutdown();
  if (!config_.redis.empty()) {
    // A node of a cluster stops accepting first: the other nodes on this
    // port take every new connection, its own participants' resumes included.
    beast::error_code ignored;
    acceptor_.close(ignored);
  }
  for (auto& [id, connection] : connections_) connection->shutdown();
  const std::vector<OpenSocket*> open(sockets_.begin(), sockets_.end());
  for (auto* socket : open) socket->shutdown();
}

void Server::close_all() {
  beast::error_code ignored;
  acceptor_.close(ignored);
  metrics_acceptor_.close(ignored);
  metrics_retry_timer_.cancel();
  if (stun_) stun_->close();
  accept_retry_timer_.cancel();
  sweep_timer_.cancel();
  signals_.cancel();
  reload_signals_.cancel();
  // Closing only completes their pending operations; nobody leaves these
  // containers until the handlers run.
  for (auto& [id, connection] : connections_) connection->abort();
  for (auto* socket : sockets_) socket->abort();
}

void Server::schedule(TimePoint when, ConnId conn) {
  due_.emplace_back(when, conn);
  std::push_heap(due_.begin(), due_.end(), due_later);
}

void Server::send(ConnId conn, Message message) {
  auto it = connections_.find(conn);
  if (it != connections_.end()) it->second->send(std::move(message));
}

void Server::retire(ConnId conn) {
  auto it = connections_.find(conn);
  if (it != connections_.end()) it->second->retire();
}

bool Server::joined(ConnId conn, const JoinOutcome& outcome) {
  auto it = connections_.find(conn);
  return it != connections_.end() && it->second->joined(outcome);
}

void Server::refused(ConnId conn, const protocol::Error& error) {
  auto it = connections_.find(conn);
  if (it != connections_.end()) it->second->refused(error);
}

std::pair<ConnId, std::size_t> Server::attach(Connection* connection, const std::string& ip) {
  const ConnId id = next_conn_++;
  connections_.emplace(id, connection);
  schedule(Clock::now(), id);  // its first tick at the next sweep; from then on it says when
  websockets_per_group_.add(ip);
  return {id, websockets_per_group_.total(ip)};
}

void Server::detach(ConnId conn, const std::string& ip) {
  connections_.erase(conn);
  websockets_per_group_.remove(ip);
}

Gauges Server::gauges() const {
  Gauges g{connections_.size(), rooms_->participant_count(), rooms_->active_meetings(),
           rooms_->dropped_held_signals()};
  if (DIR* fds = ::opendir("/proc/self/fd")) {
    while (const dirent* entry = ::readdir(fds))
      if (entry->d_name[0] != '.') ++g.open_fds;
    ::closedir(fds);
    if (g.open_fds > 0) --g.open_fds;  // the one opendir itself holds
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) g.max_fds = limit.rlim_cur;
  return g;
}

}  // namespace meshmeet::server
