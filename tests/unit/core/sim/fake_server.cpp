#include "sim/fake_server.hpp"

#include <algorithm>
#include <variant>

#include "protocol/messages.hpp"

namespace sim {

using namespace meshmeet::protocol;

FakeServer::FakeServer(EventLoop& loop, ServerOptions options)
    : loop_(loop), options_(options), random_(options.seed) {}

std::string FakeServer::fresh_id(char prefix, int hex_digits) {
  static const char* kHex = "0123456789abcdef";
  std::string id(1, prefix);
  for (int i = 0; i < hex_digits; ++i) id += kHex[random_.uniform(0, 15)];
  return id;
}

std::string FakeServer::create_meeting(const std::string& name) {
  (void)name;
  std::string id = fresh_id('m', 31);
  meetings_.insert(id);
  return id;
}

int FakeServer::connect(const std::string& host, SocketEnds ends) {
  const int id = ++last_conn_;
  Conn conn;
  conn.id = id;
  conn.host = host;
  conn.ends = std::move(ends);
  conns_.emplace(id, std::move(conn));
  loop_.after(options_.latency_ms, [this, id] {
    auto it = conns_.find(id);
    if (it == conns_.end() || !it->second.client_open) return;
    Conn& c = it->second;
    if (blackhole_) return;  // the upgrade hangs; the client's timeout gives up
    if (!reachable(c.host) || refusing_) {
      c.open = false;
      c.client_open = false;
      c.ends.closed(1006);
      return;
    }
    c.accepted = true;
    c.ends.opened();
  });
  return id;
}

void FakeServer::client_send(int conn, std::string text) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.client_open) return;
  const std::string host = it->second.host;
  loop_.after(options_.latency_ms, [this, conn, host, text = std::move(text)] {
    if (blackhole_ || !reachable(host)) return;
    auto c = conns_.find(conn);
    if (c == conns_.end() || !c->second.open || !c->second.accepted) return;
    handle(conn, text);
  });
}

void FakeServer::client_close(int conn, int code) {
  (void)code;
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.client_open) return;
  it->second.client_open = false;
  const std::string host = it->second.host;
  // The browser reports its own close once the handshake is done.
  loop_.after(options_.latency_ms * 2, [this, conn, code] {
    auto c = conns_.find(conn);
    if (c != conns_.end()) c->second.ends.closed(code);
  });
  loop_.after(options_.latency_ms, [this, conn, host] {
    if (blackhole_ || !reachable(host)) return;  // the close frame is lost too
    auto c = conns_.find(conn);
    if (c == conns_.end() || !c->second.open) return;
    c->second.open = false;
    const std::string member = c->second.member;
    // Any close frame is a clean leave, but only for the connection the slot is bound to.
    auto m = members_.find(member);
    if (m != members_.end() && m->second.conn == conn) remove_member(member, "left");
  });
}

void FakeServer::deliver(int conn, std::string text, bool is_signal) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.open || blackhole_ || !reachable(it->second.host)) return;
  std::int64_t delay = options_.latency_ms;
  int copies = 1;
  if (is_signal) {
    ++relayed_;
    if (options_.signal_loss > 0 && random_.uniform(0, 999999) < options_.signal_loss * 1e6) {
      ++lost_;
      return;
    }
    if (options_.signal_duplicate > 0 && random_.uniform(0, 999999) < options_.signal_duplicate * 1e6) {
      ++duplicated_;
      copies = 2;
    }
  }
  for (int i = 0; i < copies; ++i) {
    const std::int64_t d = delay + (is_signal && options_.signal_jitter_ms > 0 ? random_.uniform(0, options_.signal_jitter_ms) : 0);
    loop_.after(d, [this, conn, text] {
      auto c = conns_.find(conn);
      if (c == conns_.end() || !c->second.client_open) return;
      c->second.ends.message(text);
    });
  }
}

void FakeServer::server_close(int conn, int code) {
  auto it = conns_.find(conn);
  if (it == conns_.end() || !it->second.open) return;
  it->second.open = false;
  loop_.after(options_.latency_ms, [this, conn, code] {
    auto c = conns_.find(conn);
    if (c == conns_.end() || !c->second.client_open) return;
    c->second.client_open = false;
    c->second.ends.closed(code);
  });
}

