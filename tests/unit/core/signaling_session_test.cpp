// The signaling session on its own: join, heartbeat, dead-server detection,
// reconnect with backoff and full jitter, resume, bad-resume, intentional
// leave, final refusals. The test plays socket and clock.
#include <doctest/doctest.h>

#include <algorithm>

#include "script_harness.hpp"

using namespace script;
using meshmeet::protocol::ErrorCode;

TEST_CASE("session: join, welcome, heartbeat ping, silent server detected, backoff, resume with the token") {
  Harness h;
  h.at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Ann"); });
  CHECK(one<OpenSocket>(h.last).url == "ws://h/ws");
  CHECK(one<StateChanged>(h.last).state == "connecting");
  CHECK(h.has_timer("connect-timeout"));
  const int first = one<OpenSocket>(h.last).socket;

  h.at(5, [&](Client& c, double t) { c.socket_opened(t, first); });
  auto join = parse(one<SendText>(h.last).text);
  CHECK(join["type"] == "join");
  CHECK(join["meeting"] == "m");
  CHECK(join["name"] == "Ann");
  CHECK_FALSE(join.contains("resume"));
  CHECK(h.has_timer("join-timeout"));
  CHECK_FALSE(h.has_timer("connect-timeout"));

  h.at(10, [&](Client& c, double t) { c.socket_message(t, first, welcome("a1", "T1")); });
  CHECK(one<Welcomed>(h.last).how == "fresh");
  CHECK(one<StateChanged>(h.last).state == "joined");
  CHECK(h.timer("heartbeat-ping").second.due == 10 + 10000);
  CHECK(h.timer("server-silence").second.due == 10 + 30000);
  CHECK(h.client.session().joined());

  // Every interval a ping carrying the time; the pong (any message) keeps the server alive.
  h.fire("heartbeat-ping");
  auto ping = parse(one<SendText>(h.last).text);
  CHECK(ping["type"] == "ping");
  CHECK(ping["t"] == 10010);
  h.at(10020, [&](Client& c, double t) { c.socket_message(t, first, R"({"type":"pong","t":10010})"); });
  h.fire("server-silence");  // at 30010: heard 20 s ago, so it waits out the rest
  CHECK(all<StateChanged>(h.last).empty());
  CHECK(h.timer("server-silence").second.due == 10020 + 30000);

  // Then nothing for the whole timeout (pings unanswered): the server is dead.
  h.fire("heartbeat-ping");
  h.fire("heartbeat-ping");
  h.fire("server-silence");
  auto st = one<StateChanged>(h.last);
  CHECK(st.state == "reconnecting");
  CHECK(st.attempt == 1);
  // Abandoned, not closed: a close frame would end the slot we want to resume.
  CHECK(all<CloseSocket>(h.last).empty());
  auto backoff = h.timer("reconnect-backoff").second;
  CHECK(backoff.due - h.now >= 0);
  CHECK(backoff.due - h.now <= 500);
  CHECK_FALSE(h.has_timer("heartbeat-ping"));
  CHECK_FALSE(h.has_timer("server-silence"));
  CHECK_FALSE(h.client.session().joined());

  h.fire("reconnect-backoff");
  const int second = one<OpenSocket>(h.last).socket;
  CHECK(second != first);
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, second); });
  CHECK(parse(one<SendText>(h.last).text)["resume"] == "T1");
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, second, welcome("a1", "T1")); });
  CHECK(one<Welcomed>(h.last).how == "resumed");
  CHECK(one<CloseSocket>(h.last).socket == first);  // the abandoned socket is closed now
  CHECK(h.client.session().attempt() == 0);

  // A late close of the abandoned socket changes nothing.
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_closed(t, first, 1006); });
  CHECK(h.last.empty());
}

TEST_CASE("session: reconnect delays use full jitter under min(10 s, 500 ms · 2^attempt)") {
  std::vector<std::int64_t> max_delay(12, 0), min_delay(12, 1 << 30);
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    ClientConfig config;
    config.seed = seed;
    Harness h(config);
    h.join_and_welcome("a1");
    h.at(20, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
    for (int attempt = 1; attempt <= 11; ++attempt) {
      auto st = one<StateChanged>(h.last);
      CHECK(st.state == "reconnecting");
      CHECK(st.attempt == attempt);
      const auto delay = h.timer("reconnect-backoff").second.due - h.now;
      CHECK(delay >= 0);
      CHECK(delay <= std::min<std::int64_t>(10000, 500LL << (attempt - 1)));
      max_delay[attempt] = std::max(max_delay[attempt], delay);
      min_delay[attempt] = std::min(min_delay[attempt], delay);
      h.fire("reconnect-backoff");
      const int s = one<OpenSocket>(h.last).socket;
      h.at(h.now + 1, [&](Client& c, double t) { c.socket_closed(t, s, 1006); });  // refused
    }
  }
  // Full jitter: the whole range is used, and the cap is reached.
  CHECK(max_delay[1] > 350);
  CHECK(min_delay[1] < 150);
  CHECK(max_delay[11] > 8000);
  CHECK(min_delay[11] < 2000);
}

