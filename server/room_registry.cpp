#include "server/room_registry.hpp"

#include <algorithm>

namespace meshmeet::server {

using protocol::Error;
using protocol::ErrorCode;
using protocol::LeaveReason;

namespace {
constexpr int kPeerIdBits = 60;

Message make_message(std::string text) { return std::make_shared<const std::string>(std::move(text)); }
}  // namespace

std::unique_ptr<RoomRegistry> make_local_room_registry(const RoomSettings& settings, Delivery& delivery,
                                                       RandomSource& random) {
  return std::make_unique<LocalRoomRegistry>(settings, delivery, random);
}

LocalRoomRegistry::LocalRoomRegistry(RoomSettings settings, Delivery& delivery, RandomSource& random)
    : settings_(std::move(settings)),
      delivery_(delivery),
      random_(random),
      keys_(settings_.resume_keys ? *settings_.resume_keys : ResumeKeys::fresh(random)) {}

std::string LocalRoomRegistry::issue_token(Room& room, Member& member) {
  std::string token = mint_resume_token(keys_.current, random_, room.meeting.id, member.id, member.name);
  by_token_.erase(member.token);
  member.token = sha256(token);
  by_token_[member.token] = &room;
  return token;
}

std::optional<ResumeClaim> LocalRoomRegistry::from_before_restart(const MeetingRecord& meeting, const std::string& token,
                                                                  TimePoint now) const {
  if (!keys_.previous || now >= settings_.earlier_tokens_until) return std::nullopt;
  auto claim = read_resume_token(*keys_.previous, meeting.id, token);
  if (!claim || restored_.count(sha256(meeting.id + "/" + claim->peer_id))) return std::nullopt;
  return claim;
}

// Seats someone the rooms do not hold: a newcomer under a fresh id, or one
// of the process before this restart under the id and name it had (`back`).
// Everyone else hears peer-joined either way: a newcomer is news, and for
// one who is back it means "still here" (their connection to it is still
// up; the client keeps it).
JoinOutcome LocalRoomRegistry::seat(ConnId conn, const MeetingRecord& meeting, const std::string& name,
                                    const ResumeClaim* back, std::string_view client_host) {
  const Digest key = sha256(meeting.id);
  auto [it, created] = rooms_.try_emplace(key);
  Room& room = it->second;
  if (created) {
    room.meeting = meeting;
    room.key = key;
    // members grows as people join: reserving room_cap seats up front cost
    // ~150 bytes per participant in meetings of 4 under a cap of 8.
  }
  if (room.members.size() >= settings_.room_cap) {
    if (created) rooms_.erase(it);
    return {Error{ErrorCode::MeetingFull, "the meeting is full (" + std::to_string(settings_.room_cap) + " participants)", "join"}, false, {}};
  }

  Member member;
  if (back) {
    restored_.insert(sha256(meeting.id + "/" + back->peer_id));  // its tokens from before are spent
    member.id = back->peer_id;
    member.name = back->name;
  } else {
    do {
      member.id = random_id(random_, kPeerIdBits);
    } while (std::any_of(room.members.begin(), room.members.end(), [&](const Member& m) { return m.id == member.id; }));
    member.name = name;
  }
  member.conn = conn;
  room.members.push_back(std::move(member));
  Member& seated = room.members.back();
  by_conn_[conn] = &room;
  ++participants_;

  welcome(room, seated, issue_token(room, seated), client_host);
  broadcast(room, seated, make_message(protocol::serialize(protocol::ServerMessage{protocol::PeerJoined{{seated.id, seated.name}}})));
  return {std::nullopt, back != nullptr, seated.id};
}

LocalRoomRegistry::Member* LocalRoomRegistry::find_by_conn(Room& room, ConnId conn) {
  for (auto& m : room.members)
    if (m.conn == conn) return &m;
  return nullptr;
}

void LocalRoomRegistry::join(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint now) {
  answer(conn, admit(conn, join, client_host, now));
}

void LocalRoomRegistry::answer(ConnId conn, const JoinOutcome& outcome) {
  if (!delivery_.joined(conn, outcome) && !outcome.error) remove(conn, LeaveReason::Disconnected);
}

JoinOutcome LocalRoomRegistry::admit(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint now) {
  std::optional<MeetingRecord> found;
  if (protocol::is_meeting_id(join.meeting)) {
    // A live room knows its meeting: only the first join reads the store.
    found = live_meeting(join.meeting);
    if (!found && settings_.find_meeting) found = settings_.find_meeting(join.meeting);
  }
  if (!found) return {Error{ErrorCode::MeetingNotFound, "no such meeting", "join"}, false, {}};
  const MeetingRecord& meeting = *found;
  const Digest key = sha256(meeting.id);

  if (join.resume) {
    auto it = by_token_.find(sha256(*join.resume));
    if (it == by_token_.end() || it->second->key != key) {
      if (auto claim = from_before_restart(meeting, *join.resume, now)) return seat(conn, meeting, {}, &*claim, client_host);
      return {Error{ErrorCode::BadResume, "resume token unknown, expired, replaced or for another meeting", "join"}, false, {}};
    }
    Room& room = *it->second;
    const Digest token = it->first;
    auto member = std::find_if(room.members.begin(), room.members.end(), [&](const Member& m) { return m.token == token; });
    if (member->conn != 0) {
      // The old socket still looks open: the resume wins, silently.
      by_conn_.erase(member->conn);
      delivery_.retire(member->conn);
    }
    member->conn = conn;
    member->held_until = {};
    by_conn_[conn] = &room;
    welcome(room, *member, issue_token(room, *member), client_host);
    for (auto& message : member->held_signals) delivery_.send(conn, std::move(message));
    member->held_signals.clear();
    member->held_signals.shrink_to_fit();
    member->held_bytes = 0;
    return {std::nullopt, true, member->id};
  }

  return seat(conn, meeting, join.name, nullptr, client_host);
}

std::string welcome_message(const RoomSettings& settings, const MeetingRecord& meeting, const std::string& self,
                            const std::string& token, std::vector<protocol::PeerInfo> peers,
                            std::string_view client_host) {
  protocol::Welcome w;
  w.self = self;
  w.resume = token;
  w.meeting_id = meeting.id;
  w.meeting_name = meeting.name;
  w.peers = std::move(peers);
  w.ice_servers = settings.ice_servers_for ? settings.ice_servers_for(self, client_host) : settings.ice_servers;
  w.relay_only = meeting.relay_only;
  w.resume_grace_ms = static_cast<std::uint32_t>(millis(settings.resume_grace));
  w.heartbeat_interval_ms = settings.heartbeat_interval_ms;
  w.heartbeat_timeout_ms = settings.heartbeat_timeout_ms;
  return protocol::serialize(protocol::ServerMessage{std::move(w)});
}

void LocalRoomRegistry::welcome(Room& room, Member& member, const std::string& token, std::string_view client_host) {
  std::vector<protocol::PeerInfo> peers;
  peers.reserve(room.members.size() - 1);
  for (const auto& m : room.members)
    if (&m != &member) peers.push_back({m.id, m.name});
  delivery_.send(member.conn,
                 make_message(welcome_message(settings_, room.meeting, member.id, token, std::move(peers), client_host)));
}

void LocalRoomRegistry::broadcast(Room& room, const Member& except, Message message) {
  // Held slots are skipped: a resumed client reconciles from welcome.peers.
  for (const auto& m : room.members)
    if (&m != &except && m.conn != 0) delivery_.send(m.conn, message);
}

void LocalRoomRegistry::signal(ConnId from, std::string_view to, std::string_view data) {
  auto it = by_conn_.find(from);
  if (it == by_conn_.end()) return delivery_.refused(from, Error{ErrorCode::NotJoined, "join a meeting first", "signal"});
  Room& room = *it->second;
  Member* sender = find_by_conn(room, from);
  Member* target = nullptr;
  for (auto& m : room.members)
    if (m.id == to && &m != sender) target = &m;
  if (!target) return delivery_.refused(from, Error{ErrorCode::UnknownPeer, "no such peer in this meeting", "signal"});

  Message message = make_message(protocol::serialize_signal_from(sender->id, data));
  if (target->conn != 0) {
    delivery_.send(target->conn, std::move(message));
  } else if (target->held_signals.size() < settings_.held_queue_messages &&
             target->held_bytes + message->size() <= settings_.held_queue_bytes) {
    target->held_bytes += message->size();
    target->held_signals.push_back(std::move(message));
  } else {
    ++dropped_held_signals_;  // the resumed client renegotiates anyway
  }
}

void LocalRoomRegistry::erase_member(Room& room, std::size_t index, LeaveReason reason) {
  Member gone = std::move(room.members[index]);
  room.members.erase(room.members.begin() + static_cast<std::ptrdiff_t>(index));
  by_token_.erase(gone.token);
  if (gone.conn != 0) by_conn_.erase(gone.conn);
  --participants_;
  if (room.members.empty()) {
    const Digest key = room.key;  // a copy: erase must not read the key it destroys
    rooms_.erase(key);
    return;
  }
  Message left = make_message(protocol::serialize(protocol::ServerMessage{protocol::PeerLeft{gone.id, reason}}));
  for (const auto& m : room.members)
    if (m.conn != 0) delivery_.send(m.conn, left);
}

void LocalRoomRegistry::remove(ConnId conn, LeaveReason reason) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  Room& room = *it->second;
  for (std::size_t i = 0; i < room.members.size(); ++i)
    if (room.members[i].conn == conn) return erase_member(room, i, reason);
}

