// The network side: one Asio event loop serving HTTP, WebSocket and (with
// TLS) HTTPS on one port. It owns the sockets and the clock, and turns what
// happens on them into calls on the room registry and the HTTP API.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/address_counts.hpp"
#include "server/client_address.hpp"
#include "server/config.hpp"
#include "server/connection_deadlines.hpp"
#include "server/geoip.hpp"
#include "server/http_api.hpp"
#include "server/ice_servers.hpp"
#include "server/meeting_directory.hpp"
#include "server/meeting_store.hpp"
#include "server/metrics.hpp"
#include "server/participant_session.hpp"
#include "server/room_registry.hpp"
#include "server/stun_listener.hpp"

namespace meshmeet::server {

// Anything holding one of the server's sockets: a plain HTTP (or HTTPS)
// connection, a WebSocket upgrade under way, a WebSocket connection.
class OpenSocket {
 public:
  virtual ~OpenSocket() = default;
  virtual void shutdown() = 0;  // the server has begun to drain
  virtual void abort() = 0;     // the drain is over: close the TCP socket now
};

// One socket counted against its client's share of --per-ip-sockets: from
// accept (behind a trusted proxy: from its first request, when the client is
// known) until it is closed. It moves with the socket from the HTTP
// connection to the WebSocket one, so an upgrade never leaves the count.
class SocketTicket {
 public:
  SocketTicket() = default;
  SocketTicket(AddressCounts& counts, std::string group);
  SocketTicket(SocketTicket&& other) noexcept;
  SocketTicket& operator=(SocketTicket&& other) noexcept;
  SocketTicket(const SocketTicket&) = delete;
  SocketTicket& operator=(const SocketTicket&) = delete;
  ~SocketTicket() { release(); }
  bool held() const { return counts_ != nullptr; }

 private:
  void release();
  AddressCounts* counts_ = nullptr;
  std::string group_;
};

// What the server needs from a live WebSocket connection.
class Connection : public OpenSocket {
 public:
  virtual void send(Message message) = 0;
  virtual void retire() = 0;                // replaced by a resume elsewhere: close silently
  virtual bool joined(const JoinOutcome& outcome) = 0;  // the registry's answer to its join
  virtual void refused(const protocol::Error& error) = 0;  // a signal it could not relay
  // Heartbeat and join timeout; returns when the connection next needs a
  // tick (TimePoint::max() when never again).
  virtual TimePoint tick(TimePoint now) = 0;
  // shutdown(): close with 1001 going away.
};

class Server final : public Delivery {
 public:
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;

  // `make_rooms` makes the room registry (make_local_room_registry for this
  // process's own), handed this server as its Delivery. `resume_keys` sign
  // resume tokens (see resume_tokens.hpp); the tokens of the process before,
  // signed with their previous key, are taken back for the resume grace
  // from now. None: tokens die with this process.
  // `meetings`: where the HTTP API creates and finds meetings; none: the
  // store and this registry (LocalMeetingDirectory).
  Server(boost::asio::io_context& io, Config config, std::unique_ptr<MeetingStore> store, std::unique_ptr<GeoIp> geoip,
         std::optional<boost::asio::ssl::context> tls, const RoomRegistryFactory& make_rooms,
         std::optional<ResumeKeys> resume_keys = std::nullopt, std::unique_ptr<MeetingDirectory> meetings = nullptr);
  // Closes whatever is still open and runs its handlers to the end, so that
  // no connection outlives the server (or its database).
  ~Server() override;

  // Binds the listening socket, and the STUN port unless it is off; false
  // with `error` set when it cannot.
  bool listen(std::string& error);
  // Starts accepting, STUN, the housekeeping timer and the SIGTERM/SIGINT handler.
  void start();
  // Drains: WebSocket connections are closed with 1001 and idle HTTP ones
  // at once, while the listener stays open to answer /healthz with 503 and
  // refuse upgrades. When every connection has gone, or at the deadline,
  // every socket is closed and the event loop stops.
  void shutdown();

  // Delivery
  void send(ConnId conn, Message message) override;
  void retire(ConnId conn) override;
  bool joined(ConnId conn, const JoinOutcome& outcome) override;
  void refused(ConnId conn, const protocol::Error& error) override;

  // For connections.
  const Config& config() const { return config_; }
  const ConnectionTimeouts& timeouts() const { return timeouts_; }
  RoomRegistry& rooms() { return *rooms_; }
  MeetingStore& store() { return *store_; }
  Metrics& metrics() { return metrics_; }
  HttpApi& api() { return api_; }
  const IceServerList& ice_servers() const { return ice_; }
  const SessionServices& session_services() const { return session_services_; }
  boost::asio::io_context& io() { return io_; }
  bool shutting_down() const { return shutting_down_; }

