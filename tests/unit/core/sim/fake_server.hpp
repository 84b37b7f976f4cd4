// A small in-process model of the signaling server of docs/protocol.md:
// meetings, rosters, resume tokens with a grace period for unclean drops,
// queued signals for held slots, peer-joined/peer-left, ping/pong and the
// error codes the client core reacts to. Messages are parsed and written with
// the real protocol module. Faults are injected on purpose: drops, outages,
// a silent server, a restart that forgets everything, and chaos (loss,
// duplication, reordering) on relayed signals.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/event_loop.hpp"
#include "wasm/core/random.hpp"

namespace sim {

struct ServerOptions {
  std::int64_t latency_ms = 5;  // one way, client ↔ server
  std::int64_t resume_grace_ms = 15000;
  bool announces_resume_grace = true;  // false: a server before welcome.resumeGrace
  std::uint32_t heartbeat_interval_ms = 10000;
  std::uint32_t heartbeat_timeout_ms = 30000;
  std::size_t room_cap = 8;
  std::size_t held_queue_limit = 256;
  std::uint64_t seed = 7;
  // Chaos on relayed signals only (server → client): a real WebSocket never
  // loses, duplicates or reorders, but the core must not depend on it.
  double signal_loss = 0;
  double signal_duplicate = 0;
  std::int64_t signal_jitter_ms = 0;  // extra delay U(0, jitter): reorders signals among themselves
  // What every welcome carries (protocol v2).
  std::string ice_servers = "[]";
  bool relay_only = false;
};

// The client side of one WebSocket, as callbacks.
struct SocketEnds {
  std::function<void()> opened;
  std::function<void(const std::string&)> message;
  std::function<void(int code)> closed;
};

class FakeServer {
 public:
  FakeServer(EventLoop& loop, ServerOptions options);

  ServerOptions& options() { return options_; }
  std::string create_meeting(const std::string& name = {});

  // ---- the client's socket
  int connect(const std::string& host, SocketEnds ends);
  void client_send(int conn, std::string text);
  void client_close(int conn, int code);

  // ---- faults
  void drop_all();                          // every connection dropped uncleanly; slots held for the grace
  void set_host_unreachable(const std::string& host, bool unreachable);  // drop it now, refuse it meanwhile
  void set_blackhole(bool on);              // silent server; on recovery the silent connections count as dropped
  void set_refusing(bool on) { refusing_ = on; }  // process down: new connections are refused
  // Process restart: connections and rooms gone (meetings stay). As the real
  // server does, tokens from before are taken back for the resume grace
  // after it, under the same id and name (a signed token); with `forget`,
  // they are refused (a restart that outlasted the grace, or lost its key).
  void restart(bool forget = false);

  // ---- protocol v2: fresh ICE servers (TURN credentials) to every connected
  // member, and in every later welcome
  void send_ice_servers(const std::string& ice_servers_json);
  // Sees the `data` of every signal a client sends, before any chaos: what went on the wire.
  std::function<void(const std::string& from, const std::string& data)> signal_tap;

  // ---- introspection
  std::vector<std::string> roster(const std::string& meeting) const;  // member ids, held slots included
  std::size_t open_connections() const;
  std::size_t open_connections_of(const std::string& host) const;
  std::uint64_t relayed_signals() const { return relayed_; }
  std::uint64_t lost_signals() const { return lost_; }
  std::uint64_t duplicated_signals() const { return duplicated_; }

 private:
  struct Conn {
    int id = 0;
    std::string host;
    SocketEnds ends;
    bool accepted = false;     // upgrade completed (opened delivered)
    bool open = true;          // the server's view
    bool client_open = true;   // the client's view: false once it closed or saw the close
    std::string member;        // joined as
  };
  struct Member {
    std::string id, name, token, meeting;
    int conn = 0;  // 0 while held
    std::uint64_t grace_event = 0;
    std::deque<std::string> queued;  // signals for a held slot
  };
  struct Departed {  // who held a token when the process restarted
    std::string id, name, meeting;
  };

  void handle(int conn, const std::string& text);
  void deliver(int conn, std::string text, bool is_signal = false);
  void server_close(int conn, int code);  // the server closes (clean) or drops (1006) a connection
  void drop_member_conn(Member& m);       // unclean: hold the slot for the grace
  void remove_member(std::string id, const char* reason);  // by value: callers pass the member's own id
  void relay(const std::string& from, const std::string& to, const std::string& data);
  std::string fresh_id(char prefix, int hex_digits);
  bool reachable(const std::string& host) const { return !unreachable_.count(host); }

  EventLoop& loop_;
  ServerOptions options_;
  meshmeet::core::SeededRandom random_;
  std::set<std::string> meetings_;
  std::map<int, Conn> conns_;
  std::map<std::string, Member> members_;
  std::map<std::string, std::vector<std::string>> rooms_;  // meeting → member ids in join order
  std::map<std::string, Departed> before_restart_;          // token → who, until the grace after the restart ends
  std::int64_t before_restart_until_ = 0;
  std::set<std::string> unreachable_;
  bool blackhole_ = false;
  bool refusing_ = false;
  int last_conn_ = 0;
  std::uint64_t relayed_ = 0, lost_ = 0, duplicated_ = 0;
};

}  // namespace sim
