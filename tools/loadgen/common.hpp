// meshmeet-loadgen: shared types (options, histogram, clock).
// No Boost includes here: keep Beast in the two translation units that need it.
#pragma once

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <ctime>
#include <map>
#include <string>
#include <vector>

namespace lg {

using json = nlohmann::json;

// CLOCK_MONOTONIC is one clock for the whole machine, so a timestamp taken in
// one worker process can be compared with one taken in another.
inline int64_t now_ns() {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return int64_t(ts.tv_sec) * 1000000000LL + ts.tv_nsec;
}

// One server address (--url). Several --url: participant p uses url[p % n].
struct Target {
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string path = "/ws";
    bool operator==(const Target& o) const { return host == o.host && port == o.port && path == o.path; }
};

struct Options {
    // The first --url (or --host/--port): meetings are created there.
    std::string host = "127.0.0.1";
    int port = 8080;
    std::string path = "/ws";
    std::vector<Target> urls;    // every --url in order; urls[0] is host/port/path above
    int participants = 1000;
    int meeting_size = 4;
    double rate = 1000;          // joins per second, all workers together
    double hold = 10;            // seconds
    int workers = 0;             // 0 = ceil(participants / 9000)
    int server_pid = 0;          // the first --server-pid
    std::vector<int> server_pids;  // every --server-pid in order (several nodes, Redis)
    int candidates = 4;
    double join_timeout = 10;    // seconds from scheduled start to welcome
    double settle = 10;          // seconds to wait for outstanding signals after the last join
    double leave_rate = 0;       // leaves per second, 0 = same as --rate
    double leave_wait = 5;       // seconds to wait for peer-left after the last leave
    double ping_interval = 0;    // seconds; 0 = welcome.heartbeat.interval
    int create_concurrency = 8;  // parallel HTTP connections for POST /api/meetings
    std::string source_base = "127.0.0.";
    int source_first = 2;        // worker k binds to source_base + (source_first + k)
    bool bind_source = true;
    bool signals = true;         // --no-signals: join, ping and leave only (isolates the cost of a join)
    bool quiet = false;
    // --resume-on-close: a joined participant whose socket closes unexpectedly
    // reconnects (to --resume-url, or to another of the --url, skipping those
    // that refuse the connection) and resumes with its last welcome.resume.
    bool resume_on_close = false;
    bool has_resume_url = false;
    Target resume_url;
    std::string kill_time_file;  // CLOCK_MONOTONIC ns of the kill, written by whoever kills a server
};

// Log-bucket latency histogram: 64 buckets per power of two (each bucket
// ~1.1 % wide), exact count/min/max/sum. Merging is bucket-wise addition.
struct Histogram {
    static constexpr int kSub = 64;
    static constexpr int kBuckets = 64 * 44;  // up to 2^44 ns (~4.9 h)
    std::vector<uint64_t> b = std::vector<uint64_t>(kBuckets, 0);
    uint64_t count = 0;
    double sum = 0;
    int64_t min = INT64_MAX;
    int64_t max = 0;

    static int bucket_of(int64_t ns) {
        if (ns < 1) ns = 1;
        int i = int(std::floor(std::log2(double(ns)) * kSub));
        if (i < 0) i = 0;
        if (i >= kBuckets) i = kBuckets - 1;
        return i;
    }
    void add(int64_t ns) {
        if (ns < 0) ns = 0;
        b[size_t(bucket_of(ns))]++;
        count++;
        sum += double(ns);
        if (ns < min) min = ns;
        if (ns > max) max = ns;
    }
    void merge(const Histogram& o) {
        for (size_t i = 0; i < b.size(); i++) b[i] += o.b[i];
        count += o.count;
        sum += o.sum;
        if (o.count) {
            if (o.min < min) min = o.min;
            if (o.max > max) max = o.max;
        }
    }
    // Value (ns) at quantile q in [0,1]: geometric middle of the bucket that
    // holds the ceil(q*count)-th sample, clamped to the exact min/max.
    double quantile(double q) const {
        if (!count) return 0;
        if (q >= 1) return double(max);
        uint64_t rank = uint64_t(std::ceil(q * double(count)));
        if (rank < 1) rank = 1;
        uint64_t seen = 0;
        for (size_t i = 0; i < b.size(); i++) {
            seen += b[i];
            if (seen >= rank) {
                double v = std::exp2((double(i) + 0.5) / kSub);
                if (v < double(min)) v = double(min);
                if (v > double(max)) v = double(max);
                return v;
            }
        }
        return double(max);
    }
    double mean() const { return count ? sum / double(count) : 0; }

    json to_json() const {
        json buckets = json::array();
        for (size_t i = 0; i < b.size(); i++)
            if (b[i]) buckets.push_back(json::array({i, b[i]}));
        return json{{"count", count}, {"sum", sum}, {"min", count ? min : 0}, {"max", max}, {"b", buckets}};
    }
    static Histogram from_json(const json& j) {
        Histogram h;
        if (!j.is_object()) return h;
        h.count = j.value("count", uint64_t(0));
        h.sum = j.value("sum", 0.0);
        h.min = h.count ? j.value("min", int64_t(0)) : INT64_MAX;
        h.max = j.value("max", int64_t(0));
        if (j.contains("b") && j["b"].is_array())
            for (const auto& e : j["b"])
                if (e.is_array() && e.size() == 2) {
                    size_t i = e[0].get<size_t>();
                    if (i < h.b.size()) h.b[i] += e[1].get<uint64_t>();
                }
        return h;
    }
};

// One meeting as handed to a worker.
struct MeetingAssign {
    std::string id;
    int index = 0;        // global meeting index
    int members = 0;      // participants in this meeting (last one may be short)
    int first_global = 0; // global index of its first participant
};

struct WorkerSetup {
    Options opt;
    int index = 0;                 // worker number k
    std::vector<MeetingAssign> meetings;
    int64_t t0_ns = 0;             // ramp start (CLOCK_MONOTONIC)
    int ctl_fd = -1;               // parent -> worker commands ("leave\n")
    int out_fd = -1;               // worker -> parent JSON lines
};

// Implemented in worker.cpp (Beast WebSocket). Never returns.
[[noreturn]] void run_worker(const WorkerSetup& setup);

// Implemented in http_create.cpp (Beast HTTP). Creates `count` meetings with
// `concurrency` keep-alive connections; returns ids (empty string = failed)
// and fills `errors` (kind -> count) and `latency`.
std::vector<std::string> create_meetings(const Options& opt, int count, std::map<std::string, uint64_t>& errors,
                                         Histogram& latency);

// Implemented in sdp.cpp.
std::string make_sdp(uint64_t seed, bool offer);
std::vector<std::string> make_candidates(uint64_t seed, int n);
std::string json_escape(const std::string& s);

}  // namespace lg
