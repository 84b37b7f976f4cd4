// meshmeet-loadgen: load generator for the meshmeet signaling server.
//
// The parent parses flags, creates the meetings over HTTP, forks --workers
// processes (each owns whole meetings and binds its sockets to its own
// 127.0.0.x source address, so neither the 20,000-fd limit per process nor
// the ~28,000 ephemeral ports per source address are hit), drives the phases
// (ramp -> hold -> leave -> close), samples the server's RSS and CPU from
// /proc, merges the workers' histograms and prints a report plus a one-line
// JSON summary (the last line of stdout).
#include "common.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

namespace lg {
namespace {

const char* kUsage =
    "usage: meshmeet-loadgen [flags]\n"
    "\n"
    "Opens N participants in meetings of --meeting-size at --rate joins/s against a\n"
    "meshmeet signaling server, exchanges a ~3 KB SDP description and --candidates ICE\n"
    "candidates with every other peer of the meeting, holds, then half of each meeting\n"
    "leaves and the rest must see peer-left. Prints a report and, as the last line of\n"
    "stdout, a one-line JSON summary.\n"
    "\n"
    "  --url URL               ws://HOST:PORT[/PATH] (default ws://127.0.0.1:8080/ws); repeatable:\n"
    "                          participant p uses url[p % n], meetings are created on the first\n"
    "  --host H, --port P      instead of --url\n"
    "  --participants N        participants in total (default 1000)\n"
    "  --meeting-size K        participants per meeting (default 4)\n"
    "  --rate R                joins per second, all workers together (default 1000)\n"
    "  --hold S                seconds to hold everyone after the ramp (default 10)\n"
    "  --workers W             worker processes (default ceil(N/9000)); worker k binds\n"
    "                          its sockets to 127.0.0.(2+k)\n"
    "  --server-pid PID        sample the server's RSS and CPU from /proc/PID; repeatable (several\n"
    "                          nodes, Redis): the first is `server` in the JSON, all are `servers`\n"
    "  --candidates C          ICE candidates sent to each peer (default 4)\n"
    "  --join-timeout S        seconds from a participant's scheduled start to welcome (10)\n"
    "  --settle S              seconds to wait for outstanding signals after the ramp (10)\n"
    "  --leave-rate R          leaves per second (default: --rate)\n"
    "  --leave-wait S          seconds to wait for peer-left after the last leave (5)\n"
    "  --ping-interval S       client ping interval (default: welcome.heartbeat.interval)\n"
    "  --create-concurrency K  parallel HTTP connections creating meetings (default 8)\n"
    "  --source-base A.B.C.    source address prefix (default 127.0.0.)\n"
    "  --source-first X        worker k binds to A.B.C.(X+k) (default 2)\n"
    "  --no-bind               do not bind a source address\n"
    "  --no-signals            join, ping and leave only: no SDP/candidates (isolates join cost)\n"
    "  --quiet                 no progress on stderr\n"
    "  --resume-on-close       a joined participant whose socket closes unexpectedly reconnects\n"
    "                          and resumes with its token: to --resume-url, or else to another\n"
    "                          --url (spread by participant; one that refuses is skipped)\n"
    "  --resume-url URL        where to resume (e.g. a port several nodes share)\n"
    "  --kill-time-file FILE   holds the CLOCK_MONOTONIC ns at which a server was killed (written\n"
    "                          before the kill): resume times are also measured from it\n"
    "  --help                  this text\n"
    "\n"
    "Exit: 0 all joined, no errors, nothing missing; 1 completed with errors or\n"
    "missing messages; 2 bad flag; 3 could not run (meetings not created, worker died).\n";

[[noreturn]] void usage_error(const std::string& msg) {
    std::cerr << "meshmeet-loadgen: " << msg << "\n\n" << kUsage;
    std::exit(2);
}

double parse_num(const std::string& flag, const std::string& v) {
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(v.c_str(), &end);
    if (v.empty() || errno || !end || *end != '\0' || !std::isfinite(d))
        usage_error("bad value for " + flag + ": '" + v + "'");
    return d;
}

int parse_int(const std::string& flag, const std::string& v) {
    double d = parse_num(flag, v);
    if (d != std::floor(d) || d < -2147483648.0 || d > 2147483647.0)
        usage_error("bad integer for " + flag + ": '" + v + "'");
    return int(d);
}

Target parse_url(const std::string& flag, const std::string& url) {
    Target t;
    std::string rest;
    if (url.rfind("ws://", 0) == 0) rest = url.substr(5);
    else if (url.rfind("http://", 0) == 0) rest = url.substr(7);
    else if (url.rfind("wss://", 0) == 0 || url.rfind("https://", 0) == 0)
        usage_error("TLS URLs are not supported (use ws://)");
    else
        usage_error("bad " + flag + " '" + url + "' (want ws://HOST:PORT[/PATH])");
    std::string hostport = rest, path = "/ws";
    auto slash = rest.find('/');
    if (slash != std::string::npos) {
        hostport = rest.substr(0, slash);
        path = rest.substr(slash);
        if (path == "/") path = "/ws";
    }
    auto colon = hostport.rfind(':');
    if (colon == std::string::npos) {
        t.host = hostport;
        t.port = 80;
    } else {
        t.host = hostport.substr(0, colon);
        t.port = parse_int(flag + " port", hostport.substr(colon + 1));
    }
    if (t.host.empty()) usage_error("bad " + flag + " '" + url + "': no host");
    t.path = path;
    return t;
}

// The workers connect to an IPv4 literal (no resolver in the hot path).
void check_ipv4(const std::string& flag, std::string& host, bool& bind_source) {
    if (host == "localhost") host = "127.0.0.1";
    int a, b, c, d;
    char tail;
    if (std::sscanf(host.c_str(), "%d.%d.%d.%d%c", &a, &b, &c, &d, &tail) != 4)
        usage_error(flag + " must be an IPv4 address (got '" + host + "')");
    if (a != 127) bind_source = false;  // 127.0.0.x sources only reach loopback
}

Options parse_flags(int argc, char** argv) {
    Options o;
    std::vector<std::string> args(argv + 1, argv + argc);
    for (size_t i = 0; i < args.size(); i++) {
        std::string a = args[i], v;
        bool has_v = false;
        auto eq = a.find('=');
        if (a.rfind("--", 0) == 0 && eq != std::string::npos) {
            v = a.substr(eq + 1);
            a = a.substr(0, eq);
            has_v = true;
        }
        auto val = [&]() -> std::string {
            if (has_v) return v;
            if (i + 1 >= args.size()) usage_error("missing value for " + a);
            return args[++i];
        };
        auto noval = [&]() {
            if (has_v) usage_error(a + " takes no value");
        };
        if (a == "--help" || a == "-h") {
            std::cout << kUsage;
            std::exit(0);
        } else if (a == "--url") {
            // Repeatable. The first one is also where meetings are created;
            // --host/--port change it, as they did when --url was single.
            Target t = parse_url(a, val());
            if (o.urls.empty()) o.host = t.host, o.port = t.port, o.path = t.path;
            o.urls.push_back(t);
        }
        else if (a == "--host") o.host = val();
        else if (a == "--port") o.port = parse_int(a, val());
        else if (a == "--participants" || a == "-n") o.participants = parse_int(a, val());
        else if (a == "--meeting-size") o.meeting_size = parse_int(a, val());
        else if (a == "--rate") o.rate = parse_num(a, val());
        else if (a == "--hold") o.hold = parse_num(a, val());
        else if (a == "--workers") o.workers = parse_int(a, val());
        else if (a == "--server-pid") o.server_pids.push_back(parse_int(a, val()));
        else if (a == "--candidates") o.candidates = parse_int(a, val());
        else if (a == "--join-timeout") o.join_timeout = parse_num(a, val());
        else if (a == "--settle") o.settle = parse_num(a, val());
        else if (a == "--leave-rate") o.leave_rate = parse_num(a, val());
        else if (a == "--leave-wait") o.leave_wait = parse_num(a, val());
        else if (a == "--ping-interval") o.ping_interval = parse_num(a, val());
        else if (a == "--create-concurrency") o.create_concurrency = parse_int(a, val());
        else if (a == "--source-base") o.source_base = val();
        else if (a == "--source-first") o.source_first = parse_int(a, val());
        else if (a == "--no-bind") { noval(); o.bind_source = false; }
        else if (a == "--no-signals") { noval(); o.signals = false; }
        else if (a == "--quiet") { noval(); o.quiet = true; }
        else if (a == "--resume-on-close") { noval(); o.resume_on_close = true; }
        else if (a == "--resume-url") { o.resume_url = parse_url(a, val()); o.has_resume_url = true; }
        else if (a == "--kill-time-file") o.kill_time_file = val();
        else usage_error("unknown flag '" + args[i] + "'");
    }
    if (o.port < 1 || o.port > 65535) usage_error("--port must be 1..65535");
    if (o.participants < 1) usage_error("--participants must be >= 1");
    if (o.meeting_size < 1 || o.meeting_size > 64) usage_error("--meeting-size must be 1..64");
    if (!(o.rate > 0)) usage_error("--rate must be > 0");
    if (o.hold < 0) usage_error("--hold must be >= 0");
    if (o.candidates < 0 || o.candidates > 20) usage_error("--candidates must be 0..20");
    if (!(o.join_timeout > 0)) usage_error("--join-timeout must be > 0");
    if (o.settle < 0 || o.leave_wait < 0 || o.leave_rate < 0 || o.ping_interval < 0)
        usage_error("--settle, --leave-wait, --leave-rate, --ping-interval must be >= 0");
    if (o.create_concurrency < 1 || o.create_concurrency > 256) usage_error("--create-concurrency must be 1..256");
    if (o.workers == 0) o.workers = (o.participants + 8999) / 9000;
    if (o.workers < 1 || o.workers > 200) usage_error("--workers must be 1..200");
    const int meetings = (o.participants + o.meeting_size - 1) / o.meeting_size;
    if (o.workers > meetings) o.workers = meetings;  // a worker owns whole meetings
    if (o.urls.empty()) o.urls.push_back(Target{});
    o.urls[0] = Target{o.host, o.port, o.path};
    for (auto& t : o.urls) {
        if (t.port < 1 || t.port > 65535) usage_error("--url port must be 1..65535");
        check_ipv4("--host", t.host, o.bind_source);
    }
    o.host = o.urls[0].host;
    if (o.has_resume_url) check_ipv4("--resume-url host", o.resume_url.host, o.bind_source);
    if ((o.has_resume_url || !o.kill_time_file.empty()) && !o.resume_on_close)
        usage_error("--resume-url and --kill-time-file go with --resume-on-close");
    if (o.resume_on_close && !o.has_resume_url && o.urls.size() < 2)
        usage_error("--resume-on-close needs a second --url or a --resume-url to resume on");
    for (int pid : o.server_pids)
        if (pid < 0) usage_error("--server-pid must be a pid");
    o.server_pids.erase(std::remove(o.server_pids.begin(), o.server_pids.end(), 0), o.server_pids.end());
    if (!o.server_pids.empty()) o.server_pid = o.server_pids[0];
    if (o.bind_source) {
        int a, b, c;
        char tail;
        if (std::sscanf(o.source_base.c_str(), "%d.%d.%d.%c", &a, &b, &c, &tail) != 3 ||
            o.source_base.back() != '.')
            usage_error("--source-base must look like 127.0.0.");
        if (o.source_first < 1 || o.source_first + o.workers - 1 > 254)
            usage_error("--source-first + --workers must stay within 1..254");
    }
    return o;
}

// ---------- server sampling from /proc ----------
struct ProcSample {
    bool ok = false;
    int64_t t_ns = 0;
    long rss_kb = 0, hwm_kb = 0;
    double cpu_s = 0;
    double run_wait_s = 0;   // time the server was runnable but waiting for a CPU (/proc/PID/schedstat)
    double psi_some_s = -1;  // machine: time some task waited for a CPU (/proc/pressure/cpu), -1 = n/a
};

// CPU pressure stall information: cumulative microseconds during which at
// least one runnable task was waiting for a CPU. (/proc/stat's busy ticks are
// not used: on a tickless kernel they under-count short bursts of work.)
double psi_cpu_some_s() {
    std::ifstream f("/proc/pressure/cpu");
    std::string line;
    if (!std::getline(f, line)) return -1;
    auto p = line.find("total=");
    if (line.rfind("some", 0) != 0 || p == std::string::npos) return -1;
    return std::atof(line.c_str() + p + 6) / 1e6;
}

ProcSample sample_proc(int pid) {
    ProcSample s;
    s.t_ns = now_ns();
    s.psi_some_s = psi_cpu_some_s();
    if (pid <= 0) return s;
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    bool got = false;
    while (std::getline(st, line)) {
        if (line.rfind("VmRSS:", 0) == 0) s.rss_kb = std::atol(line.c_str() + 6), got = true;
        else if (line.rfind("VmHWM:", 0) == 0) s.hwm_kb = std::atol(line.c_str() + 6);
    }
    std::ifstream sf("/proc/" + std::to_string(pid) + "/stat");
    std::string all((std::istreambuf_iterator<char>(sf)), std::istreambuf_iterator<char>());
    auto rp = all.rfind(')');
    if (!got || rp == std::string::npos) return s;
    std::istringstream is(all.substr(rp + 1));
    std::vector<std::string> f;
    std::string tok;
    while (is >> tok) f.push_back(tok);
    // After ")": f[0] = state (field 3) ... f[11] = utime (14), f[12] = stime (15).
    if (f.size() < 13) return s;
    const double tck = double(sysconf(_SC_CLK_TCK));
    s.cpu_s = (std::atof(f[11].c_str()) + std::atof(f[12].c_str())) / tck;
    std::ifstream ss("/proc/" + std::to_string(pid) + "/schedstat");
    double exec_ns = 0, wait_ns = 0;
    if (ss >> exec_ns >> wait_ns) s.run_wait_s = wait_ns / 1e9;
    s.ok = true;
    return s;
}

// One sampled process (a server node, or Redis): the samples at each phase
// and the peaks. Without --server-pid one entry with pid 0 still carries the
// timestamps and the machine's PSI.
struct Tracked {
    int pid = 0;
    ProcSample idle, ramp0, ramped, hold, end;
    long rss_peak = 0, rss_peak_connected = 0;  // connected: until the leave phase starts
    bool gone = false;
};

struct Child {
    pid_t pid = -1;
    int ctl_w = -1;
    int out_r = -1;
    std::string buf;
    bool ramped = false, done = false, eof = false;
    json ramped_msg, result, progress;
};

std::string fmt_ms(double ns) {
    char b[64];
    const double ms = ns / 1e6;
    if (ms < 10) std::snprintf(b, sizeof b, "%.3f ms", ms);
    else if (ms < 1000) std::snprintf(b, sizeof b, "%.1f ms", ms);
    else std::snprintf(b, sizeof b, "%.2f s", ms / 1000);
    return b;
}

json hist_summary(const Histogram& h) {
    auto r3 = [](double ns) { return std::round(ns / 1e3) / 1e3; };  // ms, 3 decimals
    return json{{"n", h.count}, {"p50", r3(h.quantile(0.50))}, {"p90", r3(h.quantile(0.90))},
                {"p99", r3(h.quantile(0.99))}, {"max", r3(double(h.max))}, {"mean", r3(h.mean())}};
}

std::string hist_line(const Histogram& h) {
    if (!h.count) return "(no samples)";
    return "p50 " + fmt_ms(h.quantile(0.5)) + "  p90 " + fmt_ms(h.quantile(0.9)) + "  p99 " +
           fmt_ms(h.quantile(0.99)) + "  max " + fmt_ms(double(h.max)) + "  (n=" + std::to_string(h.count) + ")";
}

// Round to a multiple of q (a power of ten) without binary noise in the JSON.
double round_to(double v, double q) {
    const double inv = std::round(1.0 / q);
    return std::round(v * inv) / inv;
}

std::string num(double v) {
    char b[64];
    std::snprintf(b, sizeof b, "%g", v);
    return b;
}

}  // namespace
}  // namespace lg

