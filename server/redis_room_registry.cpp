#include "server/redis_room_registry.hpp"

#include <algorithm>

#include "server/log.hpp"

namespace meshmeet::server {

using protocol::Error;
using protocol::ErrorCode;
using protocol::LeaveReason;
using redis::Reply;

namespace {
constexpr int kPeerIdBits = 60;
constexpr int kJoinAttempts = 3;  // a fresh id that collides in its room is drawn again

Message make_message(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// Shared by every script. A member record is six fields joined by \x1f:
// node, conn, state ("c" connected, "h" held), the reason the others hear
// if a held slot ends, the SHA-256 (hex) of its current resume token, and
// the name (last, so it may hold anything).
const std::string kLuaPrelude = R"LUA(
local function split(s)
  local t, i = {}, 1
  while true do
    local j = string.find(s, '\31', i, true)
    if not j or #t == 5 then t[#t + 1] = string.sub(s, i); return t end
    t[#t + 1] = string.sub(s, i, j - 1)
    i = j + 1
  end
end
local function record(node, conn, state, reason, token, name)
  return table.concat({node, conn, state, reason, token, name}, '\31')
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- Sends `payload` to every connected member of `room` but `except`; returns the room.
local function tell_others(room, except, payload)
  local all = redis.call('HGETALL', room)
  for i = 1, #all, 2 do
    if all[i] ~= except then
      local m = split(all[i + 1])
      if m[3] == 'c' then redis.call('PUBLISH', 'mm:node:' .. m[1], 'D ' .. m[2] .. '\n' .. payload) end
    end
  end
  return all
end
-- The member record of `peer` in `room`, split, while it is still the one
-- of this node's connection `conn` (not resumed elsewhere since); else nil.
local function own_member(room, peer, node, conn)
  local rec = redis.call('HGET', room, peer)
  if not rec then return nil end
  local m = split(rec)
  if m[1] ~= node or m[2] ~= conn then return nil end
  return m
end
local function peer_left(peer, reason)
  return '{"type":"peer-left","peer":' .. cjson.encode(peer) .. ',"reason":"' .. reason .. '"}'
end
)LUA";

// KEYS meeting, room, node-members; ARGV mkey, peer, node, conn, token hash,
// name, cap, peer-joined, meeting TTL (s), lease (ms). A node seats nobody
// without a lease: one that dies before its first sweep is still noticed.
const redis::Script kJoin(kLuaPrelude + R"LUA(
local meeting = redis.call('HMGET', KEYS[1], 'name', 'relay')
if not meeting[1] then return {'not-found'} end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[7]) then return {'full'} end
if redis.call('HEXISTS', KEYS[2], ARGV[2]) == 1 then return {'taken'} end
local all = tell_others(KEYS[2], ARGV[2], ARGV[8])
redis.call('HSET', KEYS[2], ARGV[2], record(ARGV[3], ARGV[4], 'c', '', ARGV[5], ARGV[6]))
redis.call('SADD', KEYS[3], ARGV[1] .. ' ' .. ARGV[2])
redis.call('ZADD', 'mm:leases', 'NX', now_ms() + tonumber(ARGV[10]), ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[9])
return {'ok', meeting[1], meeting[2] or '0', all}
)LUA");

// KEYS meeting, room, held list, node-members; ARGV mkey, peer, token hash,
// new token hash, node, conn, lease (ms). A resume takes the member over wherever its
// old socket is (that node is told to retire it) and gets what was held.
const redis::Script kResume(kLuaPrelude + R"LUA(
local meeting = redis.call('HMGET', KEYS[1], 'name', 'relay')
local rec = redis.call('HGET', KEYS[2], ARGV[2])
if not meeting[1] or not rec then return {'bad'} end
local m = split(rec)
if m[5] ~= ARGV[3] then return {'bad'} end
local tag = ARGV[1] .. ' ' .. ARGV[2]
if m[3] == 'c' then
  redis.call('PUBLISH', 'mm:node:' .. m[1], 'R ' .. m[2])
  redis.call('SREM', 'mm:node-members:' .. m[1], tag)
end
redis.call('ZREM', 'mm:holds', tag)
redis.call('HSET', KEYS[2], ARGV[2], record(ARGV[5], ARGV[6], 'c', '', ARGV[4], m[6]))
redis.call('SADD', KEYS[4], tag)
redis.call('ZADD', 'mm:leases', 'NX', now_ms() + tonumber(ARGV[7]), ARGV[5])
local held = redis.call('LRANGE', KEYS[3], 0, -1)
redis.call('DEL', KEYS[3])
return {'ok', meeting[1], meeting[2] or '0', redis.call('HGETALL', KEYS[2]), held}
)LUA");

// KEYS room, held list; ARGV to, message, max held, held list TTL (ms).
const redis::Script kSignal(kLuaPrelude + R"LUA(
local rec = redis.call('HGET', KEYS[1], ARGV[1])
if not rec then return 0 end
local m = split(rec)
if m[3] == 'c' then
  redis.call('PUBLISH', 'mm:node:' .. m[1], 'D ' .. m[2] .. '\n' .. ARGV[2])
elseif redis.call('LLEN', KEYS[2]) < tonumber(ARGV[3]) then
  redis.call('RPUSH', KEYS[2], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
return 1
)LUA");

// KEYS room, held list, node-members; ARGV mkey, peer, node, conn, reason.
// Only while the member is still this connection's (not resumed elsewhere).
const redis::Script kRemove(kLuaPrelude + R"LUA(
if not own_member(KEYS[1], ARGV[2], ARGV[3], ARGV[4]) then return 0 end
local tag = ARGV[1] .. ' ' .. ARGV[2]
redis.call('HDEL', KEYS[1], ARGV[2])
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[3], tag)
redis.call('ZREM', 'mm:holds', tag)
tell_others(KEYS[1], ARGV[2], peer_left(ARGV[2], ARGV[5]))
return 1
)LUA");

// KEYS room, node-members; ARGV mkey, peer, node, conn, reason, grace (ms).
const redis::Script kHold(kLuaPrelude + R"LUA(
local m = own_member(KEYS[1], ARGV[2], ARGV[3], ARGV[4])
if not m or m[3] ~= 'c' then return 0 end
local tag = ARGV[1] .. ' ' .. ARGV[2]
redis.call('HSET', KEYS[1], ARGV[2], record(m[1], m[2], 'h', ARGV[5], m[5], m[6]))
redis.call('SREM', KEYS[2], tag)
redis.call('ZADD', 'mm:holds', now_ms() + tonumber(ARGV[6]), tag)
return 1
)LUA");

// ARGV node, lease (ms), grace (ms). Renews this node's lease; the members
// of nodes whose lease ran out are held for the grace (they may resume on
// any node); held slots whose grace is over end, and the others hear it.
const redis::Script kSweep(kLuaPrelude + R"LUA(
local now = now_ms()
redis.call('ZADD', 'mm:leases', now + tonumber(ARGV[2]), ARGV[1])
local dead = redis.call('ZRANGEBYSCORE', 'mm:leases', '-inf', now)
for _, node in ipairs(dead) do
  local set = 'mm:node-members:' .. node
  for _, tag in ipairs(redis.call('SMEMBERS', set)) do
    local sp = string.find(tag, ' ', 1, true)
    local room, peer = 'mm:room:' .. string.sub(tag, 1, sp - 1), string.sub(tag, sp + 1)
    local rec = redis.call('HGET', room, peer)
    if rec then
      local m = split(rec)
      if m[1] == node and m[3] == 'c' then
        redis.call('HSET', room, peer, record(m[1], m[2], 'h', 'disconnected', m[5], m[6]))
        redis.call('ZADD', 'mm:holds', now + tonumber(ARGV[3]), tag)
      end
    end
  end
  redis.call('DEL', set, 'mm:addr:sockets:' .. node, 'mm:addr:websockets:' .. node)
  redis.call('ZREM', 'mm:leases', node)
end
local disconnected, timed_out = 0, 0
for _, tag in ipairs(redis.call('ZRANGEBYSCORE', 'mm:holds', '-inf', now, 'LIMIT', 0, 1000)) do
  redis.call('ZREM', 'mm:holds', tag)
  local sp = string.find(tag, ' ', 1, true)
  local mkey, peer = string.sub(tag, 1, sp - 1), string.sub(tag, sp + 1)
  local room = 'mm:room:' .. mkey
  local rec = redis.call('HGET', room, peer)
  if rec then
    local m = split(rec)
    if m[3] == 'h' then
      redis.call('HDEL', room, peer)
      redis.call('DEL', 'mm:held:' .. mkey .. ':' .. peer)
      tell_others(room, peer, peer_left(peer, m[4]))
      if m[4] == 'timeout' then timed_out = timed_out + 1 else disconnected = disconnected + 1 end
    end
  end
end
return {disconnected, timed_out, #dead}
)LUA");

// KEYS node-members; ARGV node, grace (ms), lease (ms), then mkey, peer,
// conn for each seat this node holds. After Redis was away: the node's lease
// is renewed first (in the same step, so a sweep elsewhere cannot take the
// node for dead after this), what it holds is connected again (a sweep may
// have done so before), and what Redis says it holds but it does not
// (sockets that ended meanwhile) is held for the grace. Returns the seats
// Redis no longer has.
const redis::Script kReconcile(kLuaPrelude + R"LUA(
local now = now_ms()
redis.call('ZADD', 'mm:leases', now + tonumber(ARGV[3]), ARGV[1])
local mine = {}
local lost = {}
for i = 4, #ARGV, 3 do
  local tag = ARGV[i] .. ' ' .. ARGV[i + 1]
  mine[tag] = true
  local room = 'mm:room:' .. ARGV[i]
  local rec = redis.call('HGET', room, ARGV[i + 1])
  if rec then
    local m = split(rec)
    if m[3] == 'h' or m[1] == ARGV[1] then
      redis.call('HSET', room, ARGV[i + 1], record(ARGV[1], ARGV[i + 2], 'c', '', m[5], m[6]))
      redis.call('ZREM', 'mm:holds', tag)
      redis.call('SADD', KEYS[1], tag)
    else
      lost[#lost + 1] = ARGV[i + 2]
    end
  else
    lost[#lost + 1] = ARGV[i + 2]
  end
end
for _, tag in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if not mine[tag] then
    local sp = string.find(tag, ' ', 1, true)
    local room, peer = 'mm:room:' .. string.sub(tag, 1, sp - 1), string.sub(tag, sp + 1)
    local rec = redis.call('HGET', room, peer)
    if rec then
      local m = split(rec)
      if m[1] == ARGV[1] and m[3] == 'c' then
        redis.call('HSET', room, peer, record(m[1], m[2], 'h', 'disconnected', m[5], m[6]))
        redis.call('ZADD', 'mm:holds', now + tonumber(ARGV[2]), tag)
      end
    end
    redis.call('SREM', KEYS[1], tag)
  end
end
return lost
)LUA");

std::string hex_key(std::string_view meeting_id) { return to_hex(sha256(meeting_id)); }
std::string room_key(const std::string& mkey) { return "mm:room:" + mkey; }
std::string held_key(const std::string& mkey, const std::string& peer) { return "mm:held:" + mkey + ":" + peer; }
std::string meeting_key(const std::string& mkey) { return "mm:meeting:" + mkey; }

// A member record's name: what follows its fifth separator.
struct MemberRecord {
  std::string node, conn, state, reason, token, name;
};
MemberRecord parse_record(const std::string& text) {
  MemberRecord r;
  std::string* fields[] = {&r.node, &r.conn, &r.state, &r.reason, &r.token};
  std::size_t at = 0;
  for (auto* field : fields) {
    const std::size_t sep = text.find('\x1f', at);
    if (sep == std::string::npos) return r;
    *field = text.substr(at, sep - at);
    at = sep + 1;
  }
  r.name = text.substr(at);
  return r;
}

bool is_ok(const Reply& reply) {
  return reply.type == Reply::Type::Array && !reply.elements.empty() && reply.elements[0].str == "ok";
}
}  // namespace

RedisRoomRegistry::RedisRoomRegistry(RoomSettings settings, RedisRoomSettings cluster, Delivery& delivery,
                                     RandomSource& random, redis::Connection& commands, redis::Connection& subscriber)
    : settings_(std::move(settings)),
      cluster_(std::move(cluster)),
      delivery_(delivery),
      random_(random),
      commands_(commands),
      subscriber_(subscriber) {
  for (const auto* script : {&kJoin, &kResume, &kSignal, &kRemove, &kHold, &kSweep, &kReconcile}) script->preload_on(commands_);
  subscriber_.subscribe("mm:node:" + cluster_.node_id, [this](std::string_view payload) { on_node_message(payload); });
  // Each time Redis is back (the first time included): the shared key, then
  // this node's seats as Redis should know them.
  commands_.on_ready_change = [this, alive = std::weak_ptr<bool>(alive_)](bool up) {
    if (alive.expired() || !up) return;
    load_key();
    reconcile();
  };
  if (commands_.ready()) {
    load_key();
    reconcile();
  }
}

RedisRoomRegistry::~RedisRoomRegistry() { commands_.on_ready_change = nullptr; }

bool RedisRoomRegistry::ready() const { return key_ && commands_.ready() && subscriber_.ready(); }

void RedisRoomRegistry::load_key() {
  // The first node to start makes the deployment's key; all read the same.
  ResumeKey fresh = ResumeKeys::fresh(random_).current;
  const std::string text(fresh.begin(), fresh.end());
  std::weak_ptr<bool> alive = alive_;
  commands_.command({"SET", "mm:resume-key", text, "NX"}, [](const Reply&) {});
  commands_.command({"GET", "mm:resume-key"}, [this, alive](const Reply& reply) {
    if (alive.expired()) return;
    if (reply.type != Reply::Type::String || reply.str.size() != ResumeKey{}.size()) {
      Log::error("redis-resume-key", {{"error", reply.is_error() ? reply.str : std::string("not a key")}});
      return;
    }
    ResumeKey key;
    std::copy(reply.str.begin(), reply.str.end(), key.begin());
    key_ = key;
  });
}

void RedisRoomRegistry::reconcile() {
  std::vector<std::string> args{cluster_.node_id, std::to_string(millis(settings_.resume_grace)),
                                std::to_string(millis(cluster_.lease))};
  for (const auto& [conn, seat] : seats_) {
    args.push_back(seat.mkey);
    args.push_back(seat.peer);
    args.push_back(std::to_string(conn));
  }
  std::weak_ptr<bool> alive = alive_;
  kReconcile.run(commands_, {"mm:node-members:" + cluster_.node_id}, std::move(args), [this, alive](const Reply& reply) {
    if (alive.expired() || reply.type != Reply::Type::Array) return;
    // Seats Redis has forgotten (their grace ran out while this node could
    // not say they were still here): the others heard them leave, so their
    // sockets close and the clients join again.
    for (const auto& lost : reply.elements) {
      const ConnId conn = std::stoull(lost.str);
      seats_.erase(conn);
      delivery_.retire(conn);
    }
  });
}

std::string RedisRoomRegistry::issue_token(const Seat& seat, const std::string& name) {
  return mint_resume_token(*key_, random_, seat.meeting.id, seat.peer, name);
}

void RedisRoomRegistry::refuse_join(ConnId conn, ErrorCode code, std::string message) {
  joining_.erase(conn);
  delivery_.joined(conn, JoinOutcome{Error{code, std::move(message), "join"}, false, {}});
}

void RedisRoomRegistry::join(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint) {
  if (!ready()) return refuse_join(conn, ErrorCode::Unavailable, "the meeting service is unavailable; try again shortly");
  if (!protocol::is_meeting_id(join.meeting)) return refuse_join(conn, ErrorCode::MeetingNotFound, "no such meeting");
  MeetingRecord meeting{join.meeting, {}, false};
  joining_[conn];
  if (join.resume) {
    auto claim = read_resume_token(*key_, join.meeting, *join.resume);
    if (!claim)
      return refuse_join(conn, ErrorCode::BadResume, "resume token unknown, expired, replaced or for another meeting");
    return resume(conn, std::move(meeting), std::move(*claim), *join.resume, std::string(client_host));
  }
  fresh_join(conn, std::move(meeting), join.name, std::string(client_host), 1);
}

void RedisRoomRegistry::fresh_join(ConnId conn, MeetingRecord meeting, std::string name, std::string client_host,
                                   int attempt) {
  Seat seat{std::move(meeting), {}, random_id(random_, kPeerIdBits)};
  seat.mkey = hex_key(seat.meeting.id);
  const std::string token = issue_token(seat, name);
  const std::string peer_joined =
      protocol::serialize(protocol::ServerMessage{protocol::PeerJoined{{seat.peer, name}}});
  std::vector<std::string> keys{meeting_key(seat.mkey), room_key(seat.mkey), "mm:node-members:" + cluster_.node_id};
  std::vector<std::string> args{seat.mkey,
                                seat.peer,
                                cluster_.node_id,
                                std::to_string(conn),
                                to_hex(sha256(token)),
                                name,
                                std::to_string(settings_.room_cap),
                                peer_joined,
                                std::to_string(cluster_.meeting_ttl_s),
                                std::to_string(millis(cluster_.lease))};
  std::weak_ptr<bool> alive = alive_;
  kJoin.run(commands_, std::move(keys), std::move(args),
            [this, alive, conn, seat = std::move(seat), token, name = std::move(name),
             client_host = std::move(client_host), attempt](const Reply& reply) mutable {
              if (alive.expired()) return;
              if (reply.is_error() || reply.type != Reply::Type::Array || reply.elements.empty())
                return refuse_join(conn, ErrorCode::Unavailable, "the meeting service is unavailable; try again shortly");
              const std::string& status = reply.elements[0].str;
              if (status == "not-found") return refuse_join(conn, ErrorCode::MeetingNotFound, "no such meeting");
              if (status == "full")
                return refuse_join(conn, ErrorCode::MeetingFull,
                                   "the meeting is full (" + std::to_string(settings_.room_cap) + " participants)");
              if (status == "taken" && attempt < kJoinAttempts)
                return fresh_join(conn, std::move(seat.meeting), std::move(name), std::move(client_host), attempt + 1);
              if (!is_ok(reply))
                return refuse_join(conn, ErrorCode::Unavailable, "the meeting service is unavailable; try again shortly");
              seated(conn, seat, token, reply, false, std::move(client_host));
            });
}

void RedisRoomRegistry::resume(ConnId conn, MeetingRecord meeting, ResumeClaim claim, std::string token,
                               std::string client_host) {
  Seat seat{std::move(meeting), {}, claim.peer_id};
  seat.mkey = hex_key(seat.meeting.id);
  const std::string fresh = issue_token(seat, claim.name);
  std::vector<std::string> keys{meeting_key(seat.mkey), room_key(seat.mkey), held_key(seat.mkey, seat.peer),
                                "mm:node-members:" + cluster_.node_id};
  std::vector<std::string> args{seat.mkey,        seat.peer,           to_hex(sha256(token)), to_hex(sha256(fresh)),
                                cluster_.node_id, std::to_string(conn), std::to_string(millis(cluster_.lease))};
  std::weak_ptr<bool> alive = alive_;
  kResume.run(commands_, std::move(keys), std::move(args),
              [this, alive, conn, seat = std::move(seat), fresh, client_host = std::move(client_host)](const Reply& reply) {
                if (alive.expired()) return;
                if (reply.is_error() || reply.type != Reply::Type::Array || reply.elements.empty())
                  return refuse_join(conn, ErrorCode::Unavailable, "the meeting service is unavailable; try again shortly");
                if (!is_ok(reply))
                  return refuse_join(conn, ErrorCode::BadResume,
                                     "resume token unknown, expired, replaced or for another meeting");
                seated(conn, seat, fresh, reply, true, client_host);
              });
}

// reply: {"ok", meeting name, relay, the room (peer, record)…[, held signals]}
void RedisRoomRegistry::seated(ConnId conn, const Seat& seat_in, const std::string& token, const Reply& reply,
                               bool resumed, std::string client_host) {
  Seat seat = seat_in;
  seat.meeting.name = reply.elements.at(1).str;
  seat.meeting.relay_only = reply.elements.at(2).str == "1";
  std::vector<Message> arrived_meanwhile;
  if (auto it = joining_.find(conn); it != joining_.end()) {
    arrived_meanwhile = std::move(it->second);
    joining_.erase(it);
  }
  if (!delivery_.joined(conn, JoinOutcome{std::nullopt, resumed, seat.peer})) {
    // The socket ended while Redis answered: the seat goes back at once.
    seats_.emplace(conn, seat);
    return remove(conn, LeaveReason::Disconnected);
  }
  std::vector<protocol::PeerInfo> peers;
  const auto& room = reply.elements.at(3).elements;
  for (std::size_t i = 0; i + 1 < room.size(); i += 2)
    if (room[i].str != seat.peer) peers.push_back({room[i].str, parse_record(room[i + 1].str).name});
  Message welcome = make_message(welcome_message(settings_, seat.meeting, seat.peer, token, std::move(peers), client_host));
  seats_.emplace(conn, std::move(seat));
  delivery_.send(conn, std::move(welcome));
  if (resumed && reply.elements.size() > 4)
    for (const auto& held : reply.elements[4].elements) delivery_.send(conn, make_message(held.str));
  for (auto& message : arrived_meanwhile) delivery_.send(conn, std::move(message));
}

void RedisRoomRegistry::signal(ConnId from, std::string_view to, std::string_view data) {
  auto it = seats_.find(from);
  if (it == seats_.end()) return delivery_.refused(from, Error{ErrorCode::NotJoined, "join a meeting first", "signal"});
  const Seat& seat = it->second;
  if (to == seat.peer || to.empty() || to.size() > 64)  // ids are 12 characters: anything longer names nobody
    return delivery_.refused(from, Error{ErrorCode::UnknownPeer, "no such peer in this meeting", "signal"});
  const std::string target(to);
  std::weak_ptr<bool> alive = alive_;
  kSignal.run(commands_, {room_key(seat.mkey), held_key(seat.mkey, target)},
              {target, protocol::serialize_signal_from(seat.peer, data), std::to_string(settings_.held_queue_messages),
               std::to_string(millis(settings_.resume_grace) * 2)},
              [this, alive, from](const Reply& reply) {
                // Lost while Redis is away: the peers renegotiate when it is back.
                if (alive.expired() || reply.type != Reply::Type::Integer || reply.integer != 0) return;
                delivery_.refused(from, Error{ErrorCode::UnknownPeer, "no such peer in this meeting", "signal"});
              });
}

void RedisRoomRegistry::remove(ConnId conn, LeaveReason reason) {
  auto it = seats_.find(conn);
  if (it == seats_.end()) return;
  const Seat seat = std::move(it->second);
  seats_.erase(it);
  kRemove.run(commands_, {room_key(seat.mkey), held_key(seat.mkey, seat.peer), "mm:node-members:" + cluster_.node_id},
              {seat.mkey, seat.peer, cluster_.node_id, std::to_string(conn), std::string(protocol::to_string(reason))},
              [](const Reply&) {});  // Redis away: reconcile() holds it, then the grace ends it
}

void RedisRoomRegistry::hold(ConnId conn, LeaveReason reason, TimePoint) {
  if (settings_.resume_grace <= Duration::zero()) return remove(conn, reason);
  auto it = seats_.find(conn);
  if (it == seats_.end()) return;
  const Seat seat = std::move(it->second);
  seats_.erase(it);
  kHold.run(commands_, {room_key(seat.mkey), "mm:node-members:" + cluster_.node_id},
            {seat.mkey, seat.peer, cluster_.node_id, std::to_string(conn), std::string(protocol::to_string(reason)),
             std::to_string(millis(settings_.resume_grace))},
            [](const Reply&) {});
}

ExpireOutcome RedisRoomRegistry::expire(TimePoint now) {
  if (now >= next_sweep_ && !sweeping_ && commands_.ready()) {
    next_sweep_ = now + cluster_.sweep_period;
    sweeping_ = true;
    std::weak_ptr<bool> alive = alive_;
    kSweep.run(commands_, {},
               {cluster_.node_id, std::to_string(millis(cluster_.lease)), std::to_string(millis(settings_.resume_grace))},
               [this, alive](const Reply& reply) {
                 if (alive.expired()) return;
                 sweeping_ = false;
                 if (reply.type != Reply::Type::Array || reply.elements.size() < 3) return;
                 swept_.disconnected += static_cast<std::size_t>(reply.elements[0].integer);
                 swept_.timed_out += static_cast<std::size_t>(reply.elements[1].integer);
                 if (reply.elements[2].integer > 0)
                   Log::warn("redis-nodes-gone", {{"nodes", static_cast<long long>(reply.elements[2].integer)}});
               });
  }
  return std::exchange(swept_, ExpireOutcome{});
}

void RedisRoomRegistry::on_node_message(std::string_view payload) {
  // "D <conn>\n<message>" or "R <conn>"
  if (payload.size() < 3 || payload[1] != ' ') return;
  const std::size_t end = std::min(payload.find('\n'), payload.size());
  ConnId conn = 0;
  for (char c : payload.substr(2, end - 2)) {
    if (c < '0' || c > '9') return;
    conn = conn * 10 + static_cast<ConnId>(c - '0');
  }
  if (payload[0] == 'D' && end < payload.size()) {
    if (seats_.count(conn)) return delivery_.send(conn, make_message(std::string(payload.substr(end + 1))));
    if (auto it = joining_.find(conn); it != joining_.end())
      it->second.push_back(make_message(std::string(payload.substr(end + 1))));  // after its welcome
  } else if (payload[0] == 'R') {
    // A resume on another socket took the member over: close this one
    // silently (a seat whose reply is still to come included: its remove
    // then finds the member is someone else's and changes nothing).
    if (seats_.erase(conn) || joining_.erase(conn)) delivery_.retire(conn);
  }
}

std::uint32_t RedisRoomRegistry::participants(std::string_view meeting_id) const {
  std::uint32_t n = 0;
  for (const auto& [conn, seat] : seats_) n += seat.meeting.id == meeting_id;
  return n;
}

std::optional<MeetingRecord> RedisRoomRegistry::live_meeting(std::string_view meeting_id) const {
  for (const auto& [conn, seat] : seats_)
    if (seat.meeting.id == meeting_id) return seat.meeting;
  return std::nullopt;
}

bool RedisRoomRegistry::is_live(const Digest& meeting_key) const {
  const std::string hex = to_hex(meeting_key);
  return std::any_of(seats_.begin(), seats_.end(), [&](const auto& s) { return s.second.mkey == hex; });
}

std::size_t RedisRoomRegistry::active_meetings() const {
  std::unordered_set<std::string> meetings;
  for (const auto& [conn, seat] : seats_) meetings.insert(seat.mkey);
  return meetings.size();
}

}  // namespace meshmeet::server