void LocalRoomRegistry::hold(ConnId conn, LeaveReason reason, TimePoint now) {
  auto it = by_conn_.find(conn);
  if (it == by_conn_.end()) return;
  Room& room = *it->second;
  Member* member = find_by_conn(room, conn);
  if (settings_.resume_grace <= Duration::zero()) return remove(conn, reason);
  by_conn_.erase(it);
  member->conn = 0;
  member->held_until = now + settings_.resume_grace;
  member->held_reason = reason;
  holds_.push_back({member->held_until, member->token});
}

ExpireOutcome LocalRoomRegistry::expire(TimePoint now) {
  ExpireOutcome outcome;
  if (keys_.previous && now >= settings_.earlier_tokens_until) {
    keys_.previous.reset();  // the grace after the restart is over: tokens from before are dead
    restored_.clear();
  }
  while (!holds_.empty() && holds_.front().until <= now) {
    Hold hold = holds_.front();
    holds_.pop_front();
    auto it = by_token_.find(hold.token);
    if (it == by_token_.end()) continue;  // left cleanly meanwhile
    Room& room = *it->second;
    for (std::size_t i = 0; i < room.members.size(); ++i) {
      Member& m = room.members[i];
      // Still held, and by this very hold (not resumed and dropped again later).
      if (m.token == hold.token && m.conn == 0 && m.held_until == hold.until) {
        (m.held_reason == LeaveReason::Timeout ? outcome.timed_out : outcome.disconnected)++;
        erase_member(room, i, m.held_reason);
        break;
      }
    }
  }
  return outcome;
}

std::uint32_t LocalRoomRegistry::participants(std::string_view meeting_id) const {
  auto it = rooms_.find(sha256(meeting_id));
  return it == rooms_.end() ? 0 : static_cast<std::uint32_t>(it->second.members.size());
}

std::optional<MeetingRecord> LocalRoomRegistry::live_meeting(std::string_view meeting_id) const {
  auto it = rooms_.find(sha256(meeting_id));
  if (it == rooms_.end()) return std::nullopt;
  return it->second.meeting;
}

}  // namespace meshmeet::server