TEST_CASE("session: an intentional leave never reconnects") {
  SUBCASE("while joined") {
    Harness h;
    h.join_and_welcome("a1");
    h.at(100, [](Client& c, double t) { c.leave(t); });
    CHECK(parse(one<SendText>(h.last).text)["type"] == "leave");
    auto close = one<CloseSocket>(h.last);
    CHECK(close.code == 1000);
    CHECK(one<StateChanged>(h.last).state == "left");
    CHECK(h.timers.empty());
    CHECK(h.client.active_timer_count() == 0);
    h.at(200, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1000); });
    CHECK(h.last.empty());
  }
  SUBCASE("while waiting to reconnect: told as soon as a socket is up (resume, then leave)") {
    Harness h;
    h.join_and_welcome("a1");
    h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
    CHECK(h.has_timer("reconnect-backoff"));
    h.at(150, [](Client& c, double t) { c.leave(t); });
    CHECK(one<StateChanged>(h.last).state == "leaving");
    const int socket = one<OpenSocket>(h.last).socket;  // at once, not after the backoff
    CHECK_FALSE(h.has_timer("reconnect-backoff"));
    CHECK(h.has_timer("leave-timeout"));
    h.at(170, [&](Client& c, double t) { c.socket_opened(t, socket); });
    auto sent = all<SendText>(h.last);
    REQUIRE(sent.size() == 2);
    CHECK(parse(sent[0].text)["type"] == "join");
    CHECK(parse(sent[0].text)["resume"] == "tok-a1");
    CHECK(parse(sent[1].text)["type"] == "leave");
    CHECK(one<CloseSocket>(h.last).code == 1000);
    CHECK(one<StateChanged>(h.last).state == "left");
    CHECK(h.timers.empty());
  }
  SUBCASE("while reconnecting, with a socket opening: that socket tells the server") {
    Harness h;
    h.join_and_welcome("a1");
    h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
    h.fire("reconnect-backoff");
    const int opening = one<OpenSocket>(h.last).socket;
    h.at(h.now + 1, [](Client& c, double t) { c.leave(t); });
    CHECK(all<OpenSocket>(h.last).empty());
    CHECK(one<StateChanged>(h.last).state == "leaving");
    h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, opening); });
    CHECK(all<SendText>(h.last).size() == 2);
    CHECK(h.client.state() == "left");
  }
  SUBCASE("while reconnecting, and the server cannot be reached: left after the connect timeout, or when the socket fails") {
    for (const bool fails : {false, true}) {
      CAPTURE(fails);
      Harness h;
      h.join_and_welcome("a1");
      h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
      h.at(150, [](Client& c, double t) { c.leave(t); });
      const int socket = one<OpenSocket>(h.last).socket;
      if (fails)
        h.at(200, [&](Client& c, double t) { c.socket_closed(t, socket, 1006); });
      else
        h.fire("leave-timeout");
      CHECK(one<StateChanged>(h.last).state == "left");
      CHECK(all<SendText>(h.last).empty());
      CHECK(h.timers.empty());
      CHECK(h.client.active_timer_count() == 0);
    }
  }
  SUBCASE("twice, or before joining") {
    Harness h;
    h.at(0, [](Client& c, double t) { c.leave(t); });
    CHECK(h.client.state() == "left");
    h.at(1, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "x"); });
    CHECK(all<OpenSocket>(h.last).empty());
  }
}

TEST_CASE("session: bad-resume joins afresh on the same socket, and the welcome says rejoined") {
  Harness h;
  h.join_and_welcome("a1");
  h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
  h.fire("reconnect-backoff");
  const int s = one<OpenSocket>(h.last).socket;
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, s); });
  CHECK(parse(one<SendText>(h.last).text)["resume"] == "tok-a1");
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, error(ErrorCode::BadResume)); });
  auto fresh = parse(one<SendText>(h.last).text);
  CHECK(fresh["type"] == "join");
  CHECK_FALSE(fresh.contains("resume"));
  CHECK(all<OpenSocket>(h.last).empty());
  CHECK(all<ErrorEvent>(h.last).empty());  // handled, not the app's problem
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, welcome("b2", "T2")); });
  auto w = one<Welcomed>(h.last);
  CHECK(w.how == "rejoined");
  CHECK(w.self == "b2");
  CHECK(h.client.self_id() == "b2");
}

