// POST /api/meetings over a few keep-alive HTTP/1.1 connections.
#include "common.hpp"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <memory>

namespace lg {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

struct Shared {
    const Options& opt;
    tcp::endpoint ep;
    std::vector<std::string>& ids;
    int count;
    int next = 0;
    std::map<std::string, uint64_t>& errors;
    Histogram& latency;
};

class Creator : public std::enable_shared_from_this<Creator> {
public:
    Creator(net::io_context& ioc, Shared& sh) : sh_(sh), stream_(ioc) {}

    void start() { next_job(); }

private:
    void next_job() {
        if (job_ < 0) {
            if (sh_.next >= sh_.count) return;  // nothing left: this connection is done
            job_ = sh_.next++;
            attempts_ = 0;
        }
        if (!connected_) {
            stream_.expires_after(std::chrono::seconds(10));
            stream_.async_connect(sh_.ep, [self = shared_from_this()](beast::error_code ec) {
                if (ec) return self->fail("connect-failed", ec);
                self->stream_.socket().set_option(tcp::no_delay(true));
                self->connected_ = true;
                self->send();
            });
        } else {
            send();
        }
    }

    void send() {
        req_ = {};
        req_.method(http::verb::post);
        req_.target("/api/meetings");
        req_.version(11);
        req_.set(http::field::host, sh_.opt.host + ":" + std::to_string(sh_.opt.port));
        req_.set(http::field::user_agent, "meshmeet-loadgen/1");
        req_.set(http::field::content_type, "application/json");
        req_.keep_alive(true);
        req_.body() = "{\"name\":\"load " + std::to_string(job_) + "\"}";
        req_.prepare_payload();
        t_start_ = now_ns();
        stream_.expires_after(std::chrono::seconds(10));
        http::async_write(stream_, req_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
            if (ec) return self->fail("write-failed", ec);
            self->res_ = {};
            self->buf_.clear();
            http::async_read(self->stream_, self->buf_, self->res_,
                             [self](beast::error_code ec2, std::size_t) { self->on_response(ec2); });
        });
    }

    void on_response(beast::error_code ec) {
        if (ec) return fail("read-failed", ec);
        const int status = res_.result_int();
        const bool keep = res_.keep_alive();
        if (!keep) close();
        if (status == 201) {
            auto j = json::parse(res_.body(), nullptr, false);
            if (!j.is_discarded() && j.is_object() && j.contains("id") && j["id"].is_string()) {
                sh_.ids[size_t(job_)] = j["id"].get<std::string>();
                sh_.latency.add(now_ns() - t_start_);
                job_ = -1;
                return next_job();
            }
            return retry("bad-response-body");
        }
        std::string code;
        auto j = json::parse(res_.body(), nullptr, false);
        if (!j.is_discarded() && j.is_object() && j.contains("error") && j["error"].is_object() &&
            j["error"].contains("code") && j["error"]["code"].is_string())
            code = ":" + j["error"]["code"].get<std::string>();
        retry("http-" + std::to_string(status) + code);
    }

    void fail(const char* kind, beast::error_code ec) {
        close();
        retry(std::string(kind) + ":" + ec.message());
    }

    void retry(const std::string& kind) {
        sh_.errors[kind]++;
        if (++attempts_ >= 3) {
            job_ = -1;  // give up on this one; ids[job] stays empty
        }
        next_job();
    }

    void close() {
        beast::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
        connected_ = false;
    }

    Shared& sh_;
    beast::tcp_stream stream_;
    beast::flat_buffer buf_;
    http::request<http::string_body> req_;
    http::response<http::string_body> res_;
    int job_ = -1;
    int attempts_ = 0;
    bool connected_ = false;
    int64_t t_start_ = 0;
};

}  // namespace

std::vector<std::string> create_meetings(const Options& opt, int count, std::map<std::string, uint64_t>& errors,
                                         Histogram& latency) {
    std::vector<std::string> ids(static_cast<size_t>(count));
    net::io_context ioc(1);
    beast::error_code ec;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(opt.host, std::to_string(opt.port), ec);
    if (ec || results.empty()) {
        errors["resolve-failed:" + ec.message()]++;
        return ids;
    }
    Shared sh{opt, results.begin()->endpoint(), ids, count, 0, errors, latency};
    const int conns = std::max(1, std::min(opt.create_concurrency, count));
    for (int i = 0; i < conns; i++) std::make_shared<Creator>(ioc, sh)->start();
    ioc.run();
    return ids;
}

}  // namespace lg
