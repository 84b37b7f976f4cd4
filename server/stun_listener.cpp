#include "server/stun_listener.hpp"

#include "server/log.hpp"
#include "server/stun_responder.hpp"

namespace meshmeet::server {

namespace asio = boost::asio;
using udp = asio::ip::udp;

StunListener::StunListener(asio::io_context& io, Metrics& metrics)
    : socket_(io), metrics_(metrics), rate_(SourceRateLimits{}, Clock::now()) {}

bool StunListener::open(const std::string& host, std::uint16_t port, bool share_port, std::string& error) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "--host: not an IP address: " + host;
    return false;
  }
  const udp::endpoint endpoint(address, port);
  socket_.open(endpoint.protocol(), ec);
  // Nodes of a cluster on one host share the port; any of them answers a
  // Binding request (it is stateless).
  if (!ec && share_port) socket_.set_option(asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>(true), ec);
  if (!ec) socket_.bind(endpoint, ec);
  // Answers are sent without waiting: a full socket buffer drops one, as
  // the network might, instead of queueing work for a flood.
  if (!ec) socket_.non_blocking(true, ec);
  if (ec) {
    error = "cannot listen for STUN on udp " + host + ":" + std::to_string(port) + ": " + ec.message() +
            " (--stun-port 0 turns STUN off)";
    boost::system::error_code ignored;
    socket_.close(ignored);
    return false;
  }
  return true;
}

std::uint16_t StunListener::port() const {
  boost::system::error_code ec;
  const auto endpoint = socket_.local_endpoint(ec);
  return ec ? 0 : endpoint.port();
}

void StunListener::start() {
  Log::info("stun-listening", {{"port", static_cast<unsigned>(port())}});
  receive();
}

void StunListener::close() {
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void StunListener::receive() {
  socket_.async_receive_from(asio::buffer(buffer_), sender_,
                             [this](boost::system::error_code ec, std::size_t size) { on_receive(ec, size); });
}

void StunListener::on_receive(boost::system::error_code ec, std::size_t size) {
  if (ec == asio::error::operation_aborted || !socket_.is_open()) return;
  if (!ec) {
    StunResponse response;
    const std::size_t length = stun_respond(buffer_.data(), size, sender_.address(), sender_.port(), response);
    if (length == 0) {
      ++metrics_.stun_ignored;
    } else if (!rate_.take(sender_.address(), Clock::now())) {
      ++metrics_.stun_rate_limited;
    } else {
      boost::system::error_code send_error;
      socket_.send_to(asio::buffer(response.data(), length), sender_, 0, send_error);
      if (!send_error) ++metrics_.stun_answered;
    }
  }
  // Errors on a UDP socket (an ICMP unreachable from an earlier answer) are
  // about one peer, never the socket: keep receiving.
  receive();
}

}  // namespace meshmeet::server