TEST_CASE("session: meeting-not-found and meeting-full are final for a first join") {
  for (auto code : {ErrorCode::MeetingNotFound, ErrorCode::MeetingFull}) {
    Harness h;
    h.at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Ann"); });
    const int s = one<OpenSocket>(h.last).socket;
    h.at(5, [&](Client& c, double t) { c.socket_opened(t, s); });
    h.at(10, [&](Client& c, double t) { c.socket_message(t, s, error(code)); });
    CHECK(one<ErrorEvent>(h.last).code == std::string(meshmeet::protocol::to_string(code)));
    CHECK(one<StateChanged>(h.last).state == "failed");
    CHECK(one<CloseSocket>(h.last).socket == s);
    CHECK(h.timers.empty());
    h.at(20, [&](Client& c, double t) { c.socket_closed(t, s, 1000); });
    CHECK(all<OpenSocket>(h.last).empty());
  }
}

// After a server restart our seat may have been taken: the meeting is full
// for us, though we were in it and our calls may still carry media. The
// session keeps asking for seatWaitMs (30 s), the app told each time, the
// mesh untouched; a welcome ends the wait, and so does running out of time.
TEST_CASE("session: meeting-full after being in the meeting is asked again for seatWaitMs, then final") {
  for (const bool seat_frees : {true, false}) {
    CAPTURE(seat_frees);
    Harness h;
    h.join_and_welcome("a1");
    h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
    const std::int64_t first_refusal_at = 1000;
    int refusals = 0;
    for (;;) {
      h.fire("reconnect-backoff");
      const int s = one<OpenSocket>(h.last).socket;
      h.at(refusals == 0 ? std::max<std::int64_t>(h.now + 5, first_refusal_at) : h.now + 5, [&](Client& c, double t) { c.socket_opened(t, s); });
      CHECK(parse(one<SendText>(h.last).text)["resume"] == "tok-a1");
      if (seat_frees && refusals == 2) {
        h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, welcome("a1", "T3")); });
        CHECK(one<Welcomed>(h.last).how == "resumed");
        CHECK(one<StateChanged>(h.last).state == "joined");
        break;
      }
      h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, error(ErrorCode::MeetingFull)); });
      CHECK(one<ErrorEvent>(h.last).code == "meeting-full");  // the app hears it every time
      ++refusals;
      const auto states = all<StateChanged>(h.last);
      REQUIRE(!states.empty());
      if (states.back().state == "failed") {
        CHECK_FALSE(seat_frees);
        CHECK(h.now - first_refusal_at >= 30000);
        CHECK(h.timers.empty());
        break;
      }
      CHECK(states.back().state == "reconnecting");  // not failed: the calls go on
      CHECK(one<CloseSocket>(h.last).socket == s);
      REQUIRE(refusals < 200);
    }
    CHECK(refusals >= (seat_frees ? 2 : 3));
  }
}

// A server whose Redis is away (or that drains) answers `unavailable`: not
// final, for a first join or a resume alike. The session asks again after the
// reconnect backoff, the app told each time, until a welcome.
TEST_CASE("session: unavailable is asked again after the backoff, first join and resume alike") {
  for (const bool resuming : {false, true}) {
    CAPTURE(resuming);
    Harness h;
    int s = 0;
    if (resuming) {
      h.join_and_welcome("a1");
      h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
      h.fire("reconnect-backoff");
    } else {
      h.at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Ann"); });
    }
    for (int refusals = 0; refusals < 3; ++refusals) {
      s = one<OpenSocket>(h.last).socket;
      h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, s); });
      CHECK(parse(one<SendText>(h.last).text).contains("resume") == resuming);
      h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, error(ErrorCode::Unavailable)); });
      CHECK(one<ErrorEvent>(h.last).code == "unavailable");
      CHECK(one<StateChanged>(h.last).state == "reconnecting");  // not failed
      CHECK(one<CloseSocket>(h.last).socket == s);
      h.fire("reconnect-backoff");
    }
    s = one<OpenSocket>(h.last).socket;
    h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, s); });
    h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, welcome("a1", "T2")); });
    CHECK(one<StateChanged>(h.last).state == "joined");
  }
}