void FakeServer::drop_member_conn(Member& m) {
  if (m.conn == 0) return;
  m.conn = 0;
  const std::string id = m.id;
  m.grace_event = loop_.after(options_.resume_grace_ms, [this, id] {
    auto it = members_.find(id);
    if (it == members_.end() || it->second.conn != 0) return;
    it->second.grace_event = 0;
    remove_member(id, "disconnected");
  });
}

void FakeServer::remove_member(std::string id, const char* reason) {
  auto it = members_.find(id);
  if (it == members_.end()) return;
  if (it->second.grace_event) loop_.cancel(it->second.grace_event);
  const std::string meeting = it->second.meeting;
  if (it->second.conn) {
    auto c = conns_.find(it->second.conn);
    if (c != conns_.end()) c->second.member.clear();
  }
  members_.erase(it);
  auto& room = rooms_[meeting];
  room.erase(std::remove(room.begin(), room.end(), id), room.end());
  auto r = std::string(reason) == "left" ? LeaveReason::Left : LeaveReason::Disconnected;
  for (const auto& other : room) {
    const Member& o = members_.at(other);
    if (o.conn) deliver(o.conn, serialize(ServerMessage{PeerLeft{id, r}}));
  }
}

void FakeServer::send_ice_servers(const std::string& ice_servers_json) {
  options_.ice_servers = ice_servers_json;
  for (const auto& [id, m] : members_)
    if (m.conn) deliver(m.conn, serialize(ServerMessage{IceServers{ice_servers_json}}));
}

void FakeServer::relay(const std::string& from, const std::string& to, const std::string& data) {
  if (signal_tap) signal_tap(from, data);
  Member& target = members_.at(to);
  std::string text = serialize_signal_from(from, data);
  if (target.conn) {
    deliver(target.conn, std::move(text), true);
  } else if (target.queued.size() < options_.held_queue_limit) {
    target.queued.push_back(std::move(text));
  }
}

void FakeServer::handle(int conn_id, const std::string& text) {
  Conn& conn = conns_.at(conn_id);
  auto reply_error = [&](ErrorCode code, std::string message, std::string ref) {
    deliver(conn_id, serialize(ServerMessage{ErrorMessage{code, std::move(message), std::move(ref)}}));
  };
  auto parsed = parse_client_message(text);
  if (!parsed.ok()) return reply_error(parsed.error().code, parsed.error().message, parsed.error().ref);
  const ClientMessage& message = parsed.value();
  const bool joined = !conn.member.empty() && members_.count(conn.member);

  if (auto* ping = std::get_if<Ping>(&message)) return deliver(conn_id, serialize(ServerMessage{Pong{ping->t}}));
  if (auto* join = std::get_if<Join>(&message)) {
    if (joined) return reply_error(ErrorCode::AlreadyJoined, "already joined", "join");
    if (!meetings_.count(join->meeting)) return reply_error(ErrorCode::MeetingNotFound, "no such meeting", "join");
    Member* member = nullptr;
    bool resumed = false;
    auto& room = rooms_[join->meeting];
    if (join->resume) {
      for (auto& [id, m] : members_)
        if (m.token == *join->resume && m.meeting == join->meeting) member = &m;
      auto before = before_restart_.find(*join->resume);
      if (!member && before != before_restart_.end() && before->second.meeting == join->meeting &&
          loop_.now() < before_restart_until_) {
        // From before the restart: back under its id and name, announced.
        if (room.size() >= options_.room_cap) return reply_error(ErrorCode::MeetingFull, "meeting is full", "join");
        Member m;
        m.id = before->second.id;
        m.name = before->second.name;
        m.meeting = join->meeting;
        before_restart_.erase(before);
        member = &members_.emplace(m.id, std::move(m)).first->second;
        room.push_back(member->id);
      } else if (!member) {
        return reply_error(ErrorCode::BadResume, "resume token unknown, expired or replaced", "join");
      } else {
        resumed = true;
      }
      if (member->conn && member->conn != conn_id) {
        // The old socket still looks open: closed silently.
        conns_.at(member->conn).member.clear();
        server_close(member->conn, 1006);
      }
      if (member->grace_event) loop_.cancel(member->grace_event);
      member->grace_event = 0;
    } else {
      if (room.size() >= options_.room_cap) return reply_error(ErrorCode::MeetingFull, "meeting is full", "join");
      std::string id = fresh_id('p', 8);
      Member m;
      m.id = id;
      m.name = join->name;
      m.meeting = join->meeting;
      member = &members_.emplace(id, std::move(m)).first->second;
      room.push_back(id);
    }
    member->conn = conn_id;
    member->token = fresh_id('t', 24);  // a fresh token at every welcome: the earlier ones are dead
    conn.member = member->id;
    Welcome w;
    w.self = member->id;
    w.resume = member->token;
    w.meeting_id = member->meeting;
    for (const auto& other : rooms_[member->meeting])
      if (other != member->id) w.peers.push_back(PeerInfo{other, members_.at(other).name});
    w.ice_servers = options_.ice_servers;
    w.relay_only = options_.relay_only;
    if (options_.announces_resume_grace) w.resume_grace_ms = static_cast<std::uint32_t>(options_.resume_grace_ms);
    w.heartbeat_interval_ms = options_.heartbeat_interval_ms;
    w.heartbeat_timeout_ms = options_.heartbeat_timeout_ms;
    deliver(conn_id, serialize(ServerMessage{w}));
    if (resumed) {
      std::deque<std::string> queued;
      queued.swap(member->queued);
      for (auto& q : queued) deliver(conn_id, std::move(q), true);
    } else {
      for (const auto& other : rooms_[member->meeting]) {
        const Member& o = members_.at(other);
        if (other != member->id && o.conn)
          deliver(o.conn, serialize(ServerMessage{PeerJoined{PeerInfo{member->id, member->name}}}));
      }
    }
    return;
  }
  if (!joined) return reply_error(ErrorCode::NotJoined, "join first", std::string(type_name(message)));
  Member& self = members_.at(conn.member);
  if (auto* signal = std::get_if<Signal>(&message)) {
    auto& room = rooms_[self.meeting];
    if (signal->to == self.id || std::find(room.begin(), room.end(), signal->to) == room.end())
      return reply_error(ErrorCode::UnknownPeer, "no such peer", "signal");
    return relay(self.id, signal->to, signal->data);
  }
  if (std::holds_alternative<Leave>(message)) {
    remove_member(self.id, "left");
    server_close(conn_id, 1000);
  }
}

