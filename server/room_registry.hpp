// The live roster of every meeting: who is in, who is held for a resume, and
// where each relayed message goes. Participants live here and nowhere else;
// nothing about them reaches disk or logs.
//
// RoomRegistry is the seam for scale-out: this process's in-memory registry,
// or a Redis-backed one shared by several processes (server/redis_room_registry).
// Its answers are asynchronous: what a join or a relay comes to reaches the
// transport through Delivery, by connection id, at once (here) or once
// Redis has answered (there). The registry owns no sockets and reads no
// clock: it is told what happened and when, and asks its Delivery to carry
// messages out.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "protocol/messages.hpp"
#include "server/clock.hpp"
#include "server/resume_tokens.hpp"
#include "server/secrets.hpp"

namespace meshmeet::server {

using ConnId = std::uint64_t;                          // one WebSocket connection; 0 = none
using Message = std::shared_ptr<const std::string>;    // one serialized message, shared by its recipients

struct JoinOutcome {
  std::optional<protocol::Error> error;  // set when the join was refused
  bool resumed = false;
  std::string self;                      // the participant's peer id, when joined
};

// What the registry asks of the transport, which owns the sockets.
class Delivery {
 public:
  virtual ~Delivery() = default;
  virtual void send(ConnId conn, Message message) = 0;
  // The connection's participant was taken over by a resume on another
  // socket: close it without telling anyone.
  virtual void retire(ConnId conn) = 0;
  // The answer to one join(): seated, or refused with outcome.error. False when the connection has ended since
  // it asked: the registry then takes the seat back (the others hear
  // peer-left, for they may have heard peer-joined).
  virtual bool joined(ConnId conn, const JoinOutcome& outcome) = 0;
  // A signal from `conn` that could not be relayed (unknown-peer).
  virtual void refused(ConnId conn, const protocol::Error& error) = 0;
};

struct MeetingRecord {
  std::string id;
  std::string name;
  bool relay_only = false;  // welcome.relayOnly: every connection through TURN
};

// The RTCIceServer array (JSON text) for one participant: its peer id and
// the Host header it connected with. Called at every welcome, so TURN
// credentials are minted fresh and only for those who joined; the clock it
// needs is its own, the registry still reads none.
using IceServersFor = std::function<std::string(std::string_view peer_id, std::string_view client_host)>;

// The meeting store, for a meeting no live room knows: the first join
// reads it (and marks it used, for --meeting-ttl). nullopt: no such meeting.
using FindMeeting = std::function<std::optional<MeetingRecord>(std::string_view meeting_id)>;

struct RoomSettings {
  std::size_t room_cap = 8;
  Duration resume_grace = seconds(15);
  std::size_t held_queue_messages = 256;         // signals kept for a held slot…
  std::size_t held_queue_bytes = 512 * 1024;     // …and their total size
  std::string ice_servers = "[]";                // welcome.iceServers, JSON, when ice_servers_for is unset
  IceServersFor ice_servers_for;                 // welcome.iceServers per participant
  FindMeeting find_meeting;                      // LocalRoomRegistry: where meetings are; unset: none exist
  std::uint32_t heartbeat_interval_ms = 10000;
  std::uint32_t heartbeat_timeout_ms = 30000;
  // Signs resume tokens; its previous key reads the tokens the process
  // before this one issued (see resume_tokens.hpp). None: a fresh key, so
  // no token outlives this registry.
  std::optional<ResumeKeys> resume_keys;
  // Tokens signed with the previous key are taken back until then: the
  // resume grace that follows the restart, which ended their connections.
  TimePoint earlier_tokens_until{};
};

// The welcome of `self` to `meeting`, as every registry sends it: `peers`
// are the others present, the ICE servers are the participant's own (TURN
// credentials minted now), the heartbeat as the settings say.
std::string welcome_message(const RoomSettings& settings, const MeetingRecord& meeting, const std::string& self,
                            const std::string& token, std::vector<protocol::PeerInfo> peers,
                            std::string_view client_host);

// What happened during expire(): slots whose grace ran out.
struct ExpireOutcome {
  std::size_t disconnected = 0;
  std::size_t timed_out = 0;
};

class RoomRegistry {
 public:
  virtual ~RoomRegistry() = default;

  // Joins `join.meeting` (meeting-not-found unless the store has it). The
  // answer goes to Delivery::joined; on success the welcome (with a fresh
  // resume token: the earlier ones stop working), then any signals queued
  // for a resumed slot, go to `conn`, and everyone else hears peer-joined
  // (not for a resume, except one from before a restart: the others must
  // learn that the id they knew is back). `client_host` is the Host header
  // of the connection's upgrade, for the ICE servers it is handed.
  virtual void join(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint now) = 0;

  // Relays to a peer of the sender's meeting; an unknown peer goes to
  // Delivery::refused. `data` is a JSON object's text, spliced unchanged
  // into what `to` gets.
  virtual void signal(ConnId from, std::string_view to, std::string_view data) = 0;
  void signal(ConnId from, const protocol::Signal& s) { signal(from, s.to, s.data); }