TEST_CASE("session: a socket that never opens or a join never answered is retried") {
  Harness h;
  h.at(0, [](Client& c, double t) { c.join(t, "ws://h/ws", "m", "Ann"); });
  const int s1 = one<OpenSocket>(h.last).socket;
  h.fire("connect-timeout");
  CHECK(one<CloseSocket>(h.last).socket == s1);  // never opened: safe to close
  CHECK(one<StateChanged>(h.last).state == "reconnecting");
  h.fire("reconnect-backoff");
  const int s2 = one<OpenSocket>(h.last).socket;
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, s2); });
  h.fire("join-timeout");
  CHECK(all<CloseSocket>(h.last).empty());  // the server may hold our join: abandon, do not close
  CHECK(one<StateChanged>(h.last).state == "reconnecting");
  // Messages from the abandoned socket are ignored.
  h.at(h.now + 1, [&](Client& c, double t) { c.socket_message(t, s2, welcome("a1", "T")); });
  CHECK(all<Welcomed>(h.last).empty());
}

TEST_CASE("session: signals written while signaling is away are sent after the resume, to peers still present") {
  Harness h;
  h.join_and_welcome("a1", {"b1", "c1"});
  auto pcs = all<CreatePeerConnection>(h.last);
  REQUIRE(pcs.size() == 2);
  h.at(50, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
  // Both connections trickle a candidate while the server is away.
  for (const auto& pc : pcs)
    h.at(60, [&](Client& c, double t) {
      c.ice_candidate(t, pc.pc, R"({"candidate":"candidate:1 1 udp 1 10.0.0.1 9 typ host","usernameFragment":"u"})");
    });
  CHECK(all<SendText>(h.last).empty());
  h.fire("reconnect-backoff");
  const int s = one<OpenSocket>(h.last).socket;
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_opened(t, s); });
  // c1 left meanwhile: only b1's signal goes out, and c1's connection is closed.
  h.at(h.now + 5, [&](Client& c, double t) { c.socket_message(t, s, welcome("a1", "tok-a1", {"b1"})); });
  auto sent = all<SendText>(h.last);
  REQUIRE(sent.size() == 1);
  auto msg = parse(sent[0].text);
  CHECK(msg["type"] == "signal");
  CHECK(msg["to"] == "b1");
  CHECK(msg["data"]["candidate"]["usernameFragment"] == "u");
  auto left = one<PeerLeftEvent>(h.last);
  CHECK(left.peer == "c1");
  CHECK(left.reason == "gone");
  CHECK(one<ClosePeerConnection>(h.last).pc == (pcs[0].peer == "c1" ? pcs[0].pc : pcs[1].pc));
  CHECK(all<CreatePeerConnection>(h.last).empty());  // b1's connection was kept
}

TEST_CASE("session: every state change is logged as a transition at debug level") {
  Harness h;
  h.join_and_welcome("a1");
  std::vector<Output> trail = h.last;
  h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
  trail.insert(trail.end(), h.last.begin(), h.last.end());
  h.at(200, [](Client& c, double t) { c.leave(t); });
  trail.insert(trail.end(), h.last.begin(), h.last.end());
  h.fire("leave-timeout");  // the server is not reached
  trail.insert(trail.end(), h.last.begin(), h.last.end());
  std::vector<std::string> changed, logged;
  for (const auto& o : trail) {
    if (auto* s = std::get_if<StateChanged>(&o)) changed.push_back(s->state);
    if (auto* l = std::get_if<LogEntry>(&o); l && l->machine == "signaling-session" && l->from != l->to) {
      CHECK(l->level == LogLevel::Debug);
      logged.push_back(l->to);
    }
  }
  CHECK(changed == std::vector<std::string>{"joined", "reconnecting", "leaving", "left"});
  CHECK(logged == changed);

  ClientConfig quiet;
  quiet.debug_log = false;
  Harness q(quiet);
  q.join_and_welcome("a1");
  CHECK(all<LogEntry>(q.last).empty());
}

TEST_CASE("session: during a reconnect every state carries the attempt number, reset by the welcome") {
  Harness h;
  h.join_and_welcome("a1");
  h.at(100, [&](Client& c, double t) { c.socket_closed(t, h.socket, 1006); });
  std::vector<std::pair<std::string, int>> seen;
  auto record = [&] {
    for (const auto& s : all<StateChanged>(h.last)) seen.emplace_back(s.state, s.attempt);
  };
  record();
  h.fire("reconnect-backoff");
  record();
  const int s = one<OpenSocket>(h.last).socket;
  h.at(h.now + 1, [&](Client& c, double t) { c.socket_opened(t, s); });
  record();
  h.at(h.now + 1, [&](Client& c, double t) { c.socket_message(t, s, welcome("a1", "tok-a1")); });
  record();
  CHECK(seen == std::vector<std::pair<std::string, int>>{{"reconnecting", 1}, {"connecting", 1}, {"joining", 1}, {"joined", 0}});
}
