#include "sim/world.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace sim {

using namespace meshmeet::core;

std::string join_strings(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

World::World(WorldOptions options)
    : server(loop, [&] {
        options.server.seed = options.seed * 31 + 7;
        return options.server;
      }()),
      net(loop, options.seed * 17 + 3),
      seed_(options.seed) {
  meeting = server.create_meeting("sim");
}

Participant& World::add(const std::string& name, ParticipantOptions options) {
  people_.push_back(std::make_unique<Participant>(*this, name, std::move(options)));
  return *people_.back();
}

std::vector<Participant*> World::everyone() {
  std::vector<Participant*> out;
  for (auto& p : people_) out.push_back(p.get());
  return out;
}

std::vector<std::string> World::mesh_problems(const std::vector<Participant*>& members,
                                              const std::vector<std::string>& outsiders) {
  std::vector<std::string> problems;
  auto problem = [&](std::string s) { problems.push_back(std::move(s)); };
  std::map<std::string, Participant*> by_id;
  std::set<std::string> hosts;
  for (Participant* p : members) {
    hosts.insert(p->name());
    if (p->core().state() != "joined") problem(p->name() + " is " + p->core().state() + ", not joined");
    if (p->id().empty() || by_id.count(p->id())) problem(p->name() + " has no unique id");
    by_id[p->id()] = p;
    for (const auto& a : p->anomalies) problem(p->name() + ": " + a);
  }
  for (const FakePeerConnection* pc : net.all_connections())
    if (hosts.count(pc->host()) && pc->restart_offers_yielded() > 0)
      problem(pc->host() + ": " + std::to_string(pc->restart_offers_yielded()) +
              " ICE-restart offer(s) rolled back for the peer's colliding offer on connection " +
              std::to_string(pc->serial()) + " (Chrome can freeze the peer's video after that)");
  for (Participant* p : members) {
    std::vector<std::string> expected, roster;
    for (Participant* q : members)
      if (q != p) expected.push_back(q->id());
    for (const auto& o : outsiders) expected.push_back(o);
    std::sort(expected.begin(), expected.end());
    const auto peers = p->core().peers();
    for (const auto& s : peers) roster.push_back(s.peer);
    if (roster != expected) problem(p->name() + " roster " + join_strings(roster) + " != " + join_strings(expected));
    for (const auto& s : peers) {
      if (std::find(outsiders.begin(), outsiders.end(), s.peer) != outsiders.end()) continue;
      Participant* q = by_id.count(s.peer) ? by_id[s.peer] : nullptr;
      const std::string pair = p->name() + "→" + (q ? q->name() : s.peer);
      if (s.state != "connected") problem(pair + " is " + s.state);
      auto it = p->pcs.find(s.pc);
      if (it == p->pcs.end()) {
        problem(pair + ": the core's connection " + std::to_string(s.pc) + " is not open in the shim");
        continue;
      }
      FakePeerConnection* x = it->second;
      if (x->connection_state() != "connected") problem(pair + ": connectionState " + x->connection_state());
      if (!x->data_channel_open()) problem(pair + ": data channel not open");
      if (!q) continue;
      for (const auto& back : q->core().peers()) {
        if (back.peer != p->id()) continue;
        auto y = q->pcs.find(back.pc);
        if (y == q->pcs.end() || x->partner() != y->second->serial() || y->second->partner() != x->serial())
          problem(pair + ": the two ends' connections are not paired with each other");
        if (s.polite == back.polite) problem(pair + ": both ends are " + (s.polite ? "polite" : "impolite"));
        if (s.verification_code.empty() || s.verification_code != back.verification_code)
          problem(pair + ": verification codes differ ('" + s.verification_code + "' vs '" + back.verification_code + "')");
      }
    }
    if (p->pcs.size() != members.size() - 1)
      problem(p->name() + " holds " + std::to_string(p->pcs.size()) + " open connections, expected " +
              std::to_string(members.size() - 1));
    if (p->timers.size() != p->core().active_timer_count())
      problem(p->name() + ": the shim runs " + std::to_string(p->timers.size()) + " timers, the core knows " +
              std::to_string(p->core().active_timer_count()));
    std::vector<std::string> want = {"heartbeat-ping", "server-silence"};
    if (members.size() > 1) want.push_back("stats");
    std::sort(want.begin(), want.end());
    if (p->sorted_timer_purposes() != want)
      problem(p->name() + " timers " + join_strings(p->sorted_timer_purposes()) + " != " + join_strings(want));
  }
  std::size_t open = 0;
  for (FakePeerConnection* pc : net.open_connections()) {
    if (!hosts.count(pc->host()))
      problem("stray connection held by " + pc->host());
    else
      ++open;
  }
  if (open != members.size() * (members.size() - 1))
    problem(std::to_string(open) + " connections open among members, expected " +
            std::to_string(members.size() * (members.size() - 1)));
  return problems;
}

std::vector<std::string> World::left_problems(Participant& p) {
  std::vector<std::string> problems;
  if (p.core().state() != "left") problems.push_back(p.name() + " is " + p.core().state());
  if (!p.pcs.empty()) problems.push_back(p.name() + " still holds " + std::to_string(p.pcs.size()) + " connections");
  if (!p.timers.empty() || p.core().active_timer_count())
    problems.push_back(p.name() + " still runs timers " + join_strings(p.sorted_timer_purposes()));
  if (!p.sockets.empty()) problems.push_back(p.name() + " still holds a socket");
  if (!p.core().peers().empty()) problems.push_back(p.name() + " still has a roster");
  for (const auto& a : p.anomalies) problems.push_back(p.name() + ": " + a);
  return problems;
}

std::vector<std::string> World::media_problems(const std::vector<Participant*>& members) {
  std::vector<std::string> problems;
  for (Participant* q : members) {
    for (Participant* p : members) {
      if (p == q) continue;
      const PeerMediaChanged* last = nullptr;
      for (const auto& e : q->events)
        if (auto* m = std::get_if<PeerMediaChanged>(&e); m && m->peer == p->id()) last = m;
      const std::string pair = q->name() + " sees " + p->name();
      if (!last) {
        problems.push_back(pair + ": no peer-media");
        continue;
      }
      auto on = [](bool b) { return b ? "on" : "off"; };
      if (last->audio != p->sends_live("audio"))
        problems.push_back(pair + "'s microphone " + on(last->audio) + ", it is " + on(p->sends_live("audio")));
      if (last->video != p->sends_live("video"))
        problems.push_back(pair + "'s camera " + on(last->video) + ", it is " + on(p->sends_live("video")));
    }
  }
  return problems;
}

std::vector<std::string> World::data_channel_problems(const std::vector<Participant*>& members, const std::string& when) {
  std::vector<std::string> problems;
  // The kind each member turns off and on (or on and off), in the members' order.
  std::vector<std::pair<Participant*, std::string>> flipped;
  for (Participant* p : members) {
    auto has = [&](const char* kind) { return p->current_track.count(kind) && !p->current_track.at(kind).empty(); };
    if (has("audio") || has("video"))
      flipped.emplace_back(p, has("audio") ? "audio" : "video");
    else
      problems.push_back(when + ": " + p->name() + " has no microphone or camera to turn off");
  }
  // The peer-media events q received from p (under any id p has had: a
  // message sent around a rejoin may carry the old one).
  auto heard = [](Participant* q, Participant* p) {
    std::set<std::string> ids;
    for (const auto& w : p->events_of<Welcomed>()) ids.insert(w.self);
    std::vector<PeerMediaChanged> out;
    for (const auto& m : q->events_of<PeerMediaChanged>())
      if (ids.count(m.peer)) out.push_back(m);
    return out;
  };
  for (int round = 0; round < 2; ++round) {
    std::map<std::pair<Participant*, Participant*>, std::size_t> before;  // (q, p) → events so far
    for (Participant* q : members)
      for (Participant* p : members)
        if (p != q) before[{q, p}] = heard(q, p).size();
    for (auto& [p, kind] : flipped) p->set_muted(kind, p->sends_live(kind));  // off if on, on if off
    run_for(500);
    for (Participant* q : members) {
      for (auto& [p, kind] : flipped) {
        if (p == q) continue;
        const auto events = heard(q, p);
        const std::size_t got = events.size() - before[{q, p}];
        const std::string change = p->name() + "'s " + (kind == "audio" ? "microphone" : "camera") + " going " +
                                   (p->sends_live(kind) ? "on" : "off");
        if (got != 1) {
          problems.push_back(when + ": " + q->name() + " heard of " + change + " " + std::to_string(got) + " times");
          continue;
        }
        const bool said = kind == "audio" ? events.back().audio : events.back().video;
        if (said != p->sends_live(kind)) problems.push_back(when + ": " + q->name() + " was told the opposite of " + change);
      }
    }
  }
  return problems;
}

}  // namespace sim
