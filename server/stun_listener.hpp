// The built-in STUN server on the event loop: a UDP socket that answers
// Binding requests (stun_respond) within a per-source-address rate limit.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "server/metrics.hpp"
#include "server/source_rate_limit.hpp"

namespace meshmeet::server {

class StunListener {
 public:
  StunListener(boost::asio::io_context& io, Metrics& metrics);

  // Binds `host`:`port`; false with `error` set when it cannot.
  // `share_port`: SO_REUSEPORT, for several processes on one port.
  bool open(const std::string& host, std::uint16_t port, bool share_port, std::string& error);
  void start();
  void close();
  std::uint16_t port() const;

 private:
  void receive();
  void on_receive(boost::system::error_code ec, std::size_t size);

  boost::asio::ip::udp::socket socket_;
  Metrics& metrics_;
  SourceRateLimit rate_;
  // A Binding request has no reason to be larger than a path MTU; longer
  // datagrams arrive truncated and fail the length check.
  std::array<std::uint8_t, 1500> buffer_{};
  boost::asio::ip::udp::endpoint sender_;
};

}  // namespace meshmeet::server