  // A clean departure (leave, close frame, removal): the others hear at once.
  virtual void remove(ConnId conn, protocol::LeaveReason reason) = 0;

  // An unclean drop or missed heartbeat: the slot is held for the resume
  // grace, silently; `reason` is what the others hear if it is not resumed.
  virtual void hold(ConnId conn, protocol::LeaveReason reason, TimePoint now) = 0;

  // Ends held slots whose grace is over.
  virtual ExpireOutcome expire(TimePoint now) = 0;

  // Whether joins can be taken now (/readyz): a shared registry cannot
  // while its Redis is away.
  virtual bool ready() const { return true; }

  virtual std::uint32_t participants(std::string_view meeting_id) const = 0;
  // The meeting of a live room (someone in it or held), so that joining it
  // needs no database read; nullopt when no room is live for it.
  virtual std::optional<MeetingRecord> live_meeting(std::string_view meeting_id) const = 0;
  // Whether the meeting whose id has this SHA-256 has a live room (the
  // database knows meetings by that digest only).
  virtual bool is_live(const Digest& meeting_key) const = 0;
  virtual std::size_t participant_count() const = 0;
  virtual std::size_t active_meetings() const = 0;
  virtual std::size_t dropped_held_signals() const = 0;
};

// Makes the registry a server relays through, given the room settings, the
// server as its Delivery and the server's random source: the server depends
// on RoomRegistry alone, so a shared (Redis-backed) registry can be passed
// in instead of this process's own.
using RoomRegistryFactory =
    std::function<std::unique_ptr<RoomRegistry>(const RoomSettings& settings, Delivery& delivery, RandomSource& random)>;

// The factory of LocalRoomRegistry, below.
std::unique_ptr<RoomRegistry> make_local_room_registry(const RoomSettings& settings, Delivery& delivery,
                                                       RandomSource& random);

// The registry of a single server process.
class LocalRoomRegistry final : public RoomRegistry {
 public:
  LocalRoomRegistry(RoomSettings settings, Delivery& delivery, RandomSource& random);

  void join(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint now) override;
  using RoomRegistry::signal;
  void signal(ConnId from, std::string_view to, std::string_view data) override;
  void remove(ConnId conn, protocol::LeaveReason reason) override;
  void hold(ConnId conn, protocol::LeaveReason reason, TimePoint now) override;
  ExpireOutcome expire(TimePoint now) override;
  std::uint32_t participants(std::string_view meeting_id) const override;
  std::optional<MeetingRecord> live_meeting(std::string_view meeting_id) const override;
  bool is_live(const Digest& meeting_key) const override { return rooms_.count(meeting_key) > 0; }
  std::size_t participant_count() const override { return participants_; }
  std::size_t active_meetings() const override { return rooms_.size(); }
  std::size_t dropped_held_signals() const override { return dropped_held_signals_; }

 private:
  struct Member {
    std::string id;
    std::string name;
    Digest token;                   // SHA-256 of its current resume token
    ConnId conn = 0;                // 0 while held
    TimePoint held_until{};
    protocol::LeaveReason held_reason = protocol::LeaveReason::Disconnected;
    std::vector<Message> held_signals;
    std::size_t held_bytes = 0;
  };
  struct Room {
    MeetingRecord meeting;
    Digest key;
    std::vector<Member> members;  // oldest first; at most room_cap
  };
  struct Hold {
    TimePoint until;
    Digest token;
  };

  Member* find_by_conn(Room& room, ConnId conn);
  // A token the process before this one issued, to a participant not back yet.
  std::optional<ResumeClaim> from_before_restart(const MeetingRecord& meeting, const std::string& token, TimePoint now) const;
  JoinOutcome admit(ConnId conn, const protocol::Join& join, std::string_view client_host, TimePoint now);
  JoinOutcome seat(ConnId conn, const MeetingRecord& meeting, const std::string& name, const ResumeClaim* back,
                   std::string_view client_host);
  // Tells the transport; false (the connection has gone) takes the seat back.
  void answer(ConnId conn, const JoinOutcome& outcome);
  // A new resume token for `member`, which replaces its current one.
  std::string issue_token(Room& room, Member& member);
  void welcome(Room& room, Member& member, const std::string& token, std::string_view client_host);
  void broadcast(Room& room, const Member& except, Message message);
  void erase_member(Room& room, std::size_t index, protocol::LeaveReason reason);

  RoomSettings settings_;
  Delivery& delivery_;
  RandomSource& random_;
  std::unordered_map<Digest, Room, DigestHash> rooms_;           // by SHA-256 of the meeting id
  std::unordered_map<Digest, Room*, DigestHash> by_token_;       // by SHA-256 of the resume token
  std::unordered_map<ConnId, Room*> by_conn_;
  std::deque<Hold> holds_;                                       // in expiry order: the grace is one constant
  ResumeKeys keys_;
  // Who came back with a token from before the restart, by SHA-256 of
  // meeting id and peer id: that token (and its twins) is spent.
  std::unordered_set<Digest, DigestHash> restored_;
  std::size_t participants_ = 0;
  std::size_t dropped_held_signals_ = 0;
};

}  // namespace meshmeet::server