int main(int argc, char** argv) {
    using namespace lg;
    Options o = parse_flags(argc, argv);
    ::signal(SIGPIPE, SIG_IGN);
    auto log = [&](const std::string& s) {
        if (!o.quiet) std::cerr << "[loadgen] " << s << std::endl;
    };

    const int M = (o.participants + o.meeting_size - 1) / o.meeting_size;
    const int W = o.workers;

    // fds: raise the soft limit to the hard one; check each worker's share fits.
    rlimit rl{};
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    {
        // Whole meetings per worker, round-robin: the biggest share.
        const int per_meetings = (M + W - 1) / W;
        const long per_worker = long(per_meetings) * o.meeting_size;
        if (rl.rlim_cur != RLIM_INFINITY && per_worker + 64 > long(rl.rlim_cur)) {
            std::cerr << "meshmeet-loadgen: " << per_worker << " participants per worker exceed the open-file limit "
                      << rl.rlim_cur << "; use more --workers (at least "
                      << (long(o.participants) + long(rl.rlim_cur) - 65) / (long(rl.rlim_cur) - 64) << ")\n";
            return 2;
        }
        if (o.bind_source && per_worker > 28000) {
            std::cerr << "meshmeet-loadgen: " << per_worker
                      << " participants per worker exceed the ~28,000 ephemeral ports of one source address; "
                         "use more --workers\n";
            return 2;
        }
    }

    log("server ws://" + o.host + ":" + std::to_string(o.port) + o.path + ", " + std::to_string(o.participants) +
        " participants in " + std::to_string(M) + " meetings of " + std::to_string(o.meeting_size) + ", rate " +
        num(o.rate) + "/s, hold " + num(o.hold) + " s, " + std::to_string(W) + " worker(s)");

    std::vector<Tracked> tracked(std::max<size_t>(1, o.server_pids.size()));
    for (size_t k = 0; k < o.server_pids.size(); k++) tracked[k].pid = o.server_pids[k];
    for (auto& t : tracked) {
        t.idle = sample_proc(t.pid);
        if (t.pid > 0 && !t.idle.ok) {
            std::cerr << "meshmeet-loadgen: cannot read /proc/" << t.pid << "/status and /stat\n";
            return 2;
        }
    }
    Tracked& first = tracked[0];  // the `server` of the report and of the JSON
    const ProcSample& s_idle = first.idle;

    // ---------- meetings over HTTP ----------
    std::map<std::string, uint64_t> create_errors;
    Histogram h_create;
    const int64_t tc0 = now_ns();
    std::vector<std::string> ids = create_meetings(o, M, create_errors, h_create);
    const double create_s = double(now_ns() - tc0) / 1e9;
    int created = 0;
    for (auto& id : ids) created += !id.empty();
    log("created " + std::to_string(created) + "/" + std::to_string(M) + " meetings in " +
        num(round_to(create_s, 0.001)) + " s (POST p50 " + fmt_ms(h_create.quantile(0.5)) + ", p99 " +
        fmt_ms(h_create.quantile(0.99)) + ")");
    if (created < M) {
        std::cerr << "meshmeet-loadgen: could not create all meetings (" << created << "/" << M << "):";
        for (auto& [k, v] : create_errors) std::cerr << " " << k << "=" << v;
        std::cerr << "\n";
        return 3;
    }

    // ---------- fork workers ----------
    std::vector<std::vector<MeetingAssign>> slices(static_cast<size_t>(W));
    for (int m = 0; m < M; m++) {
        MeetingAssign a;
        a.id = ids[size_t(m)];
        a.index = m;
        a.first_global = m * o.meeting_size;
        a.members = std::min(o.meeting_size, o.participants - a.first_global);
        slices[size_t(m % W)].push_back(std::move(a));
    }
    const int64_t t0 = now_ns() + 300000000LL + int64_t(W) * 50000000LL;
    std::vector<Child> kids(static_cast<size_t>(W));
    std::cout.flush();
    std::cerr.flush();
    for (int k = 0; k < W; k++) {
        int ctl[2], out[2];
        if (pipe(ctl) != 0 || pipe(out) != 0) {
            std::perror("pipe");
            return 3;
        }
        pid_t pid = fork();
        if (pid < 0) {
            std::perror("fork");
            return 3;
        }
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            ::close(ctl[1]);
            ::close(out[0]);
            for (int j = 0; j < k; j++) {
                ::close(kids[size_t(j)].ctl_w);
                ::close(kids[size_t(j)].out_r);
            }
            WorkerSetup ws;
            ws.opt = o;
            ws.index = k;
            ws.meetings = std::move(slices[size_t(k)]);
            ws.t0_ns = t0;
            ws.ctl_fd = ctl[0];
            ws.out_fd = out[1];
            run_worker(ws);
        }
        ::close(ctl[0]);
        ::close(out[1]);
        kids[size_t(k)].pid = pid;
        kids[size_t(k)].ctl_w = ctl[1];
        kids[size_t(k)].out_r = out[0];
    }
    slices.clear();

    // ---------- drive the phases ----------
    {
        const int64_t wait = t0 - now_ns();
        if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    }
    for (auto& t : tracked) {
        t.ramp0 = sample_proc(t.pid);
        t.rss_peak = t.rss_peak_connected = t.ramp0.rss_kb;
        t.gone = t.pid > 0 && !t.ramp0.ok;
    }
    const ProcSample &s_ramp0 = first.ramp0, &s_ramped = first.ramped, &s_hold = first.hold, &s_end = first.end;
    log("ramp started");
    int64_t hold_end = 0;
    bool leave_sent = false;
    int n_ramped = 0, n_done = 0;
    int64_t last_progress = now_ns();
    bool crashed = false;

    while (n_done < W) {
        std::vector<pollfd> pf;
        std::vector<size_t> which;
        for (size_t k = 0; k < kids.size(); k++)
            if (!kids[k].eof) {
                pf.push_back(pollfd{kids[k].out_r, POLLIN, 0});
                which.push_back(k);
            }
        int timeout_ms = 200;
        if (hold_end && !leave_sent) {
            const int64_t left = (hold_end - now_ns()) / 1000000;
            timeout_ms = int(std::max<int64_t>(0, std::min<int64_t>(200, left)));
        }
        int r = pf.empty() ? 0 : poll(pf.data(), pf.size(), timeout_ms);
        if (r < 0 && errno != EINTR) break;
        for (size_t x = 0; r > 0 && x < pf.size(); x++) {
            if (!(pf[x].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            Child& c = kids[which[x]];
            char buf[65536];
            ssize_t n = ::read(c.out_r, buf, sizeof buf);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) continue;
                c.eof = true;
                if (!c.done) {
                    crashed = true;
                    c.done = true;
                    n_done++;
                    if (!c.ramped) {
                        c.ramped = true;
                        n_ramped++;
                    }
                    std::cerr << "meshmeet-loadgen: worker " << which[x] << " exited without a result\n";
                }
                continue;
            }
            c.buf.append(buf, size_t(n));
            size_t nl;
            while ((nl = c.buf.find('\n')) != std::string::npos) {
                json j = json::parse(c.buf.substr(0, nl), nullptr, false);
                c.buf.erase(0, nl + 1);
                if (j.is_discarded() || !j.is_object()) continue;
                const std::string ev = j.value("ev", "");
                if (ev == "progress") {
                    c.progress = j;
                } else if (ev == "ramped" && !c.ramped) {
                    c.ramped = true;
                    c.ramped_msg = j;
                    n_ramped++;
                } else if (ev == "result" && !c.done) {
                    c.done = true;
                    c.result = j;
                    n_done++;
                    if (!c.ramped) {
                        c.ramped = true;
                        n_ramped++;
                    }
                }
            }
        }
        std::vector<ProcSample> now_s;
        for (auto& t : tracked) {
            const ProcSample s = sample_proc(t.pid);
            if (t.pid > 0 && !s.ok && !t.gone) {
                t.gone = true;
                log("the server process " + std::to_string(t.pid) + " is gone");
            }
            if (s.rss_kb > t.rss_peak) t.rss_peak = s.rss_kb;
            if (!leave_sent && s.rss_kb > t.rss_peak_connected) t.rss_peak_connected = s.rss_kb;
            now_s.push_back(s);
        }
        const ProcSample& s = now_s[0];
        const int64_t now = now_ns();
        if (n_ramped == W && !hold_end) {
            for (size_t k = 0; k < tracked.size(); k++) tracked[k].ramped = now_s[k];
            hold_end = now + int64_t(o.hold * 1e9);
            uint64_t joined = 0;
            for (auto& c : kids) joined += c.ramped_msg.value("joined", uint64_t(0));
            log("ramp done: " + std::to_string(joined) + "/" + std::to_string(o.participants) + " joined, settled " +
                num(round_to(double(now - t0) / 1e9, 0.001)) + " s after ramp start; holding " + num(o.hold) + " s");
        }
        if (hold_end && !leave_sent && now >= hold_end) {
            for (size_t k = 0; k < tracked.size(); k++) tracked[k].hold = now_s[k];
            leave_sent = true;
            for (auto& c : kids)
                if (!c.done && ::write(c.ctl_w, "leave\n", 6) < 0) { /* reported via missing result */ }
            log("hold done; half of the participants leave");
        }
        if (!o.quiet && now - last_progress > 3000000000LL && !hold_end) {
            last_progress = now;
            uint64_t pj = 0, ps = 0;
            for (auto& c : kids) {
                const json& pr = c.ramped ? c.ramped_msg : c.progress;
                if (pr.is_object()) {
                    pj += pr.value("joined", uint64_t(0));
                    ps += c.ramped ? pr.value("participants", uint64_t(0)) : pr.value("started", uint64_t(0));
                }
            }
            log("ramping... " + std::to_string(pj) + " joined of " + std::to_string(ps) + " started, " +
                std::to_string(n_ramped) + "/" + std::to_string(W) + " workers settled" +
                (o.server_pid > 0 ? ", server RSS " + std::to_string(s.rss_kb / 1024) + " MB" : std::string()));
        }
    }
    for (auto& t : tracked) {
        t.end = sample_proc(t.pid);
        if (t.end.rss_kb > t.rss_peak) t.rss_peak = t.end.rss_kb;
    }
    const long rss_peak = first.rss_peak, rss_peak_connected = first.rss_peak_connected;
    const bool server_gone = first.gone;
    for (auto& c : kids) {
        int st = 0;
        waitpid(c.pid, &st, 0);
        ::close(c.ctl_w);
        ::close(c.out_r);
    }

    // ---------- merge ----------
    std::map<std::string, uint64_t> errors;
    std::map<std::string, uint64_t> categories;
    Histogram h[8];
    const char* hn[8] = {"connect", "upgrade", "join", "total", "relay", "relay_sdp", "pong", "peer_left"};
    uint64_t joined = 0, sig_sent = 0, sig_rx = 0, sig_expected = 0, sig_missing = 0, ooo = 0, unknown_from = 0;
    uint64_t pl_expected = 0, pl_delivered = 0, pl_dup = 0, leaves = 0, leave_closed = 0, leave_1000 = 0;
    uint64_t msgs_sent = 0, msgs_recv = 0, bytes_sent = 0, bytes_recv = 0, pings = 0;
    double lg_cpu = 0, lg_cpu_ramp = 0;
    long lg_maxrss = 0;
    int64_t last_welcome = 0;
    bool settle_timed_out = false;
    // Several --url, --resume-on-close
    std::vector<uint64_t> joined_by_url(o.urls.size(), 0);
    uint64_t peer_joined_known = 0;
    Histogram h_same, h_cross, h_resume, h_resume_kill;
    std::map<std::string, uint64_t> resume_n;
    int64_t first_close = 0, last_close = 0, first_resumed = 0, last_resumed = 0, kill_ns = 0;
    auto min_nz = [](int64_t a, int64_t b) { return !a ? b : !b ? a : std::min(a, b); };
    for (auto& c : kids) {
        if (c.ramped_msg.is_object()) {
            settle_timed_out |= c.ramped_msg.value("settle_timed_out", false);
            lg_cpu_ramp += c.ramped_msg.value("cpu_s", 0.0);
        }
        const json& r = c.result;
        if (!r.is_object()) continue;
        joined += r.value("joined", uint64_t(0));
        if (r.contains("errors"))
            for (auto& [k, v] : r["errors"].items()) errors[k] += v.get<uint64_t>();
        for (int i = 0; i < 8; i++) h[i].merge(Histogram::from_json(r["hist"][hn[i]]));
        const json& sg = r["signals"];
        sig_sent += sg.value("sent", uint64_t(0));
        sig_rx += sg.value("received", uint64_t(0));
        sig_expected += sg.value("expected", uint64_t(0));
        sig_missing += sg.value("missing", uint64_t(0));
        ooo += sg.value("out_of_order", uint64_t(0));
        unknown_from += sg.value("from_unknown_peer", uint64_t(0));
        pl_expected += r["peer_left"].value("expected", uint64_t(0));
        pl_delivered += r["peer_left"].value("delivered", uint64_t(0));
        pl_dup += r["peer_left"].value("duplicate", uint64_t(0));
        leaves += r["leave"].value("sent", uint64_t(0));
        leave_closed += r["leave"].value("closed", uint64_t(0));
        leave_1000 += r["leave"].value("closed_1000", uint64_t(0));
        msgs_sent += r["messages"].value("sent", uint64_t(0));
        msgs_recv += r["messages"].value("received", uint64_t(0));
        bytes_sent += r["messages"].value("bytes_sent", uint64_t(0));
        bytes_recv += r["messages"].value("bytes_received", uint64_t(0));
        pings += r["messages"].value("pings", uint64_t(0));
        lg_cpu += r.value("cpu_s", 0.0);
        lg_maxrss = std::max(lg_maxrss, r.value("maxrss_kb", 0L));
        last_welcome = std::max(last_welcome, r.value("last_welcome_ns", int64_t(0)));
        if (r.contains("joined_by_url") && r["joined_by_url"].is_array())
            for (size_t u = 0; u < r["joined_by_url"].size() && u < joined_by_url.size(); u++)
                joined_by_url[u] += r["joined_by_url"][u].get<uint64_t>();
        peer_joined_known += r.value("peer_joined_known", uint64_t(0));
        h_same.merge(Histogram::from_json(r["hist"]["relay_same_url"]));
        h_cross.merge(Histogram::from_json(r["hist"]["relay_cross_url"]));
        h_resume.merge(Histogram::from_json(r["hist"]["resume"]));
        h_resume_kill.merge(Histogram::from_json(r["hist"]["resume_from_kill"]));
        if (r.contains("resume") && r["resume"].is_object()) {
            const json& rs = r["resume"];
            for (const char* k : {"closes", "attempts", "same_id", "different_id", "refused", "failed", "roster_new",
                                  "roster_missing"})
                resume_n[k] += rs.value(k, uint64_t(0));
            first_close = min_nz(first_close, rs.value("first_close_ns", int64_t(0)));
            last_close = std::max(last_close, rs.value("last_close_ns", int64_t(0)));
            first_resumed = min_nz(first_resumed, rs.value("first_welcome_ns", int64_t(0)));
            last_resumed = std::max(last_resumed, rs.value("last_welcome_ns", int64_t(0)));
            kill_ns = std::max(kill_ns, rs.value("kill_ns", int64_t(0)));
        }
    }
    if (crashed) errors["worker-crashed"]++;
    uint64_t err_total = 0;
    for (auto& [k, v] : errors) {
        err_total += v;
        categories[k.substr(0, k.find(':'))] += v;
    }
    const uint64_t pl_missing = pl_expected > pl_delivered ? pl_expected - pl_delivered : 0;
    const double ramp_s = last_welcome > t0 ? double(last_welcome - t0) / 1e9 : 0;
    const double achieved = ramp_s > 0 ? double(joined) / ramp_s : 0;

    // ---------- server figures ----------
    // Per sampled process; "per participant" and "per join" divide by every
    // joined participant (with several nodes, the report divides by each
    // node's own share, joined_by_url).
    auto opt = [](bool ok, double v) { return ok ? json(v) : json(nullptr); };
    auto server_json = [&](const Tracked& t) -> json {
        if (t.pid <= 0 || !t.idle.ok) return nullptr;
        const bool ramp_ok = t.ramp0.ok && t.ramped.ok;
        const double ramp_wall = double(t.ramped.t_ns - t.ramp0.t_ns) / 1e9;
        const double run_wait = ramp_ok ? t.ramped.run_wait_s - t.ramp0.run_wait_s : 0;
        const double psi_some =
            t.ramp0.psi_some_s >= 0 && t.ramped.psi_some_s >= 0 ? t.ramped.psi_some_s - t.ramp0.psi_some_s : -1;
        const double cpu_ramp = t.ramped.cpu_s - t.ramp0.cpu_s;
        const double kb_per = joined ? double(t.rss_peak_connected - t.idle.rss_kb) / double(joined) : 0;
        return json{{"pid", t.pid},
                    {"exited_during_run", t.gone},
                    {"rss_idle_kb", t.idle.rss_kb},
                    {"rss_after_create_kb", t.ramp0.rss_kb},
                    {"rss_after_ramp_kb", opt(t.ramped.ok, double(t.ramped.rss_kb))},
                    {"rss_after_hold_kb", opt(t.hold.ok, double(t.hold.rss_kb))},
                    {"rss_end_kb", opt(t.end.ok, double(t.end.rss_kb))},
                    {"rss_peak_kb", t.rss_peak_connected},
                    {"rss_peak_incl_leave_kb", t.rss_peak},
                    {"hwm_kb", opt(t.end.ok, double(t.end.hwm_kb))},
                    {"kb_per_participant", round_to(kb_per, 0.01)},
                    {"cpu_ramp_s", opt(ramp_ok, round_to(cpu_ramp, 0.001))},
                    {"cpu_ms_per_join", opt(ramp_ok && joined, round_to(joined ? cpu_ramp * 1000 / double(joined) : 0, 0.0001))},
                    {"cpu_hold_s", opt(t.ramped.ok && t.hold.ok, round_to(t.hold.cpu_s - t.ramped.cpu_s, 0.001))},
                    {"cpu_leave_close_s", opt(t.hold.ok && t.end.ok, round_to(t.end.cpu_s - t.hold.cpu_s, 0.001))},
                    {"ramp_wall_s", round_to(ramp_wall, 0.001)},
                    {"hold_wall_s", round_to(double(t.hold.t_ns - t.ramped.t_ns) / 1e9, 0.001)},
                    {"run_wait_ramp_s", opt(ramp_ok, round_to(run_wait, 0.001))},
                    {"run_wait_ramp_pct", opt(ramp_ok && ramp_wall > 0, round_to(100 * run_wait / ramp_wall, 0.1))},
                    {"psi_cpu_some_ramp_pct", opt(psi_some >= 0 && ramp_wall > 0, round_to(100 * psi_some / ramp_wall, 0.1))},
                    {"loadgen_cpu_ramp_s", round_to(lg_cpu_ramp, 0.01)},
                    };
    };
    const json server = server_json(first);
    json servers = json::array();
    for (const auto& t : tracked)
        if (t.pid > 0) servers.push_back(server_json(t));
    // The text report shows the first process.
    const bool have_server = !server.is_null();
    const bool ramp_ok = s_ramp0.ok && s_ramped.ok;
    const double ramp_wall = double(s_ramped.t_ns - s_ramp0.t_ns) / 1e9;
    const double run_wait = ramp_ok ? s_ramped.run_wait_s - s_ramp0.run_wait_s : 0;
    const double psi_some = s_ramp0.psi_some_s >= 0 && s_ramped.psi_some_s >= 0 ? s_ramped.psi_some_s - s_ramp0.psi_some_s : -1;
    const double cpu_ramp = s_ramped.cpu_s - s_ramp0.cpu_s, cpu_hold = s_hold.cpu_s - s_ramped.cpu_s,
                 cpu_leave = s_end.cpu_s - s_hold.cpu_s;
    const double kb_per = joined ? double(rss_peak_connected - s_idle.rss_kb) / double(joined) : 0;
    const double cpu_ms_per_join = joined ? cpu_ramp * 1000 / double(joined) : 0;

    // ---------- report ----------
    auto& out = std::cout;
    char line[512];
    out << "meshmeet-loadgen report\n";
    std::snprintf(line, sizeof line, "  target          ws://%s:%d%s, %d workers (sources %s%d..%d)\n", o.host.c_str(),
                  o.port, o.path.c_str(), W, o.bind_source ? o.source_base.c_str() : "any ",
                  o.source_first, o.source_first + W - 1);
    out << line;
    std::snprintf(line, sizeof line, "  meetings        %d of %d created in %.2f s (POST p50 %s, p99 %s)\n", created, M,
                  create_s, fmt_ms(h_create.quantile(0.5)).c_str(), fmt_ms(h_create.quantile(0.99)).c_str());
    out << line;
    std::snprintf(line, sizeof line, "  participants    requested %d, joined %llu (%.2f %%)\n", o.participants,
                  (unsigned long long)joined, 100.0 * double(joined) / double(o.participants));
    out << line;
    std::snprintf(line, sizeof line, "  ramp            %.2f s to last welcome, requested %.0f/s, achieved %.0f joins/s%s\n",
                  ramp_s, o.rate, achieved, settle_timed_out ? " (settle timed out: signals outstanding)" : "");
    out << line;
    out << "  errors          " << err_total;
    if (err_total) {
        out << "  by kind:";
        for (auto& [k, v] : categories) out << " " << k << "=" << v;
        out << "\n";
        for (auto& [k, v] : errors) out << "                    " << k << ": " << v << "\n";
    } else {
        out << "\n";
    }
    out << "  join latency    " << hist_line(h[2]) << "   [join sent -> welcome]\n";
    out << "  connect         " << hist_line(h[0]) << "   [TCP connect]\n";
    out << "  upgrade         " << hist_line(h[1]) << "   [WebSocket handshake]\n";
    out << "  start->welcome  " << hist_line(h[3]) << "   [scheduled start -> welcome]\n";
    out << "  relay latency   " << hist_line(h[4]) << "   [all signals]\n";
    out << "  relay (SDP)     " << hist_line(h[5]) << "   [~3 KB descriptions]\n";
    std::snprintf(line, sizeof line,
                  "  signals         sent %llu, received %llu, expected %llu, missing %llu, out of order %llu, "
                  "before peer-joined %llu\n",
                  (unsigned long long)sig_sent, (unsigned long long)sig_rx, (unsigned long long)sig_expected,
                  (unsigned long long)sig_missing, (unsigned long long)ooo, (unsigned long long)unknown_from);
    out << line;
    out << "  ping rtt        " << hist_line(h[6]) << "   [" << pings << " pings]\n";
    std::snprintf(line, sizeof line,
                  "  leave           %llu sent, %llu closed (%llu with 1000)\n", (unsigned long long)leaves,
                  (unsigned long long)leave_closed, (unsigned long long)leave_1000);
    out << line;
    std::snprintf(line, sizeof line, "  peer-left       delivered %llu of %llu, missing %llu, duplicates %llu\n",
                  (unsigned long long)pl_delivered, (unsigned long long)pl_expected, (unsigned long long)pl_missing,
                  (unsigned long long)pl_dup);
    out << line;
    out << "  peer-left lat.  " << hist_line(h[7]) << "   [leave sent -> peer-left]\n";
    std::snprintf(line, sizeof line, "  messages        sent %llu (%.1f MB), received %llu (%.1f MB)\n",
                  (unsigned long long)msgs_sent, double(bytes_sent) / 1e6, (unsigned long long)msgs_recv,
                  double(bytes_recv) / 1e6);
    out << line;
    if (have_server && server_gone) out << "  server          EXITED during the run (figures below stop at its last sample)\n";
    if (have_server && ramp_ok) {
        std::snprintf(line, sizeof line,
                      "  server RSS      idle %.1f MB, after ramp %.1f MB, after hold %.1f MB, peak while connected "
                      "%.1f MB (%.2f KB per participant beyond idle); peak incl. leave/close %.1f MB, VmHWM %.1f MB\n",
                      s_idle.rss_kb / 1024.0, s_ramped.rss_kb / 1024.0, s_hold.rss_kb / 1024.0,
                      rss_peak_connected / 1024.0, kb_per, rss_peak / 1024.0, s_end.hwm_kb / 1024.0);
        out << line;
        std::snprintf(line, sizeof line,
                      "  server CPU      ramp %.2f s (%.3f ms per join, incl. its signals), hold %.2f s, "
                      "leave+close %.2f s\n",
                      cpu_ramp, cpu_ms_per_join, cpu_hold, cpu_leave);
        out << line;
        std::snprintf(line, sizeof line,
                      "  contention      during the ramp (%.2f s): the server waited %.2f s (%.1f %%) for a CPU; "
                      "some task waited %s of the time (PSI); loadgen used %.2f CPU s\n",
                      ramp_wall, run_wait, ramp_wall > 0 ? 100 * run_wait / ramp_wall : 0.0,
                      psi_some >= 0 ? (std::to_string(int(std::lround(100 * psi_some / ramp_wall))) + " %").c_str() : "n/a",
                      lg_cpu_ramp);
        out << line;
    }
    if (servers.size() > 1)
        for (const auto& sj : servers) {
            std::snprintf(line, sizeof line,
                          "  process %-7d RSS idle %.1f MB, peak while connected %.1f MB; CPU ramp %s s, hold %s s%s\n",
                          sj["pid"].get<int>(), sj["rss_idle_kb"].get<double>() / 1024,
                          sj["rss_peak_kb"].get<double>() / 1024, sj["cpu_ramp_s"].dump().c_str(),
                          sj["cpu_hold_s"].dump().c_str(), sj["exited_during_run"].get<bool>() ? " (EXITED)" : "");
            out << line;
        }
    if (o.urls.size() > 1) {
        out << "  joined per url ";
        for (size_t u = 0; u < o.urls.size(); u++) out << " " << joined_by_url[u];
        out << "\n";
        out << "  relay same url  " << hist_line(h_same) << "\n";
        out << "  relay cross url " << hist_line(h_cross) << "\n";
    }
    // Resume figures: from the kill when its time is known, else from the first close.
    const int64_t resume_t0 = kill_ns ? kill_ns : first_close;
    auto after_ms = [&](int64_t t) { return t && resume_t0 ? json(round_to(double(t - resume_t0) / 1e6, 0.001)) : json(nullptr); };
    if (o.resume_on_close) {
        std::snprintf(line, sizeof line,
                      "  resume          %llu closed unexpectedly: %llu same id, %llu different id, %llu refused, "
                      "%llu failed (%llu connection attempts)\n",
                      (unsigned long long)resume_n["closes"], (unsigned long long)resume_n["same_id"],
                      (unsigned long long)resume_n["different_id"], (unsigned long long)resume_n["refused"],
                      (unsigned long long)resume_n["failed"], (unsigned long long)resume_n["attempts"]);
        out << line;
        out << "  resume time     " << hist_line(h_resume) << "   [close -> welcome]\n";
        if (kill_ns) out << "  from the kill   " << hist_line(h_resume_kill) << "   [kill -> welcome]\n";
        if (resume_t0)
            out << "  resume window   closes " << after_ms(first_close).dump() << ".." << after_ms(last_close).dump()
                << " ms, welcomes " << after_ms(first_resumed).dump() << ".." << after_ms(last_resumed).dump()
                << " ms after the " << (kill_ns ? "kill" : "first close") << "\n";
    }
    std::snprintf(line, sizeof line, "  loadgen         %.2f CPU s in workers, max worker RSS %.1f MB\n", lg_cpu,
                  lg_maxrss / 1024.0);
    out << line;

    json urls_json = json::array();
    for (const auto& t : o.urls) urls_json.push_back("ws://" + t.host + ":" + std::to_string(t.port) + t.path);
    json resume_json = nullptr;
    if (o.resume_on_close) {
        resume_json = json{{"closes", resume_n["closes"]}, {"attempts", resume_n["attempts"]},
                           {"same_id", resume_n["same_id"]}, {"different_id", resume_n["different_id"]},
                           {"refused", resume_n["refused"]}, {"failed", resume_n["failed"]},
                           {"roster_new", resume_n["roster_new"]}, {"roster_missing", resume_n["roster_missing"]},
                           {"close_to_welcome_ms", hist_summary(h_resume)},
                           {"kill_to_welcome_ms", hist_summary(h_resume_kill)},
                           {"from", kill_ns ? "kill" : "first-close"},
                           {"first_close_ms", after_ms(first_close)}, {"last_close_ms", after_ms(last_close)},
                           {"first_welcome_ms", after_ms(first_resumed)}, {"last_welcome_ms", after_ms(last_resumed)},
                           {"first_to_last_welcome_ms", first_resumed ? json(round_to(double(last_resumed - first_resumed) / 1e6, 0.001)) : json(nullptr)}};
    }
    json errs = json::object();
    for (auto& [k, v] : errors) errs[k] = v;
    json cats = json::object();
    for (auto& [k, v] : categories) cats[k] = v;
    json summary{
        {"tool", "meshmeet-loadgen"},
        {"url", "ws://" + o.host + ":" + std::to_string(o.port) + o.path},
        {"participants", o.participants},
        {"joined", joined},
        {"meeting_size", o.meeting_size},
        {"meetings", M},
        {"workers", W},
        {"rate", o.rate},
        {"achieved_rate", round_to(achieved, 0.1)},
        {"ramp_s", round_to(ramp_s, 0.001)},
        {"hold_s", o.hold},
        {"candidates", o.candidates},
        {"signals_enabled", o.signals},
        {"create_s", round_to(create_s, 0.001)},
        {"errors", err_total},
        {"errors_by_kind", cats},
        {"errors_detail", errs},
        {"join_ms", hist_summary(h[2])},
        {"connect_ms", hist_summary(h[0])},
        {"upgrade_ms", hist_summary(h[1])},
        {"start_to_welcome_ms", hist_summary(h[3])},
        {"relay_ms", hist_summary(h[4])},
        {"relay_sdp_ms", hist_summary(h[5])},
        {"ping_rtt_ms", hist_summary(h[6])},
        {"signals", {{"sent", sig_sent}, {"received", sig_rx}, {"expected", sig_expected},
                     {"missing", sig_missing}, {"out_of_order", ooo}, {"before_peer_joined", unknown_from}}},
        {"leave", {{"sent", leaves}, {"closed", leave_closed}, {"closed_1000", leave_1000}}},
        {"peer_left", {{"expected", pl_expected}, {"delivered", pl_delivered}, {"missing", pl_missing},
                       {"duplicate", pl_dup}, {"latency_ms", hist_summary(h[7])}}},
        {"messages", {{"sent", msgs_sent}, {"received", msgs_recv}, {"bytes_sent", bytes_sent},
                      {"bytes_received", bytes_recv}}},
        {"server", server},
        {"servers", servers},
        {"urls", urls_json},
        {"joined_by_url", joined_by_url},
        {"relay_same_url_ms", hist_summary(h_same)},
        {"relay_cross_url_ms", hist_summary(h_cross)},
        {"peer_joined_known", peer_joined_known},
        {"resume", resume_json},
        {"loadgen_cpu_s", round_to(lg_cpu, 0.001)},
        {"ok", !crashed && err_total == 0 && sig_missing == 0 && pl_missing == 0 &&
                   joined == uint64_t(o.participants)}};
    out << summary.dump() << std::endl;
    if (crashed) return 3;
    return summary["ok"].get<bool>() ? 0 : 1;
}
