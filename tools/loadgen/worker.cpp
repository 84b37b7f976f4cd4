// One worker process: a slice of whole meetings, one single-threaded
// io_context, every socket bound to this worker's own 127.0.0.x source address.
//
// Life of a participant: TCP connect -> WebSocket upgrade -> `join` ->
// `welcome` -> for every peer (from welcome.peers, or a later peer-joined) one
// ~3 KB description (offer from the newcomer, answer from the one already
// there) plus --candidates ICE candidates as `signal` messages -> `ping` every
// heartbeat interval -> (if it is in the leaving half) `leave`, else it waits
// for `peer-left` of each leaver of its meeting -> clean close.
//
// With several --url, participant p connects to url[p % n]. With
// --resume-on-close, a joined participant whose socket closes unexpectedly
// (a server killed) connects again elsewhere and sends
// {"type":"join","meeting":ID,"resume":TOKEN} with its last welcome.resume;
// the welcome must carry the same `self`.
//
// Talks to the parent over two pipes: commands in ("leave\n", "quit\n"),
// JSON lines out ({"ev":"ramped",...} then {"ev":"result",...}).
#include "common.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <netinet/in.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <deque>
#include <memory>
#include <string_view>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace lg {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = net::ip::tcp;

namespace {

using WS = websocket::stream<tcp::socket>;

enum class St { Idle, Connecting, Upgrading, Joining, Joined, Leaving, Closing, Done, Failed };

struct PeerSeen {
    std::string id;
    int64_t last_seq = -1;
};

struct Part {
    int gidx = 0;
    int url = 0;      // index into Worker::eps_ of the server it is connected to
    int meeting = 0;  // local meeting index
    int slot = 0;
    bool leaver = false;
    St st = St::Idle;
    bool terminal = false;  // joined or given up (counted once)
    bool ever_joined = false;
    std::unique_ptr<WS> ws;
    std::unique_ptr<websocket::response_type> res;
    beast::flat_buffer rbuf;
    std::deque<std::string> wq;
    bool writing = false;
    bool want_close = false;
    int64_t t_sched = 0, t_start = 0, t_upgrade = 0, t_join = 0, t_leave = 0, next_ping = 0;
    std::string self;
    std::vector<PeerSeen> peers;
    int64_t sig_expected = 0, sig_rx = 0;
    uint64_t left_mask = 0;
    int64_t seq = 0;
    // --resume-on-close
    std::string token;       // the last welcome.resume
    bool resuming = false;   // between the unexpected close and the welcome that follows
    int resume_try = 0;      // how many of the resume candidates refused the connection
    int failed_url = 0;      // the url whose socket closed
    int64_t t_closed = 0;
    uint32_t gen = 0;        // socket generation: a write of the closed socket completing late is ignored
};

// Where a participant connects: one per --url, then --resume-url.
struct Endpoint {
    tcp::endpoint ep;
    std::string host_hdr, path;
};

void write_all(int fd, const std::string& s) {
    size_t off = 0;
    while (off < s.size()) {
        ssize_t n = ::write(fd, s.data() + off, s.size() - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        off += size_t(n);
    }
}

class Worker {
public:
    explicit Worker(const WorkerSetup& s)
        : S(s), O(s.opt), ramp_timer_(ioc_), sweep_timer_(ioc_), leave_timer_(ioc_), ctl_(ioc_, s.ctl_fd) {
        base_ns_ = S.t0_ns - 1000000000LL;
        auto endpoint = [](const Target& t) {
            return Endpoint{tcp::endpoint(net::ip::make_address_v4(t.host), uint16_t(t.port)),
                            t.host + ":" + std::to_string(t.port), t.path};
        };
        for (const auto& t : O.urls) eps_.push_back(endpoint(t));
        if (O.has_resume_url) eps_.push_back(endpoint(O.resume_url));
        joined_by_url_.assign(O.urls.size(), 0);
        src_ = net::ip::make_address_v4(O.source_base + std::to_string(O.source_first + S.index));
        hb_interval_ns_ = int64_t(O.ping_interval * 1e9);
        const double per_s = O.rate;
        for (const auto& m : S.meetings) {
            const int mi = int(members_.size());
            members_.emplace_back();
            meeting_ids_.push_back(m.id);
            for (int k = 0; k < m.members; k++) {
                auto p = std::make_unique<Part>();
                p->gidx = m.first_global + k;
                p->url = p->gidx % int(O.urls.size());
                p->meeting = mi;
                p->slot = k;
                p->leaver = (k % 2) == 1;  // slots 1, 3, ...: half of each meeting leaves
                p->t_sched = S.t0_ns + int64_t(double(p->gidx) * 1e9 / per_s);
                members_[size_t(mi)].push_back(int(parts_.size()));
                parts_.push_back(std::move(p));
            }
        }
        // Descriptions are the same size for everyone; build a few and reuse
        // them round-robin (the server treats data as opaque).
        for (int v = 0; v < 8; v++) {
            const uint64_t seed = uint64_t(S.index) * 1000 + uint64_t(v);
            offers_.push_back(json_escape(make_sdp(seed, true)));
            answers_.push_back(json_escape(make_sdp(seed, false)));
            std::vector<std::string> cs;
            for (auto& c : make_candidates(seed, O.candidates)) cs.push_back(json_escape(c));
            cands_.push_back(std::move(cs));
        }
    }

    [[noreturn]] void run() {
        read_ctl();
        ramp_tick();
        sweep();
        ioc_.run();
        _exit(4);  // not reached: finish() exits
    }

private:
    // ---------- helpers ----------
    static net::steady_timer::time_point tp(int64_t ns) {
        return net::steady_timer::time_point(std::chrono::nanoseconds(ns));
    }
    void err(const std::string& kind) { errors_[kind]++; }
    int64_t rel(int64_t ns) const { return ns - base_ns_; }

    void mark_terminal(Part& p) {
        if (p.terminal) return;
        p.terminal = true;
        terminal_++;
        if (terminal_ == parts_.size()) t_all_terminal_ = now_ns();
    }

    void hard_close(Part& p) {
        if (!p.ws) return;
        beast::error_code ec;
        p.ws->next_layer().close(ec);
    }

    void give_up(size_t i, const std::string& kind) {
        Part& p = *parts_[i];
        if (p.resuming) {
            resume_failed_++;
            p.resuming = false;
            err("resume-" + kind);
        } else {
            err(kind);
        }
        p.st = St::Failed;
        mark_terminal(p);
        hard_close(p);
    }

    // ---------- ramp ----------
    void ramp_tick() {
        const int64_t now = now_ns();
        while (next_start_ < parts_.size() && parts_[next_start_]->t_sched <= now) start(next_start_++);
        if (next_start_ < parts_.size()) {
            ramp_timer_.expires_at(tp(parts_[next_start_]->t_sched));
            ramp_timer_.async_wait([this](beast::error_code ec) {
                if (!ec) ramp_tick();
            });
        }
    }

    void start(size_t i) {
        Part& p = *parts_[i];
        p.st = St::Connecting;
        p.t_start = now_ns();
        connect(i);
    }

    // A fresh socket to eps_[p.url] (also for a resume).
    void connect(size_t i) {
        Part& p = *parts_[i];
        p.gen++;
        p.ws = std::make_unique<WS>(ioc_);
        auto& sock = p.ws->next_layer();
        beast::error_code ec;
        sock.open(tcp::v4(), ec);
        if (ec) return give_up(i, "connect-failed:" + ec.message());
        if (O.bind_source) {
            int one = 1;
            ::setsockopt(sock.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
            sock.bind(tcp::endpoint(src_, 0), ec);
            if (ec) return give_up(i, "connect-failed:bind " + ec.message());
        }
        sock.async_connect(eps_[size_t(p.url)].ep, [this, i](beast::error_code ec2) { on_connect(i, ec2); });
    }

    void on_connect(size_t i, beast::error_code ec) {
        Part& p = *parts_[i];
        if (p.st != St::Connecting) return;
        if (ec && p.resuming) return resume_elsewhere(i, "connect-failed:" + ec.message());
        if (ec) return give_up(i, "connect-failed:" + ec.message());
        const int64_t now = now_ns();
        if (!p.resuming) h_connect_.add(now - p.t_start);
        p.ws->next_layer().set_option(tcp::no_delay(true), ec);
        websocket::stream_base::timeout to{};
        to.handshake_timeout = std::chrono::milliseconds(int64_t(O.join_timeout * 1000));
        to.idle_timeout = websocket::stream_base::none();
        to.keep_alive_pings = false;
        p.ws->set_option(to);
        p.ws->set_option(websocket::stream_base::decorator([](websocket::request_type& r) {
            r.set(beast::http::field::user_agent, "meshmeet-loadgen/1");
        }));
        p.ws->read_message_max(1 << 20);
        p.ws->auto_fragment(false);
        p.ws->text(true);
        p.st = St::Upgrading;
        p.t_upgrade = now;
        p.res = std::make_unique<websocket::response_type>();
        const Endpoint& e = eps_[size_t(p.url)];
        p.ws->async_handshake(*p.res, e.host_hdr, e.path, [this, i](beast::error_code ec2) { on_upgrade(i, ec2); });
    }

    void on_upgrade(size_t i, beast::error_code ec) {
        Part& p = *parts_[i];
        if (p.st != St::Upgrading) return;
        if (ec) {
            std::string why = ec.message();
            if (ec == websocket::error::upgrade_declined && p.res) why = "http-" + std::to_string(p.res->result_int());
            p.res.reset();
            return give_up(i, "upgrade-failed:" + why);
        }
        p.res.reset();
        if (!p.resuming) h_upgrade_.add(now_ns() - p.t_upgrade);
        p.st = St::Joining;
        std::string msg = "{\"type\":\"join\",\"meeting\":" + json_escape(meeting_ids_[size_t(p.meeting)]) +
                          (p.resuming ? ",\"resume\":" + json_escape(p.token) + "}"
                                      : ",\"name\":\"lg " + std::to_string(p.gidx) + "\"}");
        p.t_join = now_ns();
        send(i, std::move(msg));
        read(i);
    }

    // ---------- I/O ----------
    void send(size_t i, std::string msg) {
        Part& p = *parts_[i];
        msgs_sent_++;
        bytes_sent_ += msg.size();
        p.wq.push_back(std::move(msg));
        if (!p.writing) write_next(i);
    }

    void write_next(size_t i) {
        Part& p = *parts_[i];
        p.writing = true;
        p.ws->async_write(net::buffer(p.wq.front()), [this, i, gen = p.gen](beast::error_code ec, std::size_t) {
            Part& q = *parts_[i];
            if (q.gen != gen) return;  // the socket it was for closed; the participant resumed since
            q.writing = false;
            if (!q.wq.empty()) q.wq.pop_front();
            if (ec) {
                q.wq.clear();
                if (q.want_close) finish_close(i);
                return;  // the read side reports the failure
            }
            if (!q.wq.empty()) return write_next(i);
            if (q.want_close) do_close(i);
        });
    }

    void request_close(size_t i) {
        Part& p = *parts_[i];
        p.want_close = true;
        if (!p.writing) do_close(i);
    }

    void do_close(size_t i) {
        parts_[i]->ws->async_close(websocket::close_code::normal, [this, i](beast::error_code) { finish_close(i); });
    }

    void finish_close(size_t i) {
        Part& p = *parts_[i];
        if (p.st == St::Closing) {
            p.st = St::Done;
            closing_outstanding_--;
            hard_close(p);
        }
    }

    void read(size_t i) {
        Part& p = *parts_[i];
        p.ws->async_read(p.rbuf, [this, i](beast::error_code ec, std::size_t) { on_read(i, ec); });
    }

    void on_read(size_t i, beast::error_code ec) {
        Part& p = *parts_[i];
        if (ec) {
            const bool closed = (ec == websocket::error::closed);
            const int code = closed ? int(p.ws->reason().code) : -1;
            switch (p.st) {
                case St::Leaving:
                    if (closed && code == 1000) leave_closed_ok_++;
                    else err("leave-close:" + (closed ? "close-" + std::to_string(code) : ec.message()));
                    leave_closed_++;
                    p.st = St::Done;
                    hard_close(p);
                    return;
                case St::Closing:
                case St::Done:
                case St::Failed:
                case St::Idle:
                    return;
                case St::Joining:
                case St::Connecting:
                case St::Upgrading:
                    return give_up(i, "join-closed:" + (closed ? "close-" + std::to_string(code) : ec.message()));
                case St::Joined:
                    if (O.resume_on_close && phase_ != Phase::Close && phase_ != Phase::Finished)
                        return start_resume(i);
                    err("unexpected-close:" + (closed ? "close-" + std::to_string(code) : ec.message()));
                    p.st = St::Failed;
                    hard_close(p);
                    return;
            }
            return;
        }
        const auto data = p.rbuf.cdata();
        handle(i, std::string_view(static_cast<const char*>(data.data()), data.size()));
        p.rbuf.consume(p.rbuf.size());
        if (p.st == St::Joining || p.st == St::Joined || p.st == St::Leaving || p.st == St::Closing) read(i);
    }

    // ---------- protocol ----------
    static const std::string* str_field(const json& j, const char* k) {
        auto it = j.find(k);
        if (it == j.end() || !it->is_string()) return nullptr;
        return &it->get_ref<const std::string&>();
    }

    void handle(size_t i, std::string_view msg) {
        Part& p = *parts_[i];
        msgs_recv_++;
        bytes_recv_ += msg.size();
        const int64_t now = now_ns();
        json j = json::parse(msg.begin(), msg.end(), nullptr, false);
        if (j.is_discarded() || !j.is_object()) return err("bad-server-message:not-json-object");
        const std::string* type = str_field(j, "type");
        if (!type) return err("bad-server-message:no-type");

        if (*type == "signal") {
            if (p.st != St::Joined && p.st != St::Leaving) return;
            const std::string* from = str_field(j, "from");
            auto d = j.find("data");
            if (!from || d == j.end() || !d->is_object()) return err("bad-server-message:signal");
            sig_rx_total_++;
            p.sig_rx++;
            PeerSeen* ps = nullptr;
            for (auto& x : p.peers)
                if (x.id == *from) ps = &x;
            if (!ps) signal_from_unknown_++;
            auto t = d->find("t");
            if (t != d->end() && t->is_number()) {
                const int64_t lat = now - (base_ns_ + t->get<int64_t>());
                h_relay_.add(lat);
                if (d->contains("description")) h_relay_sdp_.add(lat);
                // Sender and receiver on the same server address or not (the
                // sender is in this worker: workers own whole meetings).
                if (eps_.size() > 1)
                    for (int mi : members_[size_t(p.meeting)])
                        if (parts_[size_t(mi)]->self == *from) {
                            const Endpoint &a = eps_[size_t(parts_[size_t(mi)]->url)], &b = eps_[size_t(p.url)];
                            (a.ep == b.ep && a.path == b.path ? h_relay_same_ : h_relay_cross_).add(lat);
                            break;
                        }
            }
            auto s = d->find("seq");
            if (ps && s != d->end() && s->is_number_integer()) {
                const int64_t seq = s->get<int64_t>();
                if (seq <= ps->last_seq) out_of_order_++;
                ps->last_seq = seq;
            }
            return;
        }
        if (*type == "welcome") {
            if (p.st != St::Joining) return err("bad-server-message:unexpected-welcome");
            const std::string* self = str_field(j, "self");
            if (!self) return err("bad-server-message:welcome");
            if (const std::string* token = str_field(j, "resume")) p.token = *token;
            if (p.resuming) return resumed(i, *self, j, now);
            p.self = *self;
            joined_by_url_[size_t(p.url)]++;
            h_join_.add(now - p.t_join);
            h_total_.add(now - p.t_sched);
            p.st = St::Joined;
            p.ever_joined = true;
            joined_++;
            last_welcome_ns_ = now;
            mark_terminal(p);
            if (hb_interval_ns_ == 0) {
                auto hb = j.find("heartbeat");
                if (hb != j.end() && hb->is_object() && hb->contains("interval") && (*hb)["interval"].is_number())
                    hb_interval_ns_ = int64_t((*hb)["interval"].get<double>() * 1e6);
                if (hb_interval_ns_ <= 0) hb_interval_ns_ = 10000000000LL;
            }
            p.next_ping = now + hb_interval_ns_;
            auto peers = j.find("peers");
            if (peers != j.end() && peers->is_array())
                for (const auto& e : *peers) {
                    const std::string* id = e.is_object() ? str_field(e, "id") : nullptr;
                    if (!id) continue;
                    if (add_peer(p, *id)) negotiate(i, *id, true);
                }
            return;
        }
        if (*type == "peer-joined") {
            if (p.st != St::Joined) return;
            auto pj = j.find("peer");
            const std::string* id = (pj != j.end() && pj->is_object()) ? str_field(*pj, "id") : nullptr;
            if (!id) return err("bad-server-message:peer-joined");
            if (add_peer(p, *id)) negotiate(i, *id, false);
            else peer_joined_known_++;
            return;
        }
        if (*type == "pong") {
            auto t = j.find("t");
            if (t != j.end() && t->is_number()) h_pong_.add(now - (base_ns_ + int64_t(t->get<double>())));
            return;
        }
        if (*type == "peer-left") {
            if (p.st != St::Joined || phase_ == Phase::Close || phase_ == Phase::Finished) return;
            const std::string* id = str_field(j, "peer");
            const std::string* reason = str_field(j, "reason");
            if (!id) return err("bad-server-message:peer-left");
            const std::string why = reason ? *reason : "?";
            for (int li : members_[size_t(p.meeting)]) {
                Part& l = *parts_[size_t(li)];
                if (l.self != *id) continue;
                if (l.leaver && l.t_leave > 0) {
                    if (p.leaver) return;  // a leaver that has not left yet: not checked
                    const uint64_t bit = 1ULL << (l.slot & 63);
                    if (p.left_mask & bit) {
                        peer_left_dup_++;
                    } else {
                        p.left_mask |= bit;
                        peer_left_delivered_++;
                        h_peer_left_.add(now - l.t_leave);
                        if (why != "left") err("peer-left-wrong-reason:" + why);
                    }
                    return;
                }
                break;
            }
            // A participant this worker gave up on (timeout) may have been
            // joined by the server after all: its slot is held, then dropped.
            for (int li : members_[size_t(p.meeting)])
                if (parts_[size_t(li)]->st == St::Failed && parts_[size_t(li)]->t_join > 0 &&
                    !parts_[size_t(li)]->ever_joined)
                    return err("peer-left-after-client-gave-up:" + why);
            err("unexpected-peer-left:" + why);
            return;
        }
        if (*type == "error") {
            const std::string* code = str_field(j, "code");
            const std::string c = code ? *code : "?";
            if (p.st == St::Joining && p.resuming) resume_refused_++;
            if (p.st == St::Joining) return give_up(i, (p.resuming ? "refused:" : "join-error:") + c);
            err("server-error:" + c);
            return;
        }
        err("bad-server-message:unknown-type");
    }

    // ---------- resume (--resume-on-close) ----------
    void start_resume(size_t i) {
        Part& p = *parts_[i];
        hard_close(p);
        // A write may still be in flight on the closed socket: keep the
        // stream and the buffers it points into until the end.
        retired_.push_back(Retired{std::move(p.ws), std::move(p.wq)});
        p.wq.clear();
        p.writing = false;
        p.rbuf.consume(p.rbuf.size());
        p.resuming = true;
        p.resume_try = 0;
        p.t_closed = now_ns();
        resume_closes_++;
        if (!first_close_ns_) first_close_ns_ = p.t_closed;
        last_close_ns_ = p.t_closed;
        p.failed_url = p.url;
        p.url = resume_target(p);
        if (p.url < 0) {
            p.url = p.failed_url;
            return give_up(i, "failed:nowhere-to-resume");
        }
        p.st = St::Connecting;
        resume_attempts_++;
        connect(i);
    }

    // Where to resume: --resume-url, else the other --url (those naming
    // another server than the one that failed, each once), the first choice
    // spread by participant so the survivors share the load; each refused
    // connection moves to the next.
    int resume_target(const Part& p) const {
        if (O.has_resume_url) return int(eps_.size()) - 1;
        std::vector<int> others;
        const int n = int(O.urls.size());
        for (int k = 1; k < n; k++) {
            const int u = (p.failed_url + k) % n;
            bool seen = O.urls[size_t(u)] == O.urls[size_t(p.failed_url)];
            for (int o : others) seen = seen || O.urls[size_t(o)] == O.urls[size_t(u)];
            if (!seen) others.push_back(u);
        }
        if (others.empty() || p.resume_try >= int(others.size())) return -1;
        return others[size_t((p.gidx + p.resume_try) % int(others.size()))];
    }

    void resume_elsewhere(size_t i, const std::string& why) {
        Part& p = *parts_[i];
        hard_close(p);
        p.resume_try++;
        const int next = O.has_resume_url ? -1 : resume_target(p);
        if (next < 0) return give_up(i, why);
        p.url = next;
        resume_attempts_++;
        connect(i);
    }

    void resumed(size_t i, const std::string& self, const json& welcome, int64_t now) {
        Part& p = *parts_[i];
        // The roster must be the one it had (nobody leaves while it is away
        // here): count peers it did not know and peers missing.
        size_t listed = 0;
        auto peers = welcome.find("peers");
        if (peers != welcome.end() && peers->is_array())
            for (const auto& e : *peers) {
                const std::string* id = e.is_object() ? str_field(e, "id") : nullptr;
                if (!id) continue;
                listed++;
                if (add_peer(p, *id)) {
                    resume_roster_new_++;
                    err("resume-roster-new-peer");
                    negotiate(i, *id, true);
                }
            }
        if (listed < p.peers.size()) {
            resume_roster_missing_ += p.peers.size() - listed;
            err("resume-roster-missing-peer");
        }
        p.resuming = false;
        p.st = St::Joined;
        p.next_ping = now + hb_interval_ns_;
        if (self == p.self) {
            resume_same_++;
        } else {
            resume_different_++;
            err("resume-different-id");
            p.self = self;
        }
        h_resume_.add(now - p.t_closed);
        if (const int64_t k = kill_ns(); k > 0) h_resume_kill_.add(now - k);
        if (!first_resume_ns_) first_resume_ns_ = now;
        last_resume_ns_ = now;
    }

    // The kill time, read once it is there (its writer puts it there
    // before the kill, so it is there by the first close).
    int64_t kill_ns() {
        if (kill_ns_ || O.kill_time_file.empty()) return kill_ns_;
        FILE* f = std::fopen(O.kill_time_file.c_str(), "r");
        if (!f) return 0;
        long long v = 0;
        if (std::fscanf(f, "%lld", &v) == 1 && v > 0) kill_ns_ = v;
        std::fclose(f);
        return kill_ns_;
    }

    bool add_peer(Part& p, const std::string& id) {
        for (auto& x : p.peers)
            if (x.id == id) return false;
        p.peers.push_back(PeerSeen{id, -1});
        if (O.signals) p.sig_expected += 1 + O.candidates;
        return true;
    }

    // One description (offer from the newcomer, answer from the one already
    // there) and the candidates, each a separate `signal`, like trickle ICE.
    void negotiate(size_t i, const std::string& to, bool offer) {
        if (!O.signals) return;
        Part& p = *parts_[i];
        const std::string to_esc = json_escape(to);
        const size_t v = size_t(p.gidx) % offers_.size();
        auto head = [&](int64_t seq) {
            return "{\"type\":\"signal\",\"to\":" + to_esc + ",\"data\":{\"t\":" + std::to_string(rel(now_ns())) +
                   ",\"seq\":" + std::to_string(seq);
        };
        {
            std::string m = head(p.seq++);
            m += ",\"description\":{\"type\":\"";
            m += offer ? "offer" : "answer";
            m += "\",\"sdp\":";
            m += offer ? offers_[v] : answers_[v];
            m += "}}}";
            send(i, std::move(m));
            sig_sent_++;
        }
        for (int c = 0; c < O.candidates; c++) {
            std::string m = head(p.seq++);
            m += ",\"candidate\":{\"candidate\":";
            m += cands_[v][size_t(c)];
            m += ",\"sdpMid\":\"" + std::to_string(c % 2) + "\",\"sdpMLineIndex\":" + std::to_string(c % 2) + "}}}";
            send(i, std::move(m));
            sig_sent_++;
        }
    }

    // ---------- control pipe ----------
    void read_ctl() {
        net::async_read_until(ctl_, ctl_buf_, '\n', [this](beast::error_code ec, std::size_t n) {
            if (ec) _exit(3);  // parent is gone
            std::string line(static_cast<const char*>(ctl_buf_.data().data()), n);
            ctl_buf_.consume(n);
            while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
            if (line == "leave" && phase_ == Phase::Hold) start_leave();
            else if (line == "quit") start_close();
            read_ctl();
        });
    }

    void emit(const json& j) { write_all(S.out_fd, j.dump() + "\n"); }

    // ---------- leave ----------
    void start_leave() {
        phase_ = Phase::Leave;
        t_leave_start_ = now_ns();
        for (size_t i = 0; i < parts_.size(); i++)
            if (parts_[i]->leaver && parts_[i]->st == St::Joined) leave_order_.push_back(i);
        double lr = (O.leave_rate > 0 ? O.leave_rate : O.rate) / double(std::max(1, O.workers));
        if (lr <= 0) lr = 1000;
        leave_step_ns_ = int64_t(1e9 / lr);
        leave_tick();
    }

    void leave_tick() {
        const int64_t now = now_ns();
        while (next_leave_ < leave_order_.size() &&
               t_leave_start_ + int64_t(next_leave_) * leave_step_ns_ <= now)
            do_leave(leave_order_[next_leave_++]);
        if (next_leave_ < leave_order_.size()) {
            leave_timer_.expires_at(tp(t_leave_start_ + int64_t(next_leave_) * leave_step_ns_));
            leave_timer_.async_wait([this](beast::error_code ec) {
                if (!ec) leave_tick();
            });
        } else {
            t_last_leave_ = now_ns();
        }
    }

    void do_leave(size_t i) {
        Part& p = *parts_[i];
        if (p.st != St::Joined) return;
        p.st = St::Leaving;
        p.t_leave = now_ns();
        leaves_sent_++;
        for (int mi : members_[size_t(p.meeting)]) {
            const Part& m = *parts_[size_t(mi)];
            if (!m.leaver && m.st == St::Joined) peer_left_expected_++;
        }
        send(i, "{\"type\":\"leave\"}");
    }

    // ---------- close ----------
    void start_close() {
        if (phase_ == Phase::Close || phase_ == Phase::Finished) return;
        phase_ = Phase::Close;
        t_close_start_ = now_ns();
        for (size_t i = 0; i < parts_.size(); i++) {
            Part& p = *parts_[i];
            if (p.st == St::Joined) {
                p.st = St::Closing;
                closing_outstanding_++;
                request_close(i);
            } else if (p.st == St::Leaving) {
                err("leave-not-closed");
                p.st = St::Done;
                hard_close(p);
            } else if (p.st == St::Connecting || p.st == St::Upgrading || p.st == St::Joining) {
                give_up(i, "timeout:" + std::string(p.st == St::Connecting ? "connect" : p.st == St::Upgrading ? "upgrade" : "join"));
            }
        }
    }

    // ---------- periodic ----------
    void sweep() {
        const int64_t now = now_ns();
        const int64_t jt = int64_t(O.join_timeout * 1e9);
        for (size_t i = 0; i < parts_.size(); i++) {
            Part& p = *parts_[i];
            switch (p.st) {
                case St::Connecting:
                case St::Upgrading:
                case St::Joining:
                    if (now - (p.resuming ? p.t_closed : p.t_sched) > jt)
                        give_up(i, std::string("timeout:") +
                                       (p.st == St::Connecting ? "connect" : p.st == St::Upgrading ? "upgrade" : "join"));
                    break;
                case St::Joined:
                    if (phase_ != Phase::Close && now >= p.next_ping) {
                        p.next_ping += hb_interval_ns_;
                        if (p.next_ping < now) p.next_ping = now + hb_interval_ns_;
                        send(i, "{\"type\":\"ping\",\"t\":" + std::to_string(rel(now)) + "}");
                        pings_sent_++;
                    }
                    break;
                default:
                    break;
            }
        }
        if (phase_ == Phase::Ramp && now - last_progress_ns_ >= 2000000000LL) {
            last_progress_ns_ = now;
            emit(json{{"ev", "progress"}, {"worker", S.index}, {"joined", joined_}, {"terminal", terminal_},
                      {"started", next_start_}});
        }
        if (phase_ == Phase::Ramp && terminal_ == parts_.size()) {
            int64_t outstanding = 0;
            for (auto& pp : parts_)
                if (pp->st == St::Joined) outstanding += std::max<int64_t>(0, pp->sig_expected - pp->sig_rx);
            const bool timed_out = now - t_all_terminal_ > int64_t(O.settle * 1e9);
            if (outstanding == 0 || timed_out) {
                int64_t missing = 0, expected = 0;
                for (auto& pp : parts_)
                    if (pp->ever_joined) {
                        missing += std::max<int64_t>(0, pp->sig_expected - pp->sig_rx);
                        expected += pp->sig_expected;
                    }
                sig_missing_ = missing;
                sig_expected_ = expected;
                t_settled_ = now;
                phase_ = Phase::Hold;
                emit(json{{"ev", "ramped"}, {"worker", S.index}, {"joined", joined_}, {"cpu_s", cpu_seconds()},
                          {"participants", parts_.size()}, {"last_welcome_ns", last_welcome_ns_},
                          {"settled_ns", now}, {"settle_timed_out", timed_out && outstanding > 0},
                          {"signals_missing", missing}});
            }
        }
        if (phase_ == Phase::Leave && next_leave_ >= leave_order_.size() && t_last_leave_ > 0) {
            const bool all_in = peer_left_delivered_ >= peer_left_expected_ && leave_closed_ >= leaves_sent_;
            if (all_in || now - t_last_leave_ > int64_t(O.leave_wait * 1e9)) start_close();
        }
        if (phase_ == Phase::Close &&
            (closing_outstanding_ <= 0 || now - t_close_start_ > 5000000000LL)) {
            if (closing_outstanding_ > 0) err("close-not-acknowledged");
            finish();
        }
        sweep_timer_.expires_after(std::chrono::milliseconds(50));
        sweep_timer_.async_wait([this](beast::error_code ec) {
            if (!ec) sweep();
        });
    }

    static double cpu_seconds() {
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    }

    [[noreturn]] void finish() {
        phase_ = Phase::Finished;
        rusage ru{};
        getrusage(RUSAGE_SELF, &ru);
        const double cpu = cpu_seconds();
        json errs = json::object();
        for (auto& [k, v] : errors_) errs[k] = v;
        json r{{"ev", "result"},
               {"worker", S.index},
               {"source", O.bind_source ? src_.to_string() : std::string("any")},
               {"participants", parts_.size()},
               {"joined", joined_},
               {"errors", errs},
               {"last_welcome_ns", last_welcome_ns_},
               {"settled_ns", t_settled_},
               {"signals", {{"sent", sig_sent_}, {"received", sig_rx_total_}, {"expected", sig_expected_},
                            {"missing", sig_missing_}, {"out_of_order", out_of_order_},
                            {"from_unknown_peer", signal_from_unknown_}}},
               {"peer_left", {{"expected", peer_left_expected_}, {"delivered", peer_left_delivered_},
                              {"duplicate", peer_left_dup_}}},
               {"leave", {{"sent", leaves_sent_}, {"closed", leave_closed_}, {"closed_1000", leave_closed_ok_}}},
               {"messages", {{"sent", msgs_sent_}, {"received", msgs_recv_}, {"bytes_sent", bytes_sent_},
                             {"bytes_received", bytes_recv_}, {"pings", pings_sent_}}},
               {"joined_by_url", joined_by_url_},
               {"peer_joined_known", peer_joined_known_},
               {"resume", {{"closes", resume_closes_}, {"attempts", resume_attempts_}, {"same_id", resume_same_},
                           {"different_id", resume_different_}, {"refused", resume_refused_},
                           {"failed", resume_failed_}, {"roster_new", resume_roster_new_},
                           {"roster_missing", resume_roster_missing_}, {"first_close_ns", first_close_ns_},
                           {"last_close_ns", last_close_ns_}, {"first_welcome_ns", first_resume_ns_},
                           {"last_welcome_ns", last_resume_ns_}, {"kill_ns", kill_ns()}}},
               {"cpu_s", cpu},
               {"maxrss_kb", ru.ru_maxrss},
               {"hist", {{"connect", h_connect_.to_json()}, {"upgrade", h_upgrade_.to_json()},
                         {"join", h_join_.to_json()}, {"total", h_total_.to_json()},
                         {"relay", h_relay_.to_json()}, {"relay_sdp", h_relay_sdp_.to_json()},
                         {"pong", h_pong_.to_json()}, {"peer_left", h_peer_left_.to_json()},
                         {"relay_same_url", h_relay_same_.to_json()}, {"relay_cross_url", h_relay_cross_.to_json()},
                         {"resume", h_resume_.to_json()}, {"resume_from_kill", h_resume_kill_.to_json()}}}};
        emit(r);
        ::close(S.out_fd);
        _exit(0);
    }

    enum class Phase { Ramp, Hold, Leave, Close, Finished };

    const WorkerSetup& S;
    const Options& O;
    net::io_context ioc_{1};
    net::steady_timer ramp_timer_, sweep_timer_, leave_timer_;
    net::posix::stream_descriptor ctl_;
    net::streambuf ctl_buf_;
    std::vector<Endpoint> eps_;
    struct Retired {
        std::unique_ptr<WS> ws;
        std::deque<std::string> wq;
    };
    std::vector<Retired> retired_;  // streams closed under a participant that resumed
    net::ip::address_v4 src_;
    int64_t base_ns_ = 0;
    int64_t hb_interval_ns_ = 0;
    std::vector<std::unique_ptr<Part>> parts_;
    std::vector<std::vector<int>> members_;
    std::vector<std::string> meeting_ids_;
    std::vector<std::string> offers_, answers_;
    std::vector<std::vector<std::string>> cands_;
    size_t next_start_ = 0;
    size_t terminal_ = 0;
    Phase phase_ = Phase::Ramp;
    int64_t t_all_terminal_ = 0, t_settled_ = 0, last_welcome_ns_ = 0;
    int64_t t_leave_start_ = 0, t_last_leave_ = 0, leave_step_ns_ = 1000000, t_close_start_ = 0;
    std::vector<size_t> leave_order_;
    size_t next_leave_ = 0;
    int64_t closing_outstanding_ = 0;
    int64_t last_progress_ns_ = now_ns();

    std::map<std::string, uint64_t> errors_;
    uint64_t joined_ = 0;
    uint64_t sig_sent_ = 0, sig_rx_total_ = 0, out_of_order_ = 0, signal_from_unknown_ = 0;
    int64_t sig_missing_ = 0, sig_expected_ = 0;
    uint64_t peer_left_expected_ = 0, peer_left_delivered_ = 0, peer_left_dup_ = 0;
    uint64_t leaves_sent_ = 0, leave_closed_ = 0, leave_closed_ok_ = 0;
    uint64_t msgs_sent_ = 0, msgs_recv_ = 0, bytes_sent_ = 0, bytes_recv_ = 0, pings_sent_ = 0;
    Histogram h_connect_, h_upgrade_, h_join_, h_total_, h_relay_, h_relay_sdp_, h_pong_, h_peer_left_;
    // Several --url: relays between participants on the same url or not; joins per url.
    Histogram h_relay_same_, h_relay_cross_;
    std::vector<uint64_t> joined_by_url_;
    uint64_t peer_joined_known_ = 0;  // peer-joined for a peer already in the roster
    // --resume-on-close
    uint64_t resume_closes_ = 0, resume_attempts_ = 0, resume_same_ = 0, resume_different_ = 0,
             resume_refused_ = 0, resume_failed_ = 0, resume_roster_new_ = 0, resume_roster_missing_ = 0;
    int64_t first_close_ns_ = 0, last_close_ns_ = 0, first_resume_ns_ = 0, last_resume_ns_ = 0, kill_ns_ = 0;
    Histogram h_resume_, h_resume_kill_;  // unexpected close -> welcome; kill -> welcome
};

}  // namespace

void run_worker(const WorkerSetup& setup) {
    // The Worker object is big (many participants): keep it off the stack.
    auto* w = new Worker(setup);
    w->run();
}

}  // namespace lg
