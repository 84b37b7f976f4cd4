#include "server/participant_session.hpp"

#include "protocol/messages.hpp"
#include "server/log.hpp"

namespace meshmeet::server {

using protocol::ErrorCode;
using protocol::LeaveReason;

namespace {

Message make_message(std::string text) { return std::make_shared<const std::string>(std::move(text)); }

// What each way of ending does: to the registry (for a joined participant)
// and to the socket.
struct Exit {
  enum class Registry : std::uint8_t { Nothing, Remove, Hold } registry;
  LeaveReason leave;        // what the others hear, now (Remove) or after the grace (Hold)
  enum class Socket : std::uint8_t { Close, Drop } socket;
  std::uint16_t close = 0;  // the close code, for Close
};

Exit exit_for(DisconnectReason reason) {
  using R = Exit::Registry;
  using S = Exit::Socket;
  switch (reason) {
    case DisconnectReason::Left: return {R::Remove, LeaveReason::Left, S::Close, close_code::kNormal};
    case DisconnectReason::Removed: return {R::Remove, LeaveReason::Removed, S::Drop};
    case DisconnectReason::BadUtf8: return {R::Remove, LeaveReason::Removed, S::Drop};
    case DisconnectReason::TooLarge: return {R::Remove, LeaveReason::Removed, S::Close, close_code::kTooBig};
    case DisconnectReason::Binary: return {R::Remove, LeaveReason::Removed, S::Close, close_code::kUnsupportedData};
    case DisconnectReason::Dropped: return {R::Hold, LeaveReason::Disconnected, S::Drop};
    case DisconnectReason::SlowConsumer: return {R::Hold, LeaveReason::Disconnected, S::Drop};
    case DisconnectReason::Heartbeat: return {R::Hold, LeaveReason::Timeout, S::Drop};
    // Draining: the participant may resume on a server that takes over.
    case DisconnectReason::Shutdown: return {R::Hold, LeaveReason::Disconnected, S::Close, close_code::kGoingAway};
    case DisconnectReason::Replaced: return {R::Nothing, LeaveReason::Left, S::Drop};
    case DisconnectReason::JoinTimeout: return {R::Nothing, LeaveReason::Left, S::Close, close_code::kPolicy};
    case DisconnectReason::TooManyConnections: return {R::Nothing, LeaveReason::Left, S::Close, close_code::kPolicy};
  }
  return {R::Hold, LeaveReason::Disconnected, S::Drop};
}

}  // namespace

std::string_view to_string(ParticipantSession::State state) {
  switch (state) {
    case ParticipantSession::State::Unjoined: return "unjoined";
    case ParticipantSession::State::Joining: return "joining";
    case ParticipantSession::State::Joined: return "joined";
    case ParticipantSession::State::Closing: return "closing";
    case ParticipantSession::State::Gone: return "gone";
  }
  return "gone";
}

ParticipantSession::ParticipantSession(const SessionServices& services, SessionSocket& socket, ConnId id,
                                       std::string host, TimePoint now)
    : services_(services),
      socket_(socket),
      id_(id),
      host_(std::move(host)),
      deadlines_(services.timeouts, now),
      rate_(services.msg_rate, services.msg_rate * 4, now) {}

void ParticipantSession::end(DisconnectReason reason, TimePoint now, bool socket_ended) {
  if (!open()) return;
  const bool joined = state_ == State::Joined;
  Exit exit = exit_for(reason);
  if (socket_ended) exit.socket = Exit::Socket::Drop;  // nothing to say a close frame on
  state_ = exit.socket == Exit::Socket::Close ? State::Closing : State::Gone;
  services_.metrics.disconnect(reason);
  if (Log::enabled(LogLevel::Debug))
    Log::debug("disconnect", {{"conn", static_cast<unsigned long long>(id_)}, {"reason", to_string(reason)}});
  if (joined) {
    if (exit.registry == Exit::Registry::Remove) services_.rooms.remove(id_, exit.leave);
    if (exit.registry == Exit::Registry::Hold) services_.rooms.hold(id_, exit.leave, now);
  }
  if (exit.socket == Exit::Socket::Close)
    socket_.close(exit.close);
  else
    socket_.drop();
}

void ParticipantSession::refuse(DisconnectReason reason, TimePoint now) {
  if (reason == DisconnectReason::TooManyConnections)
    send_error(ErrorCode::TooManyConnections, "too many connections from this address", "");
  end(reason, now);
}

void ParticipantSession::on_socket_end(SocketEnd how, TimePoint now) {
  switch (how) {
    case SocketEnd::CloseFrame: return end(DisconnectReason::Left, now, true);
    case SocketEnd::ProtocolError: return end(DisconnectReason::Removed, now, true);
    case SocketEnd::BadUtf8: return end(DisconnectReason::BadUtf8, now, true);
    case SocketEnd::Reset: return end(DisconnectReason::Dropped, now, true);
    case SocketEnd::SlowConsumer: return end(DisconnectReason::SlowConsumer, now, true);
  }
}

void ParticipantSession::on_too_large(std::size_t limit, TimePoint now) {
  if (!open()) return;
  send_error(ErrorCode::TooLarge, "message larger than " + std::to_string(limit) + " bytes", "");
  end(DisconnectReason::TooLarge, now);
}

void ParticipantSession::on_binary(TimePoint now) {
  if (!open()) return;
  send_error(ErrorCode::BadMessage, "binary messages are not part of the protocol", "");
  end(DisconnectReason::Binary, now);
}

void ParticipantSession::shutdown(TimePoint now) { end(DisconnectReason::Shutdown, now); }

void ParticipantSession::retire(TimePoint now) { end(DisconnectReason::Replaced, now); }

TimePoint ParticipantSession::tick(TimePoint now) {
  if (!open()) return TimePoint::max();
  const auto tick = deadlines_.tick(now);
  switch (tick.due) {
    case ConnectionDeadlines::Due::Nothing: break;
    case ConnectionDeadlines::Due::Ping: socket_.ping(); break;
    case ConnectionDeadlines::Due::JoinTimeout: end(DisconnectReason::JoinTimeout, now); break;
    case ConnectionDeadlines::Due::SilenceTimeout: end(DisconnectReason::Heartbeat, now); break;
    case ConnectionDeadlines::Due::RefreshIceServers:
      // Fresh TURN credentials before the ones of the welcome (or of the
      // last refresh) expire, so a later ICE restart still reaches TURN.
      if (state_ == State::Joined) {
        ++services_.metrics.ice_refreshes;
        socket_.send(make_message(protocol::serialize(
            protocol::ServerMessage{protocol::IceServers{services_.ice.for_participant(self_, host_)}})));
      }
      break;
  }
  return open() ? tick.next : TimePoint::max();
}

void ParticipantSession::send_error(ErrorCode code, std::string_view message, std::string_view ref) {
  services_.metrics.error(code);
  socket_.send(make_message(protocol::serialize(
      protocol::ServerMessage{protocol::ErrorMessage{code, std::string(message), std::string(ref)}})));
}

void ParticipantSession::on_message(std::string_view text, TimePoint now) {
  deadlines_.heard(now);
  ++services_.metrics.messages_in;
  if (!open()) return;

  switch (rate_.admit(now)) {
    case MessageRateLimit::Verdict::Process: break;
    case MessageRateLimit::Verdict::DropAndWarn:
      send_error(ErrorCode::RateLimited, "slow down: too many messages", "");
      [[fallthrough]];
    case MessageRateLimit::Verdict::Drop:
      ++services_.metrics.rate_limited_messages;
      return;
  }
  // The relay's hot path: a valid signal is scanned, not parsed, and its
  // `data` bytes go out as they came.
  if (auto signal = protocol::scan_signal(text)) {
    if (state_ != State::Joined) return send_error(ErrorCode::NotJoined, "join a meeting first", "signal");
    return services_.rooms.signal(id_, signal->to, signal->data);
  }
  auto parsed = protocol::parse_client_message_document(text);
  if (!parsed.ok()) return send_error(parsed.error().code, parsed.error().message, parsed.error().ref);
  auto& message = parsed.value();

  if (auto* j = std::get_if<protocol::Join>(&message)) return join(*j, now);
  if (auto* ping = std::get_if<protocol::Ping>(&message))
    return socket_.send(make_message(protocol::serialize(protocol::ServerMessage{protocol::Pong{ping->t}})));
  if (state_ != State::Joined)
    return send_error(ErrorCode::NotJoined, "join a meeting first", protocol::type_name(message));
  if (auto* signal = std::get_if<protocol::Signal>(&message)) return services_.rooms.signal(id_, *signal);
  if (std::holds_alternative<protocol::Leave>(message)) end(DisconnectReason::Left, now);
}

void ParticipantSession::join(const protocol::Join& join, TimePoint now) {
  if (state_ != State::Unjoined)
    return send_error(ErrorCode::AlreadyJoined, "this connection has joined already", "join");
  state_ = State::Joining;
  join_asked_ = now;
  services_.rooms.join(id_, join, host_, now);
}

bool ParticipantSession::on_joined(const JoinOutcome& outcome, TimePoint now) {
  if (state_ != State::Joining) return false;  // ended while the registry answered
  if (outcome.error) {
    state_ = State::Unjoined;  // the socket stays open, as for any failed join
    send_error(outcome.error->code, outcome.error->message, "join");
    return true;
  }
  state_ = State::Joined;
  self_ = outcome.self;
  deadlines_.joined(now);
  if (outcome.resumed) ++services_.metrics.resumes;
  services_.metrics.join_latency(now - join_asked_);
  return true;
}

void ParticipantSession::on_refused(const protocol::Error& error) {
  if (open()) send_error(error.code, error.message, error.ref);
}

}  // namespace meshmeet::server