void FakeServer::drop_all() {
  for (auto& [id, m] : members_) drop_member_conn(m);
  for (auto& [id, c] : conns_)
    if (c.open) server_close(id, 1006);
}

void FakeServer::set_host_unreachable(const std::string& host, bool unreachable) {
  if (!unreachable) {
    unreachable_.erase(host);
    return;
  }
  for (auto& [id, m] : members_)
    if (m.conn && conns_.at(m.conn).host == host) drop_member_conn(m);
  // The client's own network stack reports the loss.
  for (auto& [id, c] : conns_) {
    if (c.host != host || !c.client_open) continue;
    c.open = false;
    c.client_open = false;
    loop_.after(options_.latency_ms, [this, id = id] { conns_.at(id).ends.closed(1006); });
  }
  unreachable_.insert(host);
}

void FakeServer::set_blackhole(bool on) {
  if (blackhole_ == on) return;
  blackhole_ = on;
  if (on) return;
  // Recovery: the server noticed the silence (heartbeat) and drops those sockets.
  for (auto& [id, m] : members_) drop_member_conn(m);
  for (auto& [id, c] : conns_)
    if (c.open) server_close(id, 1006);
}

void FakeServer::restart(bool forget) {
  before_restart_.clear();
  before_restart_until_ = loop_.now() + options_.resume_grace_ms;
  for (auto& [id, m] : members_) {
    if (m.grace_event) loop_.cancel(m.grace_event);
    if (!forget) before_restart_[m.token] = Departed{m.id, m.name, m.meeting};
  }
  for (auto& [id, c] : conns_) {
    c.member.clear();
    if (c.open) server_close(id, 1006);
  }
  members_.clear();
  rooms_.clear();
}

std::vector<std::string> FakeServer::roster(const std::string& meeting) const {
  auto it = rooms_.find(meeting);
  return it == rooms_.end() ? std::vector<std::string>{} : it->second;
}

std::size_t FakeServer::open_connections() const {
  std::size_t n = 0;
  for (const auto& [id, c] : conns_) n += c.open && c.client_open;
  return n;
}

}  // namespace sim

namespace sim {
std::size_t FakeServer::open_connections_of(const std::string& host) const {
  std::size_t n = 0;
  for (const auto& [id, c] : conns_) n += c.host == host && c.open && c.client_open;
  return n;
}
}  // namespace sim
