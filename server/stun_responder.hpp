// The built-in STUN responder (RFC 8489, Binding only), as a pure function:
// one datagram and its source in, the answer's bytes out (or nothing). No
// sockets and no clock here, so unit tests and the fuzzer drive it directly;
// server/stun_listener.hpp carries it out on a UDP socket.
//
// It answers a well-formed Binding request (class request, method Binding,
// magic cookie, length matching the datagram, attributes that fit exactly,
// a FINGERPRINT that verifies when there is one) with a Binding success
// response carrying the same transaction id, XOR-MAPPED-ADDRESS and
// FINGERPRINT. Everything else gets no answer: indications, responses, other
// methods, malformed or truncated input. Other attributes of a request
// (SOFTWARE, USERNAME, MESSAGE-INTEGRITY, ...) are ignored: this server holds
// no credentials and answers no errors, which would only make it a better
// reflector for spoofed floods.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include <boost/asio/ip/address.hpp>

namespace meshmeet::server {

// No answer is ever longer than this: header (20) + XOR-MAPPED-ADDRESS for
// IPv6 (24) + FINGERPRINT (8) = 52. A reflection attack gains nothing: the
// answer is at most 52/20 of the smallest request.
inline constexpr std::size_t kStunMaxResponse = 64;

using StunResponse = std::array<std::uint8_t, kStunMaxResponse>;

// The answer to `datagram` from `address`:`port`, written to `out`; returns
// its length, or 0 when the datagram gets no answer. An IPv4-mapped IPv6
// source is answered as the IPv4 address it is.
std::size_t stun_respond(const std::uint8_t* datagram, std::size_t size, const boost::asio::ip::address& address,
                         std::uint16_t port, StunResponse& out);

// RFC 8489 §14.7: CRC-32 (ISO HDLC, as zlib's) of `data`, XOR 0x5354554e.
std::uint32_t stun_fingerprint(const std::uint8_t* data, std::size_t size);

}  // namespace meshmeet::server