  // A socket of `client` (an address): its ticket, or nullopt when that
  // address (IPv6: its /64) already holds --per-ip-sockets open sockets.
  std::optional<SocketTicket> admit_socket(const std::string& client);

  // Sockets and WebSockets per address group, for a cluster to share.
  AddressCounts& socket_counts() { return sockets_per_group_; }
  AddressCounts& websocket_counts() { return websockets_per_group_; }

  // A WebSocket connection opened for `ip`; returns its id and how many are
  // now open from that address in the deployment (the per-IP cap is the
  // caller's to enforce).
  std::pair<ConnId, std::size_t> attach(Connection* connection, const std::string& ip);
  void detach(ConnId conn, const std::string& ip);
  // Every other socket, from accept until it is closed or attached.
  void track(OpenSocket* socket) { sockets_.insert(socket); }
  void untrack(OpenSocket* socket) { sockets_.erase(socket); }

 private:
  void accept();
  void accept_metrics();
  void on_accept(boost::system::error_code ec, Socket socket);
  // Out of file descriptors: frees the reserve, answers every waiting
  // connection 503 and closes it, takes the reserve back. Returns how many.
  int refuse_at_fd_limit();
  // Its address already holds --per-ip-sockets: 503 and closed.
  void refuse_over_share(Socket& socket);
  void sweep();
  bool drained() const { return connections_.empty() && sockets_.empty(); }
  // Stops listening and every timer, and closes every socket.
  void close_all();
  Gauges gauges() const;

  boost::asio::io_context& io_;
  Config config_;
  std::unique_ptr<MeetingStore> store_;
  std::unique_ptr<GeoIp> geoip_;
  std::optional<boost::asio::ssl::context> tls_;
  ConnectionTimeouts timeouts_;
  SystemRandom random_;
  Metrics metrics_;
  IceServerList ice_;  // before rooms_, which hands out what it makes
  std::unique_ptr<RoomRegistry> rooms_;
  std::unique_ptr<MeetingDirectory> meetings_;
  SessionServices session_services_;  // what every ParticipantSession shares
  HttpApi api_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::acceptor metrics_acceptor_;  // --metrics-listen: /metrics only
  boost::asio::steady_timer metrics_retry_timer_;
  std::optional<StunListener> stun_;  // bound by listen() unless --stun-port 0
  boost::asio::steady_timer sweep_timer_;
  boost::asio::steady_timer accept_retry_timer_;
  // One descriptor held back so that, at the open-file limit, waiting
  // connections can still be accepted and refused instead of timing out.
  int reserve_fd_ = -1;
  boost::asio::signal_set signals_;         // SIGTERM, SIGINT: drain
  boost::asio::signal_set reload_signals_;  // SIGHUP: the certificate again
  void await_reload();
  void apply_retention();
  Duration retention_period_;
  TimePoint next_retention_{};  // set by start()
  Duration sweep_period_;
  std::unordered_map<ConnId, Connection*> connections_;
  // When each connection next needs a tick: a min-heap, so that a sweep
  // touches only the connections with something due instead of all of
  // them. Entries of connections that have gone are dropped when they come up.
  using Due = std::pair<TimePoint, ConnId>;
  static bool due_later(const Due& a, const Due& b) { return a.first > b.first; }
  void schedule(TimePoint when, ConnId conn);
  std::vector<Due> due_;
  std::unordered_set<OpenSocket*> sockets_;
  AddressCounts websockets_per_group_;  // --per-ip
  AddressCounts sockets_per_group_;     // --per-ip-sockets: every socket
  ConnId next_conn_ = 1;
  bool shutting_down_ = false;
  std::optional<TimePoint> shutdown_deadline_;
};

// Room settings as the flags give them; with `ice`, welcome.iceServers is
// made per participant by it. Tokens signed with the previous resume key
// are taken back for the resume grace after `started`.
RoomSettings room_settings(const Config& config, const IceServerList* ice = nullptr,
                           std::optional<ResumeKeys> resume_keys = std::nullopt, TimePoint started = {});
// The database behind a lone server's registry: the first join of a room
// reads the meeting, which counts as used from then on (--meeting-ttl).
RoomSettings with_store(RoomSettings settings, MeetingStore& store);
// The ICE servers as the flags give them; the wall clock mints credentials.
IceServerSettings ice_server_settings(const Config& config);
// A connection's join timeout and heartbeat as the flags give them.
ConnectionTimeouts connection_timeouts(const Config& config);

}  // namespace meshmeet::server
