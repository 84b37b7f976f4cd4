// The room registry of a cluster: several server processes ("nodes") share
// meetings, rosters and relays through one Redis (--redis, --node-id).
//
// Everything shared lives in Redis and changes only inside Lua scripts, so
// each change is atomic across nodes: the room cap holds under concurrent
// joins anywhere, and a member is never both held and connected. What each
// node keeps is only its own connections' seats (connection → meeting and
// peer id). Messages for a participant go to the channel of the node that
// holds its socket; one subscriber connection per node receives them in
// publish order, so relayed signals keep their per-pair order and the
// peer-joined for X (published by the script that seats X) reaches everyone
// before any signal from X.
//
// Keys (mkey = hex SHA-256 of the meeting id; Redis never sees a joinable
// link in a key):
//   mm:meeting:<mkey>        hash name, relay, created: the meeting (RedisMeetings writes it)
//   mm:room:<mkey>           hash peer id → member record (node, conn, state, reason, token hash, name)
//   mm:held:<mkey>:<peer>    list: signals waiting for a held member
//   mm:holds                 zset "<mkey> <peer>" → end of its grace (Redis TIME, ms)
//   mm:leases                zset node → end of its lease (ms); a node that stops renewing is dead
//   mm:node-members:<node>   set "<mkey> <peer>" of the members whose socket that node holds
//   mm:resume-key            the key that signs every node's resume tokens
//   channel mm:node:<node>   "D <conn>\n<message>" deliver, "R <conn>" retire
//
// Time in Redis is Redis's own (TIME inside the scripts): nodes' clocks
// never meet. A sweep (expire(), about every second on every node) renews
// the node's lease, turns the members of nodes whose lease ran out into held
// slots, and ends held slots whose grace is over with peer-left.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>

#include "server/redis_connection.hpp"
#include "server/room_registry.hpp"

namespace meshmeet::server {

struct RedisRoomSettings {
  std::string node_id;                  // --node-id
  Duration lease = seconds(5);          // a node silent this long is taken for dead
  Duration sweep_period = seconds(1);   // how often expire() really asks Redis
  std::int64_t meeting_ttl_s = 30 * 86400;  // a join renews the meeting's TTL (--meeting-ttl)
};

class RedisRoomRegistry final : public RoomRegistry {
 public:
  // `commands` and `subscriber` are this node's two connections, started by
  // the caller; the registry subscribes to the node's channel itself.
  RedisRoomRegistry(RoomSettings settings, RedisRoomSettings cluster, Delivery& delivery, RandomSource& random,
                    redis::Connection& commands, redis::Connection& subscriber);
  ~RedisRoomRegistry() override;

  void join(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint now) override;
  using RoomRegistry::signal;
  void signal(ConnId from, std::string_view to, std::string_view data) override;
  void remove(ConnId conn, protocol::LeaveReason reason) override;
  void hold(ConnId conn, protocol::LeaveReason reason, TimePoint now) override;
  ExpireOutcome expire(TimePoint now) override;
  bool ready() const override;

  // What this node holds; the deployment's figures are in Redis.
  std::uint32_t participants(std::string_view meeting_id) const override;
  std::optional<MeetingRecord> live_meeting(std::string_view meeting_id) const override;
  bool is_live(const Digest& meeting_key) const override;
  std::size_t participant_count() const override { return seats_.size(); }
  std::size_t active_meetings() const override;
  std::size_t dropped_held_signals() const override { return 0; }  // Redis trims the held lists

 private:
  struct Seat {
    MeetingRecord meeting;
    std::string mkey;  // hex SHA-256 of meeting.id
    std::string peer;
  };
  // The reply of a join or resume script, turned into a welcome.
  void seated(ConnId conn, const Seat& seat, const std::string& token, const redis::Reply& reply, bool resumed,
              std::string client_host);
  void refuse_join(ConnId conn, protocol::ErrorCode code, std::string message);
  void fresh_join(ConnId conn, MeetingRecord meeting, std::string name, std::string client_host, int attempt);
  void resume(ConnId conn, MeetingRecord meeting, ResumeClaim claim, std::string token, std::string client_host);
  void on_node_message(std::string_view payload);
  void load_key();
  // After Redis comes back: this node's sockets are its members again.
  void reconcile();
  std::string issue_token(const Seat& seat, const std::string& name);

  RoomSettings settings_;
  RedisRoomSettings cluster_;
  Delivery& delivery_;
  RandomSource& random_;
  redis::Connection& commands_;
  redis::Connection& subscriber_;
  std::optional<ResumeKey> key_;          // shared by the cluster, from Redis
  std::unordered_map<ConnId, Seat> seats_;
  // Connections whose join script has run, or may have, and whose reply has
  // not come back yet. Messages for them arrive on the subscriber connection,
  // which nothing orders with the command connection's replies (peer-joined
  // for someone who joined a moment later, a signal from them): kept here,
  // they follow the welcome instead of being lost or preceding it.
  std::unordered_map<ConnId, std::vector<Message>> joining_;
  TimePoint next_sweep_{};
  ExpireOutcome swept_;                   // what sweeps found since the last expire()
  bool sweeping_ = false;
  // Destroyed first: callbacks in flight check it before touching `this`.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace meshmeet::server
